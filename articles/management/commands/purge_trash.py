"""purge_trash [--older-than DAYS] [--dry-run]: delete for good the articles trashed more than DAYS ago.

The admin's delete moves articles to the trash (``articles.workflow.trash``), where they wait,
restorable, until a superuser deletes them from the trash or this command purges them. Nothing
runs it on its own: schedule it (cron, a systemd timer) if the trash should empty itself.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from articles import workflow
from articles.models import Article

DEFAULT_DAYS = 30


class Command(BaseCommand):
    help = "Delete for good the articles that have been in the trash longer than --older-than days (default 30)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=DEFAULT_DAYS, metavar="DAYS",
                            help=f"Purge articles trashed more than DAYS days ago (default {DEFAULT_DAYS}; 0: all).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be purged; delete nothing.")

    def handle(self, *args, older_than, dry_run, **options):
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more days.")
        before = timezone.now() - timedelta(days=older_than)
        due = Article.objects.filter(status=Article.Status.TRASHED, trashed_at__lt=before).order_by("trashed_at", "pk")
        if dry_run:
            for slug, trashed_at in due.values_list("slug", "trashed_at"):
                self.stdout.write(f"would purge {slug} (trashed {trashed_at:%Y-%m-%d %H:%M})")
            self.stdout.write(f"{due.count()} article(s) would be purged; nothing deleted (--dry-run).")
            return
        purged = workflow.purge_trashed_before(before)
        self.stdout.write(f"Purged {purged} article(s) trashed before {before:%Y-%m-%d %H:%M}.")
