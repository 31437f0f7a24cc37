"""``make bench``, API phase: the JSON article list of 20 full articles and the NDJSON dump of 10,000 articles.

Runs after the page phases (``bench.run``), on its own database so the page benchmark's data
stays as it is: the SQLite file ``BENCH_API_DB`` (default ``<tmp>/newsroom-bench-api.sqlite3``,
recreated on every run) or, when ``DATABASE_URL`` is set, ``BENCH_API_DATABASE_URL`` (flushed;
without it the phase is skipped).

1. Generation (a child process on that database): migrate, import ``demo/`` with ``--publish``,
   then ``bulk_create`` copies of the demo articles (their body, body_html, body_text and
   search_text copied as they are: bulk_create skips ``save()``, which is fine for bench data)
   up to ``--api-articles`` published articles, each with two bylines, two regions and two tags
   (bulk_create of the through rows). The same process counts each endpoint's queries with
   ``CaptureQueriesContext``, then times ``/api/v1/articles/?limit=20`` in-process
   (``django.test.Client``, one request after another, ``--inprocess-duration`` seconds after
   ``--warmup`` requests) with its own peak memory (``VmHWM``, reset before the timing).
2. Under gunicorn (the page phase's server and load generator, page cache off):
   ``/api/v1/articles/?limit=20`` for ``--duration`` seconds (the workers' ``VmHWM`` read
   after it), then the whole ``/api/v1/export.ndjson`` ``--dump-runs`` times, one download at a
   time. The dump is read as HTTP/1.0 (no chunked encoding to undo in the client), with no
   warm-up dump, so the first one shows what a worker that has only served list pages grows by;
   every worker's ``/proc/<pid>/status`` is read before and after it, with the peak (``VmHWM``)
   reset beforehand where the kernel allows (``clear_refs``). The serving worker is the one that
   used CPU time meanwhile; its peak memory growth is ``VmHWM after - VmRSS before``.

Targets, judged under gunicorn: the list at 120 requests/s or more (issue 7, "Benchmarks and
load"); the dump at 5,000 articles/s or more, peak memory growth under 50 MB (issue 5, "Speed").
"""

import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import run

API_ARTICLES = 10_000
LIST_LIMIT = 20
LIST_PATH = f"/api/v1/articles/?limit={LIST_LIMIT}"
EXPORT_PATH = "/api/v1/export.ndjson"
TARGET_LIST_PER_SECOND = 120  # issue 7: the API list of 20 full articles, under gunicorn
TARGET_ARTICLES_PER_SECOND = 5_000
TARGET_MEMORY_GROWTH_MB = 50
SLUG_PREFIX = "bench-api-"
MB = 1024 * 1024


def api_database():
    """(description, environment overrides) of the API phase's database; None when it has none."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ.get("BENCH_API_DATABASE_URL")
        return (url.split("@")[-1], {"DATABASE_URL": url}) if url else None
    path = os.environ.get("BENCH_API_DB") or os.path.join(tempfile.gettempdir(), "newsroom-bench-api.sqlite3")
    return path, {"BENCH_DB": path}


def api_env(overrides):
    """The page cache off (every request does its work), on the API phase's database."""
    return {**run.cache_env("off"), **overrides}


# --- generation (child process) ----------------------------------------------------------------


def generate(count):
    """Fill a fresh database with ``count`` published articles; return timings and counts."""
    import io

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    if connection.vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
    else:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
    call_command("import_articles", str(run.BASE_DIR / "demo"), publish=True, verbosity=0, stdout=io.StringIO())
    prepared = time.perf_counter() - started

    started = time.perf_counter()
    created = bulk_articles(count)
    generated = time.perf_counter() - started

    from articles.models import Article

    return {"prepare_s": prepared, "generate_s": generated, "created": created,
            "published": Article.objects.published().count()}


