"""export_articles [--output FILE]: every article as NDJSON, one full document per line."""

import json
import sys

from django.core.management.base import BaseCommand

from articles.export import serialize_article
from articles.models import Article


class Command(BaseCommand):
    help = "Write every article as NDJSON (one JSON document per line); import_articles reads it back."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--published-only", action="store_true", help="Only published articles.")

    def handle(self, *args, output, published_only, **options):
        queryset = Article.objects.published() if published_only else Article.objects.all()
        queryset = queryset.for_export().order_by("pk")
        stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        count = 0
        try:
            for article in queryset.iterator(chunk_size=200):
                stream.write(json.dumps(serialize_article(article, full=True), ensure_ascii=False) + "\n")
                count += 1
        finally:
            if output:
                stream.close()
        self.stderr.write(f"Exported {count} article(s){' to ' + output if output else ''}.")
