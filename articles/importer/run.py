"""Import one file, or a folder of files, into the database: one transaction per file.

The recipe, per file: read and decode -> split front matter -> repair the syndicated HTML
(``syndicated.py``) -> resolve credits, sources and regions -> save in ``transaction.atomic``,
with the statistic figures as candidates (``articles.figure_review``) -> ``ImportResult``. A
file that cannot be imported raises ``ImportFileError``; the batch records the reason and goes
on with the next file.

Identity: an article is recognised again by its source's identity (``Article.source_key``):
the ZAKER item id, else the original URL, else a hash of the body text, never the title.
Re-importing the same bytes is "unchanged"; the same file (same file name) with new content
is an update, unless an editor changed the title, summary or body since the import: that
article is "skipped" and kept (``force=True`` overwrites); so is an article the importing user
(an admin upload) may not edit (``workflow.can_edit``: a contributor's own drafts only), whatever
``force`` says, and such a user's pictures never rewrite a picture another's article shows
(``attribution.save_images``). Another file with the same identity is a "duplicate" and saves
nothing. An update replaces the article's unreviewed figure candidates only: figures an editor
verified, corrected or rejected stay as they are.

Resuming: a file whose exact bytes are already stored (``Article.source_checksum``, indexed) is
"unchanged" after one query, before any parsing, so running an interrupted import again skips
what it had done quickly. An interruption (KeyboardInterrupt) inside a file's transaction rolls
that file back, so a file is either fully imported or not at all.
"""

import hashlib
import re
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from taggit.models import TaggedItem

from articles import workflow
from articles.cache import deferred_note
from articles.extraction.figures import extract_figures
from articles.figure_review import ExtractionContext, extract_candidates
from articles.importer import batch
from articles.importer.attribution import (
    data_source_names,
    detect_regions,
    find_publisher,
    place_images,
    save_bylines,
    save_data_sources,
    save_images,
    set_links,
    source_named,
    tags_named,
    valid_url,
)
from articles.importer.frontmatter import ImportFileError, check_source_size, read_source_file
from articles.importer.syndicated import (
    RepairedBody,
    is_placeholder_image,
    repair_body,
    unwrap_proxy,
)
from articles.models import Article, Image, Source
from articles.page_document import deferred_refresh
from articles.revisions import FirstRevision, record_first_revisions, record_revision
from articles.sanitize import clean_text, html_to_text
from articles.sync import deferred_touch

MARKDOWN_SUFFIXES = {".md", ".markdown", ".txt"}
EXPORT_SUFFIXES = {".ndjson", ".jsonl"}
MIN_ARTICLE_CHARS = 80
SAVE_ATTEMPTS = 2  # a file whose transaction lost a race with another writer is imported once more
BATCH_FILES = 20  # Markdown files saved per transaction by save_in_turn()
BATCH_SECONDS = 0.5  # ... or fewer, so that another writer (the admin, on SQLite) never waits long


@dataclass
class ImportResult:
    path: str
    status: str  # created | updated | unchanged | duplicate | skipped | failed
    reason: str = ""
    slug: str = ""
    warnings: list = field(default_factory=list)
    images_queued: bool = False  # its image download went to the task queue (articles/tasks.py)

    def line(self):
        detail = f" {self.slug}" if self.slug else ""
        reason = f": {self.reason}" if self.reason else ""
        return f"{self.status:<9} {self.path}{detail}{reason}"


@dataclass
class ImportReport:
    results: list = field(default_factory=list)

    @property
    def failed(self):
        return [r for r in self.results if r.status == "failed"]

    def summary(self):
        counts = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return f"{len(self.results)} file(s): {parts or 'nothing to do'}"


def format_result_lines(result, number, total) -> list[str]:
    """The plain-text lines printed for one result: ``[n/total] status path slug: reason``, then
    an indented ``warning:`` line per warning not already in the reason. The command and the
    admin's import records both print these, so they read the same."""
    width = len(str(total))
    lines = [f"[{number:>{width}}/{total}] {result.line()}"]
    lines += [f"          warning: {warning}" for warning in result.warnings if warning not in result.reason]
    return lines


