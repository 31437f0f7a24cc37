"""``make load``: wrk against the production-like server, then the same load through a PostgreSQL restart.

    DEBUG=0 DJANGO_SETTINGS_MODULE=bench.settings python -m bench.load [--duration 60] [--connections 64]

Issue 7 ("Benchmarks and load"): 60 seconds at 64 connections over a mix of pages and API calls
with 0 errors; during a second run, restart PostgreSQL: /healthz answers 503 while it is down,
the site serves again within 5 seconds after it is back, without restarting gunicorn, and
nothing written before the restart is lost.

1. Setup, on a PostgreSQL database of its own (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/newsroom_load``, created when missing; ``DATABASE_URL``
   is never used, so a test database cannot be written to by mistake): migrate, import ``demo/``
   with ``--publish``, add copies of the demo articles up to ``--articles`` published ones
   (``bench.api.bulk_articles``) and build their page documents; rows left by an earlier
   restart run are deleted. The page cache is Redis (``--redis-url``, default db 9 of the local
   server, emptied first; ``--redis-url ''`` for local memory).
2. The server: gunicorn with the project's gunicorn.conf.py (its defaults: 2 x cores + 1 sync
   workers; ``--workers``, ``--gunicorn-threads`` to change them; access log on), ``DEBUG=0``, bench/settings.py (fixed key, no
   https redirect), Django's PostgreSQL connection pool on (the default). One server for both
   runs: it is never restarted.
3. The mix (a wrk Lua script, round-robin, each wrk thread starting at another place): article
   pages (many different ones), the home page, ``/articles/`` and its second page, tag, region,
   source and author lists, search, the RSS and Atom feeds, ``/api/v1/articles/?limit=20``, API
   article details and ``/healthz``. Every path must answer 200 before the load starts.
4. Run 1: ``wrk -t2 -c64 -d60s --latency`` after a short warm-up. Errors are wrk's "Non-2xx or
   3xx responses" (status >= 400) plus its socket errors: connect, read, write and timeout. wrk's
   timeout count is not a number of requests: every 2 seconds it adds each connection whose
   request has waited longer than ``--timeout`` (default 2 s, wrk's own); such a request is not
   cancelled and its answer is counted when it comes.
5. Run 2, the restart: the same load, in three wrk runs back to back so that errors are counted
   apart: "before"; "outage", from ``SETTLE`` (2) seconds before PostgreSQL stops until 2 seconds
   after the site serves again (errors are expected here); "after". A stopped wrk leaves its
   requests in flight in gunicorn's queue, so the switches happen while PostgreSQL is up.
   Meanwhile a writer thread creates a published article every ``--write-interval`` seconds
   through the ORM (in this process, with its own pool; each one retires the cached pages, as an
   editor's save does) and notes each row that was committed; two probes GET ``/healthz`` and an
   uncached article page (a new query string each time) every 100 ms, one at a time. At
   ``--restart-at`` seconds PostgreSQL is stopped (``pg_ctlcluster <version> <cluster> stop -m
   fast``: connections are cut, as in a restart), kept down ``--down`` seconds and started again.
   The /healthz probes "while down" are those sent before PostgreSQL accepted connections again
   and answered after the stop. Recovery is the time from PostgreSQL accepting connections again
   until both probes have answered 200. Finally every row committed before the stop (and after
   it) is read back. PostgreSQL is started again in a ``finally``, whatever happens.

Server-side statuses per phase come from gunicorn's access log (the bytes written during the phase;
they include the requests a stopped wrk left behind). Needs root (or the postgres user) for
``pg_ctlcluster``; ``--skip-restart`` runs only run 1.
Like ``make bench`` this is a measurement: it exits 0 and prints OK/MISS (``--strict``: exit 1 on
a miss); it exits non-zero when it cannot measure (no wrk, a page of the mix failing before the load).
"""

import argparse
import io
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from bench.run import fetch, free_port, project_gunicorn_config

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/newsroom_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
WRITE_SLUG_PREFIX = "load-write-"
PROBE_INTERVAL = 0.1  # seconds between two probes of /healthz (and of the uncached page)
PROBE_TIMEOUT = 30.0  # seconds a probe may wait for its answer (longer than any pool or statement timeout)
RECOVERY_TARGET = 5.0  # seconds after PostgreSQL is back (issue 7)
RECOVERY_GIVE_UP = 60.0  # seconds after PostgreSQL is back before the run stops waiting for the site
SETTLE = 2.0  # seconds of the outage phase before PostgreSQL stops and after the site serves again
DETAIL_PAGES = 40  # different article pages in the mix
ARTICLE_WEIGHT_EVERY = 2  # one path in this many is an article page, as long as there are other paths


