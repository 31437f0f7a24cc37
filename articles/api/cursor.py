"""Keyset ("cursor") pagination for the JSON API.

Pages follow a sort key, never an offset, so articles added or edited between two page fetches
neither repeat nor disappear:

- the default order, newest first: ``(published_at desc, id desc)``;
- the sync order, when ``updated_since`` is given: ``(changed_at asc, id asc)`` where
  ``changed_at`` is the later of ``updated_at`` and ``published_at`` (a scheduled article saved
  long ago counts as changed when it goes public). An article edited while a consumer pages
  moves to the end, so it is delivered again, never skipped.

A cursor is the last row's sort key, signed with ``django.core.signing`` (and tied to its
order): a tampered or foreign cursor is a ``BadParameter("cursor", ...)``.
"""

import datetime as dt

from django.core import signing
from django.db.models import Q
from django.db.models.functions import Greatest

from articles.api.params import BadParameter

SALT = "newsroom.api.cursor"
NEWEST = "newest"
SYNC = "sync"


def with_changed_at(queryset):
    return queryset.annotate(changed_at=Greatest("updated_at", "published_at"))


def ordered(queryset, order: str):
    if order == SYNC:
        return queryset.order_by("changed_at", "pk")
    return queryset.order_by("-published_at", "-pk")


def _key(article, order):
    moment = article.changed_at if order == SYNC else article.published_at
    return [moment.isoformat(), article.pk]


def encode(article, order: str) -> str:
    return signing.dumps({"o": order, "k": _key(article, order)}, salt=SALT, compress=True)


def decode(value: str, order: str):
    try:
        data = signing.loads(value, salt=SALT)
        if data["o"] != order:
            raise BadParameter("cursor", "belongs to another order (with or without updated_since)")
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
    if order == SYNC:
        return queryset.filter(Q(changed_at__gt=moment) | Q(changed_at=moment, pk__gt=pk))
    return queryset.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))


def paginate(queryset, *, cursor: str | None, limit: int, order: str):
    """(page of at most ``limit`` articles, cursor for the next page or None). One query (plus prefetches)."""
    rows = list(after(queryset, cursor, order)[: limit + 1])
    page = rows[:limit]
    return page, (encode(page[-1], order) if len(rows) > limit else None)
