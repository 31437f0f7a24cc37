"""Shared fixtures: a temporary MEDIA_ROOT, fast password hashing, small factories."""

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
