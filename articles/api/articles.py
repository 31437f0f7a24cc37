"""Article endpoints of the JSON API: list (filters, cursor pages, the updated_since sync feed),
detail, and the NDJSON dump. Withdrawals (articles that left the public set) are in ``withdrawals``.

Thin views: parameters come from ``params``, pages from ``cursor``, documents from
``articles.export``; ``api_view`` (``responses``) adds what every response shares: JSON errors (400 naming the
parameter, 404, 405), CORS for GET, ``Cache-Control`` and a generation-based ``ETag`` /
``Last-Modified`` (``articles.cache``) with 304 answers.
"""

from django.db.models import Q
from django.http import Http404, JsonResponse, StreamingHttpResponse

from articles.api import cursor as cursors
from articles.api.params import BadParameter, get_object_by_slug, parse_limit, parse_moment
from articles.api.responses import JSON_OPTIONS, api_view, base_url, next_page_url
from articles.export import EXPORT_SCHEMA_VERSION, export_documents, export_rows, iter_export_lines
from articles.models import Article, Region
from articles.search import ranked_keys


def filtered_articles(params):
    """Published articles matching the list filters (each bad value a BadParameter naming it)."""
    queryset = Article.objects.published()
    region = get_object_by_slug("region", Region.objects.all(), params.get("region"))
    if region is not None:
        queryset = queryset.filter(pk__in=Article.objects.filter(regions__in=Region.objects.in_scope_of(region)).values("pk"))
    # Tags, sources and authors count as known once a published article has them: a draft's never shows.
    lookups = {
        "tag": lambda slug: Q(tags__slug=slug),
        "source": lambda slug: Q(publisher__slug=slug) | Q(syndicator__slug=slug) | Q(data_sources__slug=slug),
        "author": lambda slug: Q(bylines__author__slug=slug),
    }
    for name, lookup in lookups.items():
        slug = params.get(name)
        if slug:
            matching = Article.objects.published().filter(lookup(slug)).values("pk")
            if not matching.exists():
                raise BadParameter(name, f"no published article has {name} {slug!r}")
            queryset = queryset.filter(pk__in=matching)
    after = parse_moment("published_after", params.get("published_after"))
    before = parse_moment("published_before", params.get("published_before"))
    if after:
        queryset = queryset.filter(published_at__gte=after)
    if before:
        queryset = queryset.filter(published_at__lt=before)
    query = params.get("q", "").strip()
    if query:
        queryset = queryset.filter(pk__in=[pk for pk, _ in ranked_keys(query, queryset)])
    return queryset


@api_view
def article_list(request):
    params = request.GET
    limit = parse_limit(params.get("limit"))
    since = parse_moment("updated_since", params.get("updated_since"))
    queryset = cursors.with_changed_at(filtered_articles(params))
    order = cursors.SYNC if since else cursors.NEWEST
    if since:
        queryset = queryset.filter(changed_at__gte=since)
    # The page's keys first (a narrow sort), then its documents, every relation in one query for all of them.
    keys = cursors.ordered(queryset.only("pk", "published_at", "updated_at"), order)
    page, next_cursor = cursors.paginate(keys, cursor=params.get("cursor"), limit=limit, order=order)
    return JsonResponse(
        {
            "version": EXPORT_SCHEMA_VERSION,
            "results": documents([article.pk for article in page], base_url(request)),
            "next": next_page_url(request, next_cursor),
        },
        json_dumps_params=JSON_OPTIONS,
    )


def documents(pks, root):
    """The public documents of the articles ``pks``, in that order (one gone meanwhile is left out)."""
    rows = {row["pk"]: row for row in export_rows(Article.objects.filter(pk__in=pks))}
    return export_documents([rows[pk] for pk in pks if pk in rows], base_url=root)


@api_view
def article_detail(request, slug):
    found = documents(list(Article.objects.published().filter(slug=slug).values_list("pk", flat=True)[:1]),
                      base_url(request))
    if not found:
        raise Http404
    return JsonResponse({"version": EXPORT_SCHEMA_VERSION, "result": found[0]}, json_dumps_params=JSON_OPTIONS)


@api_view
def export_ndjson(request):
    lines = iter_export_lines(Article.objects.published(), base_url=base_url(request))
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="articles.ndjson"'
    return response


