"""Login throttling (django-axes, newsroom/settings.py and newsroom/security.py) through the real admin login.

NEWSROOM_LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address lock that pair out for
NEWSROOM_LOGIN_COOLOFF_MINUTES, right password included, with a Chinese page (HTTP 429); the same user from
another address, and another user from the same address, still log in; a successful login forgets the
failures; an editor unlocks through the admin or ``manage.py axes_reset_username``. Time passes by moving
the recorded attempts back (the attempt time is all axes compares with the cool-off).
"""

import io
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

from newsroom.security import client_ip

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "pw"  # tests/conftest.py's make_user
OFFICE, HOME = "198.51.100.7", "203.0.113.20"


def attempt(username, password, ip=OFFICE, **extra):
    """One login through the admin's form from ``ip`` in a fresh browser (no session): the response."""
    client = Client(REMOTE_ADDR=ip, **extra)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    response.logged_in = SESSION_KEY in client.session
    return response


def fail(username, times, ip=OFFICE, **extra):
    return [attempt(username, "wrong-password", ip, **extra) for _ in range(times)]


def assert_locked_out(response, username):
    page = response.content.decode()
    assert response.status_code == 429 and not response.logged_in
    assert "登录已暂停" in page and f"用户名“{username}”" in page
    assert f"连续 {settings.AXES_FAILURE_LIMIT} 次密码错误" in page
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    assert f"请 {minutes} 分钟后再试" in page and "联系管理员" in page
    assert "Newsroom 编辑台" in page  # the admin's own header: rendered with the admin site's context
    assert "Content-Security-Policy" in response.headers


def assert_logs_in(response):
    assert response.status_code == 302 and response.logged_in, response.content.decode()[:300]


def pass_time(delta, **only):
    """Every recorded failure (or those matching ``only``) happened ``delta`` earlier."""
    for row in AccessAttempt.objects.filter(**only):
        row.attempt_time -= delta
        row.save(update_fields=["attempt_time"])


def test_the_settings_are_what_the_readme_says():
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]] and settings.AXES_RESET_ON_SUCCESS
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_wrong_passwords_lock_the_user_at_that_address_out(editor):
    limit = settings.AXES_FAILURE_LIMIT
    *before, last = fail("ed", limit)
    for response in before:  # the admin's ordinary error, still a login form
        assert response.status_code == 200 and "请输入一个正确的" in response.content.decode()
    assert_locked_out(last, "ed")
    assert_locked_out(attempt("ed", PASSWORD), "ed")  # the right password is refused too
    row = AccessAttempt.objects.get(username="ed", ip_address=OFFICE)
    assert row.failures_since_start == limit + 1
    assert "wrong-password" not in row.post_data and PASSWORD not in row.post_data  # masked


def test_another_address_and_another_user_are_not_locked(editor, contributor):
    fail("ed", settings.AXES_FAILURE_LIMIT)
    assert_logs_in(attempt("ed", PASSWORD, ip=HOME))  # nobody can lock an editor out from everywhere
    assert_logs_in(attempt("co", PASSWORD, ip=OFFICE))  # nor everyone at the editor's office
    assert_locked_out(attempt("ed", PASSWORD, ip=OFFICE), "ed")


def test_another_browser_at_the_same_address_is_still_locked(editor):
    fail("ed", settings.AXES_FAILURE_LIMIT, HTTP_USER_AGENT="curl/8.0")
    assert_locked_out(attempt("ed", PASSWORD, HTTP_USER_AGENT="Mozilla/5.0 Chromium"), "ed")


def test_the_lockout_ends_after_the_cool_off_and_every_attempt_restarts_it(editor):
    cool_off = settings.AXES_COOLOFF_TIME
    fail("ed", settings.AXES_FAILURE_LIMIT)
    pass_time(cool_off - timedelta(seconds=30))
    assert_locked_out(attempt("ed", PASSWORD), "ed")  # not yet; and this try starts the cool-off again
    pass_time(cool_off - timedelta(seconds=30))
    assert_locked_out(attempt("ed", PASSWORD), "ed")
    pass_time(cool_off + timedelta(seconds=1))
    assert_logs_in(attempt("ed", PASSWORD))
    assert not AccessAttempt.objects.filter(username="ed").exists()


def test_a_successful_login_forgets_the_failures(editor):
    limit = settings.AXES_FAILURE_LIMIT
    fail("ed", limit - 1)
    assert_logs_in(attempt("ed", PASSWORD))
    assert not AccessAttempt.objects.filter(username="ed").exists()
    responses = fail("ed", limit - 1)
    assert all(response.status_code == 200 for response in responses)  # counting starts again
    assert_logs_in(attempt("ed", PASSWORD))


