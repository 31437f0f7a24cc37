"""import_articles PATH [PATH ...]: Markdown files, folders, or export_articles NDJSON.

Output: a line per file (per NDJSON line) and a summary on standard output; on a long run
(more than ``LONG_RUN`` articles) a progress display on standard error: a live tqdm bar when
standard error is a terminal, else a plain ``progress:`` line every ``PLAIN_STEP_PERCENT``
percent or ``PLAIN_INTERVAL`` seconds (CI logs). At verbosity 1 a long run prints only the
lines worth reading (failed, duplicate, skipped, warnings); ``-v 2`` prints every file, ``-v 0``
only failures and the summary.

Resuming: each file is its own transaction, and already-imported files are recognised by their
checksum before parsing (``unchanged``), so after an interruption the same command goes on
where it stopped. Ctrl-C (or SIGTERM) rolls back the file being imported, prints what was
done, and exits with 130 (143 for SIGTERM).

``--jobs N``: N worker processes prepare the files (parse, sanitize, extract) while this one saves them, in
order: see ``articles.importer.parallel``.
"""

import signal
import time
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.importer.parallel import parallel_import_error
from articles.importer.run import (
    EXPORT_SUFFIXES,
    ImportReport,
    count_items,
    format_result_lines,
    import_paths,
    iter_source_files,
)

STYLES = {"failed": "ERROR", "duplicate": "WARNING", "skipped": "WARNING", "created": "SUCCESS", "updated": "SUCCESS"}
# "unchanged" is plain: on a re-run most lines are, and they are good news
LONG_RUN = 20  # more articles than this: a progress display, and at verbosity 1 only the notable lines
PLAIN_STEP_PERCENT = 10
PLAIN_INTERVAL = 10.0  # seconds
NOTABLE = {"failed", "duplicate", "skipped"}


