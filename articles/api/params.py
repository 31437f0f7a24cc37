"""Query parameters of the JSON API. Each bad parameter raises ``BadParameter(name, message)``,
which the views answer with a 400 ``{"error": {"parameter": name, "message": message}}``."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def parse_limit(value: str | None, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """Page size: 1 to ``maximum``, ``default`` when absent."""
    if value is None or value == "":
        return default
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 6 or not 1 <= int(value) <= maximum:
        raise BadParameter("limit", f"must be a whole number from 1 to {maximum}")
    return int(value)


def parse_moment(name: str, value: str | None) -> dt.datetime | None:
    """An ISO 8601 date (its start) or date-time; without an offset it is Asia/Shanghai time."""
    if value is None or value == "":
        return None
    text = value.strip()
    # An unencoded "+08:00" in a query string arrives as " 08:00".
    text = text[:11] + text[11:].replace(" ", "+")
    try:
        if len(text) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        elif len(text) > 10 and text[10] in "Tt ":
            moment = dt.datetime.fromisoformat(text)
        else:
            raise ValueError
    except ValueError:
        raise BadParameter(name, "must be an ISO 8601 date (2022-07-31) or date-time (2022-07-31T08:00:00+08:00)") from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    try:
        moment.astimezone(dt.UTC)  # the database compares in UTC: 0001-01-01 in Beijing would be year 0
    except OverflowError:
        raise BadParameter(name, "is out of range") from None
    return moment


def get_object_by_slug(name: str, queryset, value: str | None):
    """The row with this slug, None when the parameter is absent; 400 naming it when unknown."""
    if value is None or value == "":
        return None
    found = queryset.filter(slug=value).first()
    if found is None:
        raise BadParameter(name, f"no {name} with slug {value!r}")
    return found
