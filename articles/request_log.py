"""Structured request logging: one JSON line per request, for log collectors behind a load balancer.

``RequestLogMiddleware`` (first in MIDDLEWARE) times each request, counts its database queries
and logs, on the ``newsroom.requests`` logger, the method, path, status, duration in ms, query
count, user (id, or "anonymous") and a request id. The id comes from the proxy's
``X-Request-ID`` when that looks sane, otherwise it is made here; either way the response carries
it back, so a reader's report, the proxy's log and this line can be matched.

``JsonFormatter`` writes such records as JSON; settings.LOGGING sends the logger to stdout with
it. The level (``REQUEST_LOG_LEVEL``) is checked first: silenced, the middleware adds only the
request id. A streaming response (the NDJSON dump) is logged when its first byte is ready: the
duration and queries of the rows streamed after that are not counted.

Never logged: query strings, headers, cookies or bodies (preview tokens and API parameters stay
out of the logs).
"""

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.db import connection

logger = logging.getLogger("newsroom.requests")

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept only if it is short and plain: it is echoed in a header and in the log.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class QueryCounter:
    """A connection execute wrapper that only counts (cheaper than DEBUG's query log)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        if not logger.isEnabledFor(logging.INFO):
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            return response

        queries = QueryCounter()
        start = time.perf_counter()
        with connection.execute_wrapper(queries):
            response = self.get_response(request)
        duration_ms = (time.perf_counter() - start) * 1000
        response[REQUEST_ID_HEADER] = request.request_id
        logger.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(duration_ms, 1),
                    "queries": queries.count,
                    "user": user_label(request),
                    "request_id": request.request_id,
                }
            },
        )
        return response


def user_label(request):
    """The user's id, or "anonymous" (also when no authentication ran, e.g. a static file)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.pk
    return "anonymous"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...fields}`` on one line; exceptions as "exc_info"."""

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
