"""refresh_page_documents [--all]: rebuild the stored article-page documents and related lists.

``migrate`` already builds the missing and outdated ones; ``--all`` rebuilds every article's,
e.g. after changing data with ``QuerySet.update()`` (which sends no signals).
"""

from django.core.management.base import BaseCommand

from articles.cache import bump_generation
from articles.models import Article
from articles.page_document import refresh_all, refresh_outdated


class Command(BaseCommand):
    help = "Rebuild the stored article-page documents (missing or outdated ones; every one with --all)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Rebuild every article's, not only outdated ones.")

    def handle(self, *args, all, verbosity, **options):
        if not all:
            done = refresh_outdated()
            bump_generation()
            self.stdout.write(f"Refreshed {done} outdated page document(s).")
            return
        total = Article.objects.count()

        def progress(done):
            if verbosity:
                self.stderr.write(f"\r{done}/{total}", ending="")

        done = refresh_all(progress=progress)
        bump_generation()  # pages cached before show the old documents
        if verbosity and done:
            self.stderr.write("")
        self.stdout.write(f"Refreshed {done} page document(s).")
