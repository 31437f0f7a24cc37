"""What every JSON API response shares: JSON errors (400 naming the parameter, 404, 405),
CORS for GET from any origin (with preflight answers, ``ETag`` readable by scripts),
``Cache-Control``, and a generation-based ``ETag`` / ``Last-Modified`` (``articles.cache``)
with 304 answers."""

import hashlib
from functools import wraps

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from articles import cache as page_cache
from articles.api.params import BadParameter

JSON_OPTIONS = {"ensure_ascii": False}
# CORS: what a script on any origin may send (conditional requests) and read (ETag is not safelisted).
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
    "Access-Control-Max-Age": "86400",
}


def error_response(status: int, message: str, parameter: str | None = None) -> JsonResponse:
    error = {"parameter": parameter, "message": message} if parameter else {"message": message}
    return JsonResponse({"error": error}, status=status, json_dumps_params=JSON_OPTIONS)


def api_view(view):
    """JSON errors, CORS, Cache-Control, ETag/Last-Modified and 304s for a read-only API view."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":  # a CORS preflight (or a plain OPTIONS): nothing to compute
            response = HttpResponse(status=204, headers=PREFLIGHT_HEADERS)
            response["Allow"] = "GET, HEAD, OPTIONS"
        elif request.method not in ("GET", "HEAD"):
            response = error_response(405, "method not allowed: the API is read-only")
            response["Allow"] = "GET, HEAD, OPTIONS"
        else:
            response = _conditional(view, request, *args, **kwargs)
        for header, value in CORS_HEADERS.items():
            response[header] = value
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
        check_parameters(request.GET)
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


def check_parameters(params) -> None:
    """What no parameter may hold, whatever it means: a NUL character (PostgreSQL refuses it in text)."""
    for name, values in params.lists():
        if any("\x00" in value for value in values):
            raise BadParameter(name, "must not contain NUL characters")


def base_url(request) -> str:
    return request.build_absolute_uri("/")


def next_page_url(request, cursor: str | None) -> str | None:
    """The absolute URL of the next page: this request's parameters with ``cursor`` replaced; None without a cursor."""
    if not cursor:
        return None
    query = request.GET.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
