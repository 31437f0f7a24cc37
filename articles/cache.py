"""The page cache for anonymous readers, and when it forgets.

Public pages (home, lists, article pages, search, feeds, the sitemap) are the same for every
anonymous reader, so ``cache_public_page`` keeps each rendered page in Django's cache (local
memory, or Redis when ``REDIS_URL`` is set: see settings.py) and answers conditional requests
(``If-None-Match``, ``If-Modified-Since``) with 304. Logged-in users, requests other than GET
and HEAD, and readers with pending messages always get a freshly rendered, ``private`` page.

Invalidation is one number, the content *generation*: the time of the last change to anything
a public page shows. Page keys, ``ETag`` and ``Last-Modified`` all include it, so bumping it
retires every cached page at once (old entries simply expire). Receivers connected in
``ArticlesConfig.ready()`` bump it when an article or anything shown with it is saved, deleted
or relinked. Signals are the right tool here, unlike for domain work (see STYLE.md): this is
infrastructure reacting to any write, from the admin, the importer or the shell alike.
``QuerySet.update()`` and ``bulk_update()`` send no signals; code that changes public content
that way should call ``bump_generation()`` itself, or the change shows once pages expire
(``NEWSROOM_PAGE_CACHE_SECONDS``).

A scheduled article becomes public when its time comes, with no save to announce it. So the
cache also records when the next one is due; no page is kept past that moment, and the first
request after it starts a new generation.

The cache is an optimisation: when its backend fails (Redis down), pages are rendered from
the database and a warning is logged. A change made meanwhile cannot bump the generation, and a
Redis that comes back with its data (a network outage, a hang, a restart from its dump) still
holds the old generation and the pages rendered before the change. So a process that saw the
cache fail starts a new generation on its first successful access afterwards (``_missed_changes``).
Each process only knows its own failures: one that saw none may serve a page cached before the
outage until a process that did handles a request (or until the page expires).
"""

import hashlib
import logging
import math
import time
from contextvars import ContextVar
from functools import wraps
from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import get_language

from articles.deferral import deferring
from articles.models import Article

logger = logging.getLogger(__name__)

GENERATION_KEY = "newsroom:content-generation"
NEXT_PUBLICATION_KEY = "newsroom:next-publication"
PAGE_KEY_PREFIX = "newsroom:page"
# Browsers and proxies may reuse a page this long without asking; then ETag makes asking cheap.
BROWSER_MAX_AGE = 60


class ContentState(NamedTuple):
    generation: float  # time.time() of the last change
    next_publication: float  # time.time() at which the next scheduled article goes public; inf if none


# True once this process failed to reach the cache: changes may have gone unrecorded meanwhile.
_missed_changes = False


def _cache_failed(message):
    global _missed_changes
    _missed_changes = True
    logger.warning(message, exc_info=True)


# --- the generation ---------------------------------------------------------------------------------------


def bump_generation() -> float:
    """Start a new generation (retiring every cached page); returns it."""
    generation = time.time()
    try:
        cache.set(GENERATION_KEY, generation, timeout=None)
    except Exception:  # each backend raises its own client's errors (redis.ConnectionError...)
        _cache_failed("Page cache unavailable: could not record a content change")
    return generation


