"""Collect what the writes inside a block ask for, and do it once when the block ends.

An import writes some twenty rows an article shows, and receivers react to each write: touch the
article's ``updated_at`` (``articles.sync``), retire cached pages (``articles.cache``), rebuild its
page document (``articles.page_document``). Inside their ``deferred_...()`` blocks, each collects
the requests in a ``pending`` value and acts once at the end. ``deferring()`` is the shape they share.
"""

from contextlib import contextmanager
from contextvars import ContextVar


@contextmanager
def deferring(var: ContextVar, make, flush, *, even_on_error=False):
    """Run the block with ``var`` set to ``make()``, then ``flush()`` that value.

    Nested blocks join the outermost one (only it flushes). When the block raises, nothing is flushed
    unless ``even_on_error``; the exception propagates either way.
    """
    if var.get() is not None:
        yield
        return
    pending = make()
    token = var.set(pending)
    try:
        yield
    except BaseException:
        var.reset(token)
        if even_on_error:
            flush(pending)
        raise
    var.reset(token)
    flush(pending)