class Interrupted(KeyboardInterrupt):
    """Raised by the SIGTERM handler, so that a terminated import stops as Ctrl-C does."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def sigterm_interrupts():
    """SIGTERM raises ``Interrupted`` in the main thread while the block runs."""

    def interrupt(signum, frame):
        raise Interrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Progress:
    """Counts finished articles and shows it: a tqdm bar on a terminal, plain lines otherwise,
    nothing when ``enabled`` is false. ``write(text)`` prints a result line above the bar."""

    def __init__(self, *, total, unit, stdout, stderr, enabled):
        self.total, self.unit, self.stdout, self.stderr = total, unit, stdout, stderr
        self.done = 0
        self.bar = None
        self.plain = enabled and not stderr.isatty()
        self.started = self.last_line = time.monotonic()
        self.last_percent = self.last_done = 0
        if enabled and not self.plain:
            self.bar = tqdm(total=total, unit=unit, desc="import", file=getattr(stderr, "_out", stderr),
                            dynamic_ncols=True, leave=True)

    def write(self, text, style=None):
        if self.bar is not None:
            self.bar.clear()
        self.stdout.write(style(text) if style else text)
        if self.bar is not None:
            self.stdout.flush()
            self.bar.refresh()

    def advance_to(self, done):
        done = min(max(done, self.done), self.total)
        if done == self.done:
            return
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done
        if self.plain:
            now = time.monotonic()
            percent = 100 * done // self.total
            if (done == self.total or percent >= self.last_percent + PLAIN_STEP_PERCENT
                    or now - self.last_line >= PLAIN_INTERVAL):
                self.stderr.write(self.plain_line(now), style_func=str)
                self.last_line, self.last_done = now, done
                self.last_percent = percent - percent % PLAIN_STEP_PERCENT

    def plain_line(self, now):
        """The rate is that since the last line: a resumed run skips the files done before quickly,
        and the average would promise far too early an end."""
        elapsed = now - self.started
        rate = (self.done - self.last_done) / (now - self.last_line) if now > self.last_line else 0
        left = self.total - self.done
        eta = tqdm.format_interval(left / rate) if rate else "?" if left else tqdm.format_interval(0)
        return (f"progress: {self.done}/{self.total} {self.unit}s ({100 * self.done // self.total}%), "
                f"{rate:.1f} {self.unit}s/s, elapsed {tqdm.format_interval(elapsed)}, ETA {eta}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


class Command(BaseCommand):
    help = "Import syndicated Markdown articles (files or folders) or an export_articles NDJSON dump."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--dry-run", action="store_true", help="Report what would happen; write nothing.")
        parser.add_argument("--publish", action="store_true",
                            help="Publish new articles that have a date and no quality warnings (default: draft).")
        parser.add_argument("--download-images", action="store_true", help="Fetch, validate and store remote images.")
        parser.add_argument("--force", action="store_true", help="Overwrite articles edited in the admin since import.")
        parser.add_argument("--jobs", type=int, default=1, metavar="N",
                            help="Prepare files in N worker processes (parse, sanitize, extract figures) while "
                                 "this one saves them, in order; about one per core. Default 1: no workers.")
        parser.add_argument("--no-progress", action="store_true",
                            help=f"No progress bar or progress lines on standard error (shown for over {LONG_RUN} articles).")

    def handle(self, *args, paths, dry_run, publish, download_images, force, no_progress, jobs, verbosity, **options):
        if error := parallel_import_error(jobs):
            raise CommandError(error)
        report = ImportReport()
        current = {"path": None, "number": 0, "done": 0, "total": None}
        progress = None
        prefix = "Dry run, nothing saved. " if dry_run else ""
        try:
            with sigterm_interrupts():
                files = list(iter_source_files(paths))
                sizes = [count_items(path) for path in files]
                before = [0]  # articles in the files before each one
                for size in sizes:
                    before.append(before[-1] + size)
                total = current["total"] = before[-1]
                long_run = total > LONG_RUN
                unit = "article" if any(path.suffix.lower() in EXPORT_SUFFIXES for path in files) else "file"
                progress = Progress(total=total, unit=unit, stdout=self.stdout, stderr=self.stderr,
                                    enabled=long_run and verbosity >= 1 and not no_progress)

                def start(path, number, total_files):
                    current.update(path=path, number=number, files=total_files, size=sizes[number - 1], done=0)
                    progress.advance_to(before[number - 1])

                def show(result, number, total_files):
                    report.results.append(result)
                    current["done"] += 1
                    if current["path"].suffix.lower() not in EXPORT_SUFFIXES:
                        current["path"] = None  # done: an interruption now comes between files
                    if self._shown(result, verbosity, long_run):
                        style = getattr(self.style, STYLES[result.status]) if result.status in STYLES else None
                        first, *warnings = format_result_lines(result, number, total_files)
                        progress.write(first, style)
                        for line in warnings:
                            progress.write(line)
                    progress.advance_to(before[number - 1] + current["done"])

                import_paths(files, dry_run=dry_run, publish=publish, download_images=download_images,
                             force=force, on_result=show, on_file=start, jobs=jobs)
        except KeyboardInterrupt as interrupt:
            if progress is not None:
                progress.close()
            self._report_interruption(current)
            self.stdout.write(prefix + self._summary(report))
            done = f"after {len(report.results)} of {current['total']} article(s)" if current["total"] is not None \
                else "before importing anything"
            resume = "" if dry_run else ": run the same command again to resume"
            raise CommandError(f"interrupted {done}{resume}",
                               returncode=128 + getattr(interrupt, "signum", signal.SIGINT)) from None
        progress.advance_to(total)
        progress.close()
        self.stdout.write(prefix + self._summary(report))
        if report.failed:
            raise CommandError(f"{len(report.failed)} file(s) failed")

    @staticmethod
    def _shown(result, verbosity, long_run):
        if verbosity >= 2 or (verbosity == 1 and not long_run):
            return True
        if verbosity == 0:
            return result.status == "failed"
        return result.status in NOTABLE or bool(result.warnings)

    def _report_interruption(self, current):
        path = current["path"]
        if path is None or current["done"] >= current["size"]:  # between files: nothing rolled back
            return
        width = len(str(current["files"]))
        where = f"[{current['number']:>{width}}/{current['files']}] {'interrupted':<9} {path}"
        if path.suffix.lower() in EXPORT_SUFFIXES:
            detail = (f"the line being restored was rolled back; the {current['done']} line(s) before it are done"
                      if current["done"] else "the line being restored was rolled back")
        else:
            detail = "rolled back, nothing of it saved"
        self.stdout.write(self.style.WARNING(f"{where}: {detail}"))

    @staticmethod
    def _summary(report):
        summary = report.summary()
        unchanged = sum(result.status == "unchanged" for result in report.results)
        return f"{summary} ({unchanged} already imported)" if unchanged else summary
