"""export_articles [--output FILE] [--published-only] [--public [--base-url URL]]: articles as NDJSON.

Full documents by default (a Newsroom-to-Newsroom copy); ``--public`` writes the public
documents of published articles, exactly what ``GET /api/v1/export.ndjson`` serves.
Both are read back by ``import_articles``.
"""

import sys

from django.core.management.base import BaseCommand

from articles.export import iter_export_lines
from articles.models import Article


class Command(BaseCommand):
    help = "Write articles as NDJSON (one JSON document per line); import_articles reads it back."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--published-only", action="store_true", help="Only published articles.")
        parser.add_argument(
            "--public", action="store_true",
            help="Public documents of published articles only (as GET /api/v1/export.ndjson serves them).",
        )
        parser.add_argument("--base-url", default="", help="Make article and image URLs absolute, e.g. https://news.example")

    def handle(self, *args, output, published_only, public, base_url, **options):
        queryset = Article.objects.published() if published_only or public else Article.objects.all()
        stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        count = 0
        try:
            for line in iter_export_lines(queryset, base_url=base_url, full=not public):
                stream.write(line)
                count += 1
        finally:
            if output:
                stream.close()
        self.stderr.write(f"Exported {count} article(s){' to ' + output if output else ''}.")
