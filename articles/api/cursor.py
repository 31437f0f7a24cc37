"""Keyset ("cursor") pagination for the JSON API.

Pages follow a sort key, never an offset, so rows added or edited between two page fetches
neither repeat nor disappear:

- articles, newest first (the default): ``(published_at desc, id desc)``;
- articles in sync order, when ``updated_since`` is given: ``(changed_at asc, id asc)`` where
  ``changed_at`` is the later of ``updated_at`` and ``published_at`` (a scheduled article saved
  long ago counts as changed when it goes public). An article edited while a consumer pages
  moves to the end, so it is delivered again, never skipped;
- withdrawals: ``(withdrawn_at asc, id asc)``, likewise (a new withdrawal of the same article
  moves its row to the end).

A cursor is the last row's sort key, signed with ``django.core.signing`` (and tied to its
order): a tampered or foreign cursor is a ``BadParameter("cursor", ...)``.
"""

import datetime as dt
from typing import NamedTuple

from django.core import signing
from django.db.models import Q
from django.db.models.functions import Greatest

from articles.api.params import BadParameter

SALT = "newsroom.api.cursor"
NEWEST = "newest"
SYNC = "sync"
WITHDRAWALS = "withdrawals"


class Order(NamedTuple):
    field: str
    descending: bool


ORDERS = {
    NEWEST: Order("published_at", descending=True),
    SYNC: Order("changed_at", descending=False),
    WITHDRAWALS: Order("withdrawn_at", descending=False),
}


def with_changed_at(queryset):
    return queryset.annotate(changed_at=Greatest("updated_at", "published_at"))


def ordered(queryset, order: str):
    field, descending = ORDERS[order]
    return queryset.order_by(f"-{field}", "-pk") if descending else queryset.order_by(field, "pk")


def _key(row, order):
    return [getattr(row, ORDERS[order].field).isoformat(), row.pk]


def encode(row, order: str) -> str:
    return signing.dumps({"o": order, "k": _key(row, order)}, salt=SALT, compress=True)


def decode(value: str, order: str):
    try:
        data = signing.loads(value, salt=SALT)
        if data["o"] != order:
            raise BadParameter("cursor", "belongs to another order or endpoint (with or without updated_since)")
        moment, pk = data["k"]
        return dt.datetime.fromisoformat(moment), int(pk)
    except BadParameter:
        raise
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadParameter("cursor", "invalid cursor: use the `next` URL as given") from None


def after(queryset, cursor: str | None, order: str):
    """Rows of ``queryset`` (already ordered by ``order``) after ``cursor``'s row."""
    if not cursor:
        return queryset
    moment, pk = decode(cursor, order)
    field, descending = ORDERS[order]
    beyond = "lt" if descending else "gt"
    return queryset.filter(Q(**{f"{field}__{beyond}": moment}) | Q(**{field: moment, f"pk__{beyond}": pk}))


def paginate(queryset, *, cursor: str | None, limit: int, order: str):
    """(page of at most ``limit`` rows, cursor for the next page or None). One query (plus prefetches)."""
    rows = list(after(queryset, cursor, order)[: limit + 1])
    page = rows[:limit]
    return page, (encode(page[-1], order) if len(rows) > limit else None)