def iter_source_files(paths):
    """Files given, and files inside folders given (sorted), of the suffixes we import."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in MARKDOWN_SUFFIXES | EXPORT_SUFFIXES:
                    yield child
        else:
            yield path


def count_items(path) -> int:
    """How many results importing ``path`` gives: 1 for a Markdown file, one per non-empty line
    of an NDJSON dump (1 if it cannot be read). For a progress bar's total."""
    path = Path(path)
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        return 1
    count, filled = 0, False
    try:
        with path.open("rb") as handle:
            # Pieces of at most 64 KiB: a dump's line may be far longer than memory should hold.
            while piece := handle.readline(64 * 1024):
                filled = filled or bool(piece.strip())
                if piece.endswith(b"\n"):
                    count, filled = count + filled, False
    except OSError:
        return 1
    return max(1, count + filled)


def import_paths(paths, *, dry_run=False, publish=False, download_images=False, force=False, on_result=None,
                 user=None, queue_images=False, on_file=None, jobs=1):
    """Import every file under ``paths``; returns an ImportReport.

    ``on_result(result, number, total)`` is called after each file (after each line of an
    NDJSON dump), for progress output; ``on_file(path, number, total)`` before each file.
    ``download_images`` fetches images now; ``queue_images`` queues a background download per
    created or updated article instead (``articles.tasks.download_images``).

    ``user`` (an admin upload): Markdown only updates articles the user may edit
    (``workflow.can_edit``; others are "skipped"), and only editors may restore NDJSON dumps.

    ``jobs`` > 1: that many worker processes prepare the Markdown files (parse, sanitize, extract) while this one
    saves them, in the files' order (``articles.importer.parallel``).

    A KeyboardInterrupt propagates: the file (or NDJSON line) being imported is rolled back,
    the ones before it stay saved.
    """
    report = ImportReport()
    files = list(iter_source_files(paths))
    options = {"dry_run": dry_run, "publish": publish, "download_images": download_images, "force": force,
               "user": user, "queue_images": queue_images}
    # Page documents once for the whole run, not per file: the related articles of a batch from one region
    # are each other, and each file would rank and rebuild the ones before it again. More than
    # INLINE_REFRESH_LIMIT go to the task queue; pages build their own meanwhile. Related lists are ranked on the
    # pages' next views: each file would outdate those of the files from the same region before it.
    context = cache(ExtractionContext.load)  # the regions, indicators and sources, read once, when first needed
    with deferred_refresh(even_on_error=True, rank=False):
        if jobs > 1:
            from articles.importer.parallel import import_in_parallel

            results = import_in_parallel(files, options, jobs=jobs, context=context)
        else:
            results = import_in_turn(files, options, context)
        for number, path, file_results in results:
            if on_file:
                on_file(path, number, len(files))
            for result in file_results:
                report.results.append(result)
                if on_result:
                    on_result(result, number, len(files))
    return report


def import_in_turn(files, options, context):
    """``(number, path, results)`` of each file, imported in this process one after the other."""
    work = ((number, path, read_job(path, options, partial(_prepare_later, path=path, context=context)))
            for number, path in enumerate(files, start=1))
    return save_in_turn(work, options, context)


def _prepare_later(data, *, path, context):
    return partial(prepare_markdown, data, path.name, context=context())


def read_job(path, options, prepare):
    """What ``save_in_turn`` is to do with the file at ``path``: None for a dump; the file's result when there is
    nothing to prepare (``read_markdown``: failed or unchanged); else ``prepare(its bytes)``, a function giving its
    ``PreparedFile``."""
    if path.suffix.lower() in EXPORT_SUFFIXES:
        return None
    data = read_markdown(path, download_images=options["download_images"], dry_run=options["dry_run"])
    return data if isinstance(data, ImportResult) else prepare(data)


