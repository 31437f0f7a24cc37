"""What an API consumer syncing with ``updated_since`` must hear about, recorded on every write.

The sync feed (``GET /api/v1/articles/?updated_since=``) lists public articles by
``max(updated_at, published_at)``; ``GET /api/v1/withdrawals/`` lists the ones that left. Two
rules keep them complete:

1. **An article moves when its document changes.** The public document also shows rows of other
   tables: bylines and their authors, the lead image and the gallery, tags, regions, sources and
   verified figures. Saving, deleting or relinking such a row moves the ``updated_at`` of every
   article showing it (``touch``), so the article comes back through ``updated_since``. So does
   an article saved with ``update_fields`` that change what it shows but leave out ``updated_at``
   (``auto_now`` applies only to the fields saved).
2. **An article that leaves the public set is recorded.** Public before a save and not after it
   (unpublished, archived, moved to a future ``published_at``), or deleted while public: a
   ``Withdrawal`` row. The state before the save is read from the database just before it, so a
   stale instance or another process's change cannot hide a withdrawal. Publishing again moves
   ``updated_at`` like any save, and a scheduled article enters the feed at its ``published_at``.

Like ``articles.cache``, these are receivers connected in ``ArticlesConfig.ready()``:
infrastructure reacting to any write, from the admin, the importer, the workflow or the shell.
``QuerySet.update()`` and ``bulk_update()`` send no signals: code that changes what a public
document shows that way calls ``touch()`` itself (and ``Withdrawal.objects.record()`` if an
article leaves the public set).
"""

from contextvars import ContextVar

from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone
from taggit.models import TaggedItem

from articles import page_document
from articles.cache import note_content_change
from articles.deferral import deferring
from articles.models import Article, ArticleAuthor, ArticleImage, StatisticFigure, Withdrawal
from articles.shown import CATALOG, articles_showing, stored_before_save

VERIFIED = StatisticFigure.Status.VERIFIED
# Article fields that decide what the public document shows, or whether there is one.
DOCUMENT_FIELDS = frozenset({
    "slug", "title", "summary", "body", "body_html", "status", "published_at", "language", "original_url",
    "categories", "publisher", "syndicator", "lead_image", "publisher_id", "syndicator_id", "lead_image_id",
})
_PREVIOUS_FIGURE = "_newsroom_sync_previous_figure"  # set on a figure just before its save


# While a deferred_touch() block runs: the ids of the articles to touch when it ends.
_pending = ContextVar("newsroom_sync_touch_pending", default=None)


def touch(article_ids) -> None:
    """Move the ``updated_at`` of these articles (ids, or a ``values("pk")`` queryset) to now, or when the
    enclosing ``deferred_touch()`` block ends."""
    pending = _pending.get()
    if pending is None:
        Article.objects.filter(pk__in=article_ids).update(updated_at=timezone.now())
    elif isinstance(article_ids, QuerySet):
        pending["touched"].update(Article.objects.filter(pk__in=article_ids).values_list("pk", flat=True))
    else:
        pending["touched"].update(article_ids)


def deferred_touch():
    """Touch each article the writes inside the block touch once, in one UPDATE when it ends (inside the
    caller's transaction, so it commits or rolls back with them). An import writes some twenty rows an
    article shows, and each would touch it. An article created inside the block is not touched: its rows
    are all written in its own transaction, so no consumer can have synced it before them (a commit that
    comes later than its ``updated_at`` is what the feed's margin is for). Nested blocks join the outermost;
    nothing when it raises."""

    def flush(pending):
        if ids := pending["touched"] - pending["created"]:
            touch(ids)

    return deferring(_pending, lambda: {"touched": set(), "created": set()}, flush)


def shown_rows_written(article_ids) -> None:
    """What saving a shown row sets off, for rows of these articles written without signals (``bulk_create()``,
    ``bulk_update()``): their ``updated_at`` moves, their page documents are rebuilt and cached pages retire."""
    ids = set(article_ids)
    touch(ids)
    page_document.request_refresh(ids)
    note_content_change()


# --- articles: withdrawals and saves that skip updated_at -------------------------------------------------


def _article_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if created and (pending := _pending.get()) is not None:
        pending["created"].add(instance.pk)
    before = stored_before_save(instance)
    if before and Article.is_public(before["status"], before["published_at"]) and not instance.is_published():
        Withdrawal.objects.record(instance.pk, before["slug"])
    if update_fields is not None and "updated_at" not in update_fields and DOCUMENT_FIELDS & update_fields:
        touch([instance.pk])


def _article_deleted(sender, instance, **kwargs):
    if instance.is_published():
        Withdrawal.objects.record(instance.pk, instance.slug)


# --- rows shown in article documents ----------------------------------------------------------------------


def _shown_row_saved(sender, instance, created, raw=False, **kwargs):
    if raw or (created and sender in CATALOG):
        return
    touch(articles_showing(instance))


def _shown_row_deleted(sender, instance, **kwargs):
    # A source, author, region, image or tag is asked before its delete: its links are gone after it.
    touch(articles_showing(instance))


def _before_figure_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    previous = StatisticFigure.objects.filter(pk=instance.pk).values("status", "article_id").first()
    setattr(instance, _PREVIOUS_FIGURE, previous)


def _figure_saved(sender, instance, raw=False, **kwargs):
    """Only verified figures are public: verifying, editing a verified one, rejecting one, moving one."""
    previous = instance.__dict__.pop(_PREVIOUS_FIGURE, None)
    if raw:
        return
    ids = set(articles_showing(instance))
    if previous and previous["status"] == VERIFIED:
        ids.add(previous["article_id"])
    touch(ids)


def _relinked(sender, instance, action, model, pk_set, **kwargs):
    if isinstance(instance, Article):  # article.tags.add(...), article.regions.set(...)
        if action.startswith("post_"):
            touch([instance.pk])
    elif model is Article:  # the reverse side, region.articles.add(...): pk_set holds article ids
        if action == "pre_clear":  # clear() gives no pk_set: ask before the links go
            touch(articles_showing(instance))
        elif action in ("post_add", "post_remove"):
            touch(pk_set or [])


def connect_sync() -> None:
    """Connect the receivers above; called from ``ArticlesConfig.ready()``."""
    uid = "newsroom-sync-{}".format
    post_save.connect(_article_saved, sender=Article, dispatch_uid=uid("article"))
    post_delete.connect(_article_deleted, sender=Article, dispatch_uid=uid("article"))
    for model in CATALOG:
        post_save.connect(_shown_row_saved, sender=model, dispatch_uid=uid(model._meta.label_lower))
        pre_delete.connect(_shown_row_deleted, sender=model, dispatch_uid=uid(model._meta.label_lower))
    for model in (ArticleAuthor, ArticleImage, TaggedItem):
        post_save.connect(_shown_row_saved, sender=model, dispatch_uid=uid(model._meta.label_lower))
        post_delete.connect(_shown_row_deleted, sender=model, dispatch_uid=uid(model._meta.label_lower))
    pre_save.connect(_before_figure_save, sender=StatisticFigure, dispatch_uid=uid("figure"))
    post_save.connect(_figure_saved, sender=StatisticFigure, dispatch_uid=uid("figure"))
    post_delete.connect(_shown_row_deleted, sender=StatisticFigure, dispatch_uid=uid("figure"))
    for through in (Article.regions.through, Article.data_sources.through, Article.authors.through, TaggedItem):
        m2m_changed.connect(_relinked, sender=through, dispatch_uid=uid(through._meta.label_lower))
