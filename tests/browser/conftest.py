"""Playwright fixtures: headless Debian Chromium against pytest-django's ``live_server``.

Every test in this folder is marked ``browser`` (deselect with ``-m "not browser"``), runs on a
transactional database (the live server answers from another thread) and gets a ``page`` whose
requests may only go to the live server, so no test ever touches the network.
"""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.hookimpl(tryfirst=True)  # before -m selects, so `-m "not browser"` sees the marker
def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def playwright(django_db_setup, django_db_blocker):
    """Playwright's sync API, for the tests in this folder only.

    While it runs, an asyncio loop counts as running in this thread, with two effects on Django:

    - the ORM refuses to run ("SynchronousOnlyOperation") unless DJANGO_ALLOW_ASYNC_UNSAFE is set;
    - ``django.db.connections`` (an asgiref Local) switches to context-var storage, so this thread
      gets new connection objects. They lack the migrations' rows that the test database setup
      serialized onto the old ones for serialized rollback: copy them over, and close the new
      connections before Playwright stops (PostgreSQL refuses to drop a test database in use).

    Package scope (not session) stops Playwright and unsets the variable before any other test
    module runs.
    """
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-dev.txt")
    from django.db import connections

    serialized = {
        conn.alias: conn._test_serialized_contents
        for conn in connections.all()
        if hasattr(conn, "_test_serialized_contents")
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_api.sync_playwright() as pw:
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            yield pw
            with django_db_blocker.unblock():
                connections.close_all()


@pytest.fixture(scope="package")
def browser(playwright):
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Chromium not installed: apt-get install chromium fonts-wqy-microhei (run .ci/run)")
    # launch() gives Chromium a fresh temporary profile and removes it on close.
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def live_site(playwright, live_server, django_db_serialized_rollback):
    """The live server's base URL.

    Serialized rollback restores the migrations' rows (the Contributor and Editor groups, seeded
    regions and sources) that the transactional flush after each test removes. Playwright starts
    first, so the whole test, database setup included, sees the same connection (see above).
    """
    return live_server.url


@pytest.fixture(autouse=True)
def _empty_caches():
    """Each test starts with empty caches: a page cached by an earlier test (whose rows and MEDIA_ROOT are
    gone) must not be served to this one."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def new_page(browser, live_site):
    """Makes pages in fresh contexts (own cookies: one per user); each records what it blocked and any JS errors."""
    contexts = []
    allowed = urlsplit(live_site).netloc

    def make(**context_options):
        """``context_options`` go to ``browser.new_context()`` (e.g. a phone's viewport, is_mobile, has_touch)."""
        context = browser.new_context(**{"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}, **context_options})
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(30_000)
        blocked, errors = [], []

        def only_live_server(route):
            if urlsplit(route.request.url).netloc == allowed:
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", only_live_server)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.blocked_requests, page.js_errors = blocked, errors
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
