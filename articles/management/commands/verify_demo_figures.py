"""verify_demo_figures [--username editor]: a demo convenience for `make run`.

As the demo editor, verify the candidate figures whose indicator the vocabulary knows, so that the
figure panels, region figure pages and indicator comparisons have numbers to show on a fresh demo.
Each one is recorded like any review (who, when). In a real newsroom an editor verifies each figure
on the figure desk; never run this on real content.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from articles.figure_review import verify
from articles.models import StatisticFigure


class Command(BaseCommand):
    help = "Demo only: verify the candidate figures linked to the indicator vocabulary, as the demo editor."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="editor", help="The reviewing editor (default: editor).")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No user {username!r}: run create_demo_users first.") from error
        candidates = StatisticFigure.objects.filter(
            status=StatisticFigure.Status.CANDIDATE, standard__isnull=False, reviewed_at__isnull=True,
        )
        verified = verify(candidates, user=user)
        self.stdout.write(f"Verified {len(verified)} demo figure(s) as {username}; the rest wait on the figure desk.")