def bulk_articles(count):
    """bulk_create copies of the published articles until ``count`` are published; returns how many were made."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone
    from taggit.models import Tag, TaggedItem

    from articles.models import Article, ArticleAuthor, Author, Region

    templates = list(Article.objects.published().order_by("pk"))
    if not templates:
        raise SystemExit("bench: no published article to copy after importing demo/")
    missing = count - len(templates)
    if missing <= 0:
        return 0
    with transaction.atomic():
        authors = list(Author.objects.order_by("pk"))
        for i in range(len(authors), 8):
            authors.append(Author.objects.create(name=f"基准作者{i}"))
        regions = list(Region.objects.order_by("pk"))
        tags = [Tag.objects.get_or_create(name=f"基准标签{i}")[0] for i in range(12)]
        now = timezone.now()
        articles = []
        for i in range(missing):
            template = templates[i % len(templates)]
            articles.append(Article(
                title=f"{template.title}（{i + 1}）",
                slug=f"{SLUG_PREFIX}{i + 1:05d}",
                summary=template.summary,
                body=template.body,
                body_html=template.body_html,
                body_text=template.body_text,
                search_text=template.search_text,
                status=Article.Status.PUBLISHED,
                published_at=now - dt.timedelta(minutes=i + 1),
                language=template.language,
                original_url=f"https://example.com/bench/{i + 1}",
                publisher_id=template.publisher_id,
                syndicator_id=template.syndicator_id,
                lead_image_id=template.lead_image_id,
                categories=list(template.categories),
            ))
        Article.objects.bulk_create(articles, batch_size=500)
        ids = list(Article.objects.filter(slug__startswith=SLUG_PREFIX).order_by("pk").values_list("pk", flat=True))
        roles = [ArticleAuthor.Role.REPORTER, ArticleAuthor.Role.EDITOR]
        ArticleAuthor.objects.bulk_create(
            [ArticleAuthor(article_id=pk, author=authors[(i + j) % len(authors)], role=roles[j], order=j)
             for i, pk in enumerate(ids) for j in range(2)],
            batch_size=1000,
        )
        if len(regions) >= 2:
            through = Article.regions.through
            through.objects.bulk_create(
                [through(article_id=pk, region_id=regions[(i * 2 + j) % len(regions)].pk)
                 for i, pk in enumerate(ids) for j in range(2)],
                batch_size=1000,
            )
        content_type = ContentType.objects.get_for_model(Article)
        TaggedItem.objects.bulk_create(
            [TaggedItem(content_type=content_type, object_id=pk, tag=tags[(i + j * 5) % len(tags)])
             for i, pk in enumerate(ids) for j in range(2)],
            batch_size=1000,
        )
    return len(ids)


def count_queries():
    """Queries for one list page and for one whole dump, in-process with ``django.test.Client``."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    result = {}
    for key, path in (("list", LIST_PATH), ("export", EXPORT_PATH)):
        if not path.endswith(".ndjson"):
            client.get(path)  # warm (a dump is long enough to count as its own warm-up)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"bench: GET {path} answered {response.status_code}")
            if response.streaming:
                lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
            else:
                lines = len(json.loads(response.content)["results"])
        result[key] = {"queries": len(captured.captured_queries), "articles": lines}
    return result


def time_list_inprocess(duration, warmup):
    """``LIST_PATH`` with ``django.test.Client``, one request after another for ``duration`` s after
    ``warmup`` requests: summarize()'s dict, with this process's memory (peak reset before the timing)."""
    from django.test import Client

    client = Client()

    def get():
        response = client.get(LIST_PATH)
        if response.status_code != 200:
            raise SystemExit(f"bench: GET {LIST_PATH} answered {response.status_code}")

    for _ in range(warmup):
        get()
    before = run.own_memory()
    peak_reset = run.reset_own_peak()
    latencies = []
    start = time.perf_counter()
    while time.perf_counter() - start < duration:
        t0 = time.perf_counter()
        get()
        latencies.append(time.perf_counter() - t0)
    result = run.summarize(latencies, time.perf_counter() - start)
    after = run.own_memory()
    result.update(rss_before=before["rss"], peak=after["peak"], peak_reset=peak_reset)
    return result


def generate_worker(count, duration=3.0, warmup=20):
    """Runs in a child process on the API database; prints one JSON line."""
    result = generate(count)
    result["queries"] = count_queries()
    result["inprocess"] = time_list_inprocess(duration, warmup)
    print(run.RESULT_MARKER + json.dumps(result), flush=True)


