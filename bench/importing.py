"""``make bench``, import phase: ``import_articles`` on 1,000 seed-sized Markdown files, without downloads.

Runs after the API phase (``bench.run``), on its own database: the SQLite file ``BENCH_IMPORT_DB``
(default ``<tmp>/newsroom-bench-import.sqlite3``, recreated on every run) or, when ``DATABASE_URL``
is set, ``BENCH_IMPORT_DATABASE_URL``, else the API phase's ``BENCH_API_DATABASE_URL`` (flushed;
without either the phase is skipped).

1. The files (this process): ``--import-articles`` copies of the seed article
   (``demo/000_557d8bcde4ad9185.md``, the Chongqing article: 11 KB, a lead image, bylines, a
   data source, regions and statistic figures), each a distinct story to the importer, whose
   identity (``articles.importer.run._identity``) is the ZAKER item id, else the original URL,
   else a hash of the body: copy *n* gets its own ZAKER item id (``pk=``), its own original URL
   (the base64 ``b=`` of the app link), ``（n）`` after its title (so its slug is its own: no
   ``-2, -3 ...`` search), its own image URLs (``..._1024-bench<n>.jpg``: the articles are
   measured, not one picture row that all of them share) and a sentence with its number in the middle
   of its body. Written to a temporary folder, 50 files per subfolder, removed afterwards.
2. The import (a child process on that database): a fresh database (migrate, not timed), then
   ``call_command("import_articles", *subfolders, publish=True, jobs=N)`` once, ``N`` from
   ``--import-jobs`` (default: one worker per core), timed with ``time.perf_counter``. With
   ``--import-jobs 1`` (no workers, as ``make demo`` imports) one call per subfolder instead, until
   all are imported or ``--import-seconds`` have passed (the rate is then that of the files
   imported; at the target rate 1,000 files take 10 s, so the limit only cuts runs far below it).
   Queries are counted with a
   ``connection.execute_wrapper`` (a counter only: ``CaptureQueriesContext`` would keep 1,000
   articles' SQL text in memory and time every statement). Memory: the process's resident size
   before the import (``VmRSS``) and its peak during it (``VmHWM``, reset beforehand where the
   kernel allows). ``--import-profile N`` runs the import under cProfile and prints its N most
   expensive calls.

Target (issue 7, "Benchmarks and load"): 100 articles/s or more.
"""

import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import run

IMPORT_ARTICLES = 1_000
SEED_FILE = run.BASE_DIR / "demo" / "000_557d8bcde4ad9185.md"
TARGET_ARTICLES_PER_SECOND = 100
BATCH = 50  # files per import_articles call: the phase can stop after any batch (--import-seconds)
MB = 1024 * 1024

_TITLE = re.compile(r"^(title:[ \t]*)'(.*)'[ \t]*$", re.MULTILINE)
_ITEM_ID = re.compile(r"([?&;]pk=)([0-9A-Za-z]+)")
_ORIGINAL = re.compile(r"([?&;]b=)([A-Za-z0-9+/=_-]+)")
_IMAGE = re.compile(r"(https?://[^\s'\"<>?]+?)(\.(?:jpe?g|png|gif|webp))\b", re.IGNORECASE)


