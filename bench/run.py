"""``make bench``: pages against a trivial Django view, the cached page at 64 connections, the API, the import.

    DJANGO_SETTINGS_MODULE=bench.settings python -m bench.run [--duration 5] [--concurrency 4] [--workers 2]

1. Migrates the bench database (bench/settings.py: ``BENCH_DB`` or ``DATABASE_URL``) and imports
   ``demo/`` with ``--publish`` (running it again changes nothing).
2. In-process: ``django.test.Client`` requests one after another, each timed with
   ``time.perf_counter``; queries per request counted with ``CaptureQueriesContext``.
3. Under gunicorn (sync workers on a free loopback port): a small threaded load generator
   (``--concurrency`` connections, kept alive when the server allows: gunicorn's sync workers
   close each one) drives each URL for ``--duration`` seconds after a warm-up.
4. The cached detail page (and the trivial view) at ``--many-connections`` (64) connections for
   ``--many-duration`` seconds, driven by ``wrk`` when it is installed (``--client``): on the
   project's own gunicorn.conf.py (2 x cores + 1 sync workers, as ``make serve`` runs in
   production: the target of issue 7, p99 under 50 ms, is judged there), and for comparison on
   its gthread variant (``GUNICORN_THREADS=4``) and on the sync workers of step 3. The Python
   generator of step 3 is the fallback: 64 threads under one GIL, on the cores the server uses,
   add their own delays to what they time.
5. The API phase (``bench/api.py``, skipped with ``--skip-api``, alone with ``--only-api``): on
   its own database, 10,000 generated articles; ``/api/v1/articles/?limit=20`` in-process and
   under gunicorn, then the whole ``/api/v1/export.ndjson`` with the serving worker's peak
   memory growth.
6. The import phase (``bench/importing.py``, skipped with ``--skip-import``, alone with
   ``--only-import``): ``import_articles --publish`` on 1,000 generated seed-sized Markdown
   files into a fresh database, in a child process (articles/s, queries per article, peak memory).

Every page's throughput is divided by the trivial view's in the same mode and the same run: the
ratio is what the targets of issue 4 ("Speed") are about, and it is what stays comparable
between machines. Each URL's time is split into ``--rounds`` turns taken in turn with the
other URLs', so a change in the machine's background load weighs on the trivial view and the
pages alike. The detail page runs twice: with the page cache off
(``NEWSROOM_PAGE_CACHE_SECONDS=0``, honoured by ``articles.cache``) and, when the project has
a page cache, with it on and warm. Each cache mode runs in its own process (its own gunicorn
server, its own in-process worker), so the setting is read however that module reads it.
Memory: the peak resident size (``VmHWM``) of every process measured, printed per phase.

This is a measurement, not a test: it exits 0 when a target is missed and says so in its
summary lines (pages, API, import). It exits non-zero only when it cannot measure (a page does
not answer 200, wrk reports errors).
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
PROJECT_GUNICORN_CONF = BASE_DIR / "gunicorn.conf.py"
MANY_P99_TARGET_MS = 50.0  # issue 7: the cached detail page's p99 at 64 connections on 2 cores

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
    print(RESULT_MARKER + json.dumps({"results": results, "memory": own_memory()}), flush=True)


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
            found = json.loads(line[len(RESULT_MARKER):])
            return found["results"], found["memory"]
    sys.stderr.write(done.stdout + done.stderr)
    raise SystemExit(f"bench: the in-process worker (cache {mode}) failed")


# --- memory ------------------------------------------------------------------------------------


def own_memory():
    """This process's resident size now and its peak (``VmRSS``, ``VmHWM``; bytes): ``ru_maxrss`` without /proc."""
    import resource

    from bench.api import parse_status

    try:
        status = parse_status(Path("/proc/self/status").read_text())
    except OSError:
        status = {}
    peak = status.get("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return {"rss": status.get("VmRSS", 0) * 1024, "peak": peak * 1024}


def reset_own_peak():
    """Reset this process's VmHWM to its current RSS (Linux 4.0+); False when the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def workers_memory(server):
    """{"workers": n, "peak": the largest worker VmHWM, "pids": [...]} of a running gunicorn (bytes)."""
    from bench.api import children, snapshot

    pids = children(server.process.pid)
    try:
        peaks = [values.get("VmHWM", 0) * 1024 for values in snapshot(pids).values()]
    except OSError:  # a worker restarted meanwhile
        peaks = []
    return {"workers": len(pids), "peak": max(peaks, default=0), "pids": pids}


def mb(value):
    return f"{value / (1024 * 1024):.0f} MB"


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


COMPARED_THREADS = "4"  # the gthread variant of gunicorn.conf.py the 64-connection table compares with


def project_gunicorn_config(env=None):
    """What the project's gunicorn.conf.py (``make serve``) sets on this machine: workers, threads, keep-alive...;
    with ``env``, what it sets under that environment instead of this process's."""
    import runpy
    from unittest import mock

    with mock.patch.dict(os.environ, env or {}, clear=env is not None):
        values = runpy.run_path(str(PROJECT_GUNICORN_CONF))
    return {key: values.get(key) for key in ("worker_class", "workers", "threads", "keepalive", "max_requests",
                                              "max_requests_jitter", "timeout")}


class Gunicorn:
    """gunicorn bench.wsgi on a free loopback port, for one cache mode.

    ``config="sync"``: ``workers`` sync workers and nothing else (``--config /dev/null``), the
    page table's server. ``config="project"``: the project's own gunicorn.conf.py, as ``make
    serve`` runs it (2 x cores + 1 sync workers, max_requests), with the bench's application and
    port, and the access log off (``GUNICORN_ACCESS_LOG=""``) like every other log of the bench.
    ``config="gthread"``: the same with ``GUNICORN_THREADS=4`` (gthread workers, keep-alive), the
    configuration it replaced, for comparison.
    """

    def __init__(self, mode, workers, env=None, config="sync"):
        self.mode, self.workers, self.port, self.config = mode, workers, free_port(), config
        self.env = dict(env if env is not None else cache_env(mode))
        self.log = tempfile.NamedTemporaryFile(prefix="newsroom-bench-gunicorn-", suffix=".log", delete=False)

    def __enter__(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        gunicorn = str(gunicorn) if gunicorn.exists() else shutil.which("gunicorn")
        if not gunicorn:
            raise SystemExit("bench: gunicorn is not installed (make install)")
        if self.config in ("project", "gthread"):
            self.env["GUNICORN_ACCESS_LOG"] = ""
            if self.config == "gthread":
                self.env["GUNICORN_THREADS"] = COMPARED_THREADS
            options = ["--config", str(PROJECT_GUNICORN_CONF)]
        else:
            # --config /dev/null: exactly this command line, not the project's gunicorn.conf.py (threads, access log).
            options = ["--config", os.devnull, "--workers", str(self.workers), "--worker-class", "sync"]
        command = [gunicorn, "bench.wsgi:application", *options,
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
    """(results per URL, the workers' memory at the end)."""
    with Gunicorn(mode, args.workers) as server:
        for path in paths.values():
            drive(server.port, path, args.warmup_seconds, args.concurrency)  # warm every worker (and its cache)
        results = interleave(paths, lambda path, seconds: drive(server.port, path, seconds, args.concurrency),
                             args.duration, args.rounds)
        return results, workers_memory(server)


# --- many connections: the cached page at 64 --------------------------------------------------

WRK_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_WRK_TIME = r"([\d.]+)(us|ms|s|m|h)"


def wrk_time_ms(text):
    """``"31.87ms"`` -> 31.87; wrk prints us, ms, s, m or h."""
    match = re.fullmatch(_WRK_TIME, text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * WRK_UNITS_MS[match.group(2)]


def parse_wrk(text):
    """The numbers of a ``wrk --latency`` report: requests, seconds, rps, p50_ms, p99_ms, errors (socket errors
    and non-2xx/3xx responses)."""
    result = {}
    match = re.search(r"(\d+) requests in " + _WRK_TIME, text)
    if not match:
        raise ValueError("no 'N requests in T' line in wrk's output")
    result["requests"] = int(match.group(1))
    result["seconds"] = wrk_time_ms(match.group(2) + match.group(3)) / 1000
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    for pct in (50, 99):
        match = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)\s*$", text, re.MULTILINE)
        if not match:
            raise ValueError(f"no {pct}% line in wrk's output (run it with --latency)")
        result[f"p{pct}_ms"] = wrk_time_ms(match.group(1))
    errors = 0
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if match:
        errors += sum(int(n) for n in match.groups())
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if match:
        errors += int(match.group(1))
    result["errors"] = errors
    return result


def wrk_path():
    return shutil.which("wrk")


def run_wrk(port, path, duration, connections, threads=2):
    """``wrk --latency`` for ``duration`` s; a timeout far above the run so no slow request drops out of the percentiles."""
    command = [wrk_path(), "--latency", f"-c{connections}", f"-t{min(threads, connections)}", f"-d{duration:g}s",
               f"--timeout={max(30, int(duration) * 2)}s", f"http://127.0.0.1:{port}{path}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    result = parse_wrk(done.stdout)
    if result["errors"]:
        raise SystemExit(f"bench: GET {path} under wrk had {result['errors']} errors:\n{done.stdout}")
    return result


def load(port, path, duration, connections, client):
    """Drive one URL with ``client`` ("wrk" or "python"); a summarize()-like dict."""
    if client == "wrk":
        return run_wrk(port, path, duration, connections)
    return summarize(*drive(port, path, duration, connections))


def choose_client(choice):
    """(client, note): wrk when asked for or present, else the Python generator (with why)."""
    if choice == "python":
        return "python", "the Python threaded generator (--client python)"
    if wrk_path():
        return "wrk", "wrk (C, 2 threads)"
    if choice == "wrk":
        raise SystemExit("bench: --client wrk, but wrk is not installed (apt-get install wrk)")
    return "python", ("the Python threaded generator: wrk is not installed (apt-get install wrk); with 64 threads"
                      " under the GIL on the server's cores its own delays add to the p99")


def run_many(paths, args, client):
    """The cached detail page (and the trivial view) at ``--many-connections`` connections.

    On the project's gunicorn.conf.py (what production runs: judged), and for information on its
    gthread variant (``GUNICORN_THREADS=4``) and on the page table's 2 sync workers. Returns [row dict].
    """
    rows = []
    plan = (("project", ("trivial", "detail")), ("gthread", ("detail",)), ("sync", ("detail",)))
    for config, keys in plan:
        with Gunicorn("on", args.workers, config=config) as server:
            idle = sockets_per_worker(server)
            for key in keys:  # warm every worker and its page cache
                load(server.port, paths[key], args.warmup_seconds * 2, args.many_connections, client)
            before = set(workers_memory(server)["pids"])
            measured, spread = {}, {}
            for key in keys:
                sampler = threading.Timer(args.many_duration / 2, sample_spread, (server, idle, spread, key))
                sampler.start()
                measured[key] = load(server.port, paths[key], args.many_duration, args.many_connections, client)
                sampler.join()
            memory = workers_memory(server)
        restarts = len(before - set(memory["pids"]))
        for key in keys:
            rows.append({"key": key, "config": config, "result": measured[key], "memory": memory,
                         "restarts": restarts, "trivial": measured.get("trivial"), "spread": spread.get(key, []),
                         "connections": args.many_connections, "client": client})
    return rows


def sample_spread(server, idle, spread, key):
    spread[key] = sockets_per_worker(server, idle)


def sockets_per_worker(server, idle=None):
    """Open sockets per gunicorn worker, less those it had when idle (``idle``: a previous result, by pid):
    the client connections each one holds, largest first. Without ``idle``: {pid: sockets}."""
    from bench.api import children

    counts = {}
    for pid in children(server.process.pid):
        try:
            counts[pid] = sum(os.readlink(fd).startswith("socket:") for fd in Path(f"/proc/{pid}/fd").iterdir())
        except OSError:  # gone (restarted) meanwhile
            continue
    if idle is None:
        return counts
    return sorted((max(0, n - idle.get(pid, min(idle.values(), default=0))) for pid, n in counts.items()), reverse=True)


def server_label(config, workers, conf=None):
    """``gunicorn.conf.py: 5 sync workers``, ``gunicorn.conf.py, 4 threads: 5 gthread workers x 4``, ``2 sync workers``."""
    if config == "project":
        conf = conf or project_gunicorn_config()
        if int(conf["threads"]) > 1:
            return f"gunicorn.conf.py: {conf['workers']} gthread workers x {conf['threads']} threads"
        return f"gunicorn.conf.py: {conf['workers']} {conf['worker_class']} workers"
    if config == "gthread":
        conf = project_gunicorn_config({**os.environ, "GUNICORN_THREADS": COMPARED_THREADS})
        return f"gunicorn.conf.py, GUNICORN_THREADS={COMPARED_THREADS}: {conf['workers']} gthread workers x {conf['threads']}"
    return f"{workers} sync workers"


def many_verdict(row, target_ms=MANY_P99_TARGET_MS):
    """The 64-connection target applies to the cached detail page on the project's config."""
    if row["key"] != "detail" or row["config"] != "project":
        return "-", "-"
    return f"p99 <{target_ms:g} ms", "OK" if row["result"]["p99_ms"] < target_ms else "MISS"


def print_many(rows, args, client):
    conf = project_gunicorn_config()
    header = ("page", "server", "req/s", "p50 ms", "p99 ms", "% of trivial", "worker peak", "target", "OK/MISS")
    lines = []
    for row in rows:
        result, trivial = row["result"], row["trivial"]
        ratio = "100" if row["key"] == "trivial" else (f"{100 * result['rps'] / trivial['rps']:.1f}" if trivial else "-")
        target, verdict = many_verdict(row)
        label = "trivial view (11 KB)" if row["key"] == "trivial" else "detail, cached"
        lines.append((label, server_label(row["config"], args.workers, conf), f"{result['rps']:.0f}",
                      f"{result['p50_ms']:.1f}", f"{result['p99_ms']:.1f}", ratio, mb(row["memory"]["peak"]),
                      target, verdict))
    print_markdown(header, lines, numeric={2, 3, 4, 5, 6})
    print()
    for row in rows:
        label = "trivial view" if row["key"] == "trivial" else "detail, cached"
        print(f"{server_label(row['config'], args.workers, conf)}, {label}: client connections held per worker halfway"
              f" through: {', '.join(str(n) for n in row['spread']) or '-'}")
    for config in ("project", "gthread", "sync"):
        restarts = max((row["restarts"] for row in rows if row["config"] == config), default=0)
        if restarts:
            print(f"{server_label(config, args.workers, conf)}: {restarts} worker(s) restarted during the run"
                  " (max_requests), their first requests paying for the restart and a cold page cache.")


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
    print_markdown(header, lines, numeric={2, 3, 4, 5, 6})


def markdown_table(header, lines, numeric):
    """A Markdown table (as README shows it), columns in ``numeric`` right-aligned; a list of strings."""
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]

    def fmt(line):
        cells = [str(c).rjust(w) if i in numeric else str(c).ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "| " + " | ".join(cells) + " |"

    rule = "| " + " | ".join(("-" * (w - 1) + ":") if i in numeric else "-" * w for i, w in enumerate(widths)) + " |"
    return [fmt(header), rule, *(fmt(line) for line in lines)]


def print_markdown(header, lines, numeric):
    for line in markdown_table(header, lines, numeric):
        print(line)


def summary_line(rows, cache_available, many=()):
    """The verdict on gunicorn, where the issue's targets were measured."""
    checks = [(label, verdict, ratio, count) for label, mode, _r, count, ratio, target, verdict in rows
              if mode == "gunicorn" and target != "-" and verdict in ("OK", "MISS")]
    parts = [f"{label} {ratio:.1f}% ({count} queries) {verdict}" for label, verdict, ratio, count in checks]
    for row in many:
        target, verdict = many_verdict(row)
        if verdict != "-":
            checks.append((None, verdict, None, None))
            parts.append(f"detail, cached, {row['connections']} connections p99 {row['result']['p99_ms']:.1f} ms"
                         f" ({target}) {verdict}")
    met = sum(check[1] == "OK" for check in checks)
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
    parser.add_argument("--many-connections", type=int, default=64,
                        help="connections for the cached page under load (default 64; 0 skips that run)")
    parser.add_argument("--many-duration", type=float, default=8.0,
                        help="seconds per URL at --many-connections (default 8)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator at --many-connections: wrk when installed (auto), or the Python one")
    parser.add_argument("--api-articles", type=int, default=10_000,
                        help="published articles in the API phase's database (default 10000)")
    parser.add_argument("--dump-runs", type=int, default=3, help="NDJSON dumps measured in the API phase (default 3)")
    parser.add_argument("--import-articles", type=int, default=1_000,
                        help="seed-sized Markdown files imported in the import phase (default 1000)")
    parser.add_argument("--import-seconds", type=float, default=45.0,
                        help="stop the import after the batch that passes this many seconds (default 45; 0: no limit)")
    parser.add_argument("--import-jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="import_articles --jobs N in the import phase, one call over all the files (default: one"
                             " per core; 1: no workers, 50 files per call)")
    parser.add_argument("--import-profile", type=int, default=0, metavar="N",
                        help="run the import under cProfile and print its N most expensive calls (cumulative)")
    parser.add_argument("--skip-import", action="store_true", help="no import phase")
    phases = parser.add_mutually_exclusive_group()
    phases.add_argument("--skip-api", action="store_true", help="only the page phases (and the import)")
    phases.add_argument("--only-api", action="store_true", help="only the API phase (list and NDJSON dump)")
    phases.add_argument("--only-import", action="store_true", help="only the import phase")
    parser.add_argument("--inprocess-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

    if args.inprocess_worker:
        inprocess_worker(json.loads(args.inprocess_worker), args.inprocess_duration, args.warmup, args.rounds)
        return 0

    import django
    from django import get_version

    from bench import api, importing

    django.setup()

    started = time.monotonic()
    print(f"Newsroom bench, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}: Python {platform.python_version()}, "
          f"Django {get_version()}, {os.cpu_count()} CPUs, {platform.machine()}, "
          f"load average {load_average()} at start", flush=True)
    busy = cpu_busy(1.0)
    if busy is not None and busy > 0.2:
        print(f"WARNING: other processes keep the CPUs {100 * busy:.0f}% busy: the numbers below will be low and noisy.",
              flush=True)
    summaries = []
    trivial = None
    if not (args.only_api or args.only_import):
        line, trivial = run_pages(args)
        summaries.append(line)
    if not (args.skip_api or args.only_import):
        summaries.append(api.run_api(args, trivial))
    if not (args.skip_import or args.only_api):
        summaries.append(importing.run_import(args))
    print()
    print(f"whole run {time.monotonic() - started:.0f} s; load average {load_average()} at the end")
    for line in summaries:
        if line:
            print(line)
    return 0


def load_average():
    """The 1-, 5- and 15-minute load averages, as ``0.41 0.30 0.12``, and how busy the CPUs are now.

    Called between phases, when none of the bench's own servers or clients runs: the busy share is
    other processes' (the load average trails by a minute or more, so it also counts the phase before).
    """
    averages = " ".join(f"{value:.2f}" for value in os.getloadavg())
    busy = cpu_busy()
    return averages if busy is None else f"{averages}, CPUs {100 * busy:.0f}% busy"


def cpu_busy(seconds=0.5):
    """The share of all CPUs' time spent busy over the next ``seconds`` (from /proc/stat); None without it."""

    def read():
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values), values[3] + values[4]  # idle + iowait

    try:
        total1, idle1 = read()
        time.sleep(seconds)
        total2, idle2 = read()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def run_pages(args):
    """The page phases (in-process, then gunicorn, then the cached page at many connections): prints their
    tables; returns (the summary line, the trivial view's req/s per mode, cache off)."""
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
    queries, memory = {}, {mode: {} for mode in MODES}
    for cache_mode in cache_modes:
        inprocess, memory["in-process"][cache_mode] = run_inprocess(paths, cache_mode, args)
        measured["in-process"][cache_mode] = inprocess
        queries[cache_mode] = {key: result["queries"] for key, result in inprocess.items()}
        measured["gunicorn"][cache_mode], memory["gunicorn"][cache_mode] = run_gunicorn(paths, cache_mode, args)

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
    print("peak memory (VmHWM, the largest process): " + "; ".join(
        f"{mode} cache {cache_mode} {mb(memory[mode][cache_mode]['peak'])}"
        + (f" ({memory[mode][cache_mode]['workers']} workers)" if mode == "gunicorn" else "")
        for mode in MODES for cache_mode in cache_modes))

    many = []
    if cache_available and args.many_connections > 0:
        client, note = choose_client(args.client)
        conf = project_gunicorn_config()
        print()
        print(f"The cached detail page at {args.many_connections} connections, load average {load_average()}:"
              f" {args.many_duration:g} s per URL after {args.warmup_seconds * 2:g} s warm-up, driven by {note}.")
        print(f"Judged on the project's gunicorn.conf.py, as `make serve` runs it in production"
              f" ({server_label('project', args.workers, conf)}, max_requests {conf['max_requests']}"
              f"±{conf['max_requests_jitter']}; access log off). For comparison: the same with"
              f" GUNICORN_THREADS={COMPARED_THREADS} (gthread workers, keep-alive"
              f" {conf['keepalive']} s: a worker keeps the connections it accepted), and the page table's"
              f" {args.workers} sync workers.")
        print(flush=True)
        many = run_many(paths, args, client)
        print_many(many, args, client)
    trivial = {mode: measured[mode]["off"]["trivial"]["rps"] for mode in MODES}
    return summary_line(rows, cache_available, many), trivial


if __name__ == "__main__":
    sys.exit(main())
