"""Real servers on loopback for tests/test_app_servers.py: a private PostgreSQL database, private
redis-server processes, gunicorn instances of ``newsroom.wsgi`` and a small HTTP client.

Everything here has a bounded timeout and a ``stop()`` that is safe to call twice, so the test's
finalizers can always clean up, even after a failure half-way through starting something.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
HTTP_TIMEOUT = 15  # seconds for one request
START_TIMEOUT = 45  # seconds for a server to answer
COMMAND_TIMEOUT = 240  # seconds for one manage.py command (migrate on PostgreSQL takes the longest)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn_binary() -> str | None:
    candidate = Path(sys.executable).with_name("gunicorn")
    return str(candidate) if candidate.exists() else shutil.which("gunicorn")


def stop_process(process: subprocess.Popen | None, sig=signal.SIGTERM, timeout=15) -> None:
    """Stop one process we started (by its own handle), escalating to SIGKILL; never raises."""
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
    except OSError:
        pass


# --- PostgreSQL -------------------------------------------------------------------------------------------


def postgres_server_url() -> str:
    """The PostgreSQL server to create the test's database on: DATABASE_URL's when it names one, else CI's."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        return parts._replace(path="/postgres").geturl()
    return os.environ.get("NEWSROOM_TEST_POSTGRES_URL", f"postgres://postgres@{HOST}:5432/postgres")