def refresh_schedule() -> float:
    """Record when the next scheduled article becomes public; returns that timestamp (inf when none is)."""
    due = (
        Article.objects.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    next_publication = due.timestamp() if due else math.inf
    try:
        cache.set(NEXT_PUBLICATION_KEY, next_publication, timeout=None)
    except Exception:
        _cache_failed("Page cache unavailable: could not record the publication schedule")
    return next_publication


def content_state() -> ContentState | None:
    """The current generation and the next publication time; None when the cache backend fails.

    Runs no query unless the schedule is unknown (an empty cache), a scheduled article has just
    become public, or this process saw the cache fail since its last access (a change may have
    gone unrecorded): then it starts a new generation, since pages cached before may lack it.
    """
    global _missed_changes
    try:
        values = cache.get_many([GENERATION_KEY, NEXT_PUBLICATION_KEY])
        next_publication = values.get(NEXT_PUBLICATION_KEY)
        if next_publication is not None and next_publication > time.time() and not _missed_changes:
            return ContentState(cache.get_or_set(GENERATION_KEY, time.time, timeout=None), next_publication)
    except Exception:
        _cache_failed("Page cache unavailable: rendering from the database")
        return None
    _missed_changes = False  # before the bump: if the bump fails, it sets it again
    return ContentState(bump_generation(), refresh_schedule())


def page_timeout(state: ContentState | None = None) -> int:
    """Seconds a page rendered now may stay cached: NEWSROOM_PAGE_CACHE_SECONDS, or fewer when a
    scheduled article goes public sooner (rounded down; 0 means "do not cache")."""
    state = state or content_state()
    if state is None:
        return 0
    return max(0, int(min(settings.NEWSROOM_PAGE_CACHE_SECONDS, state.next_publication - time.time())))


# --- invalidation -----------------------------------------------------------------------------------------


# While a deferred_note() block runs: {"changed": bool, "schedule_changed": bool}.
_pending = ContextVar("newsroom_cache_note_pending", default=None)


def note_content_change(*, schedule_changed=False) -> None:
    """Bump the generation (and re-read the schedule if an article changed), now and after commit; or once,
    when the enclosing ``deferred_note()`` block ends.

    Now, so this process never serves a stale page; again after the commit, because another
    process may render the old rows until then and cache them under the first new generation.
    """
    pending = _pending.get()
    if pending is not None:
        pending["changed"] = True
        pending["schedule_changed"] |= schedule_changed
        return

    def record():
        bump_generation()
        if schedule_changed:
            refresh_schedule()

    record()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(record)


def deferred_note():
    """Note the content changes written inside the block once, when it ends (inside the caller's transaction:
    after its commit too). An imported file writes some forty rows a page shows, and each would bump the
    generation twice and re-read the schedule. Nested blocks join the outermost; nothing when it raises
    (its transaction rolls back what it wrote)."""

    def flush(pending):
        if pending["changed"]:
            note_content_change(schedule_changed=pending["schedule_changed"])

    return deferring(_pending, lambda: {"changed": False, "schedule_changed": False}, flush)


def _saved_or_deleted(sender, **kwargs):
    note_content_change(schedule_changed=sender is Article)


def _relinked(sender, action, **kwargs):
    if action.startswith("post_"):
        note_content_change()


def connect_invalidation() -> None:
    """Connect the receivers that bump the generation; called from ``ArticlesConfig.ready()``."""
    from taggit.models import Tag, TaggedItem

    from articles.models import ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure

    shown = [Article, ArticleAuthor, ArticleImage, Image, Source, Author, Region, StatisticFigure, Tag, TaggedItem]
    for model in shown:
        uid = f"newsroom-page-cache-{model._meta.label_lower}"
        post_save.connect(_saved_or_deleted, sender=model, dispatch_uid=uid)
        post_delete.connect(_saved_or_deleted, sender=model, dispatch_uid=uid)
    links = [Article.regions.through, Article.data_sources.through, Article.authors.through, TaggedItem,
             Region.members.through]
    for through in links:
        m2m_changed.connect(_relinked, sender=through, dispatch_uid=f"newsroom-page-cache-{through._meta.label_lower}")


# --- the decorator ----------------------------------------------------------------------------------------


def is_public_request(request) -> bool:
    """Whether every reader making this request gets the same page: anonymous, GET or HEAD, no messages."""
    return (
        request.method in ("GET", "HEAD")
        and not request.user.is_authenticated
        and not len(messages.get_messages(request))
    )


def cache_public_page(view):
    """Serve ``view``'s pages for anonymous readers from the cache, with ETag, Last-Modified and 304s.

    The key is the generation, the language and the absolute URL with its query string (scheme,
    host, path), like ``django.utils.cache.get_cache_key()`` but ignoring cookies, which would
    give every reader their own copy. Only 200 responses are kept.
    """

    @wraps(view)
    def cached_view(request, *args, **kwargs):
        if not is_public_request(request):
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True)
            return response
        state = content_state()
        if state is None:
            return view(request, *args, **kwargs)
        digest = hashlib.sha256(f"{state.generation!r}\n{get_language()}\n{request.build_absolute_uri()}".encode())
        etag, last_modified = f'"{digest.hexdigest()[:32]}"', int(state.generation)
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            key = f"{PAGE_KEY_PREFIX}:{digest.hexdigest()}"
            response = _cached_page(key)
            if response is None:
                response = view(request, *args, **kwargs)
                if response.status_code == 200:
                    _store_page(key, response, page_timeout(state))
        if response.status_code in (200, 304):
            response.headers["ETag"] = etag
            response.headers["Last-Modified"] = http_date(last_modified)
            patch_cache_control(response, public=True, max_age=min(BROWSER_MAX_AGE, page_timeout(state)))
        return response

    return cached_view


def _cached_page(key):
    try:
        return cache.get(key)
    except Exception:
        _cache_failed("Page cache unavailable: rendering from the database")
        return None


def _store_page(key, response, timeout):
    if timeout <= 0:
        return

    def store(rendered):
        try:
            cache.set(key, rendered, timeout)
        except Exception:
            _cache_failed("Page cache unavailable: could not store a page")

    # A TemplateResponse is rendered after the view returns (as cache_page does it).
    if callable(getattr(response, "render", None)):
        response.add_post_render_callback(store)
    else:
        store(response)
