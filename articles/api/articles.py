"""Article endpoints of the JSON API: list (filters, cursor pages), detail, and the NDJSON dump.

Thin views: parameters come from ``params``, pages from ``cursor``, documents from
``articles.export``. ``api_view`` adds what every response shares: JSON errors (400 naming the
parameter, 404, 405), CORS for GET, ``Cache-Control`` and a generation-based ``ETag`` /
``Last-Modified`` (``articles.cache``) with 304 answers.
"""

import hashlib
from functools import wraps

from django.db.models import Q
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from articles import cache as page_cache
from articles.api import cursor as cursors
from articles.api.params import BadParameter, get_object_by_slug, parse_limit, parse_moment
from articles.export import EXPORT_SCHEMA_VERSION, iter_export_lines, serialize_article
from articles.models import Article, Region
from articles.search import search_articles

JSON_OPTIONS = {"ensure_ascii": False}


def error_response(status: int, message: str, parameter: str | None = None) -> JsonResponse:
    error = {"parameter": parameter, "message": message} if parameter else {"message": message}
    return JsonResponse({"error": error}, status=status, json_dumps_params=JSON_OPTIONS)


def api_view(view):
    """JSON errors, CORS, Cache-Control, ETag/Last-Modified and 304s for a read-only API view."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            response = error_response(405, "method not allowed: the API is read-only")
            response["Allow"] = "GET, HEAD"
        else:
            response = _conditional(view, request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


def _conditional(view, request, *args, **kwargs):
    state = page_cache.content_state()
    etag = last_modified = None
    if state is not None:
        digest = hashlib.sha256(f"api\n{state.generation!r}\n{request.build_absolute_uri()}".encode()).hexdigest()
        etag, last_modified = f'"{digest[:32]}"', int(state.generation)
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is not None:
            return _cacheable(response, etag, last_modified, state)
    try:
        response = view(request, *args, **kwargs)
    except BadParameter as error:
        return error_response(400, error.message, error.name)
    except Http404:
        return error_response(404, "not found")
    if response.status_code == 200 and etag:
        _cacheable(response, etag, last_modified, state)
    return response


def _cacheable(response, etag, last_modified, state):
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=min(page_cache.BROWSER_MAX_AGE, page_cache.page_timeout(state)))
    return response


def base_url(request) -> str:
    return request.build_absolute_uri("/")


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
        hits = search_articles(query, queryset)
        queryset = queryset.filter(pk__in=[hit.article.pk for hit in hits])
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
    queryset = cursors.ordered(queryset.for_export(), order)
    page, next_cursor = cursors.paginate(queryset, cursor=params.get("cursor"), limit=limit, order=order)
    next_url = None
    if next_cursor:
        query = params.copy()
        query["cursor"] = next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    root = base_url(request)
    return JsonResponse(
        {"version": EXPORT_SCHEMA_VERSION, "results": [serialize_article(a, base_url=root) for a in page], "next": next_url},
        json_dumps_params=JSON_OPTIONS,
    )


@api_view
def article_detail(request, slug):
    article = Article.objects.published().for_export().filter(slug=slug).first()
    if article is None:
        raise Http404
    return JsonResponse(
        {"version": EXPORT_SCHEMA_VERSION, "result": serialize_article(article, base_url=base_url(request))},
        json_dumps_params=JSON_OPTIONS,
    )


@api_view
def export_ndjson(request):
    lines = iter_export_lines(Article.objects.published(), base_url=base_url(request))
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="articles.ndjson"'
    return response


