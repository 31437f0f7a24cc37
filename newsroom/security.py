"""Login throttling (django-axes; README "Security"): the two functions settings.py points it at.

- ``client_ip()``: the address django-axes counts failed logins against, right behind a proxy too.
- ``login_username()``: the user name it records, cut to what its table holds.
- ``lockout_response()``: the Chinese page a locked-out login gets (HTTP 429).
"""

import ipaddress

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse


def client_ip(request) -> str | None:
    """The address a request came from, as django-axes' ``AXES_CLIENT_IP_CALLABLE``.

    Directly served, ``REMOTE_ADDR``. Behind ``NEWSROOM_PROXY_COUNT`` proxies that each append the
    address they saw to ``X-Forwarded-For`` (nginx's ``$proxy_add_x_forwarded_for``), the entry the
    outermost of them wrote: the last ``NEWSROOM_PROXY_COUNT`` entries come from our proxies, anything
    left of them from the client, who may write whatever it likes there. Without this every login
    behind a proxy would come from the proxy's address, and locking out "user at address" would lock
    the user out everywhere. A header with fewer entries, or an entry that is no IP address, is
    ignored: ``REMOTE_ADDR`` is used.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.NEWSROOM_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


# django-axes' AccessAttempt.username is a varchar(255), and the admin's login form does not enforce the
# user model's max_length (150: only the <input maxlength>), so a scanner's 300-character name reached the
# INSERT and PostgreSQL refused it: a 500 instead of "wrong password" (jazzband/django-axes#1381, open;
# #1480 proposes this same cut). No account has a longer name, so the cut hides nobody's failures.
USERNAME_MAX_LENGTH = 255


def login_username(request, credentials=None) -> str | None:
    """django-axes' ``AXES_USERNAME_CALLABLE``: its own choice (the credentials, else the form), at most 255 characters."""
    field = settings.AXES_USERNAME_FORM_FIELD
    username = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' ``AXES_LOCKOUT_CALLABLE``: the admin-styled page that says what happened and what to do."""
    cool_off = get_cool_off(request)
    context = {
        **admin.site.each_context(request),
        "title": "登录已暂停",
        "username": get_client_username(request, credentials) or "",
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
    }
    return TemplateResponse(
        request, "admin/login_locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    ).render()
