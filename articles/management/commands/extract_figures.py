"""extract_figures [--article SLUG ...] [--all]: run figure extraction again on stored articles.

Each article's unreviewed candidates are replaced; figures an editor verified, corrected or
rejected are kept (see ``articles.figure_review.extract_candidates``).
"""

from django.core.management.base import BaseCommand, CommandError

from articles.figure_review import ExtractionContext, extract_candidates
from articles.models import Article

CHUNK_SIZE = 200


class Command(BaseCommand):
    help = "Extract statistic figures from articles' text as candidates for editors to verify."

    def add_arguments(self, parser):
        parser.add_argument("--article", action="append", default=[], metavar="SLUG",
                            help="An article's slug (repeat for more).")
        parser.add_argument("--all", action="store_true", help="Every article.")

    def handle(self, *args, article, all, verbosity, **options):
        if not article and not all:
            raise CommandError("Name articles with --article SLUG, or use --all.")
        articles = Article.objects.order_by("pk")
        if not all:
            articles = articles.filter(slug__in=article)
            missing = sorted(set(article) - set(articles.values_list("slug", flat=True)))
            if missing:
                raise CommandError(f"No article with slug: {', '.join(missing)}")
        total = articles.count()
        context = ExtractionContext.load()
        totals = {"found": 0, "created": 0, "updated": 0, "removed": 0, "kept": 0, "stale": 0}
        width = len(str(total))
        rows = articles.only("pk", "slug", "body_text", "published_at").prefetch_related("regions", "data_sources")
        for number, row in enumerate(rows.iterator(chunk_size=CHUNK_SIZE), start=1):
            result = extract_candidates(row, context=context)
            for key in totals:
                totals[key] += getattr(result, key)
            totals["kept"] += result.moved
            if verbosity:
                self.stdout.write(f"[{number:>{width}}/{total}] {result.line()}")
        self.stdout.write(self.style.SUCCESS(
            f"{total} article(s): {totals['found']} figure(s) found, {totals['created']} new candidate(s), "
            f"{totals['updated']} updated, {totals['removed']} removed; "
            f"{totals['kept']} reviewed figure(s) kept as editors left them"
            + (f", {totals['stale']} more no longer found in the text (kept too)" if totals["stale"] else "")
            + "."
        ))