def run_generation(count, env, duration=3.0, warmup=20):
    command = [sys.executable, "-m", "bench.api", "--generate", str(count), str(duration), str(warmup)]
    done = subprocess.run(command, cwd=run.BASE_DIR, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(run.RESULT_MARKER):
            return json.loads(line[len(run.RESULT_MARKER):])
    sys.stderr.write(done.stdout + done.stderr)
    raise SystemExit("bench: generating the API articles failed")


# --- worker memory -----------------------------------------------------------------------------


def parse_status(text):
    """{field: kB} for the ``Vm*`` lines of a ``/proc/<pid>/status`` text."""
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name.startswith("Vm") and rest.strip().endswith("kB"):
            values[name] = int(rest.split()[0])
    return values


def children(pid):
    """PIDs of ``pid``'s child processes (gunicorn's workers)."""
    try:
        return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        pass
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def cpu_ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def snapshot(pids):
    return {pid: {**parse_status(Path(f"/proc/{pid}/status").read_text()), "cpu": cpu_ticks(pid)} for pid in pids}


def reset_peak(pids):
    """Reset each worker's VmHWM to its current RSS (Linux 4.0+); False when the kernel refuses."""
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def memory_growth(before, after):
    """(serving pid, its growth in bytes, the largest growth of any worker) from two snapshots.

    Growth is the peak during the request (VmHWM after) above the resident size before (VmRSS);
    the serving worker is the one that used the most CPU time in between.
    """
    # Never below 0: right after a reset, VmHWM may trail VmRSS by a few kB of counter lag.
    growth = {pid: max(0, after[pid]["VmHWM"] - before[pid]["VmRSS"]) * 1024 for pid in before if pid in after}
    serving = max(growth, key=lambda pid: after[pid]["cpu"] - before[pid]["cpu"])
    return serving, growth[serving], max(growth.values())


# --- the dump ----------------------------------------------------------------------------------


def download(port, path):
    """GET ``path`` as HTTP/1.0 and read to the end: (status, body bytes, newlines, seconds)."""
    started = time.perf_counter()
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: newsroom-bench\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection before the headers")
            head += chunk
        head, _, body = head.partition(b"\r\n\r\n")
        size, lines = len(body), body.count(b"\n")
        while chunk := sock.recv(262144):
            size += len(chunk)
            lines += chunk.count(b"\n")
    finally:
        sock.close()
    return int(head[9:12]), size, lines, time.perf_counter() - started


def measure_dump(server, expected, runs):
    results = []
    for _ in range(runs):
        pids = children(server.process.pid)
        peak_reset = reset_peak(pids)
        before = snapshot(pids)
        status, size, lines, seconds = download(server.port, EXPORT_PATH)
        after = snapshot(pids)
        if status != 200 or lines != expected:
            raise SystemExit(f"bench: GET {EXPORT_PATH} gave {status} with {lines} lines, expected 200 and {expected}")
        serving, growth, worst = memory_growth(before, after)
        results.append({
            "seconds": seconds, "bytes": size, "articles": lines, "rate": lines / seconds, "pid": serving,
            "rss_before": before[serving]["VmRSS"] * 1024, "hwm_after": after[serving]["VmHWM"] * 1024,
            "rss_after": after[serving]["VmRSS"] * 1024, "growth": growth, "worst_growth": worst,
            "peak_reset": peak_reset,
        })
    return results


def verdicts(rate, growth):
    """(articles/s OK?, memory OK?) against issue 5's targets."""
    return rate >= TARGET_ARTICLES_PER_SECOND, growth < TARGET_MEMORY_GROWTH_MB * MB


def list_verdict(rps):
    """The API list of 20 full articles against issue 7's target (requests per second, under gunicorn)."""
    return rps >= TARGET_LIST_PER_SECOND


def ok(flag):
    return "OK" if flag else "MISS"


# --- the phase ---------------------------------------------------------------------------------


def run_api(args, trivial=None):
    """Generate, measure and print; returns the summary line (or None when skipped).

    ``trivial``: the trivial view's requests per second per mode from the page phase (cache off),
    for the list's "% of trivial"; None when the page phase did not run.
    """
    database = api_database()
    print()
    if database is None:
        print("API phase skipped: DATABASE_URL is set but BENCH_API_DATABASE_URL is not (the API phase needs its own"
              " database, which it empties).")
        return None
    name, overrides = database
    env = api_env(overrides)
    print(f"API phase: database {name}, {args.api_articles:,} published articles, load average {run.load_average()};"
          f" in-process: django.test.Client, sequential, {args.inprocess_duration:g} s after {args.warmup} warm-up"
          f" requests; gunicorn: {args.workers} sync workers, {args.concurrency} client threads, {args.duration:g} s"
          f" after {args.warmup_seconds:g} s warm-up; page cache off", flush=True)
    generated = run_generation(args.api_articles, env, args.inprocess_duration, args.warmup)
    print(f"generation: migrate + demo/ import {generated['prepare_s']:.1f} s; bulk_create of {generated['created']:,}"
          f" articles with bylines, regions and tags {generated['generate_s']:.1f} s"
          f" ({generated['created'] / max(generated['generate_s'], 1e-9):,.0f} articles/s);"
          f" {generated['published']:,} published", flush=True)
    queries = generated["queries"]
    inprocess = generated["inprocess"]

    with run.Gunicorn("off", args.workers, env=env) as server:
        run.drive(server.port, LIST_PATH, args.warmup_seconds, args.concurrency)
        latencies, elapsed = run.drive(server.port, LIST_PATH, args.duration, args.concurrency)
        listing = run.summarize(latencies, elapsed)
        list_memory = run.workers_memory(server)
        dumps = measure_dump(server, generated["published"], args.dump_runs)

    rate = statistics.median(dump["rate"] for dump in dumps)
    growth = max(dump["worst_growth"] for dump in dumps)
    rate_ok, memory_ok = verdicts(rate, growth)
    list_ok = list_verdict(listing["rps"])
    trivial = trivial or {}

    def ratio(mode, rps):
        return f"{100 * rps / trivial[mode]:.1f}" if trivial.get(mode) else "-"

    print()
    header = ("endpoint", "mode", "req/s", "articles/s", "p50 ms", "p99 ms", "queries", "% of trivial", "peak memory",
              "target", "OK/MISS")
    label = f"`{LIST_PATH}`"
    list_queries = f"{queries['list']['queries']} per request"
    lines = [
        (label, "in-process", f"{inprocess['rps']:.1f}", f"{inprocess['rps'] * LIST_LIMIT:,.0f}",
         f"{inprocess['p50_ms']:.1f}", f"{inprocess['p99_ms']:.1f}", list_queries, ratio("in-process", inprocess["rps"]),
         f"{mb(inprocess['peak'])} (+{mb(max(0, inprocess['peak'] - inprocess['rss_before']))})",
         f"≥{TARGET_LIST_PER_SECOND} req/s", f"({ok(list_verdict(inprocess['rps']))})"),
        (label, "gunicorn", f"{listing['rps']:.1f}", f"{listing['rps'] * LIST_LIMIT:,.0f}", f"{listing['p50_ms']:.1f}",
         f"{listing['p99_ms']:.1f}", list_queries, ratio("gunicorn", listing["rps"]),
         f"{mb(list_memory['peak'])} (worker)", f"≥{TARGET_LIST_PER_SECOND} req/s", ok(list_ok)),
        (f"`{EXPORT_PATH}` ({generated['published']:,})", "gunicorn", "-", f"{rate:,.0f}", "-", "-",
         f"{queries['export']['queries']} per dump", "-", f"+{growth / MB:.1f} MB (worker)",
         f"≥{TARGET_ARTICLES_PER_SECOND:,} articles/s, <{TARGET_MEMORY_GROWTH_MB} MB", f"{ok(rate_ok)}, {ok(memory_ok)}"),
    ]
    run.print_markdown(header, lines, numeric={2, 3, 4, 5, 8})
    print()
    print("% of trivial: requests per second over the page phase's trivial view (same mode, cache off). Peak memory:"
          " in-process, the process's VmHWM during the timing (+ growth over its RSS before); gunicorn list, the"
          " largest worker's VmHWM; dump, the serving worker's peak growth (below). Queries: counted in-process.")
    print(f"{EXPORT_PATH}: one download at a time, the median of {len(dumps)}:")
    for i, dump in enumerate(dumps, 1):
        print(f"  run {i}: {dump['articles']:,} articles, {dump['bytes'] / MB:.1f} MB in {dump['seconds']:.2f} s ="
              f" {dump['rate']:,.0f} articles/s; worker {dump['pid']} RSS {dump['rss_before'] / MB:.1f} MB before,"
              f" peak {dump['hwm_after'] / MB:.1f} MB, {dump['rss_after'] / MB:.1f} MB after:"
              f" growth {dump['growth'] / MB:.1f} MB")
    if not all(dump["peak_reset"] for dump in dumps):
        print("  (VmHWM could not be reset: the peak is the worker's since it started, so the growth may be overstated)")
    print("Targets (issue 5 for the dump, issue 7 for the list) are judged under gunicorn; in parentheses, for"
          " information.")
    met = list_ok + rate_ok + memory_ok
    state = "all targets met" if met == 3 else f"{3 - met} target(s) MISSED"
    return (
        f"SUMMARY (API, gunicorn): {met}/3 targets met, {state}: list ?limit={LIST_LIMIT} {listing['rps']:.1f} req/s"
        f" (≥{TARGET_LIST_PER_SECOND}) {ok(list_ok)}; dump {rate:,.0f} articles/s {ok(rate_ok)},"
        f" peak memory growth {growth / MB:.1f} MB {ok(memory_ok)}"
    )


def mb(value):
    return run.mb(value)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--generate":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        generate_worker(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("usage: python -m bench.api --generate COUNT SECONDS WARMUP (make bench runs it through bench.run)")