def import_database():
    """(description, environment overrides) of the import phase's database; None when it has none."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ.get("BENCH_IMPORT_DATABASE_URL") or os.environ.get("BENCH_API_DATABASE_URL")
        return (url.split("@")[-1], {"DATABASE_URL": url}) if url else None
    path = os.environ.get("BENCH_IMPORT_DB") or os.path.join(tempfile.gettempdir(), "newsroom-bench-import.sqlite3")
    return path, {"BENCH_DB": path}


# --- the files ---------------------------------------------------------------------------------


def vary_article(text, number, own_images=True):
    """Copy ``number`` of a syndicated Markdown article: its own title, ZAKER item id, original URL, body and
    (unless ``own_images`` is false) image URLs.

    Raises ValueError when ``text`` has no single-quoted title or no ZAKER app link to vary (the
    copies would then be duplicates of one another, which the importer does not save).
    """
    text, titles = _TITLE.subn(lambda m: f"{m.group(1)}'{m.group(2)}（{number}）'", text, count=1)
    text, ids = _ITEM_ID.subn(lambda m: f"{m.group(1)}{number:024x}", text)
    url = base64.b64encode(f"https://example.com/bench-import/{number}.html".encode()).decode()
    text, urls = _ORIGINAL.subn(lambda m: f"{m.group(1)}{url}", text)
    if own_images:
        text = _IMAGE.sub(lambda m: f"{m.group(1)}-bench{number}{m.group(2)}", text)
    if not (titles and ids and urls):
        raise ValueError("vary_article needs a front matter title: '...' and a ZAKER app link (pk= and b=)")
    head, fence, body = text.partition("\n---\n")  # the closing fence of the front matter
    if not fence:
        raise ValueError("vary_article needs front matter closed by a '---' line")
    paragraphs = [m.start() for m in re.finditer(r"<p>", body)]
    middle = paragraphs[len(paragraphs) // 2] if paragraphs else 0
    sentence = f"<p>这是基准测试生成的第 {number} 篇稿件，正文与原稿相同。</p>"
    return head + fence + body[:middle] + sentence + body[middle:]


def write_articles(folder, count, template=SEED_FILE, batch=BATCH):
    """``count`` copies of ``template``, ``batch`` to a subfolder (``0001/bench_0001.md`` ...) of ``folder``:
    returns (the subfolders in order, the total size in bytes)."""
    text = Path(template).read_text(encoding="utf-8")
    width = len(str(count))
    folders, size = [], 0
    for number in range(1, count + 1):
        if (number - 1) % batch == 0:
            folders.append(Path(folder) / f"{number:0{width}d}")
            folders[-1].mkdir()
        data = vary_article(text, number).encode("utf-8")
        (folders[-1] / f"bench_{number:0{width}d}.md").write_bytes(data)
        size += len(data)
    return folders, size


# --- the import (child process) ----------------------------------------------------------------


def fresh_database():
    """Make the database this process is configured for as ``migrate`` leaves a new one, reference data
    (regions, sources, indicators) included: the SQLite file deleted, PostgreSQL's ``public`` schema
    dropped and created again (``flush`` would also empty the regions the importer matches). Returns a
    warning, or ""."""
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    warning = ""
    if connection.vendor == "sqlite":
        name = connection.settings_dict["NAME"]
        connection.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    elif connection.vendor == "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        except DatabaseError as error:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("flush", interactive=False, verbosity=0)
            return (f"could not recreate the public schema ({str(error).strip()}): flushed instead, so the"
                    " reference regions and sources are gone and the import matches none")
    else:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        return f"{connection.vendor}: flushed, so the reference regions and sources are gone and the import matches none"
    call_command("migrate", interactive=False, verbosity=0)
    return warning


def _cpu_split(result, imported) -> str:
    """With --jobs: how the CPU time divides between the importing process and its workers (on SQLite the first
    saves every file: it bounds the rate on its own)."""
    workers = result.get("workers_cpu_s", 0)
    if result.get("jobs", 1) == 1 or not workers:
        return ""
    return (f" (this process {(result['cpu_s'] - workers) / imported * 1000:.1f},"
            f" its workers {workers / imported * 1000:.1f})")


def import_worker(folders, time_limit=0.0, profile_lines=0, jobs=1):
    """Runs in a child process on the import database: ``import_articles --publish`` on each of ``folders`` in
    turn until ``time_limit`` seconds have passed (0: no limit); prints one JSON line. With ``jobs`` > 1, one
    ``import_articles --jobs`` over all the folders (its workers start once), whatever the time limit."""
    import cProfile
    import pstats

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from articles.models import Article

    started = time.perf_counter()
    warning = fresh_database()
    prepare_s = time.perf_counter() - started

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    before = run.own_memory()
    peak_reset = run.reset_own_peak()
    output = io.StringIO()
    profiler = cProfile.Profile() if profile_lines else None
    batches = []  # [(files, seconds)]
    cpu_before = os.times()
    calls = [[folder] for folder in folders] if jobs == 1 else [folders]
    with connection.execute_wrapper(count):
        for call in calls:
            files = sum(len(list(Path(folder).iterdir())) for folder in call)
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            try:
                call_command("import_articles", *call, publish=True, jobs=jobs, stdout=output, stderr=output)
            finally:
                if profiler:
                    profiler.disable()
            batches.append((files, time.perf_counter() - t0))
            if time_limit and sum(seconds for _, seconds in batches) >= time_limit:
                break
    cpu_after = os.times()  # with --jobs, the workers' time too (children_*: they have exited)
    after = run.own_memory()
    result = {
        "cpu_s": sum(getattr(cpu_after, f) - getattr(cpu_before, f)
                     for f in ("user", "system", "children_user", "children_system")),
        "workers_cpu_s": sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("children_user", "children_system")),
        "jobs": jobs,
        "prepare_s": prepare_s, "batches": batches, "queries": queries[0], "statuses": count_statuses(output.getvalue()),
        "articles": Article.objects.count(), "published": Article.objects.published().count(),
        "rss_before": before["rss"], "peak": after["peak"], "rss_after": after["rss"], "peak_reset": peak_reset,
        "vendor": connection.vendor, "warning": warning,
    }
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(profile_lines)
        result["profile"] = text.getvalue()
    print(run.RESULT_MARKER + json.dumps(result), flush=True)


def count_statuses(output):
    """{status: files} from the summary lines of import_articles' output (``100 file(s): 99 created, 1 failed``)."""
    statuses = {}
    for match in re.finditer(r"\d+ file\(s\): ([^\n(]*)", output):
        for part in match.group(1).split(","):
            number, _, status = part.strip().partition(" ")
            if number.isdigit() and status:
                statuses[status] = statuses.get(status, 0) + int(number)
    return statuses


