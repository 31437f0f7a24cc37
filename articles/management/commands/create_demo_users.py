"""Create (or reset) the demo accounts that `make run` prints: one Editor, one Contributor."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

DEMO_USERS = [
    # username, group, superuser: the editor may also manage user accounts in the demo.
    ("editor", "Editor", True),
    ("contributor", "Contributor", False),
]


class Command(BaseCommand):
    help = "Create or update the demo editor and contributor accounts and print their logins."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="newsroom-demo", help="Password for both accounts.")

    def handle(self, *args, password, **options):
        User = get_user_model()
        for username, group_name, is_superuser in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
            user.is_staff = True
            user.is_superuser = is_superuser
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=group_name)])
            verb = "Created" if created else "Updated"
            self.stdout.write(self.style.SUCCESS(f"{verb} {group_name}: log in at /admin/ as {username} / {password}"))
