"""/healthz: can this process serve pages? For load balancers and uptime checks.

The database decides: without it nothing can be served, so the answer is 503 and the load
balancer sends readers elsewhere. The cache only speeds pages up (articles/cache.py renders
from the database when it fails), so a cache that is down is reported ("unavailable", status
"degraded") but still answers 200: taking every app server out because the shared Redis is
down would turn a slower site into no site.
"""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

HEALTH_KEY = "newsroom:healthz"
# How long /healthz waits for a connection from Django's PostgreSQL pool, whatever DB_POOL_TIMEOUT
# pages may wait (settings.py): a load balancer's probe gives up after a second or two, so while
# PostgreSQL is down the check must answer 503 within that, not hang.
DATABASE_TIMEOUT = 1.0


@never_cache
def healthz(request):
    """200 with ``{"status": "ok"|"degraded", "database": "ok", "cache": "ok"|"unavailable"}`` when
    the database answers; 503 with the database error's class name (nothing more) when it does not.
    Never raises."""
    body = {"status": "ok", "database": "ok", "cache": cache_status()}
    try:
        check_database()
    except Exception as exc:  # Any failure means "unhealthy"; the details go to the log, not the client.
        logger.warning("Health check: database unreachable", exc_info=True)
        return JsonResponse({**body, "status": "error", "database": type(exc).__name__}, status=503)
    if body["cache"] != "ok":
        body["status"] = "degraded"
    return JsonResponse(body)


def check_database() -> None:
    """Run ``SELECT 1``; raises when the database cannot be reached. With Django's PostgreSQL pool the
    connection is taken from the pool directly, waiting at most DATABASE_TIMEOUT seconds for one."""
    pool = getattr(connection, "pool", None) if connection.vendor == "postgresql" else None
    if pool is None or connection.connection is not None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return
    pool.open()  # as Django does before its first getconn(); nothing once the pool is open
    # While the pool knows PostgreSQL is down (newsroom/dbpool.py) its own timeout is shorter still.
    with pool.connection(timeout=min(DATABASE_TIMEOUT, pool.timeout)) as conn:
        conn.execute("SELECT 1").fetchone()


def cache_status() -> str:
    """"ok" when a value written to the cache reads back; "unavailable" otherwise (logged)."""
    try:
        cache.set(HEALTH_KEY, 1, timeout=10)
        if cache.get(HEALTH_KEY) == 1:
            return "ok"
        logger.warning("Health check: the cache did not keep a value")
    except Exception:  # each backend raises its own client's errors (redis.ConnectionError...)
        logger.warning("Health check: cache unavailable", exc_info=True)
    return "unavailable"