# --- setup -------------------------------------------------------------------------------------


def ensure_database(url):
    """Create the load database on its server when it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = parts._replace(path="/postgres").geturl()
    with psycopg.connect(server, connect_timeout=5, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def recreate_database(url):
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    ensure_database(url)


def prepare(articles):
    """Migrate, import demo/, fill up to ``articles`` published articles, empty the cache; returns the mix."""
    import django
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    from articles.models import Article

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("import_articles", str(BASE_DIR / "demo"), publish=True, verbosity=0, stdout=io.StringIO())
    Article.objects.filter(slug__startswith=WRITE_SLUG_PREFIX).delete()  # an earlier restart run's rows
    from bench.api import bulk_articles

    created = bulk_articles(articles)
    call_command("refresh_page_documents", verbosity=0, stdout=io.StringIO())
    cache.clear()
    mix, published = build_mix(), Article.objects.published().count()
    connection.close()  # back to the pool: a connection held across the restart would be a dead one
    print(f"setup: {published} published articles ({created} generated now), {time.perf_counter() - started:.1f} s")
    return mix


def build_mix():
    """The paths wrk requests in turn: DETAIL_PAGES article pages (about two thirds of the requests), interleaved
    with the home page, lists, search, feeds, the API and /healthz."""
    from django.db.models import Count
    from django.urls import reverse
    from taggit.models import Tag

    from articles.models import Article, Author, Region, Source

    published = Article.objects.published()
    slugs = list(published.order_by("-published_at", "-pk").values_list("slug", flat=True))
    step = max(1, len(slugs) // DETAIL_PAGES)
    details = [reverse("articles:detail", kwargs={"slug": slug}) for slug in slugs[::step][:DETAIL_PAGES]]

    def busiest(queryset, relation):
        return queryset.annotate(n=Count(relation)).filter(n__gt=0).order_by("-n", "pk").first()

    tag = busiest(Tag.objects, "taggit_taggeditem_items")
    region = busiest(Region.objects, "articles")
    source = busiest(Source.objects, "published_articles") or busiest(Source.objects, "syndicated_articles")
    author = busiest(Author.objects, "bylines")
    others = [
        "/", "/articles/", "/articles/?page=2", "/search/?q=" + quote("重庆"), "/search/?q=" + quote("经济"),
        "/feeds/latest/", "/feeds/latest/atom/",
        "/api/v1/articles/?limit=20", "/api/v1/articles/?limit=20",
        *(f"/api/v1/articles/{quote(slug)}/" for slug in slugs[1:4]),
        "/healthz",
    ]
    if tag:
        others.append(reverse("articles:tag", kwargs={"slug": tag.slug}))
    if region:
        others.append(reverse("articles:region", kwargs={"slug": region.slug}))
    if source:
        others.append(reverse("articles:source", kwargs={"slug": source.slug}))
    if author:
        others.append(reverse("articles:author", kwargs={"slug": author.slug}))
    mix, details_left = [], list(details)
    # Interleave: an article page every ARTICLE_WEIGHT_EVERY paths while both lists last.
    while details_left or others:
        for _ in range(ARTICLE_WEIGHT_EVERY - 1):
            if others:
                mix.append(others.pop(0))
        if details_left:
            mix.append(details_left.pop(0))
    return [quote(path, safe="/?=&%") for path in mix]


# --- the server --------------------------------------------------------------------------------


def server_shape(server):
    """``5 sync workers`` or ``2 gthread workers x 4 threads``: what gunicorn.conf.py makes of the server's environment."""
    conf = project_gunicorn_config(server.env)
    threads = int(conf["threads"])
    kind = "sync" if threads == 1 and conf["worker_class"] == "sync" else "gthread"
    return f"{conf['workers']} {kind} workers" + (f" x {threads} threads" if kind == "gthread" else "")


