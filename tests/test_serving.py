"""Serving in production: gunicorn.conf.py, whitenoise, check --deploy, HTTPS behind a proxy, the
PostgreSQL pool and statement timeout, the JSON request log and /healthz's cache status."""

import gc
import io
import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.urls import reverse

from articles.request_log import JsonFormatter
from newsroom.settings import postgres_options, retry_connecting

from .factories import make_article

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION_SECRET_KEY = "k9#Qv2!xL7@pR4$wZ8^mT1&yB6*nC3(hF5)jD0-sG2+uA9=eK7"
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def clean_env(**overrides):
    """This process's environment without any serving variable, plus ``overrides``."""
    prefixes = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_", "SESSION_COOKIE", "CSRF_", "DB_", "REDIS_URL",
                "WEB_CONCURRENCY", "GUNICORN_", "HOST", "PORT", "STATIC_ROOT", "REQUEST_LOG_LEVEL")
    env = {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}
    return {**env, "DJANGO_SETTINGS_MODULE": "newsroom.settings", **overrides}


def run(args, env, **kwargs):
    return subprocess.run(args, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=60, **kwargs)


def settings_in_subprocess(env, *names):
    """The named settings as newsroom/settings.py computes them in a fresh process with ``env``."""
    code = ("import json, newsroom.settings as s; "
            f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))")
    result = run([sys.executable, "-c", code], clean_env(**env), check=True)
    return json.loads(result.stdout)


# --- check --deploy, HTTPS, cookies -----------------------------------------------------------------------


def test_check_deploy_is_clean_with_the_production_variables():
    env = clean_env(SECRET_KEY=PRODUCTION_SECRET_KEY, ALLOWED_HOSTS="news.example.org")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues (0 silenced)" in result.stdout


def test_check_deploy_still_names_what_production_lacks():
    env = clean_env(SECRET_KEY=PRODUCTION_SECRET_KEY, ALLOWED_HOSTS="news.example.org",
                    SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="0")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W012" in result.stderr