def postgres_unreachable(server_url: str) -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(server_url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {server_url}: {type(exc).__name__}"
    return None


class PostgresDatabase:
    """A database of its own on the server, created now and dropped (with its connections) by ``drop()``."""

    def __init__(self, server_url: str, name: str):
        self.server_url, self.name = server_url, name
        self.url = urlsplit(server_url)._replace(path=f"/{name}").geturl()
        self.created = False

    def _admin(self, sql):
        import psycopg
        from psycopg import sql as pgsql

        with psycopg.connect(self.server_url, connect_timeout=5, autocommit=True) as conn:
            conn.execute(pgsql.SQL(sql).format(pgsql.Identifier(self.name)))

    def create(self):
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")  # left by a killed run with the same pid
        self._admin("CREATE DATABASE {}")
        self.created = True
        return self

    def drop(self):
        if self.created:
            self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            self.created = False

    def execute(self, sql, params=()):
        """Run SQL on the database directly: no Django, no signals, so no cache invalidation."""
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else None


# --- Redis ------------------------------------------------------------------------------------------------


class RedisServer:
    """A private redis-server on a free loopback port: empty, and saving nothing unless told to (``dump()``)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self):
        return f"redis://{HOST}:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--dbfilename", f"redis-{self.port}.rdb"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode} on port {self.port}")
            try:
                if self.client().ping():
                    return self
            except Exception:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within 10 s")

    def kill(self):
        """Crash it: SIGKILL, no shutdown."""
        stop_process(self.process, signal.SIGKILL)

    stop = kill

    def dump(self):
        """Write its data to its dump file (SAVE), which the next start() loads, as a persistent Redis would."""
        self.client().save()

    def page_keys(self):
        return [key.decode() for key in self.client().scan_iter(match="*newsroom:page:*", count=1000)]

    def has_page(self, etag):
        """Whether the page whose ETag is ``etag`` is stored (page keys and ETags share one digest)."""
        digest = etag.strip('"')
        return any(f"newsroom:page:{digest}" in key for key in self.page_keys())


# --- gunicorn ---------------------------------------------------------------------------------------------


class Gunicorn:
    """``gunicorn newsroom.wsgi:application`` on a free loopback port with production-like settings."""

    def __init__(self, name: str, env: dict, workdir: Path, workers: int = 2):
        self.name, self.env, self.workers = name, env, workers
        self.port = free_port()
        self.log_path = workdir / f"gunicorn-{name}.log"
        # An empty config file: the test starts exactly what its command line says, whatever ./gunicorn.conf.py holds.
        self.config = workdir / f"gunicorn-{name}.conf.py"
        self.config.write_text("")
        self.process = None

    def start(self):
        command = [gunicorn_binary(), "newsroom.wsgi:application", "--config", str(self.config),
                   "--bind", f"{HOST}:{self.port}", "--workers", str(self.workers), "--worker-class", "sync",
                   "--timeout", "30", "--graceful-timeout", "5", "--chdir", str(BASE_DIR)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited with {self.process.returncode}:\n{self.log()}")
            try:
                last = Client(self.port, timeout=2).get("/healthz")
                if last.status == 200:
                    return self
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn {self.name} did not answer /healthz with 200 within {timeout} s "
                           f"(last: {last!r}):\n{self.log()}")

    def stop(self):
        stop_process(self.process)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def client(self):
        return Client(self.port, server=self)


def manage(env: dict, *args, timeout=COMMAND_TIMEOUT) -> str:
    """Run ``manage.py`` with ``env``; returns its output; fails with that output on a non-zero exit."""
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# --- HTTP -------------------------------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def content(self):  # as django.test's responses call it (tests/adminform.py reads it)
        return self.body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Response {self.status} {self.headers.get('location', '')}>"


class Client:
    """A plain HTTP/1.1 client for one server with a cookie jar of its own, speaking as the
    TLS-terminating load balancer in front of the servers would.

    Every request says ``Host: 127.0.0.1`` (so a page has the same cache key whichever server
    renders it) and ``X-Forwarded-Proto: https`` (the servers run with
    ``SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto``, so HTTPS redirects, secure cookies and CSRF's
    origin checks work as in production). Cookies are sent back whatever their ``Secure`` flag.
    """

    def __init__(self, port, timeout=HTTP_TIMEOUT, server=None):
        self.port, self.timeout, self.server = port, timeout, server
        self.cookies: dict[str, str] = {}

    def server_log(self):
        return self.server.log() if self.server else ""

    def request(self, method, path, body=None, headers=None):
        conn = HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            sent = {"Host": HOST, "X-Forwarded-Proto": "https", **(headers or {})}
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            body = raw.read()
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    cookie_name, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0]
                    if 'expires=thu, 01 jan 1970' in value.lower() or "max-age=0" in value.lower():
                        self.cookies.pop(cookie_name.strip(), None)
                    else:
                        self.cookies[cookie_name.strip()] = cookie_value
            headers = {name.lower(): value for name, value in raw.getheaders() if name.lower() != "set-cookie"}
            return Response(raw.status, headers, body)
        finally:
            conn.close()

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path, data, referer_path=None):
        body = urlencode(data, doseq=True).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Origin": f"https://{HOST}", "Referer": f"https://{HOST}{referer_path or path}"}
        return self.request("POST", path, body=body, headers=headers)

    # --- the admin, as a browser uses it ---

    def csrf_token(self, response):
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert match, f"no CSRF token in the page ({response.status})"
        return match.group(1)

    def login(self, username, password):
        page = self.get("/admin/login/?next=/admin/")
        assert page.status == 200, page
        response = self.post("/admin/login/?next=/admin/", {
            "csrfmiddlewaretoken": self.csrf_token(page), "username": username, "password": password, "next": "/admin/",
        })
        assert response.status == 302 and "sessionid" in self.cookies, f"login failed: {response} {response.text[:500]}"

    def admin_action(self, action, pks):
        """Run a bulk action of the article changelist on ``pks``, as the changelist form posts it."""
        changelist = "/admin/articles/article/"
        page = self.get(changelist)
        assert page.status == 200, page
        response = self.post(changelist, {
            "csrfmiddlewaretoken": self.csrf_token(page), "action": action, "index": "0",
            "_selected_action": [str(pk) for pk in pks],
        })
        assert response.status == 302, f"{action}: {response} {response.text[:1000]}"
        return response

    def change_article(self, pk, **changes):
        """Open the article's change form, change some fields and save it, as the form posts it."""
        from .adminform import form_data

        path = f"/admin/articles/article/{pk}/change/"
        page = self.get(path)
        assert page.status == 200, page
        data = form_data(page)
        data.update(changes)
        data["_save"] = "保存"
        response = self.post(path, data)
        assert response.status == 302, f"saving article {pk}: {response} {response.text[-3000:]}"
        return response
