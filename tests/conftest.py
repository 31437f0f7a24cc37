"""Shared fixtures: a temporary MEDIA_ROOT, fast password hashing, a clock, users in each role."""

import os
from datetime import timedelta

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests (tests/test_properties.py). "ci", the default: 200 examples per property from a fixed seed and no
# example database, so every run tries the same inputs. "thorough" (HYPOTHESIS_PROFILE=thorough): 5,000 random
# examples per property, failures remembered in .hypothesis/ and replayed first on the next run.
hypothesis_settings.register_profile(
    "ci", max_examples=200, derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "thorough", max_examples=5000, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The image tests' HTTP servers listen on 127.0.0.1, an address the downloader refuses by default
    # (tests/test_import_hardening.py proves it with this setting off).
    settings.NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]


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


_SUMMARY = pytest.StashKey[list]()


@pytest.fixture(scope="session")
def suite_summary(pytestconfig):
    """Lines printed after the results, even with -q: ``suite_summary.append("XSS corpus: ...")``."""
    return pytestconfig.stash.setdefault(_SUMMARY, [])


def pytest_terminal_summary(terminalreporter, config):
    for line in config.stash.get(_SUMMARY, []):
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Background tasks (articles/tasks.py) run at once in tests; a test that needs the real
    database queue and worker asks for ``database_tasks`` (tests/test_tasks.py)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
