"""Several app servers: real gunicorn processes sharing one PostgreSQL database and one Redis.

A change made through one server's admin is visible on the other at once, because page
invalidation lives in the shared cache (the content generation, ``articles/cache.py``), not in
any process's memory; and when Redis dies, both keep serving from the database, changes
included, and cache again once it is back.

Everything is private to the test: a PostgreSQL database of its own (created and dropped here,
whatever ``DATABASE_URL`` the suite runs on), redis-server processes of its own on free ports
(so no other Redis data is ever read, written or flushed, even by concurrent runs), gunicorn on
free loopback ports, and a temporary MEDIA_ROOT. Every wait is bounded; finalizers stop every
process and drop the database even when a step fails.

How a cache hit is told apart from a render without timing: a page's ``ETag`` is the digest of
its cache key, so the test finds the stored page in Redis; and an ``UPDATE`` run straight on the
database (no Django, so no signal and no invalidation) stays invisible while a page is served
from the cache, on the server that cached it and on the other one.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .appservers import (
    BASE_DIR,
    Gunicorn,
    PostgresDatabase,
    RedisServer,
    gunicorn_binary,
    manage,
    postgres_server_url,
    postgres_unreachable,
)

PUBLISHED_DEMO = [
    "000_557d8bcde4ad9185.md",
    "demo_chengdu_digital_economy.md",
    "demo_guangdong_bay_area_ports.md",
    "demo_guizhou_ecology_bigdata.md",
]
DRAFT_DEMO = "demo_zhejiang_rural_income.md"
EDITOR, PASSWORD = "editor", "appservers-pw-1"
HOME = "/"
LIST = "/articles/"


def _skip_reason():
    if not gunicorn_binary():
        return "gunicorn is not installed (make install)"
    if not shutil.which("redis-server"):
        return "redis-server is not installed: the app-server test runs Redis processes of its own"
    return postgres_unreachable(postgres_server_url())


SKIP_REASON = _skip_reason()
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(SKIP_REASON is not None, reason=f"app servers: {SKIP_REASON}"),
]


# --- the site: database, content, users -------------------------------------------------------------------


class Site:
    """The shared database and media folder, and the environment every server and command gets."""

    def __init__(self, workdir: Path, database: PostgresDatabase):
        self.workdir, self.database = workdir, database
        self.media = workdir / "media"
        self.media.mkdir()
        self.static = workdir / "static"

    def env(self, redis_url: str) -> dict:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("AWS_", "S3_", "NEWSROOM_", "GUNICORN_")) and name not in {"WEB_CONCURRENCY"}}
        env.update({
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DEBUG": "0",
            "SECRET_KEY": "appservers-test-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            # Behind a TLS-terminating load balancer, as in README "Production": the test's client
            # (tests/appservers.py) sends the header, so HTTPS redirects and secure cookies stay on.
            "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "DATABASE_URL": self.database.url,
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(self.media),
            "STATIC_ROOT": str(self.static),  # collectstatic's manifest: pages need it with DEBUG off
            "NEWSROOM_PAGE_CACHE_SECONDS": "300",  # the page cache on, for longer than the test lasts
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def articles(self):
        rows = self.database.execute("SELECT id, slug, title, status FROM articles_article ORDER BY id")
        return {slug: {"pk": pk, "slug": slug, "title": title, "status": status,
                       "url": f"/articles/{slug}/"} for pk, slug, title, status in rows}

    def article(self, slug):
        return self.articles()[slug]

    def sneak_title(self, pk, title):
        """Change a title behind Django's back: no save(), no signal, so no cache invalidation."""
        self.database.execute("UPDATE articles_article SET title = %s WHERE id = %s", (title, pk))


