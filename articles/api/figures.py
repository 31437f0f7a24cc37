"""``GET /api/v1/figures/``: every verified statistic figure of a published article, with provenance.

Rows are ``serialize_figure`` documents (the same shape as an article's ``figures``), ordered by
figure id ascending. Filters:

* ``region``: a region slug; the region, the regions below it and, for an area, its members
  (``Region.objects.in_scope_of``). Unknown slug: 400.
* ``indicator``: exact match on the indicator name (e.g. ``地区生产总值``).
* ``source``: a data source slug. Unknown slug, or one that only unpublished articles name: 400.
* ``period``: exact match (``2021``, ``2021Q1``...).

JSON is paginated: ``limit`` (default 100, 1..1000) and an opaque signed ``cursor`` taken from
``next``. ``?format=csv`` streams all matching rows (no pagination) as UTF-8 CSV with a BOM.
"""

import csv
import re

from django.core import signing
from django.db.models import Q
from django.http import JsonResponse, StreamingHttpResponse

from articles.api.params import BadParameter, get_object_by_slug, parse_limit
from articles.api.responses import JSON_OPTIONS, api_view, base_url, next_page_url
from articles.export import EXPORT_SCHEMA_VERSION, serialize_figure
from articles.models import Article, Region, Source, StatisticFigure

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CSV_CHUNK = 2000
_CURSOR_SALT = "articles.api.figures.cursor"

CSV_COLUMNS = [
    "article", "article_url", "indicator", "value", "value_end", "unit", "magnitude", "value_text",
    "direction", "approximate", "period", "region", "region_slug", "region_code", "source", "source_slug",
    "quote", "start_offset", "end_offset",
]


def _parse_cursor(value):
    if value is None:
        return None
    try:
        return int(signing.Signer(salt=_CURSOR_SALT).unsign(value))
    except (signing.BadSignature, ValueError):
        raise BadParameter("cursor", "cursor is invalid; use the next URL of a previous page") from None


def _make_cursor(last_id):
    return signing.Signer(salt=_CURSOR_SALT).sign(str(last_id))


def figures_queryset(params):
    """Verified figures of published articles matching the filters in ``params`` (a QueryDict)."""
    figures = (
        StatisticFigure.objects.filter(status=StatisticFigure.Status.VERIFIED, article__in=Article.objects.published())
        .select_related("article", "region", "source")
        .order_by("pk")
    )
    if region := get_object_by_slug("region", Region.objects.all(), params.get("region")):
        figures = figures.filter(region__in=Region.objects.in_scope_of(region))
    if source := get_object_by_slug("source", public_sources(), params.get("source")):
        figures = figures.filter(source=source)
    if indicator := params.get("indicator"):
        figures = figures.filter(indicator=indicator)
    if period := params.get("period"):
        figures = figures.filter(period=period)
    return figures


def public_sources():
    """Sources the public site names: those of published articles and of their verified figures. Any other
    is "unknown", as for the articles' ``source`` filter: a draft's sources are nobody's business yet."""
    published = Article.objects.published()
    shown = StatisticFigure.objects.filter(status=StatisticFigure.Status.VERIFIED, article__in=published)
    return Source.objects.filter(
        Q(pk__in=published.values("publisher")) | Q(pk__in=published.values("syndicator"))
        | Q(pk__in=published.values("data_sources")) | Q(pk__in=shown.values("source"))
    )


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def spreadsheet_safe(value):
    """``value`` for a CSV cell: text a spreadsheet would run as a formula gets a leading apostrophe,
    which spreadsheets show as text; numbers (``-2.75``) stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def flatten_figure(document):
    """One CSV row (a list in ``CSV_COLUMNS`` order) from a ``serialize_figure`` document, safe to open
    in a spreadsheet (``spreadsheet_safe``): quotes and indicators come from syndicated text."""
    region, source = document["region"] or {}, document["source"] or {}
    flat = {
        **document,
        "approximate": "true" if document["approximate"] else "false",
        "region": region.get("name"), "region_slug": region.get("slug"), "region_code": region.get("code"),
        "source": source.get("name"), "source_slug": source.get("slug"),
    }
    return ["" if flat[column] is None else spreadsheet_safe(flat[column]) for column in CSV_COLUMNS]


class _Echo:
    def write(self, value):
        return value


def _csv_stream(figures, base_url):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    for figure in figures.iterator(chunk_size=CSV_CHUNK):
        yield writer.writerow(flatten_figure(serialize_figure(figure, base_url)))


@api_view
def figures_view(request):
    """Verified figures as JSON pages or, with ``?format=csv``, every matching row as CSV."""
    params = request.GET
    output = params.get("format", "json")
    if output not in ("json", "csv"):
        raise BadParameter("format", "format must be json or csv")
    figures = figures_queryset(params)
    if output == "json":
        limit = parse_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
        after = _parse_cursor(params.get("cursor"))

    site = base_url(request)
    if output == "csv":
        response = StreamingHttpResponse(_csv_stream(figures, site), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="figures.csv"'
    else:
        if after is not None:
            figures = figures.filter(pk__gt=after)
        page = list(figures[: limit + 1])
        next_cursor = None
        if len(page) > limit:
            page = page[:limit]
            next_cursor = _make_cursor(page[-1].pk)
        response = JsonResponse(
            {
                "version": EXPORT_SCHEMA_VERSION,
                "results": [serialize_figure(figure, site) for figure in page],
                "next": next_page_url(request, next_cursor),
            },
            json_dumps_params=JSON_OPTIONS,
        )
    return response
