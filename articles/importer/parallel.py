"""``import_articles --jobs N``: N worker processes share the CPU work of an import; results in the files' order.

Most of an import is CPU work in Python before any row is written: parsing, repairing and sanitizing the body,
segmenting it for search, finding its regions and extracting its figures (``run.prepare_markdown``). One process
uses one core. How the workers share it depends on the database:

- **PostgreSQL** takes many writers at once: each worker imports whole files, a share of them at a time (prepares
  and saves them as ``import_articles`` does without ``--jobs``: several files per transaction, a savepoint each,
  ``run.save_in_turn``), so the server's own work on the rows (indexes, the write-ahead log) overlaps too. A file
  whose savepoint lost a race with another worker's transaction (the same new author or source) is imported once
  more (``run.SAVE_ATTEMPTS``).
- **SQLite** lets one writer in at a time: the workers only prepare the files ahead (they never open the database:
  they are handed the regions, indicators and sources to match against when they start), and this process saves
  them, in order, as ``import_articles`` does without ``--jobs``.

Either way the results are reported in the files' order and the page documents of the imported articles are
rebuilt once, at the end (the caller's ``deferred_refresh()``). Workers that save are started fresh (``spawn``: a
forked process must not use its parent's database connections); workers that only prepare never open the database,
so where the system can they are forked, and start at once with what this process has loaded (frozen for the
garbage collector meanwhile: ``gc.freeze``). Workers ignore SIGINT.

Interrupting (Ctrl-C, SIGTERM to the parent): on SQLite, the file being saved rolls back (the ones before it are
committed) and the work the workers did ahead is dropped; on PostgreSQL no new share is started and the shares
being imported are finished (unreported: the same command run again finds them unchanged). A SIGTERM to every
process (a service manager stopping the group) ends the workers too: the files they were importing roll back, as a
killed import's do.
"""

import gc
import multiprocessing
import os
import pickle
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from pathlib import Path

from django.db import connection

MAX_JOBS = 32
SHARES_AHEAD = 4  # PostgreSQL: shares per worker handed out before the last ones


def parallel_import_error(jobs: int) -> str:
    """Why ``jobs`` is not a number of workers to import with (or "")."""
    if jobs < 1 or jobs > MAX_JOBS:
        return f"--jobs must be between 1 and {MAX_JOBS}"
    return ""


def import_in_parallel(files, options, *, jobs, context):
    """``(number, path, results)`` of each file, in order, with ``jobs`` worker processes (a generator).
    ``context()`` gives the ``ExtractionContext`` to match against."""
    if error := parallel_import_error(jobs):
        raise ValueError(error)
    files = [Path(path) for path in files]
    if connection.vendor == "postgresql":
        return _workers_save(files, options, jobs=jobs, context=context)
    return _this_process_saves(files, options, jobs=jobs, context=context)


def _pool(jobs, context, database_name=None):
    """``jobs`` workers, each set up with ``context()`` (pickled here, unpickled there once Django is set up: it holds
    model instances) and, when they save files, on ``database_name``; else they only prepare files."""
    forked = database_name is None and "fork" in multiprocessing.get_all_start_methods()
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork" if forked else "spawn"),
                               initializer=_start_worker, initargs=(pickle.dumps(context()), database_name))


def _workers_save(files, options, *, jobs, context):
    """Each file imported whole by a worker; the refreshes their saves asked for are asked for here."""
    from articles import page_document
    from articles.importer.run import BATCH_FILES

    if options.get("user") is not None:
        raise ValueError("--jobs imports as the command line does: without a user")
    executor = _pool(jobs, context, connection.settings_dict["NAME"])
    connection.close()  # no connection of ours left open in the middle of the run: the workers hold theirs
    # The files in shares, each imported by one worker in batches as this process imports them (run.save_in_turn);
    # shares small enough that every worker has SHARES_AHEAD of them before the last ones are handed out.
    size = max(1, min(BATCH_FILES, len(files) // (jobs * SHARES_AHEAD)))
    shares = [files[start : start + size] for start in range(0, len(files), size)]
    try:
        futures = [executor.submit(_import_in_worker, share, options) for share in shares]
        number = 0
        for share, future in zip(shares, futures, strict=True):
            results, asked = future.result()
            page_document.request_refresh(asked["documents"] - asked["neighbours"])
            page_document.request_refresh(asked["neighbours"], neighbours=True)
            for path, file_results in zip(share, results, strict=True):
                number += 1
                yield number, path, file_results
    finally:
        # Interrupted: the files being imported finish (their workers ignore SIGINT); the others never start.
        executor.shutdown(wait=True, cancel_futures=True)


def _this_process_saves(files, options, *, jobs, context):
    """Markdown files prepared by the workers and saved here (``run.save_in_turn``), NDJSON dumps imported here."""
    from articles.importer.run import BATCH_FILES, save_in_turn

    # What this process has loaded is frozen for the collector while the workers run (gc.freeze, as Python's
    # documentation advises before forking): neither their collections nor this one's visit it again, and the
    # workers do not copy the pages it lies on by writing to it.
    gc.freeze()
    executor = _pool(jobs, context)
    try:
        # Each worker prepares up to a batch's worth of files ahead, so that they keep preparing while this process
        # ends a batch (writes its rows and revisions, commits): with 4, they waited for it and the import ran 10%
        # slower. Little memory: a prepared file is a few hundred KB.
        ahead = jobs * BATCH_FILES
        yield from save_in_turn(_prepared_ahead(files, options, executor, ahead=ahead), options, context)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def _prepared_ahead(files, options, executor, *, ahead):
    """``(number, path, job)`` of each file as ``run.save_in_turn`` takes them, each Markdown file read (its bytes
    looked up: an 'unchanged' file needs no worker) and given to a worker ``ahead`` files before it is taken."""
    from articles.importer.run import read_job

    def start(number, path):
        return number, path, read_job(path, options, lambda data: executor.submit(_prepare, data, path.name).result)

    waiting = enumerate(files, start=1)
    started = deque(start(number, path) for number, path in islice(waiting, ahead))
    while started:
        yield started.popleft()
        if (following := next(waiting, None)) is not None:
            started.append(start(*following))


# --- in the worker --------------------------------------------------------------------------------------------

_context = None  # the ExtractionContext the parent handed this worker


def _start_worker(context, database_name):
    """Set up Django in a new worker process, with ``context`` (a pickled ``ExtractionContext``) and, when it saves
    files, on the parent's database (a test run's, say)."""
    global _context
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker had the import command's handler
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    from django.conf import settings

    if database_name is not None:
        settings.DATABASES["default"]["NAME"] = database_name
    import django

    django.setup()
    if database_name is None:  # it only prepares: the connections a forked worker inherited are never used here
        from django.db import connections

        for inherited in connections.all(initialized_only=True):
            inherited.connection = None  # nor closed: they are the parent's (a forked worker exits without closing)
    _context = pickle.loads(context)
    gc.freeze()  # what the worker loaded to start lives as long as it does: its collections need not visit it


def _worker_context():
    return _context


def _import_in_worker(paths, options):
    """The results of each of ``paths`` and the page refreshes their saves asked for (``refreshes_asked()``)."""
    from articles.importer.run import import_in_turn
    from articles.page_document import refreshes_asked

    with refreshes_asked() as asked:
        results = [list(file_results) for _, _, file_results in import_in_turn(paths, options, _worker_context)]
    return results, asked


def _prepare(data, filename):
    from articles.importer.run import prepare_markdown

    return prepare_markdown(data, filename, context=_context)
