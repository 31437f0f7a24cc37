"""``make bench``: the article page and the list against a trivial Django view, in-process and under gunicorn.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.run [--duration 5] [--concurrency 4] [--workers 2]

1. Migrates the bench database (bench/settings.py: ``BENCH_DB`` or ``DATABASE_URL``) and imports
   ``demo/`` with ``--publish`` (running it again changes nothing).
2. In-process: ``django.test.Client`` requests one after another, each timed with
   ``time.perf_counter``; queries per request counted with ``CaptureQueriesContext``.
3. Under gunicorn (sync workers on a free loopback port): a small threaded load generator
   (``--concurrency`` connections, kept alive when the server allows: gunicorn's sync workers
   close each one) drives each URL for ``--duration`` seconds after a warm-up.
4. The API phase (``bench/api.py``, skipped with ``--skip-api``, alone with ``--only-api``): on
   its own database, 10,000 generated articles; ``/api/v1/articles/?limit=50`` under gunicorn,
   then the whole ``/api/v1/export.ndjson`` with the serving worker's peak memory growth.

Every page's throughput is divided by the trivial view's in the same mode and the same run: the
ratio is what the targets of issue 4 ("Speed") are about, and it is what stays comparable
between machines. Each URL's time is split into ``--rounds`` turns taken in turn with the
other URLs', so a change in the machine's background load weighs on the trivial view and the
pages alike. The detail page runs twice: with the page cache off
(``NEWSROOM_PAGE_CACHE_SECONDS=0``, honoured by ``articles.cache``) and, when the project has
a page cache, with it on and warm. Each cache mode runs in its own process (its own gunicorn
server, its own in-process worker), so the setting is read however that module reads it.

This is a measurement, not a test: it exits 0 when a target is missed and says so in its
summary lines (one for the pages, one for the API). It exits non-zero only when it cannot
measure (a page does not answer 200).
"""

import argparse
import importlib.util
import io
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SEED_SLUG = "tui-dong-gao-zhi-liang-fa-zhan-chuang-zao-gao-pin-zhi-sheng-huo"
TRIVIAL_PATH = "/bench/trivial/"
LIST_PATH = "/articles/"
CACHE_ENV = "NEWSROOM_PAGE_CACHE_SECONDS"
RESULT_MARKER = "BENCH-RESULT "

# (key, label, cache mode, minimum % of the trivial view, maximum queries); None: no target.
ROWS = [
    ("trivial", "trivial view (11 KB)", "off", None, None),
    ("detail", "detail, uncached", "off", 12.0, 4),
    ("detail", "detail, cached", "on", 70.0, None),
    ("list", "list /articles/", "off", 3.0, None),
    ("list", "list, cached", "on", None, None),
]
MODES = ("in-process", "gunicorn")


def has_page_cache():
    return importlib.util.find_spec("articles.cache") is not None


def cache_env(mode):
    """The environment for one cache mode: the page cache off, or left at the project's setting."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "bench.settings"))
    if mode == "off":
        env[CACHE_ENV] = "0"
    else:
        env.pop(CACHE_ENV, None)
    return env


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(pct / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def summarize(latencies, elapsed):
    latencies = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


# --- setup -------------------------------------------------------------------------------------


def prepare():
    """Migrate, import the demo articles (idempotent), and return {key: path} for the pages to measure."""
    import django
    from django.core.management import call_command

    django.setup()
    from articles.models import Article

    call_command("migrate", interactive=False, verbosity=0)
    call_command("import_articles", str(BASE_DIR / "demo"), publish=True, verbosity=0, stdout=io.StringIO())
    published = Article.objects.published()
    article = published.filter(slug=SEED_SLUG).first() or published.order_by("-published_at", "-pk").first()
    if article is None:
        raise SystemExit("bench: no published article after importing demo/")
    return {"trivial": TRIVIAL_PATH, "detail": article.get_absolute_url(), "list": LIST_PATH}


# --- phase 1: in-process -----------------------------------------------------------------------


def inprocess_worker(paths, duration, warmup, rounds):
    """Runs in a child process (one per cache mode); prints one JSON line of results."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()

    def get(path):
        client.cookies = SimpleCookie()  # always an anonymous visitor without cookies
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"bench: GET {path} answered {response.status_code}")
        return response

    queries = {}
    for key, path in paths.items():
        for _ in range(warmup):
            get(path)
        counts = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as captured:
                get(path)
            counts.append(len(captured.captured_queries))
        queries[key] = max(counts)

    def timed(path, seconds):
        latencies = []
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            get(path)
            latencies.append(time.perf_counter() - t0)
        return latencies, time.perf_counter() - start

    results = interleave(paths, timed, duration, rounds)
    for key, result in results.items():
        result["queries"] = queries[key]
    print(RESULT_MARKER + json.dumps(results), flush=True)