def run_import_child(folders, env, time_limit=0.0, profile_lines=0, jobs=1):
    command = [sys.executable, "-m", "bench.importing", "--worker", json.dumps([str(f) for f in folders]),
               str(time_limit), str(profile_lines), str(jobs)]
    done = subprocess.run(command, cwd=run.BASE_DIR, env=env, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith(run.RESULT_MARKER):
            return json.loads(line[len(run.RESULT_MARKER):])
    sys.stderr.write(done.stdout[-5000:] + done.stderr[-5000:])
    raise SystemExit("bench: the import worker failed")


def verdict(rate):
    return "OK" if rate >= TARGET_ARTICLES_PER_SECOND else "MISS"


# --- the phase ---------------------------------------------------------------------------------


def run_import(args):
    """Write the files, import them in a child process, print; returns the summary line (or None when skipped)."""
    database = import_database()
    print()
    if database is None:
        print("import phase skipped: DATABASE_URL is set but neither BENCH_IMPORT_DATABASE_URL nor"
              " BENCH_API_DATABASE_URL is (the import phase needs its own database, which it empties).")
        return None
    name, overrides = database
    count = args.import_articles
    folder = Path(tempfile.mkdtemp(prefix="newsroom-bench-import-"))
    try:
        folders, size = write_articles(folder, count)
        limit = f"stopping after the batch that passes {args.import_seconds:g} s" if args.import_seconds else "no time limit"
        print(f"import phase: database {name}, load average {run.load_average()}; {count:,} copies of"
              f" {SEED_FILE.relative_to(run.BASE_DIR)} ({size / count / 1024:.1f} KB each; each its own title, ZAKER"
              f" item id, original URL, image URLs and one sentence); import_articles --publish in a child process,"
              f" no image downloads, "
              + (f"{BATCH} files per call, {limit}" if args.import_jobs == 1 else
                 f"--jobs {args.import_jobs}: one call, its workers' CPU time counted, not their memory (nor, on"
                 " PostgreSQL, where they save the files, their queries)")
              + ("; under cProfile (slower)" if args.import_profile else ""), flush=True)
        result = run_import_child(folders, {**run.cache_env("off"), **overrides}, args.import_seconds,
                                  args.import_profile, args.import_jobs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return report(result, count)


def report(result, count):
    imported = sum(files for files, _ in result["batches"])
    seconds = sum(seconds for _, seconds in result["batches"])
    rate = imported / seconds
    statuses = ", ".join(f"{n:,} {status}" for status, n in sorted(result["statuses"].items()))
    growth = max(0, result["peak"] - result["rss_before"])
    print(f"database {result['vendor']}: migrate {result['prepare_s']:.1f} s (not timed); import {seconds:.1f} s:"
          f" {statuses}; {result['published']:,} published of {result['articles']:,}")
    if result.get("warning"):
        print(f"  WARNING: {result['warning']}")
    if imported < count:
        print(f"  stopped after {seconds:.0f} s (--import-seconds): {imported:,} of the {count:,} files imported;"
              " --import-seconds 0 imports them all")
    print("  articles/s per batch of files: " + ", ".join(f"{files / secs:.1f}" for files, secs in result["batches"])
          + f"; the process's own CPU time {result['cpu_s'] / imported * 1000:.1f} ms per article"
          + _cpu_split(result, imported)
          + " (the rest of the wall time: waiting for the disk, or for the cores other processes use)")
    print()
    header = ("workload", "mode", "articles/s", "ms/article", "queries/article", "peak memory", "target", "OK/MISS")
    jobs = result.get("jobs", 1)
    workers_save = jobs > 1 and result["vendor"] == "postgresql"  # articles.importer.parallel: their queries are theirs
    line = (f"import_articles, {imported:,} seed-sized files", "in-process" if jobs == 1 else f"--jobs {jobs}",
            f"{rate:,.1f}", f"{seconds / imported * 1000:.1f}",
            "(in workers)" if workers_save else f"{result['queries'] / imported:.1f}",
            f"{run.mb(result['peak'])} (+{run.mb(growth)})", f"≥{TARGET_ARTICLES_PER_SECOND} articles/s", verdict(rate))
    run.print_markdown(header, [line], numeric={2, 3, 4})
    print()
    print("peak memory: the import process's VmHWM during the import (+ growth over its RSS before it"
          + ("" if result["peak_reset"] else "; VmHWM could not be reset: the peak since the process started") + ")."
          " Queries: every statement the import ran, counted with connection.execute_wrapper.")
    if result.get("profile"):
        print(result["profile"])
    met = int(rate >= TARGET_ARTICLES_PER_SECOND)
    mode = "in-process" if jobs == 1 else f"--jobs {jobs}"
    rest = (f" {jobs} worker processes saving" if workers_save else
            f" {result['queries'] / imported:.0f} queries/article, peak {run.mb(result['peak'])} (+{run.mb(growth)})")
    return (f"SUMMARY (import, {mode}): {met}/1 targets met{'' if met else ', 1 target(s) MISSED'}:"
            f" {rate:,.1f} articles/s (≥{TARGET_ARTICLES_PER_SECOND}) {verdict(rate)};{rest}")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
        import_worker(json.loads(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit("usage: python -m bench.importing --worker FOLDERS_JSON SECONDS PROFILE_LINES JOBS"
                 " (make bench runs it through bench.run)")
