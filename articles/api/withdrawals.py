"""``GET /api/v1/withdrawals/``: articles that left the public set, for consumers syncing with ``updated_since``.

Rows are ``Withdrawal`` records (``articles.sync`` writes them) of articles not public now,
``{"id", "slug", "withdrawn_at"}``, oldest first, cursor-paginated like the sync feed. ``since``
(inclusive, the format of ``updated_since``) keeps those withdrawn at or after a moment.
"""

from django.http import JsonResponse

from articles.api import cursor as cursors
from articles.api.params import parse_limit, parse_moment
from articles.api.responses import JSON_OPTIONS, api_view, next_page_url
from articles.export import EXPORT_SCHEMA_VERSION, serialize_withdrawal
from articles.models import Withdrawal

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@api_view
def withdrawal_list(request):
    params = request.GET
    limit = parse_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    since = parse_moment("since", params.get("since"))
    queryset = Withdrawal.objects.current()
    if since:
        queryset = queryset.filter(withdrawn_at__gte=since)
    queryset = cursors.ordered(queryset, cursors.WITHDRAWALS)
    page, next_cursor = cursors.paginate(queryset, cursor=params.get("cursor"), limit=limit, order=cursors.WITHDRAWALS)
    return JsonResponse(
        {
            "version": EXPORT_SCHEMA_VERSION,
            "results": [serialize_withdrawal(withdrawal) for withdrawal in page],
            "next": next_page_url(request, next_cursor),
        },
        json_dumps_params=JSON_OPTIONS,
    )
