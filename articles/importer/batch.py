"""What the files of one import batch share (``run.save_in_turn``: several files in one transaction, a savepoint each),
so that each file does not ask the database again:

- the sources, authors and tags found or created by name (``attribution._rows_named``): a batch of files shares its
  publishers, reporters and tags;
- the sources with domains (``attribution.find_publisher``), which only editors set: read once a batch;
- with ``insert_later``, the rows a new article's file adds to the relation tables (gallery placements, bylines,
  links, taggings, figure candidates): queued by ``insert_rows(..., later=True)`` and written with the other files'
  rows, one INSERT per table (as many as the database's limit on parameters needs), when the batch calls
  ``write_rows()`` (before it records its revisions, which read them).

A file's share (what it found by name, what it queued) joins the batch's once its savepoint is released
(``batch_file``): a failing file's new rows roll back, and are forgotten, with it. Outside a batch (one file on its
own, a dry run), rows are read and written at once.
"""

from contextlib import contextmanager
from contextvars import ContextVar


class _Shared:
    """What the files of a batch share (see the module docstring)."""

    def __init__(self, insert_later):
        self.insert_later = insert_later
        self.named = {}  # {model: {name: row}} of the files saved
        self.domain_sources = None  # read when first needed
        self.rows = []  # [(model, [objects])] the files saved queued
        self.file = None  # (named, rows) of the file being saved


_current = ContextVar("import batch", default=None)


@contextmanager
def import_batch(*, insert_later=False):
    """Inside, the files saved in ``batch_file()`` blocks share what they found by name, and, with ``insert_later``,
    queue their new relation rows until ``write_rows()``. ``insert_later`` only when nothing reads those rows before
    the batch ends: not for an editor's upload (whose permission to change a picture depends on which articles show
    it), nor when each file queues its picture downloads (a task the immediate backend runs at once)."""
    token = _current.set(_Shared(insert_later))
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def batch_file():
    """Around one file's save (its savepoint): what it found by name and the rows it queued join the batch's if the
    block ends without error, and are forgotten otherwise."""
    batch = _current.get()
    if batch is None:
        yield
        return
    batch.file = ({}, [])
    try:
        yield
        named, rows = batch.file
        for model, found in named.items():
            batch.named.setdefault(model, {}).update(found)
        batch.rows += rows
    finally:
        batch.file = None


def named(model) -> dict:
    """``{name: row}`` of ``model`` the batch's saved files found by name (empty outside a batch)."""
    batch = _current.get()
    return batch.named.get(model, {}) if batch is not None else {}


def remember_named(model, found: dict) -> None:
    """Rows of ``model`` the file being saved found (or created) by name."""
    batch = _current.get()
    if batch is not None and batch.file is not None:
        batch.file[0].setdefault(model, {}).update(found)


def domain_sources(read):
    """The sources with domains: ``read()`` once a batch (every time outside one)."""
    batch = _current.get()
    if batch is None:
        return read()
    if batch.domain_sources is None:
        batch.domain_sources = read()
    return batch.domain_sources


def insert_rows(model, objects, *, later) -> int:
    """Insert ``objects``, new rows of ``model``: with ``later`` (nothing reads them before the batch ends: a new
    article's), queued in a batch that inserts later; else inserted now (``bulk_create``). Returns how many."""
    objects = list(objects)
    batch = _current.get()
    if later and batch is not None and batch.insert_later and batch.file is not None:
        batch.file[1].append((model, objects))
    elif objects:
        model.objects.bulk_create(objects)
    return len(objects)


def write_rows() -> None:
    """Insert the rows the batch's saved files queued: one ``bulk_create`` per table, in the order the tables were
    first queued (each row's own references are to rows already written)."""
    batch = _current.get()
    if batch is None:
        return
    tables = {}
    for model, objects in batch.rows:
        tables.setdefault(model, []).extend(objects)
    batch.rows = []
    for model, objects in tables.items():
        if objects:
            model.objects.bulk_create(objects)