def save_in_turn(work, options, context):
    """``(number, path, results)`` of each ``(number, path, job)`` of ``work``, saved here, in order. ``job``: None
    (an NDJSON dump, imported line by line: ``import_dump``), an ``ImportResult`` (nothing to save) or a function
    giving the file's ``PreparedFile``.

    Markdown files are saved up to ``BATCH_FILES`` per transaction (fewer when ``BATCH_SECONDS`` have passed: another
    writer waits no longer), each in a savepoint of its own, so a file that fails leaves the others alone; the first
    revisions of the batch's new articles are recorded together and the page cache is told once. A batch that cannot
    commit is saved again, one file per transaction. Results come once their batch has committed.

    An interruption (KeyboardInterrupt) rolls back the file being saved and commits the ones before it; the results
    of the interrupted file raise it, so that the caller's ``on_file`` has named it. With ``download_images`` each
    file has a transaction of its own, and its pictures are fetched after it has committed, not inside a
    transaction another writer would wait for."""
    work = iter(work)
    item = next(work, None)
    while item is not None:
        number, path, job = item
        if job is None:  # a transaction per line, as the caller reads the results
            yield number, path, import_dump(path, user=options["user"], dry_run=options["dry_run"])
            item = next(work, None)
            continue
        if options["download_images"]:
            yield number, path, _saved_alone(path, job, context, options)
            item = next(work, None)
            continue
        batch = _Batch(item, work, BATCH_FILES)
        try:
            batch.save(options, context)
        except DatabaseError:  # the batch as a whole could not be written: each of its files on its own
            batch.saved = [(n, p, [_save_job(p, job, context, options)]) for n, p, job in batch.items]
        yield from batch.saved
        if batch.interruption is not None:
            if batch.interrupted is not None:
                yield *batch.interrupted[:2], _raising(batch.interruption)
            raise batch.interruption
        item = batch.following


class _Batch:
    """Markdown files saved in one transaction (``save_in_turn``), from ``first`` on, taking more from ``work`` while
    there is room and time."""

    def __init__(self, first, work, size):
        self.work, self.size = work, size
        self.items = [first]  # the ones taken and not interrupted
        self.saved = []  # [(number, path, results)]
        self.following = None  # the item after the batch
        self.interruption = self.interrupted = None  # a KeyboardInterrupt, and the item it interrupted (or None)

    def save(self, options, context):
        started, firsts, item = time.monotonic(), [], self.items[0]
        # What the batch's files share (articles.importer.batch); nothing in a dry run, whose files each roll back.
        # New rows of the relation tables go in together, unless something reads them before the batch ends: an
        # editor's upload (whose right to a picture depends on which articles show it), or a picture download
        # queued per file (TASKS_BACKEND=immediate runs it at once, and it reads the article's gallery).
        insert_later = options["user"] is None and not options["queue_images"]
        shared = nullcontext() if options["dry_run"] else batch.import_batch(insert_later=insert_later)
        with transaction.atomic(), deferred_touch(), deferred_note(), shared:
            while item is not None:
                number, path, job = item
                try:
                    self.saved.append((number, path, [_save_job(path, job, context, options, firsts)]))
                    item = self._next(started)
                except KeyboardInterrupt as interruption:  # the ones saved before it are committed
                    if len(self.saved) < len(self.items):
                        self.interrupted = self.items.pop()
                    self.interruption = interruption
                    break
            batch.write_rows()
            record_first_revisions(firsts)

    def _next(self, started):
        """The next item of the batch, or None (the batch is full, or ``following`` starts the next one: a dump, or a
        file of the same name as one of the batch, which updates its article: its revisions must come in order)."""
        if len(self.items) >= self.size or time.monotonic() - started >= BATCH_SECONDS:
            self.following = next(self.work, None)
            return None
        item = next(self.work, None)
        if item is None or item[2] is None or item[1].name in {path.name for _, path, _ in self.items}:
            self.following = item
            return None
        self.items.append(item)
        return item