class Server:
    """gunicorn with the project's gunicorn.conf.py on a free loopback port; its output in a log file."""

    def __init__(self, env, workers, threads):
        self.port = free_port()
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        if workers:
            self.env["WEB_CONCURRENCY"] = str(workers)
        if threads:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.log_path = Path(tempfile.gettempdir()) / f"newsroom-load-gunicorn-{os.getpid()}.log"
        self.process = None

    def start(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        gunicorn = str(gunicorn) if gunicorn.exists() else shutil.which("gunicorn")
        if not gunicorn:
            raise SystemExit("load: gunicorn is not installed (make install)")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([gunicorn, "--config", str(BASE_DIR / "gunicorn.conf.py")], cwd=BASE_DIR,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"load: gunicorn exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if fetch(self.port, "/healthz", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"load: gunicorn did not answer /healthz within 60 s:\n{self.tail()}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log_offset(self):
        return self.log_path.stat().st_size

    def log_between(self, start, end=None):
        with open(self.log_path, "rb") as log:
            log.seek(start)
            data = log.read() if end is None else log.read(end - start)
        return data.decode("utf-8", errors="replace")

    def tail(self, chars=4000):
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


ACCESS_LINE = re.compile(r'"(?:GET|HEAD|POST) (\S+) HTTP/[\d.]+" (\d{3}) ')


def server_side(text):
    """What gunicorn's log says about a phase: statuses, failing paths, worker (re)boots and timeouts."""
    statuses, failing = Counter(), Counter()
    for match in ACCESS_LINE.finditer(text):
        status = int(match.group(2))
        statuses[status] += 1
        if status >= 400:
            failing[(status, match.group(1).split("?")[0])] += 1
    return {
        "statuses": statuses,
        "failing": failing,
        "boots": text.count("Booting worker"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "tracebacks": text.count("Traceback (most recent call last)"),
    }


# --- wrk ---------------------------------------------------------------------------------------

LUA = """-- written by bench/load.py: GET the paths in turn; count statuses per thread.
local paths = {%(paths)s}
local started = 0
local threads = {}

function setup(thread)
  started = started + 1
  thread:set("offset", (started - 1) * %(spread)d)
  table.insert(threads, thread)
end

function init(args)
  counter = offset or 0
  statuses = {}
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("STATUS %%d %%d\\n", code, n))
  end
end
"""


def lua_script(paths, threads):
    quoted = ", ".join('"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"' for path in paths)
    spread = max(1, len(paths) // max(1, threads))
    handle = tempfile.NamedTemporaryFile("w", prefix="newsroom-load-", suffix=".lua", delete=False)
    with handle:
        handle.write(LUA % {"paths": quoted, "spread": spread})
    return handle.name


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    return float(match.group(1)) * UNITS[match.group(2)] if match else None


def parse_wrk(output):
    """wrk's text summary (with --latency and the script's STATUS lines) as numbers."""
    result = {"requests": 0, "seconds": 0.0, "rps": 0.0, "p50_ms": None, "p99_ms": None, "non_2xx_3xx": 0,
              "socket": {"connect": 0, "read": 0, "write": 0, "timeout": 0}, "statuses": Counter()}
    if match := re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output):
        result["requests"] = int(match.group(1))
        result["seconds"] = to_ms(match.group(2) + match.group(3)) / 1000
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result["rps"] = float(match.group(1))
    for pct in ("50", "99"):
        if match := re.search(rf"^\s+{pct}%\s+(\S+)", output, re.MULTILINE):
            result[f"p{pct}_ms"] = to_ms(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        result["non_2xx_3xx"] = int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result["socket"] = dict(zip(("connect", "read", "write", "timeout"), map(int, match.groups()), strict=True))
    for code, count in re.findall(r"^STATUS (\d+) (\d+)$", output, re.MULTILINE):
        result["statuses"][int(code)] += int(count)
    result["errors"] = result["non_2xx_3xx"] + sum(result["socket"].values())
    return result


class Wrk:
    """One wrk run in the background: ``stop()`` ends it early (SIGINT: wrk stops and prints its summary)."""

    def __init__(self, url, script, args, duration):
        self.duration = max(1, round(duration))
        self.command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{self.duration}s",
                        "--latency", f"--timeout={args.timeout:g}s", "-s", script, url]
        self.process = None

    def start(self):
        self.started = time.monotonic()
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return self

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # wrk stops at its next 2-second tick
        return self.wait(timeout=30)

    def wait(self, timeout=None):
        try:
            output, _ = self.process.communicate(timeout=timeout or self.duration + 60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        self.output = output
        result = parse_wrk(output)
        result["wall_s"] = time.monotonic() - self.started
        if not result["requests"] and "requests in" not in output:
            raise SystemExit(f"load: wrk printed no summary:\n{output}")
        return result


# --- run 2: PostgreSQL, the writer and the probes ----------------------------------------------


def pg_cluster(database_url, wanted):
    """(version, name) of the local cluster that serves ``database_url``'s port (pg_lsclusters)."""
    if wanted:
        version, name = wanted.split()
        return version, name
    if not shutil.which("pg_lsclusters"):
        raise SystemExit("load: pg_lsclusters not found; pass --pg-cluster '<version> <name>'")
    port = str(urlsplit(database_url).port or 5432)
    for line in subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == port:
            return fields[0], fields[1]
    raise SystemExit(f"load: no local PostgreSQL cluster on port {port} (pg_lsclusters)")


def pg_ready(database_url):
    parts = urlsplit(database_url)
    return subprocess.run(["pg_isready", "-q", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)],
                          timeout=10).returncode == 0


def pg_ctl(cluster, action, *extra):
    done = subprocess.run(["pg_ctlcluster", *cluster, action, *extra], capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"pg_ctlcluster {' '.join(cluster)} {action}: {done.stdout}{done.stderr}")


def start_postgres(cluster, database_url, clock):
    """Start the cluster; returns the moment (``clock``) it first accepted connections, polled every 50 ms
    while ``pg_ctlcluster start`` runs (it returns a while after the server accepts connections)."""
    process = subprocess.Popen(["pg_ctlcluster", *cluster, "start"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if pg_ready(database_url):
                return clock.now()
            time.sleep(0.05)
    finally:
        process.wait(timeout=120)
    raise RuntimeError("PostgreSQL did not accept connections within 120 s of pg_ctlcluster start")


def ensure_postgres_running(cluster, database_url):
    """Start the cluster if it is not accepting connections; never raises. True when it is up."""
    try:
        if pg_ready(database_url):
            return True
        subprocess.run(["pg_ctlcluster", *cluster, "start"], capture_output=True, timeout=120)
        for _ in range(100):
            if pg_ready(database_url):
                return True
            time.sleep(0.2)
    except Exception as exc:  # noqa: BLE001 - reported, and the caller prints pg_isready's verdict
        print(f"load: could not start PostgreSQL: {exc}", file=sys.stderr)
    return False


class Clock:
    def __init__(self):
        self.zero, self.wall = time.monotonic(), time.time()

    def now(self):
        return time.monotonic() - self.zero


class Prober(threading.Thread):
    """GETs a path every PROBE_INTERVAL seconds, one at a time; records (sent, done, status or error name)."""

    def __init__(self, port, path, clock, stop, unique=False):
        super().__init__(daemon=True)
        self.port, self.path, self.clock, self.stop_event, self.unique = port, path, clock, stop, unique
        self.records = []

    def run(self):
        n = 0
        while not self.stop_event.is_set():
            n += 1
            path = f"{self.path}?probe={n}" if self.unique else self.path
            sent = self.clock.now()
            try:
                outcome = fetch(self.port, path, timeout=PROBE_TIMEOUT)[0]
            except TimeoutError:
                outcome = "timeout"
            except OSError as exc:
                outcome = type(exc).__name__
            self.records.append((sent, self.clock.now(), outcome))
            self.stop_event.wait(max(0.0, PROBE_INTERVAL - (self.clock.now() - sent)))

    def first_200_after(self, moment, sent_after):
        for sent, done, outcome in self.records:
            if done >= moment and sent >= sent_after and outcome == 200:
                return done
        return None


class Writer(threading.Thread):
    """Creates a published article every ``interval`` seconds through the ORM; notes each committed row."""

    def __init__(self, run_id, interval, clock, stop):
        super().__init__(daemon=True)
        self.run_id, self.interval, self.clock, self.stop_event = run_id, interval, clock, stop
        self.written = []  # (committed at, pk, slug, title)
        self.failed = []  # (at, error class name)

    def run(self):
        from django.db import connection
        from django.utils import timezone

        from articles.models import Article

        n = 0
        while not self.stop_event.is_set():
            n += 1
            started = self.clock.now()
            title = f"负载测试写入 {self.run_id} 第{n}篇"
            try:
                article = Article.objects.create(
                    title=title, slug=f"{WRITE_SLUG_PREFIX}{self.run_id}-{n:04d}",
                    summary="make load 在重启 PostgreSQL 前后写入的文章。",
                    body=f"<p>这是负载测试第{n}篇写入的文章，用来确认重启数据库前提交的每一行都还在。</p>",
                    status=Article.Status.PUBLISHED, published_at=timezone.now() - timezone.timedelta(minutes=1),
                )
                self.written.append((self.clock.now(), article.pk, article.slug, title))
            except Exception as exc:  # noqa: BLE001 - the database is down on purpose; counted and reported
                self.failed.append((self.clock.now(), type(exc).__name__))
            finally:
                connection.close()  # back to the pool, as at the end of a request
            self.stop_event.wait(max(0.0, self.interval - (self.clock.now() - started)))

    def verify(self, rows):
        """(found, expected) among ``rows`` (pk, slug, title): each must still be there, unchanged."""
        from django.db import connection

        from articles.models import Article

        connection.close()  # whatever this thread held before the restart is dead; take a fresh one
        stored = {pk: (slug, title) for pk, slug, title in
                  Article.objects.filter(pk__in=[row[0] for row in rows]).values_list("pk", "slug", "title")}
        found = sum(stored.get(pk) == (slug, title) for pk, slug, title in rows)
        return found, len(rows)


def run_restart(args, server, script, database_url):
    """Run 2; returns its report (a dict)."""
    cluster = pg_cluster(database_url, args.pg_cluster)
    url = f"http://127.0.0.1:{server.port}/"
    clock, stop = Clock(), threading.Event()
    run_id = datetime.now().strftime("%H%M%S")
    writer = Writer(run_id, args.write_interval, clock, stop)
    health = Prober(server.port, "/healthz", clock, stop)
    page = Prober(server.port, args.probe_page, clock, stop, unique=True)
    master_pid = server.process.pid
    phases, events = {}, {}
    offsets = {"start": server.log_offset()}
    restart_at = args.restart_at if args.restart_at is not None else args.duration / 2

    wrk = Wrk(url, script, args, 3600).start()
    writer.start()
    health.start()
    page.start()
    try:
        # A stopped wrk leaves its requests in flight in gunicorn's queue: switch a few seconds before the stop
        # (and after the recovery), while PostgreSQL is up and they drain in a moment.
        time.sleep(max(0.0, restart_at - SETTLE - clock.now()))
        phases["before"] = wrk.stop()
        offsets["stop"] = server.log_offset()
        wrk = Wrk(url, script, args, 3600).start()
        time.sleep(max(0.0, restart_at - clock.now()))
        try:
            events["stop"] = clock.now()
            pg_ctl(cluster, "stop", "-m", "fast")
            events["down"] = clock.now()
            events["down_confirmed"] = not pg_ready(database_url)
            time.sleep(max(0.0, args.down - (clock.now() - events["down"])))
        finally:
            events["start"] = clock.now()
            try:
                events["up"] = start_postgres(cluster, database_url, clock)
            finally:
                if not ensure_postgres_running(cluster, database_url):
                    raise SystemExit("load: PostgreSQL did not start again")
        deadline = events["up"] + RECOVERY_GIVE_UP
        while clock.now() < deadline:
            recovered = [probe.first_200_after(events["up"], events["stop"]) for probe in (health, page)]
            if all(moment is not None for moment in recovered):
                events["recovered"] = max(recovered)
                events["health_ok"], events["page_ok"] = recovered
                break
            time.sleep(0.05)
        time.sleep(SETTLE)
        phases["outage"] = wrk.stop()
        offsets["recovered"] = server.log_offset()
        after = max(args.min_after, args.duration - clock.now())
        wrk = Wrk(url, script, args, after).start()
        phases["after"] = wrk.wait()
        offsets["end"] = server.log_offset()
    finally:
        if wrk.process.poll() is None:
            wrk.stop()
        stop.set()
        for thread in (writer, health, page):
            thread.join(timeout=PROBE_TIMEOUT + 15)
        ensure_postgres_running(cluster, database_url)

    before_rows = [(pk, slug, title) for at, pk, slug, title in writer.written if at < events["stop"]]
    after_rows = [(pk, slug, title) for at, pk, slug, title in writer.written if at >= events["stop"]]
    logs = {
        "before": server_side(server.log_between(offsets["start"], offsets["stop"])),
        "outage": server_side(server.log_between(offsets["stop"], offsets["recovered"])),
        "after": server_side(server.log_between(offsets["recovered"], offsets["end"])),
    }
    return {
        "cluster": cluster, "events": events, "clock": clock, "phases": phases, "logs": logs,
        "health": health.records, "page": page.records,
        "before_rows": writer.verify(before_rows), "after_rows": writer.verify(after_rows),
        "write_failures": Counter(name for _, name in writer.failed),
        "writer": writer,
        "gunicorn_same": server.alive() and server.process.pid == master_pid,
        "master_pid": master_pid,
    }


# --- report ------------------------------------------------------------------------------------


def table(header, rows, numeric):
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def fmt(row):
        return "| " + " | ".join(str(c).rjust(w) if i in numeric else str(c).ljust(w)
                                 for i, (c, w) in enumerate(zip(row, widths, strict=True))) + " |"

    lines = [fmt(header), "| " + " | ".join(("-" * (w - 1) + ":") if i in numeric else "-" * w
                                            for i, w in enumerate(widths)) + " |"]
    return "\n".join([*lines, *(fmt(row) for row in rows)])


def wrk_row(label, result):
    socket_errors = result["socket"]
    socket_text = ", ".join(f"{name} {n}" for name, n in socket_errors.items() if n) or "0"
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result["statuses"].items()))

    def ms(value):
        return "-" if value is None else f"{value:.1f}"

    return (label, f"{result['seconds']:.1f}", str(result["requests"]), f"{result['rps']:.0f}", ms(result["p50_ms"]),
            ms(result["p99_ms"]), str(result["non_2xx_3xx"]), socket_text, str(result["errors"]), statuses)


WRK_HEADER = ("run", "s", "requests", "req/s", "p50 ms", "p99 ms", "non-2xx/3xx", "socket errors", "errors",
              "statuses seen by wrk")


def describe_server(log):
    parts = []
    bad = {code: n for code, n in log["statuses"].items() if code >= 400}
    parts.append(f"{sum(log['statuses'].values())} requests logged, >= 400: {bad or 0}")
    if log["failing"]:
        worst = ", ".join(f"{status} {path} x{n}" for (status, path), n in log["failing"].most_common(6))
        parts.append(f"failing: {worst}")
    parts.append(f"worker boots {log['boots']}, worker timeouts {log['worker_timeouts']}, tracebacks {log['tracebacks']}")
    return "; ".join(parts)


def timeline(records, low, high):
    """The probes sent between ``low`` and ``high``: slow ones one a line, runs of quick same answers collapsed."""
    lines, run = [], []

    def flush():
        if run:
            first, last = run[0][0], run[-1][0]
            span = f"{first:5.1f} s" if len(run) == 1 else f"{first:5.1f}-{last:.1f} s"
            lines.append(f"    sent {span}: {run[0][2]} x{len(run)}, each under 0.5 s")
            run.clear()

    for sent, done, outcome in records:
        if sent > high or done < low:
            continue
        if done - sent < 0.5 and (not run or run[-1][2] == outcome):
            run.append((sent, done, outcome))
            continue
        flush()
        if done - sent < 0.5:
            run.append((sent, done, outcome))
        else:
            lines.append(f"    sent {sent:5.1f} s: {outcome} after {done - sent:.2f} s")
    flush()
    return lines


def outage_probes(records, events):
    """The probes that ran while PostgreSQL was down: sent before it accepted connections again, answered after the stop."""
    return [(sent, done, outcome) for sent, done, outcome in records if sent < events["up"] and done >= events["stop"]]


def print_restart(report, args):
    events, phases = report["events"], report["phases"]
    print(table(WRK_HEADER, [wrk_row(f"restart: {name}", phases[name]) for name in ("before", "outage", "after")
                             if name in phases], {1, 2, 3, 4, 5, 6, 8}))
    print()
    for name in ("before", "outage", "after"):
        print(f"gunicorn log, {name}: {describe_server(report['logs'][name])}")
    print()
    version, name = report["cluster"]
    print(f"times are seconds from the start of run 2, {datetime.fromtimestamp(report['clock'].wall):%H:%M:%S.%f}"[:-3])
    print(f"PostgreSQL {version}/{name}: stop at {events['stop']:.1f} s"
          f" (stop -m fast took {events['down'] - events['stop']:.2f} s,"
          f" pg_isready then {'refused' if events.get('down_confirmed') else 'STILL ANSWERED'}), start at"
          f" {events['start']:.1f} s, accepting connections at {events['up']:.1f} s:"
          f" down {events['up'] - events['down']:.1f} s")

    down = outage_probes(report["health"], events)
    outcomes = Counter(outcome for _, _, outcome in down)
    slowest = max((done - sent for sent, done, _ in down), default=0.0)
    n503 = outcomes.get(503, 0)
    print(f"/healthz probes in flight while PostgreSQL was down (sent before it was back, answered after the stop):"
          f" {len(down)}; answers: " + (", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items(), key=str)) or "none")
          + f"; slowest {slowest:.2f} s; 503 observed: {'yes' if n503 else 'NO'} ({n503})")
    first_503 = next((done for sent, done, outcome in down if outcome == 503), None)
    if first_503 is not None:
        print(f"first 503 answered {first_503 - events['stop']:.2f} s after the stop")
    recovered = events.get("recovered")
    end = (recovered if recovered is not None else events["up"]) + 1
    for label, records in (("/healthz", report["health"]), ("uncached article page", report["page"])):
        print(f"  {label} probes from the stop to 1 s after recovery (times from the start of run 2):")
        print("\n".join(timeline(records, events["stop"] - 0.5, end)))
    if recovered is None:
        print(f"RECOVERY: the site did not serve again within {RECOVERY_GIVE_UP:.0f} s of PostgreSQL accepting connections: MISS")
    else:
        recovery = recovered - events["up"]
        print(f"recovery after PostgreSQL accepted connections: /healthz 200 after {events['health_ok'] - events['up']:.2f} s,"
              f" uncached article page 200 after {events['page_ok'] - events['up']:.2f} s: {recovery:.2f} s"
              f" (target <= {RECOVERY_TARGET:g} s: {'OK' if recovery <= RECOVERY_TARGET else 'MISS'})")
        later = [(sent, outcome) for records in (report["health"], report["page"])
                 for sent, _, outcome in records if sent > recovered and outcome != 200]
        print(f"probes after recovery that did not answer 200: {len(later)}")
    found, expected = report["before_rows"]
    found_after, expected_after = report["after_rows"]
    failures = ", ".join(f"{k} x{v}" for k, v in report["write_failures"].items()) or "none"
    print(f"writes: {expected} committed before the stop, {expected_after} after it; failed meanwhile: {failures}")
    writes_back = [at for at, *_ in report["writer"].written if at >= events["up"]]
    if writes_back:
        print(f"first write after PostgreSQL accepted connections: {writes_back[0] - events['up']:.2f} s")
    print(f"nothing lost: {found}/{expected} rows written before the restart"
          f" ({found_after}/{expected_after} written after it)")
    if report["gunicorn_same"]:
        print(f"gunicorn: the same master (pid {report['master_pid']}), never restarted")
    else:
        print("gunicorn: NOT RUNNING at the end")


def verdicts(run1, report):
    checks = []
    if run1 is not None:
        checks.append(("run 1: 0 errors", run1["errors"] == 0))
    if report is not None:
        events = report["events"]
        down = [outcome for _, _, outcome in outage_probes(report["health"], events)]
        checks.append(("/healthz 503 while down", 503 in down))
        recovered = events.get("recovered")
        checks.append((f"serving again <= {RECOVERY_TARGET:g} s",
                       recovered is not None and recovered - events["up"] <= RECOVERY_TARGET))
        checks.append(("0 errors before and after the outage",
                       report["phases"]["before"]["errors"] == 0 and report["phases"]["after"]["errors"] == 0))
        found, expected = report["before_rows"]
        checks.append(("nothing lost", expected > 0 and found == expected))
        checks.append(("gunicorn not restarted", report["gunicorn_same"]))
    return checks


# --- main --------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60, help="seconds of each run (default 60)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=float, default=2, help="wrk: a request slower than this is an error (default 2 s)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before run 1, not counted (default 5)")
    parser.add_argument("--workers", type=int, help="gunicorn workers, WEB_CONCURRENCY (default gunicorn.conf.py's)")
    parser.add_argument("--gunicorn-threads", type=int,
                        help="threads per worker, GUNICORN_THREADS (default gunicorn.conf.py's: 1, sync workers)")
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help=f"PostgreSQL database of its own (LOAD_DATABASE_URL; default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate that database first")
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS_URL),
                        help=f"page cache (LOAD_REDIS_URL; default {DEFAULT_REDIS_URL}; '' for local memory)")
    parser.add_argument("--articles", type=int, default=500, help="published articles (default 500)")
    phases = parser.add_mutually_exclusive_group()
    phases.add_argument("--skip-restart", action="store_true", help="run 1 only")
    phases.add_argument("--only-restart", action="store_true", help="run 2 (the PostgreSQL restart) only")
    parser.add_argument("--restart-at", type=float, help="seconds into run 2 when PostgreSQL stops (default duration/2)")
    parser.add_argument("--down", type=float, default=6, help="seconds PostgreSQL stays down (default 6)")
    parser.add_argument("--min-after", type=float, default=10, help="at least this many seconds of load after recovery")
    parser.add_argument("--write-interval", type=float, default=5,
                        help="seconds between two writes in run 2 (default 5; each one retires every cached page)")
    parser.add_argument("--pg-cluster", help="'<version> <name>' for pg_ctlcluster (default: the one on the URL's port)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    # A SIGTERM (a CI timeout, kill) must still run the finally blocks that start PostgreSQL again.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not shutil.which("wrk"):
        print("load: wrk is not installed. On Debian/Ubuntu: apt-get install -y wrk (macOS: brew install wrk).",
              file=sys.stderr)
        return 2
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        print("load: --database-url must be a PostgreSQL URL", file=sys.stderr)
        return 2
    if not args.skip_restart and not (shutil.which("pg_ctlcluster") or args.pg_cluster):
        print("load: the restart run needs pg_ctlcluster (Debian's postgresql-common); use --skip-restart",
              file=sys.stderr)
        return 2
    if args.redis_url:
        try:
            import redis

            redis.Redis.from_url(args.redis_url, socket_connect_timeout=1).ping()
        except Exception as exc:  # noqa: BLE001
            print(f"load: Redis at {args.redis_url} does not answer ({type(exc).__name__}); --redis-url '' for local memory",
                  file=sys.stderr)
            return 2

    # This process (setup, the writer) and gunicorn use the load database only, whatever DATABASE_URL says.
    os.environ.update({"DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url, "DEBUG": "0"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.pop("NEWSROOM_PAGE_CACHE_SECONDS", None)
    if args.fresh:
        recreate_database(args.database_url)
    else:
        ensure_database(args.database_url)
    paths = prepare(args.articles)
    # The writer's pool warns on every failed connection attempt during the outage; gunicorn's log keeps its own.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # The probe's article page: one of the mix's, with a new query string each time (never a cached page).
    args.probe_page = next((p for p in paths if p.startswith("/articles/") and p.count("/") == 3), "/articles/")

    import django
    from django.conf import settings

    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    server = Server(dict(os.environ), args.workers, args.gunicorn_threads).start()
    script = lua_script(paths, args.wrk_threads)
    url = f"http://127.0.0.1:{server.port}/"
    run1 = report = None
    keep_log = False
    try:
        for path in paths:
            status = fetch(server.port, path, timeout=30)[0]
            if status != 200:
                keep_log = True
                raise SystemExit(f"load: GET {path} answered {status} before the load; gunicorn log {server.log_path}")
        wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"Newsroom load, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: {os.cpu_count()} CPUs "
              f"{platform.machine()}, Python {platform.python_version()}, Django {django.get_version()}, "
              f"{wrk_version.split(' Copyright')[0]}; load average {os.getloadavg()[0]:.2f} at start")
        print(f"server: gunicorn (gunicorn.conf.py) {server_shape(server)},"
              f" DEBUG=0, PostgreSQL {args.database_url.split('@')[-1]} with Django's pool"
              f" ({settings.DATABASES['default']['OPTIONS'].get('pool')}), page cache {cache_backend}"
              f"{' ' + args.redis_url if args.redis_url else ''}")
        print(f"load: wrk -t{args.wrk_threads} -c{args.connections} --timeout {args.timeout:g}s, {len(paths)} paths in turn"
              f" ({sum(p.count('/') == 3 and p.startswith('/articles/') for p in paths)} article pages); gunicorn log"
              f" {server.log_path}", flush=True)
        if args.warmup > 0:
            Wrk(url, script, args, args.warmup).start().wait()
        if not args.only_restart:
            offset = server.log_offset()
            run1 = Wrk(url, script, args, args.duration).start().wait()
            print()
            print(table(WRK_HEADER, [wrk_row(f"run 1: {args.duration:g} s", run1)], {1, 2, 3, 4, 5, 6, 8}))
            print(f"gunicorn log, run 1: {describe_server(server_side(server.log_between(offset)))}", flush=True)
            keep_log |= run1["errors"] > 0
        if not args.skip_restart:
            print(f"\nrun 2: the same load for {args.duration:g} s; PostgreSQL stopped at"
                  f" {args.restart_at if args.restart_at is not None else args.duration / 2:.1f} s for {args.down:g} s;"
                  f" a write every {args.write_interval:g} s; /healthz and an uncached article page probed every"
                  f" {PROBE_INTERVAL:g} s", flush=True)
            report = run_restart(args, server, script, args.database_url)
            print()
            print_restart(report, args)
    finally:
        server.stop()
        os.unlink(script)
        if shutil.which("pg_isready"):
            ready = pg_ready(args.database_url)
            parts = urlsplit(args.database_url)
            print(f"\npg_isready -h {parts.hostname} -p {parts.port or 5432}: "
                  f"{'accepting connections' if ready else 'NOT ACCEPTING CONNECTIONS'}")
    checks = verdicts(run1, report)
    keep_log |= not all(ok for _, ok in checks)
    if keep_log:
        print(f"gunicorn log kept: {server.log_path}")
    else:
        server.log_path.unlink(missing_ok=True)
    missed = [name for name, ok in checks if not ok]
    print(f"SUMMARY: {len(checks) - len(missed)}/{len(checks)} targets met"
          + ("" if not missed else "; MISSED: " + ", ".join(missed))
          + "; " + ", ".join(f"{name} {'OK' if ok else 'MISS'}" for name, ok in checks))
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