def test_development_needs_no_production_variables():
    env = clean_env(DEBUG="1")
    result = run([sys.executable, "manage.py", "check", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stderr
    values = settings_in_subprocess({"DEBUG": "1"}, "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                                    "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "STORAGES")
    assert values["SECURE_SSL_REDIRECT"] is values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0 and values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_production_settings_from_the_environment():
    env = {"SECRET_KEY": PRODUCTION_SECRET_KEY, "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
           "CSRF_TRUSTED_ORIGINS": "https://news.example.org, https://www.news.example.org", "SECURE_HSTS_SECONDS": "3600"}
    values = settings_in_subprocess(env, "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "SECURE_HSTS_SECONDS",
                                    "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "STORAGES")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://news.example.org", "https://www.news.example.org"]
    assert values["SECURE_HSTS_SECONDS"] == 3600
    assert values["SECURE_SSL_REDIRECT"] is values["SESSION_COOKIE_SECURE"] is True
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == MANIFEST_STORAGE


@pytest.fixture
def production_https(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path  # whitenoise scans it when DEBUG is off
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def test_plain_http_is_redirected_to_https_except_healthz(client, production_https):
    response = client.get(reverse("articles:home"))
    assert response.status_code == 301 and response["Location"].startswith("https://testserver/")
    assert client.get("/healthz").status_code == 200  # load balancers probe over plain http


def test_https_behind_the_proxy_is_served_with_hsts(client, production_https):
    make_article(title="代理之后")
    response = client.get(reverse("articles:home"), headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200 and "代理之后" in response.content.decode()
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


# --- whitenoise -------------------------------------------------------------------------------------------


def test_collected_static_files_are_hashed_compressed_and_cached_forever(client, settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    settings.WHITENOISE_AUTOREFRESH = settings.WHITENOISE_USE_FINDERS = False  # as in production
    call_command("collectstatic", interactive=False, verbosity=0)
    html = client.get(reverse("articles:home")).content.decode()
    start = html.index("/static/articles/site.")
    url = html[start:html.index('"', start)]
    assert url != "/static/articles/site.css"  # the name carries the content's hash
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]


# --- gunicorn ---------------------------------------------------------------------------------------------


def gunicorn_binary():
    candidate = Path(sys.executable).with_name("gunicorn")
    return str(candidate) if candidate.exists() else "gunicorn"


def print_config(**env):
    result = run([gunicorn_binary(), "--print-config"], clean_env(DEBUG="1", **env), check=True)
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def test_gunicorn_conf_reads_the_environment():
    config = print_config(HOST="0.0.0.0", PORT="9123", WEB_CONCURRENCY="3", GUNICORN_THREADS="6", GUNICORN_TIMEOUT="45")
    assert config["bind"] == "['0.0.0.0:9123']"
    assert (config["workers"], config["threads"], config["timeout"]) == ("3", "6", "45")
    assert config["accesslog"] == "-"
    assert config["wsgi_app"] == "newsroom.wsgi:application"


def test_gunicorn_runs_sync_workers_unless_given_threads():
    """Sync workers by default (README "Performance": the p99 at 64 connections); GUNICORN_THREADS > 1 makes
    gunicorn run gthread workers instead, and the pool follows the threads."""
    config = print_config()
    assert (config["worker_class"], config["threads"]) == ("sync", "1")


def test_gunicorn_freezes_what_the_master_loaded_before_each_fork():
    """README "Performance", garbage collection: a worker's full collections never visit the app's objects."""
    hooks = runpy.run_path(str(Path(__file__).parent.parent / "gunicorn.conf.py"))
    assert gc.isenabled(), "reading the configuration leaves the collector as it was"
    try:
        hooks["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_workers_default_to_twice_the_cores_plus_one_at_most_eight():
    config = print_config()
    assert int(config["workers"]) == min(2 * len(os.sched_getaffinity(0)) + 1, 8)
    assert config["bind"] == "['127.0.0.1:8000']"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, headers=None):
    conn = HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_make_serve_runs_gunicorn_with_whitenoise_and_logs_each_request(tmp_path):
    """What ``make serve`` runs (collectstatic, then gunicorn with gunicorn.conf.py), DEBUG off, behind a proxy."""
    port = free_port()
    env = clean_env(SECRET_KEY=PRODUCTION_SECRET_KEY, ALLOWED_HOSTS="127.0.0.1", PORT=str(port),
                    WEB_CONCURRENCY="1", GUNICORN_THREADS="2", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
                    STATIC_ROOT=str(tmp_path / "static"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                    PYTHONUNBUFFERED="1")
    run([sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"], env, check=True)
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as out:
        server = subprocess.Popen([gunicorn_binary()], env=env, cwd=BASE_DIR, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, headers, body = get(port, "/healthz", {"X-Request-ID": "probe-1"})
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        assert status == 200 and json.loads(body)["database"] == "ok"
        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["articles/site.css"]
        status, headers, body = get(port, f"/static/{hashed}", {"X-Forwarded-Proto": "https"})
        assert status == 200 and b"{" in body and "immutable" in headers["Cache-Control"]
        assert get(port, "/static/articles/site.css")[0] == 301  # plain http, not through the proxy
    finally:
        server.terminate()
        server.wait(timeout=15)
    lines = log.read_text().splitlines()
    requests = [json.loads(line) for line in lines if line.startswith("{")]
    probe = next(line for line in requests if line["request_id"] == "probe-1")
    assert probe["path"] == "/healthz" and probe["status"] == 200 and probe["user"] == "anonymous"
    assert any('"GET /healthz HTTP/1.1" 200' in line and "probe-1" in line for line in lines)  # gunicorn's access log


# --- PostgreSQL: the pool and the statement timeout --------------------------------------------------------


POOL_VARIABLES = ("DB_POOL", "DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE", "DB_POOL_TIMEOUT", "DB_POOL_RECONNECT_TIMEOUT",
                  "DB_STATEMENT_TIMEOUT_MS", "GUNICORN_THREADS")
RECONNECT = {"reconnect_timeout": 2.0, "reconnect_failed": retry_connecting}


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, {"options": "-c statement_timeout=25000",
              "pool": {"min_size": 2, "max_size": 4, "timeout": 2.0, **RECONNECT}}),
        ({"GUNICORN_THREADS": "8"}, {"options": "-c statement_timeout=25000",
                                     "pool": {"min_size": 2, "max_size": 8, "timeout": 2.0, **RECONNECT}}),
        ({"DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": "6", "DB_POOL_TIMEOUT": "2.5", "DB_POOL_RECONNECT_TIMEOUT": "5",
          "DB_STATEMENT_TIMEOUT_MS": "500"},
         {"options": "-c statement_timeout=500", "pool": {"min_size": 1, "max_size": 6, "timeout": 2.5,
                                                          "reconnect_timeout": 5.0, "reconnect_failed": retry_connecting}}),
        ({"DB_POOL": "0", "DB_STATEMENT_TIMEOUT_MS": "0"}, {}),
    ],
    ids=["defaults", "pool-follows-threads", "tuned", "both-off"],
)
def test_postgres_options_from_the_environment(monkeypatch, env, expected):
    for name in POOL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert postgres_options() == expected


def test_postgres_options_keep_options_from_the_url(monkeypatch):
    monkeypatch.setenv("DB_POOL", "0")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "1000")
    assert postgres_options({"options": "-c search_path=news"}) == {"options": "-c search_path=news -c statement_timeout=1000"}


@pytest.mark.parametrize(
    "env, conn_max_age, has_pool",
    [({}, 0, True), ({"DB_POOL": "0"}, 60, False), ({"DB_POOL": "0", "CONN_MAX_AGE": "0"}, 0, False)],
    ids=["pool", "persistent", "per-request"],
)
def test_databases_use_the_pool_only_for_postgresql(env, conn_max_age, has_pool):
    postgres = settings_in_subprocess({"DEBUG": "1", "DATABASE_URL": "postgres://news@db.internal:5432/newsroom", **env},
                                      "DATABASES")["DATABASES"]["default"]
    assert postgres["CONN_MAX_AGE"] == conn_max_age  # Django's pool refuses persistent connections
    assert ("pool" in postgres["OPTIONS"]) is has_pool
    assert postgres["OPTIONS"]["options"] == "-c statement_timeout=25000"
    sqlite = settings_in_subprocess({"DEBUG": "1", "DATABASE_URL": "sqlite:///tmp.sqlite3", **env},
                                    "DATABASES")["DATABASES"]["default"]
    assert sqlite.get("OPTIONS", {}) == {}


postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


@pytest.mark.postgres
@postgres_only
def test_the_suite_runs_with_the_configured_timeout_and_pool():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        expected = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "25000"))
        assert cursor.fetchone()[0] == ("0" if expected == 0 else f"{expected}ms" if expected % 1000 else f"{expected // 1000}s")
    assert (connection.pool is not None) == ("pool" in connection.settings_dict["OPTIONS"])


SLOW_QUERY = """
import time, django
django.setup()
from django.db import connection, OperationalError
assert connection.pool is not None, "the pool is on"
start = time.monotonic()
try:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(5)")
    print("finished", time.monotonic() - start)
except OperationalError as exc:
    print("cancelled", exc.__cause__.sqlstate, round(time.monotonic() - start, 2))
connection.close()  # back to the pool; the next request's connection works
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
    print("next", cursor.fetchone()[0])
"""


@pytest.mark.postgres
@postgres_only
def test_a_slow_query_is_cancelled_at_the_statement_timeout():
    """A worker's query that outlives DB_STATEMENT_TIMEOUT_MS is cancelled by PostgreSQL (57014)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = clean_env(DEBUG="1", DATABASE_URL=url, DB_STATEMENT_TIMEOUT_MS="300", DB_POOL_MIN_SIZE="1")
    result = run([sys.executable, "-c", SLOW_QUERY], env)
    assert result.returncode == 0, result.stderr
    cancelled, next_query = result.stdout.splitlines()
    word, sqlstate, seconds = cancelled.split()
    assert (word, sqlstate) == ("cancelled", "57014")  # query_canceled: "canceling statement due to statement timeout"
    assert 0.25 <= float(seconds) < 3
    assert next_query == "next 1"


HEALTHZ_WITHOUT_DATABASE = """
import json, time, django
django.setup()
from django.db import connection
from django.test import Client
assert connection.pool is not None, "the pool is on"
start = time.monotonic()
response = Client().get("/healthz", HTTP_HOST="localhost")
print(response.status_code, json.loads(response.content)["database"], round(time.monotonic() - start, 2))
"""


def test_healthz_answers_503_within_a_second_when_postgresql_is_unreachable():
    """The pool would make a request wait DB_POOL_TIMEOUT for a connection; a load balancer's probe gives up long
    before, so /healthz waits at most articles.health.DATABASE_TIMEOUT (1 s). No PostgreSQL needed: nothing listens."""
    url = f"postgres://postgres@127.0.0.1:{free_port()}/newsroom"
    env = clean_env(DEBUG="1", DATABASE_URL=url, DB_POOL_TIMEOUT="10", DB_POOL_MIN_SIZE="1")
    result = run([sys.executable, "-c", HEALTHZ_WITHOUT_DATABASE], env)
    assert result.returncode == 0, result.stderr
    status, error, seconds = result.stdout.splitlines()[-1].split()  # after the request's JSON log line
    assert (status, error) == ("503", "PoolTimeout")
    assert 0.9 <= float(seconds) < 3  # not DB_POOL_TIMEOUT's 10 s


class Outage:
    """A TCP relay to PostgreSQL that can go down (cutting its connections, refusing new ones) and come back:
    a PostgreSQL restart, as the app's connection pool sees it."""

    def __init__(self, target):
        self.target, self.port = target, free_port()
        self.listener, self.sockets, self.lock = None, [], threading.Lock()

    def up(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self):
        for sock in [self.listener, *self._take_sockets()]:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept() or recv()
            except OSError:
                pass
            sock.close()

    def _take_sockets(self):
        with self.lock:
            taken, self.sockets = self.sockets, []
        return taken

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                return
            upstream.settimeout(None)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    @staticmethod
    def _relay(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.mark.postgres
@postgres_only
def test_the_pool_serves_again_within_a_second_or_two_after_a_long_outage(monkeypatch):
    """psycopg_pool alone retries a lost connection after 1, 2, 4, 8... s: after an 8-second outage the requests
    already waiting would get a connection 5-8 s after PostgreSQL is back. With the project's pool options
    (reconnect_timeout and retry_connecting) it tries about every second, so they get one within a second or two.
    Meanwhile, once reconnecting has failed for DB_POOL_RECONNECT_TIMEOUT, a request waits only DB_POOL_DOWN_TIMEOUT
    for a connection (the first connection Django gets again restores DB_POOL_TIMEOUT: the next test)."""
    from psycopg.conninfo import make_conninfo
    from psycopg_pool import ConnectionPool, PoolTimeout

    for name in POOL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    db = connection.settings_dict
    relay = Outage((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    relay.up()
    conninfo = make_conninfo(host="127.0.0.1", port=relay.port, dbname=db["NAME"], user=db["USER"] or None,
                             password=db["PASSWORD"] or None)
    # As Django builds it (backends/postgresql/base.py), with every connection in use, as under load.
    options = {**postgres_options()["pool"], "min_size": 2, "max_size": 2}
    pool = ConnectionPool(conninfo, open=False, check=ConnectionPool.check_connection, **options)
    try:
        pool.open(wait=True, timeout=10)
        relay.down()
        pool.check()  # both connections found dead: replaced in the background, as after a restart
        waited = {}

        def request():
            with pool.connection(timeout=20) as conn:
                conn.execute("SELECT 1")
            waited["done"] = time.monotonic()

        waiting = threading.Thread(target=request)
        waiting.start()  # a request waiting for a connection when PostgreSQL comes back
        time.sleep(4)  # reconnecting has failed for 2 s (DB_POOL_RECONNECT_TIMEOUT) at least once
        assert pool.timeout == 0.2
        started = time.monotonic()
        with pytest.raises(PoolTimeout):
            pool.getconn()  # a new request, with the pool's own timeout: fails fast
        assert time.monotonic() - started < 1
        time.sleep(4)
        relay.up()
        back = time.monotonic()
        waiting.join(timeout=25)
        assert "done" in waited, "the waiting request got no connection"
        assert waited["done"] - back < 2.5
    finally:
        pool.close()
        relay.down()


# --- the JSON request log ---------------------------------------------------------------------------------


@pytest.fixture
def request_log(monkeypatch):
    """The lines the configured ``newsroom.requests`` handler writes (to stdout in production)."""
    logger = logging.getLogger("newsroom.requests")
    (handler,) = [handler for handler in logger.handlers if isinstance(handler.formatter, JsonFormatter)]
    stream = io.StringIO()
    monkeypatch.setattr(handler, "stream", stream)
    level = logger.level
    logger.setLevel(logging.INFO)  # setLevel, not an attribute: it also clears the logger's isEnabledFor cache

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield lines
    logger.setLevel(level)


def test_one_json_line_per_request(client, request_log, django_assert_num_queries):
    article = make_article(title="日志")
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    (line,) = request_log()
    assert line["request_id"] == response["X-Request-ID"] and len(line["request_id"]) == 32
    assert {key: line[key] for key in ("method", "path", "status", "queries", "user", "logger", "message")} == {
        "method": "GET", "path": "/healthz", "status": 200, "queries": 1, "user": "anonymous",
        "logger": "newsroom.requests", "message": "request",
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0 and line["level"] == "INFO"

    client.get(article.get_absolute_url() + "?token=secret")
    client.get("/no-such-page/")
    lines = request_log()
    assert [(line["path"], line["status"]) for line in lines[1:]] == [
        (article.get_absolute_url(), 200), ("/no-such-page/", 404)]
    assert "secret" not in json.dumps(lines)  # query strings stay out of the log


def test_logged_in_users_are_logged_by_id(client, editor, request_log):
    client.force_login(editor)
    client.get(reverse("admin:index"))
    (line,) = request_log()
    assert line["user"] == editor.pk and line["status"] == 200 and line["queries"] > 0


def test_a_proxy_request_id_is_kept_when_it_is_plain(client, request_log):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-4f2a.7"})["X-Request-ID"] == "lb-4f2a.7"
    replaced = client.get("/healthz", headers={"X-Request-ID": 'evil"\n{}'})["X-Request-ID"]
    assert replaced != 'evil"\n{}' and len(replaced) == 32
    assert [line["request_id"] for line in request_log()] == ["lb-4f2a.7", replaced]


def test_request_log_level_silences_it_but_keeps_the_id(client, request_log):
    logging.getLogger("newsroom.requests").setLevel(logging.WARNING)  # as REQUEST_LOG_LEVEL=WARNING does
    assert client.get("/healthz")["X-Request-ID"]
    assert request_log() == []


# --- /healthz and the cache --------------------------------------------------------------------------------

REDIS_DOWN = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}


def test_healthz_reports_the_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "cache": "ok"}


def test_healthz_stays_200_when_redis_is_down(client, settings, caplog):
    settings.CACHES = {"default": REDIS_DOWN}  # nothing listens on the discard port
    response = client.get("/healthz")
    assert response.status_code == 200  # the load balancer keeps this server: pages come from the database
    assert json.loads(response.content) == {"status": "degraded", "database": "ok", "cache": "unavailable"}
    assert "cache unavailable" in caplog.text


def test_healthz_503_when_the_database_is_down_reports_the_cache_too(client, settings, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    settings.CACHES = {"default": REDIS_DOWN}
    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error", "database": "OperationalError", "cache": "unavailable"}


@pytest.fixture
def real_redis(settings):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {url}")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": f"newsroom-healthz-{os.getpid()}"}}


def test_healthz_with_a_live_redis(client, real_redis):
    assert json.loads(client.get("/healthz").content)["cache"] == "ok"


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db
def test_the_first_connection_django_gets_again_restores_the_pools_timeout():
    from django.db.backends.signals import connection_created

    from newsroom.dbpool import fail_fast

    pool = connection.pool
    if pool is None:
        pytest.skip("DB_POOL=0: no pool")
    normal = pool.timeout
    fail_fast(pool)  # as retry_connecting does while PostgreSQL is away
    assert pool.timeout == min(normal, 0.2)
    connection_created.send(sender=type(connection), connection=connection)  # as connect() sends it
    assert pool.timeout == normal