def _save_job(path, job, context, options, first_revisions=None):
    if isinstance(job, ImportResult):
        return job
    return save_markdown(path, job, context=context(), first_revisions=first_revisions, **options)


def _saved_alone(path, job, context, options):
    yield _save_job(path, job, context, options)


def _raising(error):
    """Results that raise ``error`` when read."""
    raise error
    yield


def import_dump(path, *, user=None, dry_run=False):
    """Restore an NDJSON dump, yielding a result per line (each line a transaction of its own)."""
    from articles.importer.ndjson import iter_ndjson_results

    if user is not None and not workflow.can_publish(user):
        # The admin's upload form refuses a contributor's dump already; this holds for any other caller.
        yield ImportResult(str(path), "failed", "只有编辑可以导入导出数据（.ndjson）：它会恢复文章的状态并覆盖已有文章")
    else:
        yield from iter_ndjson_results(path, dry_run=dry_run)


def import_markdown_file(path, *, dry_run=False, publish=False, download_images=False, force=False,
                         user=None, queue_images=False, context=None) -> ImportResult:
    """Import one Markdown file. Never raises for bad input: returns a 'failed' result.

    ``user`` (an admin upload) becomes the article's creator and last editor, so that a
    contributor can go on editing the drafts they imported. ``context``: the regions and
    indicators (``ExtractionContext``) to match against, when importing many files.
    """
    path = Path(path)
    data = read_markdown(path, download_images=download_images, dry_run=dry_run)
    if isinstance(data, ImportResult):
        return data
    context = context or ExtractionContext.load()
    return save_markdown(path, lambda: prepare_markdown(data, path.name, context=context), context=context,
                         dry_run=dry_run, publish=publish, download_images=download_images, force=force, user=user,
                         queue_images=queue_images)


def read_markdown(path, *, download_images=False, dry_run=False):
    """The bytes of the Markdown file at ``path``, or its result when there is nothing to parse: 'failed' (missing,
    too large) or 'unchanged' (these exact bytes are stored; with ``download_images``, unless ``dry_run``, the
    images an earlier run may have left undownloaded are fetched now)."""
    try:
        if not path.is_file():
            raise ImportFileError("no such file")
        data = read_limited(path, max_bytes=settings.NEWSROOM_MAX_SOURCE_BYTES)
        known = already_imported(data)
        if known is None:
            return data
        result = ImportResult(str(path), "unchanged", slug=known.slug)
        if download_images and not dry_run:  # an earlier run may have stopped before its downloads
            result.warnings += download_article_images(known, only_remote=True)
        return result
    except FILE_FAILURES as error:
        return _failed(path, error)


def save_markdown(path, prepare, *, context, dry_run=False, publish=False, download_images=False, force=False,
                  user=None, queue_images=False, first_revisions=None) -> ImportResult:
    """Save what ``prepare()`` worked out of the file at ``path`` (a ``PreparedFile``; ``prepare_markdown`` here, or
    a worker's: ``articles.importer.parallel``) in one transaction (a savepoint inside the caller's), and download or
    queue its images. Never raises for bad input: returns a 'failed' result. ``context``: the ``ExtractionContext``
    the file was prepared with. ``first_revisions``: a list to add a new article's first revision to (a
    ``FirstRevision``, once the file is saved), for the caller to record (``save_in_turn``); else it is recorded now."""
    try:
        prepared = prepare()
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            firsts = [] if first_revisions is not None else None
            try:
                # What this file shares with its batch (rows found by name, rows queued) joins it once the file's
                # savepoint is released.
                with batch.batch_file(), transaction.atomic():
                    # The page document once, when the article and its relations are saved; its updated_at moved
                    # and the page cache told once.
                    with deferred_refresh(), deferred_touch(), deferred_note():
                        result = _save_prepared(prepared, context, dry_run=dry_run, publish=publish, force=force,
                                                user=user, first_revisions=firsts)
                    if dry_run:
                        transaction.set_rollback(True)
                break
            except (IntegrityError, OperationalError) as error:
                if attempt == SAVE_ATTEMPTS or not _lost_a_race(error):
                    raise
    except FILE_FAILURES as error:
        return _failed(path, error)
    if firsts:
        first_revisions += firsts
    result.path = str(path)
    if dry_run or result.status not in ("created", "updated"):
        return result
    if download_images:
        result.warnings += download_article_images(Article.objects.get(slug=result.slug))
    elif queue_images:
        from articles.tasks import download_images as download_task

        download_task.enqueue(Article.objects.values_list("pk", flat=True).get(slug=result.slug))
        result.images_queued = True
    return result


