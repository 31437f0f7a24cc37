"""Shared fixtures: a temporary MEDIA_ROOT, fast password hashing, a clock, users in each role."""

from datetime import timedelta

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_page_cache(settings):
    """Every test starts with an empty local-memory cache: no pages left by an earlier test, and
    never the Redis that REDIS_URL may name, which clear() would wipe."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "newsroom-tests"}
    }
    cache.clear()


class Clock:
    """``django.utils.timezone.now`` that stands still until told to move: ``clock.advance(minutes=5)``."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """A controllable clock for publication times, ``auto_now`` fields and ``published()``; no sleeps."""
    from django.utils import timezone

    clock = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def make_user(django_user_model):
    """``make_user(username, group)``: a staff user in one of the roles (groups) of migration 0004."""
    from django.contrib.auth.models import Group

    def make(username, group):
        user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user

    return make


@pytest.fixture
def editor(make_user):
    return make_user("ed", "Editor")


@pytest.fixture
def contributor(make_user):
    return make_user("co", "Contributor")


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Background tasks (articles/tasks.py) run at once in tests; a test that needs the real
    database queue and worker asks for ``database_tasks`` (tests/test_tasks.py)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