def test_failures_by_a_name_nobody_has_are_throttled_too(editor):
    *_, last = fail("admin", settings.AXES_FAILURE_LIMIT)
    assert_locked_out(last, "admin")
    assert_logs_in(attempt("ed", PASSWORD))


def test_an_overlong_user_name_is_a_wrong_password_not_a_server_error(editor):
    """The admin's form lets any length through to authenticate(); axes' table holds 255 characters (on
    PostgreSQL a longer name was a 500): such names are recorded cut to 255 and throttled like any other."""
    name = "名" * 300
    *before, last = fail(name, settings.AXES_FAILURE_LIMIT)
    assert all(response.status_code == 200 for response in before)
    assert_locked_out(last, name[:255])
    assert AccessAttempt.objects.get().username == name[:255]


def test_an_editor_unlocks_in_the_admin(editor, admin_client):
    fail("ed", settings.AXES_FAILURE_LIMIT)
    changelist = reverse("admin:axes_accessattempt_changelist")
    page = admin_client.get(changelist, {"q": "ed"})
    assert page.status_code == 200 and OFFICE in page.content.decode()
    row = AccessAttempt.objects.get(username="ed")
    confirm = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert confirm.status_code == 302 and not AccessAttempt.objects.exists()
    assert_logs_in(attempt("ed", PASSWORD))


def test_cleaning_up_expired_attempts_in_the_admin(editor, contributor, admin_client):
    """axes 8.3.1's own action failed with a 500 (jazzband/django-axes#1424); articles/admin/logins.py mends it.
    (Each failed or successful login cleans up too: this is for the rows left when nobody logs in.)"""
    fail("co", 2)
    fail("ed", 2)
    pass_time(settings.AXES_COOLOFF_TIME + timedelta(minutes=1), username="ed")
    changelist = reverse("admin:axes_accessattempt_changelist")
    response = admin_client.post(changelist, {"action": "cleanup_expired_attempts",
                                              "_selected_action": [AccessAttempt.objects.first().pk]}, follow=True)
    assert response.status_code == 200
    assert "已清理 1 条已过冷却期的登录失败记录。" in [str(m) for m in response.context["messages"]]
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["co"]


def test_an_operator_unlocks_from_the_command_line(editor, contributor):
    fail("ed", settings.AXES_FAILURE_LIMIT)
    fail("co", settings.AXES_FAILURE_LIMIT)
    call_command("axes_reset_username", "ed", stdout=io.StringIO())
    assert_logs_in(attempt("ed", PASSWORD))
    assert_locked_out(attempt("co", PASSWORD), "co")  # only the name given


def test_the_test_clients_login_needs_the_request():
    """axes refuses authenticate() without a request, as Django's Client.login() calls it: tests use
    force_login() (tests/conftest.py, factories.client_for), which authenticates nobody."""
    from axes.exceptions import AxesBackendRequestParameterRequired

    with pytest.raises(AxesBackendRequestParameterRequired):
        Client().login(username="ed", password=PASSWORD)


# --- the client's address, behind a proxy ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.20", "10.0.0.2"),  # directly served: the header is the client's, ignored
        (1, None, "10.0.0.2"),
        (1, "203.0.113.20", "203.0.113.20"),
        (1, "1.2.3.4, 203.0.113.20", "203.0.113.20"),  # the client wrote 1.2.3.4, nginx appended what it saw
        (1, "not-an-ip, 2001:db8::1", "2001:db8::1"),
        (2, "1.2.3.4, 203.0.113.20, 10.0.0.9", "203.0.113.20"),  # CDN, then nginx
        (2, "203.0.113.20", "10.0.0.2"),  # fewer entries than proxies: misconfigured, not trusted
        (1, "203.0.113.20:4711", "10.0.0.2"),  # no address
        (1, "", "10.0.0.2"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.NEWSROOM_PROXY_COUNT = proxies
    meta = {"REMOTE_ADDR": "10.0.0.2"}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **meta)) == expected


def test_behind_the_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(settings, editor):
    settings.NEWSROOM_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("ed", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {OFFICE}")
    assert_locked_out(attempt("ed", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {OFFICE}"), "ed")
    assert AccessAttempt.objects.get().ip_address == OFFICE
    # Everyone else reaches Django from the proxy's address too, and is not locked out.
    assert_logs_in(attempt("ed", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR=HOME))