FILE_FAILURES = (ImportFileError, ValidationError, DatabaseError)  # what a file's result says instead of raising


def _failed(path, error) -> ImportResult:
    reason = str(error) if isinstance(error, ImportFileError) else f"could not save: {error}"
    return ImportResult(str(path), "failed", reason)


def _lost_a_race(error) -> bool:
    """Did the file's transaction fail because another one wrote at the same time? It created the same author,
    source or tag first (a unique key: IntegrityError), or PostgreSQL broke a deadlock between them or refused to
    serialize them (SQLSTATE 40P01, 40001). Then the file is imported again: the row is there now. Concurrent
    writers: ``import_articles --jobs``, or an import beside the admin."""
    return isinstance(error, IntegrityError) or getattr(error.__cause__, "sqlstate", None) in ("40P01", "40001")


def read_limited(path, *, max_bytes) -> bytes:
    """The bytes of ``path``, refused (``ImportFileError``) when it is over ``max_bytes``: by its size on
    disk before anything is read, and again by what is read (a file growing meanwhile), never reading
    more than ``max_bytes + 1`` bytes."""
    check_source_size(path.stat().st_size, max_bytes=max_bytes)
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    check_source_size(len(data), max_bytes=max_bytes)
    return data


def already_imported(data: bytes):
    """The article imported from exactly these bytes (by ``source_checksum``), or None."""
    return Article.objects.filter(source_checksum=source_checksum(data)).only("pk", "slug").order_by("pk").first()


def download_article_images(article, *, only_remote=False):
    """Fetch the article's remote images; returns a warning per image that failed.

    ``only_remote``: only images never tried (an interrupted run's), not those that failed before.
    """
    from articles.images import fetch_image

    warnings = []
    placements = article.gallery.select_related("image")
    if only_remote:
        placements = placements.filter(image__fetch_status=Image.FetchStatus.REMOTE)
    for placement in placements:
        image = placement.image
        if image.is_placeholder:
            continue
        if not fetch_image(image):
            warnings.append(f"image {image.remote_url}: {image.fetch_error}")
    return warnings


def source_checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class PreparedFile:
    """What a Markdown file says, worked out without the database (``prepare_markdown``): in this process, or in a
    worker's while this one saves the file before (``articles.importer.parallel``)."""

    filename: str
    checksum: str
    source: object  # frontmatter.SourceFile
    fields: dict  # _read_meta()
    repaired: RepairedBody
    original_url: str
    key: str  # the story's identity (_identity)
    warnings: list  # quality warnings (shown in the result and kept on the article)
    notes: list  # URLs left out
    text: dict  # title, summary, body and what Article.derive_text() makes of them
    regions: list  # detect_regions()
    source_names: list  # the data sources' names, as the figures were extracted with them
    figures: list  # extract_figures() candidates