def interleave(paths, timed, duration, rounds):
    """Measure every URL in ``rounds`` short turns, in turn, so that a change in the machine's
    background load falls on the trivial view and the pages alike; pool the turns per URL."""
    latencies = {key: [] for key in paths}
    elapsed = dict.fromkeys(paths, 0.0)
    for _ in range(rounds):
        for key, path in paths.items():
            values, seconds = timed(path, duration / rounds)
            latencies[key] += values
            elapsed[key] += seconds
    return {key: summarize(latencies[key], elapsed[key]) for key in paths}


def run_inprocess(paths, mode, args):
    command = [sys.executable, "-m", "bench.run", "--inprocess-worker", json.dumps(paths),
               "--inprocess-duration", str(args.inprocess_duration), "--warmup", str(args.warmup),
               "--rounds", str(args.rounds)]
    done = subprocess.run(command, cwd=BASE_DIR, env=cache_env(mode), capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    sys.stderr.write(done.stdout + done.stderr)
    raise SystemExit(f"bench: the in-process worker (cache {mode}) failed")


# --- phase 2: gunicorn -------------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(port, path, timeout=5.0):
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Gunicorn:
    """gunicorn bench.wsgi with sync workers on a free loopback port, for one cache mode."""

    def __init__(self, mode, workers, env=None):
        self.mode, self.workers, self.port = mode, workers, free_port()
        self.env = env if env is not None else cache_env(mode)
        self.log = tempfile.NamedTemporaryFile(prefix="newsroom-bench-gunicorn-", suffix=".log", delete=False)

    def __enter__(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        gunicorn = str(gunicorn) if gunicorn.exists() else shutil.which("gunicorn")
        if not gunicorn:
            raise SystemExit("bench: gunicorn is not installed (make install)")
        # --config /dev/null: exactly this command line, not the project's gunicorn.conf.py (threads, access log).
        command = [gunicorn, "bench.wsgi:application", "--config", os.devnull,
                   "--workers", str(self.workers), "--worker-class", "sync",
                   "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--chdir", str(BASE_DIR)]
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=self.env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._fail(f"gunicorn exited with {self.process.returncode}")
            try:
                if fetch(self.port, TRIVIAL_PATH, timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self._fail("gunicorn did not answer within 30 s")

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)

    def _fail(self, message):
        self.__exit__()
        raise SystemExit(f"bench: {message}; its log:\n{Path(self.log.name).read_text(errors='replace')}")


class Connection:
    """A lean HTTP/1.1 client for one URL: keep-alive when the server allows it, else one connection per request.

    http.client parses headers with the email package; on these 2-core machines its cost, paid
    in the same CPUs as the server's, halved the trivial view's measured throughput.
    """

    def __init__(self, port, path):
        self.address = ("127.0.0.1", port)
        self.request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: newsroom-bench\r\n\r\n".encode()
        self.sock = None

    def get(self):
        """Send the request, read the whole response; return its status."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(self.request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._recv()
        head, _, body = data.partition(b"\r\n\r\n")
        headers = head.lower()
        close = b"\r\nconnection: close" in headers
        length = re.search(rb"\r\ncontent-length: *(\d+)", headers)
        if length:
            remaining = int(length.group(1)) - len(body)
            while remaining > 0:
                remaining -= len(self._recv())
        elif close:
            while self.sock.recv(65536):
                pass
        else:
            raise SystemExit("bench: a keep-alive response without Content-Length (chunked?) is not supported")
        if close:
            self.close()
        return int(head[9:12])

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-response")
        return chunk

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def drive(port, path, duration, concurrency):
    """``concurrency`` threads, each with its own connection, as fast as the server answers for ``duration`` s."""
    latencies = [[] for _ in range(concurrency)]
    errors = []
    go = threading.Event()
    stop_at = [0.0]

    def worker(out):
        conn = Connection(port, path)
        go.wait()
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at[0]:
                    break
                status = conn.get()
                if status != 200:
                    errors.append(status)
                    break
                out.append(time.perf_counter() - t0)
        except OSError as error:
            errors.append(repr(error))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(out,)) for out in latencies]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    stop_at[0] = start + duration
    go.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"bench: GET {path} under gunicorn failed: {errors[:3]}")
    return [value for out in latencies for value in out], elapsed


def run_gunicorn(paths, mode, args):
    with Gunicorn(mode, args.workers) as server:
        for path in paths.values():
            drive(server.port, path, args.warmup_seconds, args.concurrency)  # warm every worker (and its cache)
        return interleave(paths, lambda path, seconds: drive(server.port, path, seconds, args.concurrency),
                          args.duration, args.rounds)


# --- report ------------------------------------------------------------------------------------


def build_rows(measured, queries, cache_available):
    """[(label, mode, result or None, queries, ratio, target text, verdict)]"""
    rows = []
    for key, label, cache_mode, min_ratio, max_queries in ROWS:
        for mode in MODES:
            if cache_mode == "on" and not cache_available:
                if key == "detail":
                    rows.append((label, mode, None, None, None, "≥70%", "n/a (no page cache yet)"))
                continue
            result = measured[mode][cache_mode][key]
            trivial = measured[mode][cache_mode]["trivial"]  # measured in turns with this page, same process
            count = queries[cache_mode][key]
            ratio = 100 * result["rps"] / trivial["rps"] if key != "trivial" else None
            target, verdict = [], []
            if min_ratio is not None:
                target.append(f"≥{min_ratio:g}%")
                verdict.append(ratio >= min_ratio)
            if max_queries is not None:
                target.append(f"≤{max_queries} queries")
                verdict.append(count <= max_queries)
            verdict = ("OK" if all(verdict) else "MISS") if verdict else "-"
            if mode != "gunicorn" and verdict != "-":
                verdict = f"({verdict})"  # the targets are gunicorn figures; in-process is for information
            rows.append((label, mode, result, count, ratio, ", ".join(target) or "-", verdict))
    return rows


def print_table(rows):
    header = ("page", "mode", "req/s", "p50 ms", "p99 ms", "queries/req", "% of trivial", "target", "OK/MISS")
    lines = []
    for label, mode, result, count, ratio, target, verdict in rows:
        if result is None:
            lines.append((label, mode, "-", "-", "-", "-", "-", target, verdict))
            continue
        lines.append((
            label, mode, f"{result['rps']:.0f}", f"{result['p50_ms']:.2f}", f"{result['p99_ms']:.2f}",
            str(count), "100" if ratio is None else f"{ratio:.1f}", target, verdict,
        ))
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    numeric = {2, 3, 4, 5, 6}

    def fmt(line):
        cells = [str(c).rjust(w) if i in numeric else str(c).ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    print(fmt(header))
    print("| " + " | ".join(("-" * (w - 1) + ":") if i in numeric else "-" * w for i, w in enumerate(widths)) + " |")
    for line in lines:
        print(fmt(line))


def summary_line(rows, cache_available):
    """The verdict on gunicorn, where the issue's targets were measured."""
    checks = [(label, verdict, ratio, count) for label, mode, _r, count, ratio, target, verdict in rows
              if mode == "gunicorn" and target != "-" and verdict in ("OK", "MISS")]
    met = sum(verdict == "OK" for _, verdict, _, _ in checks)
    parts = [f"{label} {ratio:.1f}% ({count} queries) {verdict}" for label, verdict, ratio, count in checks]
    if not cache_available:
        parts.append("detail, cached n/a (no page cache yet)")
    state = "all targets met" if met == len(checks) else f"{len(checks) - met} target(s) MISSED"
    return f"SUMMARY (gunicorn): {met}/{len(checks)} targets met, {state}: " + "; ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per URL under gunicorn (default 5)")
    parser.add_argument("--inprocess-duration", type=float, default=3.0, help="seconds per URL in-process (default 3)")
    parser.add_argument("--warmup", type=int, default=20, help="in-process warm-up requests per URL (default 20)")
    parser.add_argument("--warmup-seconds", type=float, default=1.0, help="gunicorn warm-up per URL (default 1 s)")
    parser.add_argument("--rounds", type=int, default=5, help="turns each URL's time is split into (default 5)")
    parser.add_argument("--concurrency", type=int, default=4, help="load generator connections (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--api-articles", type=int, default=10_000,
                        help="published articles in the API phase's database (default 10000)")
    parser.add_argument("--dump-runs", type=int, default=3, help="NDJSON dumps measured in the API phase (default 3)")
    phases = parser.add_mutually_exclusive_group()
    phases.add_argument("--skip-api", action="store_true", help="only the page phases")
    phases.add_argument("--only-api", action="store_true", help="only the API phase (list and NDJSON dump)")
    parser.add_argument("--inprocess-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

    if args.inprocess_worker:
        inprocess_worker(json.loads(args.inprocess_worker), args.inprocess_duration, args.warmup, args.rounds)
        return 0

    import django
    from django import get_version

    from bench import api

    django.setup()

    print(f"Newsroom bench, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: Python {platform.python_version()}, "
          f"Django {get_version()}, {os.cpu_count()} CPUs, {platform.machine()}, "
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    summaries = []
    if not args.only_api:
        summaries.append(run_pages(args))
    if not args.skip_api:
        summaries.append(api.run_api(args))
    print()
    for line in summaries:
        if line:
            print(line)
    return 0


def run_pages(args):
    """The page phases (in-process, then gunicorn): prints their table; returns the summary line."""
    paths = prepare()
    from django.db import connection

    cache_available = has_page_cache()
    cache_modes = ("off", "on") if cache_available else ("off",)
    print(f"pages: {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"detail {paths['detail']}  list {paths['list']}  trivial {paths['trivial']}")
    print(f"in-process: django.test.Client, sequential, {args.inprocess_duration:g} s per URL after {args.warmup} warm-up"
          f" requests; gunicorn: {args.workers} sync workers, {args.concurrency} client threads,"
          f" {args.duration:g} s per URL after {args.warmup_seconds:g} s warm-up; each URL's time in {args.rounds} turns,"
          " taken in turn with the other URLs'")
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if cache_available:
        print(f"page cache: articles.cache ({backend}); uncached with {CACHE_ENV}=0, cached: on and warm")
    else:
        print("page cache: none yet")
    print(flush=True)

    measured = {mode: {} for mode in MODES}
    queries = {}
    for cache_mode in cache_modes:
        inprocess = run_inprocess(paths, cache_mode, args)
        measured["in-process"][cache_mode] = inprocess
        queries[cache_mode] = {key: result["queries"] for key, result in inprocess.items()}
        measured["gunicorn"][cache_mode] = run_gunicorn(paths, cache_mode, args)

    if cache_available:
        if queries["off"]["detail"] == 0:
            print(f"WARNING: the uncached detail page ran no queries: is {CACHE_ENV}=0 honoured by articles.cache?")
        if queries["on"]["detail"] >= queries["off"]["detail"]:
            print("WARNING: the cached detail page runs as many queries as the uncached one: is the page cache wired in?")

    rows = build_rows(measured, queries, cache_available)
    print_table(rows)
    if not cache_available:
        print("cached: n/a (no page cache yet)")
    print()
    print("% of trivial: the page's requests per second divided by the trivial view's, measured in turns with it in the")
    print("same process and cache setting (the trivial row shows the uncached server's; the cache does not touch it).")
    print("queries/req: counted in-process (the same code and settings serve gunicorn).")
    print("Targets (issue 4) are judged under gunicorn; in-process verdicts, in parentheses, are for information.")
    return summary_line(rows, cache_available)


if __name__ == "__main__":
    sys.exit(main())