@pytest.fixture(scope="module")
def workdir():
    path = Path(tempfile.mkdtemp(prefix="newsroom-appservers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def site(workdir):
    """Its own PostgreSQL database, migrated, with four published demo articles, one draft and an editor."""
    database = PostgresDatabase(postgres_server_url(), f"newsroom_appservers_{os.getpid()}")
    try:
        database.create()
        site = Site(workdir, database)
        # Commands talk to no Redis: the cache they would bump is empty anyway (no server has started).
        env = site.env(redis_url="")
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        published, draft = workdir / "published", workdir / "draft"
        published.mkdir()
        draft.mkdir()
        for name in PUBLISHED_DEMO:
            shutil.copy(BASE_DIR / "demo" / name, published / name)
        shutil.copy(BASE_DIR / "demo" / DRAFT_DEMO, draft / DRAFT_DEMO)
        manage(env, "import_articles", str(published), "--publish")
        manage(env, "import_articles", str(draft))
        manage(env, "create_demo_users", "--password", PASSWORD)
        yield site
    finally:
        database.drop()


def start_pair(site, redis, workdir, prefix, workers=2):
    """Two gunicorn servers on the same database and the same Redis; stops both if either fails to start."""
    servers = [Gunicorn(f"{prefix}{n}", site.env(redis.url), workdir, workers=workers) for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


@pytest.fixture(scope="module")
def shared_redis(workdir):
    redis = RedisServer(workdir)
    try:
        yield redis.start()
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def servers(site, shared_redis, workdir):
    pair = start_pair(site, shared_redis, workdir, "shared-")
    try:
        yield pair
    finally:
        for server in pair:
            server.stop()


# --- assertions -------------------------------------------------------------------------------------------


def page(client, path, status=200):
    response = client.get(path)
    assert response.status == status, (
        f"GET {path} on :{client.port}: {response!r}\n{response.text[:1000]}\nserver log:\n{client.server_log()}")
    return response


def assert_cached(client, path, redis, *, showing):
    """GET twice: the same ETag, the page stored in Redis under it, and ``showing`` in the page."""
    first = page(client, path)
    second = page(client, path)
    etag = second.header("ETag")
    assert etag and first.header("ETag") == etag, f"{path}: ETag {first.header('ETag')} then {etag}"
    assert redis.has_page(etag), f"{path}: no page stored in Redis under {etag}"
    assert "public" in (second.header("Cache-Control") or ""), second.headers
    assert showing in second.text, f"{path} does not show {showing!r}"
    return second


# --- the tests --------------------------------------------------------------------------------------------


def test_a_change_on_one_server_is_visible_on_the_other_at_once(site, servers, shared_redis):
    server_a, server_b = servers
    a, b = server_a.client(), server_b.client()
    articles = site.articles()
    published = [article for article in articles.values() if article["status"] == "published"]
    drafts = [article for article in articles.values() if article["status"] == "draft"]
    assert len(published) == len(PUBLISHED_DEMO) and len(drafts) == 1, articles
    renamed = published[0]
    withdrawn = next(article for article in published if article["pk"] != renamed["pk"])
    draft = drafts[0]

    # 2. Warm the cache through A: each page is stored in the shared Redis under its ETag...
    for path, showing in [(renamed["url"], renamed["title"]), (withdrawn["url"], withdrawn["title"]),
                          (HOME, withdrawn["title"]), (LIST, renamed["title"])]:
        on_a = assert_cached(a, path, shared_redis, showing=showing)
        # ...and B answers with the same page: same generation, same key (the same Host, as behind a balancer).
        on_b = assert_cached(b, path, shared_redis, showing=showing)
        assert on_b.header("ETag") == on_a.header("ETag"), path
        assert b.get(path, headers={"If-None-Match": on_a.header("ETag")}).status == 304, path
    draft_page = page(b, draft["url"], status=404)

    # A change that sends no signal is not seen by either server: both serve the pages A cached.
    # (A render would show it at least in <title>, which comes from the article row.)
    site.sneak_title(renamed["pk"], "未经通知的标题")
    for client, path in [(b, renamed["url"]), (a, renamed["url"]), (b, HOME), (b, LIST)]:
        assert "未经通知的标题" not in page(client, path).text, f"{path} on :{client.port} was rendered, not cached"
    site.sneak_title(renamed["pk"], renamed["title"])

    # 3. An editor changes things in A's admin; B shows every change on its very next request.
    editor = server_a.client()
    editor.login(EDITOR, PASSWORD)
    new_title = "两台服务器共享缓存：改名立即可见"
    editor.change_article(renamed["pk"], title=new_title)
    after = page(b, renamed["url"])
    assert new_title in after.text and renamed["title"] not in after.text, "B serves the page from before the change"
    assert new_title in page(b, HOME).text
    assert new_title in page(b, LIST).text
    assert_cached(b, renamed["url"], shared_redis, showing=new_title)  # and cached again, on the new generation

    editor.admin_action("unpublish_selected", [withdrawn["pk"]])
    assert site.article(withdrawn["slug"])["status"] == "draft"
    page(b, withdrawn["url"], status=404)
    assert withdrawn["title"] not in page(b, HOME).text
    assert withdrawn["title"] not in page(b, LIST).text
    page(a, withdrawn["url"], status=404)

    editor.admin_action("publish_selected", [draft["pk"]])
    assert site.article(draft["slug"])["status"] == "published"
    assert draft["title"] in page(b, draft["url"]).text
    assert draft["title"] in page(b, HOME).text
    assert draft["title"] in page(a, LIST).text
    assert draft_page.status == 404  # it was a 404 (not cached: only 200s are) before the publication

    for server in servers:
        assert page(server.client(), "/healthz").status == 200
        assert "Traceback" not in server.log(), server.log()


def test_pages_are_served_from_the_database_while_redis_is_down(site, servers, workdir):
    """A second, private Redis for two more servers: kill it, keep serving; restart it, cache again;
    and when it comes back with its old data, a change made meanwhile is still shown.

    One worker per server: each process knows only the cache failures it saw itself
    (articles/cache.py), and with one worker each, both servers have seen the outage.
    """
    redis = RedisServer(workdir).start()
    pair = []
    try:
        pair = start_pair(site, redis, workdir, "flaky-", workers=1)
        server_c, server_d = pair
        c, d = server_c.client(), server_d.client()
        story = next(article for article in site.articles().values() if article["status"] == "published")
        other = next(article for article in site.articles().values()
                     if article["status"] == "published" and article["pk"] != story["pk"])
        assert_cached(c, story["url"], redis, showing=story["title"])
        assert_cached(d, HOME, redis, showing=story["title"])

        redis.kill()  # a crash: no shutdown, connections refused from now on
        for client in (c, d):
            for path, showing in [(story["url"], story["title"]), (HOME, story["title"]), (LIST, other["title"])]:
                response = page(client, path)
                assert showing in response.text, path
            assert page(client, "/healthz").status == 200
        # Nothing is cached meanwhile: a change behind Django's back shows at once on both servers...
        site.sneak_title(other["pk"], "缓存宕机时直接改库")
        assert "缓存宕机时直接改库" in page(d, other["url"]).text
        assert "缓存宕机时直接改库" in page(c, HOME).text
        site.sneak_title(other["pk"], other["title"])
        # ...and an editor can log in and change an article through C's admin; D shows it.
        editor = server_c.client()
        editor.login(EDITOR, PASSWORD)
        down_title = "缓存宕机时编辑的标题"
        editor.change_article(story["pk"], title=down_title)
        assert down_title in page(d, story["url"]).text
        assert down_title in page(d, HOME).text
        assert "Page cache unavailable" in server_c.log() + server_d.log()

        # Redis comes back (empty, on the same port): the servers reconnect and cache pages again. Each
        # server that saw the outage starts a new generation on its first request (articles/cache.py).
        redis.start()
        assert down_title in page(d, story["url"]).text
        cached = assert_cached_soon(c, story["url"], redis, showing=down_title)
        assert page(d, story["url"]).header("ETag") == cached.header("ETag")
        site.sneak_title(story["pk"], "恢复后未经通知的标题")
        assert "恢复后未经通知的标题" not in page(d, story["url"]).text  # from the cache again, across servers
        site.sneak_title(story["pk"], down_title)

        # Redis comes back with its data (restarted from its dump, or after a network outage): it still
        # holds the generation and the pages from before a change made while it was away.
        assert_cached(d, HOME, redis, showing=down_title)
        redis.dump()
        redis.kill()
        away_title = "缓存离开时编辑的标题"
        assert down_title in page(d, story["url"]).text  # D sees the outage too
        editor.change_article(story["pk"], title=away_title)
        assert away_title in page(d, story["url"]).text
        redis.start()
        assert redis.page_keys(), "the dump brought back no page"
        for client in (d, c):
            for path in (story["url"], HOME):
                shown = page(client, path).text
                assert away_title in shown, f"{path} on :{client.port} is the page cached before the outage"
        assert_cached(d, story["url"], redis, showing=away_title)
        for server in pair:
            assert page(server.client(), "/healthz").status == 200
    finally:
        for server in pair:
            server.stop()
        redis.stop()


def assert_cached_soon(client, path, redis, *, showing, attempts=20):
    """assert_cached, allowing the first requests after a Redis restart to reconnect (bounded)."""
    for _ in range(attempts - 1):
        try:
            return assert_cached(client, path, redis, showing=showing)
        except AssertionError:
            pass
    return assert_cached(client, path, redis, showing=showing)