def prepare_markdown(data, filename, *, context=None) -> PreparedFile:
    """Parse, repair and sanitize a Markdown file's bytes, find its regions and extract its figures: all the work an
    import does before the database. Raises ``ImportFileError`` for a file that cannot be imported.
    ``context``: the ``ExtractionContext`` to match against (read now when None)."""
    source = read_source_file(data, max_bytes=settings.NEWSROOM_MAX_SOURCE_BYTES)
    fields = _read_meta(source.meta)
    repaired = repair_body(source.body)
    notes = []
    original_url = valid_url(repaired.linked_urls[0] if repaired.linked_urls else "", notes, "original URL")
    article = Article(title=fields["title"], body=repaired.html, summary=_summary(repaired))
    article.derive_text()
    context = context or ExtractionContext.load()
    regions = detect_regions(f"{article.title}\n{article.body_text}", article.title, context=context)
    source_names = context.source_names(data_source_names(repaired))
    return PreparedFile(
        filename=filename, checksum=source_checksum(data), source=source, fields=fields, repaired=repaired,
        original_url=original_url, key=_identity(repaired, original_url),
        warnings=_quality_warnings(repaired, fields), notes=notes,
        text={name: getattr(article, name) for name in ("title", "summary", "body", *Article.DERIVED_FIELDS)},
        regions=regions, source_names=source_names,
        figures=extract_figures(article.body_text, published_at=fields["published_at"], regions=regions,
                                data_sources=source_names, known_regions=context.known_regions),
    )


def _save_prepared(prepared, context, *, dry_run, publish, force, user=None, first_revisions=None):
    """Save a ``PreparedFile``: find the article it updates, write the article and its rows; an ``ImportResult``.
    A new article's first revision goes to ``first_revisions`` when it is a list (``save_markdown``)."""
    filename, checksum, fields, repaired = prepared.filename, prepared.checksum, prepared.fields, prepared.repaired
    existing = _existing(prepared.key, prepared.original_url, checksum)
    if existing is not None:
        if existing.source_checksum == checksum:
            return ImportResult(filename, "unchanged", slug=existing.slug)
        if user is not None and not workflow.can_edit(user, existing):
            # A contributor's upload never changes another's article, nor one they have submitted.
            return ImportResult(filename, "skipped", f"无权修改 {existing.slug}：它是别人的文章，或已提交审核、已发布；"
                                "未覆盖（请联系编辑）", slug=existing.slug)
        if existing.source_filename != filename:
            return ImportResult(filename, "duplicate", f"same story as {existing.source_filename or existing.slug}",
                                slug=existing.slug)
        if existing.is_edited_since_import() and not force:
            return ImportResult(filename, "skipped", "edited in the admin since import; not overwritten (use --force)",
                                slug=existing.slug)

    article = existing or Article()
    warnings, notes = list(prepared.warnings), list(prepared.notes)  # a second attempt starts from the same lists
    article.set_derived_text(prepared.text)
    article.published_at = fields["published_at"]
    article.categories = fields["categories"]
    article.original_url = prepared.original_url
    article.raw_source = prepared.source.text
    article.source_filename = filename
    article.source_encoding = prepared.source.encoding
    article.source_checksum = checksum
    article.source_key = prepared.key
    article.quality_warnings = warnings
    article.imported_at = timezone.now()
    if user is not None:
        article.updated_by = user
        if existing is None:
            article.created_by = user
    if existing is None:
        can_publish = publish and not warnings and article.published_at is not None
        article.status = Article.Status.PUBLISHED if can_publish else Article.Status.DRAFT
    article.syndicator = source_named(fields["platform"], Source.Kind.SYNDICATOR) if fields["platform"] else None
    article.publisher = find_publisher(repaired, prepared.original_url, article.syndicator)
    images = save_images(article, repaired, fields, notes, user=user)  # before the save: it sets the lead image
    article.import_checksum = article.content_checksum()
    # The sources and the lead image are rows just read or written: no query to check that they exist.
    article.full_clean(exclude=["slug", "syndicator", "publisher", "lead_image"], validate_unique=False)
    article.save()

    place_images(article, images, new=existing is None)
    save_bylines(article, repaired, new=existing is None)
    sources = save_data_sources(article, repaired, new=existing is None)
    regions = prepared.regions
    set_links(article.regions, regions, new=existing is None)
    tags = tags_named(region.short_name or region.name for region in regions)
    if existing is None:
        # bulk_create() sends no signals: the new article's own save above asked for what tagging would (its page
        # and its neighbours' related lists, its updated_at, the page cache).
        batch.insert_rows(TaggedItem, (TaggedItem(content_object=article, tag=tag) for tag in tags), later=True)
    else:
        article.tags.set(tags, clear=True)
    # Replaces unreviewed candidates only; editors' figures stay. The figures found while preparing, unless the
    # data sources are not the ones they were found with (an editor renamed one meanwhile).
    figures = prepared.figures if sorted(s.name for s in sources) == prepared.source_names else None
    extract_candidates(article, context=context, regions=regions, sources=sources, figures=figures,
                       new=existing is None)
    if notes:  # URLs left out: keep the editor informed on the article itself
        article.quality_warnings = warnings + notes
        article.save(update_fields=["quality_warnings"])
    status = "updated" if existing else "created"
    if not dry_run:
        message = f"导入 {filename}"
        if existing is None and first_revisions is not None:
            first_revisions.append(FirstRevision(article.pk, user, message))
        else:
            record_revision(article, user=user, message=message, new=existing is None)
    return ImportResult(filename, status, "; ".join(warnings), slug=article.slug, warnings=warnings + notes)


