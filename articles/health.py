"""/healthz: is this process able to reach its database? For load balancers and uptime checks."""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """200 when ``SELECT 1`` succeeds; 503 naming only the error class otherwise. Never raises."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # Any failure means "unhealthy"; the details go to the log, not the client.
        logger.warning("Health check: database unreachable", exc_info=True)
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
