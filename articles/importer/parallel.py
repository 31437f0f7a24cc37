"""``import_articles --jobs N``: import N files at once, each in a worker process of its own.

Most of an import is CPU work in Python (parsing, repairing and sanitizing the body, segmenting it,
extracting figures) and one process uses one core. Workers are started fresh (``spawn``, not
``fork``: the parent's database connections and connection pool must not be shared) and each
imports whole files, as ``import_articles`` does without ``--jobs``: a transaction per file, the
same results. The parent only hands out files, reports the results in the files' order and, at the
end, rebuilds the page documents of every imported article once (the workers hand it the refreshes
their saves asked for).

PostgreSQL only: SQLite lets one writer in at a time, and a second one fails with "database is
locked" instead of waiting for a file's transaction.

Interrupting (Ctrl-C, SIGTERM to the parent): no new file is started, and the files being imported
are finished (unreported: the same command run again finds them unchanged), then the run stops as it
does without ``--jobs``. The workers ignore SIGINT, so Ctrl-C in a terminal (which signals the whole
process group) does not cut them short. A SIGTERM to every process (a service manager stopping the
group) ends the workers too: the files they were importing roll back, as a killed import's do.
"""

import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from functools import cache

from django.db import connection

MAX_JOBS = 32


def parallel_import_error(jobs: int) -> str:
    """Why ``jobs`` workers cannot import into this database (or "")."""
    if jobs < 1 or jobs > MAX_JOBS:
        return f"--jobs must be between 1 and {MAX_JOBS}"
    if jobs > 1 and connection.vendor != "postgresql":
        return (f"--jobs needs PostgreSQL: {connection.display_name} lets one writer in at a time "
                "(set DATABASE_URL, or import with --jobs 1)")
    return ""


def import_in_parallel(files, options, *, jobs):
    """``(number, path, results)`` of each file, in order, imported by ``jobs`` worker processes (a generator).

    The refreshes the workers' saves asked for are requested here, inside the caller's ``deferred_refresh()``.
    """
    from articles import page_document

    if error := parallel_import_error(jobs):
        raise ValueError(error)
    if options.get("user") is not None:
        raise ValueError("--jobs imports as the command line does: without a user")
    connection.close()  # no connection of ours left open in the middle of the run: the workers hold theirs
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                                   initargs=(connection.settings_dict["NAME"],))
    futures = []
    try:
        futures = [executor.submit(_import_in_worker, path, options) for path in files]
        for number, (path, future) in enumerate(zip(files, futures, strict=True), start=1):
            results, asked = future.result()
            page_document.request_refresh(asked["documents"] - asked["neighbours"])
            page_document.request_refresh(asked["neighbours"], neighbours=True)
            yield number, path, results
    finally:
        # Interrupted: the files being imported finish (their workers ignore SIGINT); the others never start.
        executor.shutdown(wait=True, cancel_futures=True)


# --- in the worker --------------------------------------------------------------------------------------------


def _start_worker(database_name):
    """Set up Django in a new worker process, on the parent's database (a test run's, say)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database_name
    import django

    django.setup()


@cache
def _context():
    from articles.figure_review import ExtractionContext

    return ExtractionContext.load()


def _import_in_worker(path, options):
    """The results of one file and the page refreshes its saves asked for (``refreshes_asked()``)."""
    from articles.importer.run import import_file
    from articles.page_document import refreshes_asked

    with refreshes_asked() as asked:
        results = list(import_file(path, context=_context, **options))
    return results, asked