def _existing(key, original_url, checksum):
    """The article a file updates: the one of its identity, else of its original URL, else of its bytes (one query)."""
    matches = Q(source_key=key) | Q(source_checksum=checksum)
    if original_url:
        matches |= Q(original_url=original_url)
    # The matches' keys first (in the model's order, as first() would pick): most files match none.
    found = Article.objects.filter(matches).values("pk", "source_key", "original_url", "source_checksum")
    for name, value in (("source_key", key), ("original_url", original_url), ("source_checksum", checksum)):
        if value and (match := next((a for a in found if a[name] == value), None)):
            return Article.objects.get(pk=match["pk"])
    return None


def _read_meta(meta):
    from articles.importer.frontmatter import parse_date

    title = meta.get("title")
    if not isinstance(title, str | int | float) or not clean_text(str(title)):
        raise ImportFileError("no title in front matter")
    categories = meta.get("categories") or []
    if isinstance(categories, str):
        categories = [categories]
    if not isinstance(categories, list):
        raise ImportFileError("'categories' must be a list")
    platform = meta.get("author") or ""
    return {
        "title": clean_text(str(title))[:300],
        "published_at": parse_date(meta.get("date")),
        "categories": [clean_text(str(c)) for c in categories if clean_text(str(c))],
        "platform": clean_text(str(platform))[:200],
        "headimg": unwrap_proxy(str(meta.get("headimg") or "")),
        "thumbnail": unwrap_proxy(str(meta.get("thumbnail") or "")),
    }


def _identity(repaired: RepairedBody, original_url: str) -> str:
    if repaired.app_item_ids:
        return f"zaker:{repaired.app_item_ids[0]}"
    if original_url:
        return f"url:{original_url}"
    text = re.sub(r"\s+", "", html_to_text(repaired.html))
    return "text:" + hashlib.sha256(text.encode()).hexdigest()


def _quality_warnings(repaired, fields):
    warnings = []
    if repaired.is_stub:
        warnings.append("no article text: the page is a temporary preview stub")
    elif repaired.text_length < MIN_ARTICLE_CHARS:
        warnings.append(f"very short body ({repaired.text_length} characters)")
    if fields["published_at"] is None:
        warnings.append("no date in front matter")
    if is_placeholder_image(fields["headimg"] or fields["thumbnail"]):
        warnings.append("lead image is a random placeholder")
    return warnings


def _summary(repaired: RepairedBody, limit=140):
    """The first line of 20 characters or more of the body's text, figures aside (cut to ``limit``), or "". Read
    paragraph by paragraph: the first one or two nearly always have it."""
    for paragraph in repaired.paragraphs:
        for line in html_to_text(paragraph).splitlines():
            if len(line) >= 20:
                return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
