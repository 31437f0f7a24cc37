"""The article page's read model: what the page shows besides the article row, stored with it.

An article page shows the article's bylines, lead picture, gallery, verified figures, sources,
regions and tags. Loading those rows on every view costs six prefetch queries and most of the
page's time, although they change far less often than pages are read. So ``build()`` turns
them into one JSON document kept in ``Article.page_document``: plain values (names, paths,
``Picture`` fields) for the page's metadata and JSON-LD, and the page's header and footer
(everything around the body that is the same for every reader) rendered once, as body_html
is sanitized once, from FRAGMENTS templates; and, when some of its verified figures' sentences are
found in the body, ``marked_body_html``: body_html with each one in a ``<mark>`` the figures panel
links to (``articles.figure_marks``). The page reads the article row and renders
the rest: the site's frame, metadata and related articles. ``related_ids``
keeps the articles most like this one (shared tags, then regions), ranked; the page filters
them through ``Article.objects.published()`` when it is viewed, since publication changes
with the clock. When an article is published, rescheduled or retagged, the lists of the
articles it is now related to are cleared and ranked again on their next view.

Freshness: receivers connected in ``ArticlesConfig.ready()`` refresh the documents of every
article a saved or deleted row is shown on (the same rows the page cache watches, see
``articles.cache``), and an article's neighbours' related lists when the article itself or
its tags or regions change. Inside ``deferred_refresh()`` (an import, an admin save with its
inlines) refreshes wait until the block ends and run once per article. ``QuerySet.update()``
sends no signals: code that changes shown content that way calls ``refresh()`` itself. A
document built by older code or templates (its ``version()`` differs) is never shown: the page
builds a fresh one (``document_for()``), ``migrate`` rewrites the outdated ones, and
``python manage.py refresh_page_documents --all`` rewrites them all. More than
``INLINE_REFRESH_LIMIT`` documents to rebuild at once are outdated in one UPDATE and rebuilt by
the task queue's worker (``refresh_soon()``).
"""

import hashlib
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict
from functools import cache
from itertools import islice

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from taggit.models import TaggedItem

from articles import figure_marks
from articles.deferral import deferring
from articles.models import Article, ArticleAuthor, StatisticFigure
from articles.seo import describe
from articles.shown import CATALOG, articles_showing, stored_before_save
from articles.templatetags.articles_tags import describe as describe_picture
from articles.templatetags.articles_tags import gallery_items, remote_src

SCHEMA_VERSION = 3
# The parts of the page that are the same for every reader, rendered when the document is built.
FRAGMENTS = {
    "header_html": "articles/includes/_article_header.html",  # regions, title, dateline, bylines, lead picture
    "footer_html": "articles/includes/_article_footer.html",  # gallery, figures, provenance, regions and tags
}
# Every template the fragments render, includes too (their sources make up version()).
FRAGMENT_TEMPLATES = (
    *FRAGMENTS.values(),
    "articles/includes/_gallery.html",
    "articles/includes/_figures.html",
    "articles/includes/_provenance.html",
    "articles/includes/_picture.html",
)
RELATED_CANDIDATES = 12  # kept per article; the page shows the first RELATED_LENGTH still published
# The ranking counts shared tags and regions over the newest this many articles sharing any: a province's
# tag may be on thousands, and counting over all of them made each import slower than the one before.
RELATED_POOL = 300
REFRESH_CHUNK_SIZE = 200
# More articles than this to refresh after one change (a region shown on thousands of pages renamed, a
# deploy with new fragment templates): their stored documents are marked outdated in one UPDATE (their
# pages build a fresh one meanwhile) and the rebuild goes to the task queue (articles/tasks.py).
INLINE_REFRESH_LIMIT = 200
# build() reads these; everything else (the editor's body, the raw file, the search column) stays on disk.
BUILD_DEFERRED = ("body", "search_text", "raw_source", "quality_warnings")


# --- building -------------------------------------------------------------------------------------------------


def build(article) -> dict:
    """The page document of ``article``, loaded with ``Article.objects.for_export()``: JSON-ready."""
    lead = article.lead_image
    lead_in_body = lead is not None and appears_in(lead, article.body_html)
    shown_lead = lead if lead is not None and not lead_in_body else None
    gallery = [
        placement.image
        for placement in article.gallery.all()
        if placement.image != shown_lead and not appears_in(placement.image, article.body_html)
    ]
    og_picture = describe_picture(lead)
    verified = [figure for figure in article.figures.all() if figure.status == StatisticFigure.Status.VERIFIED]
    marked_body, marked = figure_marks.mark_quotes(article.body_html, article.body_text, verified)
    document = {
        "version": version(),
        "description": describe(article.summary or article.body_text),
        "standfirst": "" if opens_body(article.summary, article.body_text) else article.summary,
        "lead_image": _figure_item(shown_lead),
        "og_image": og_picture.full if og_picture else None,
        "gallery": _gallery_items(gallery),
        "bylines": _byline_groups(article.bylines.all()),
        "publisher": _source(article.publisher),
        "syndicator": _source(article.syndicator),
        "data_sources": [_source(source) for source in sorted(article.data_sources.all(), key=lambda s: s.name)],
        "regions": [{"name": r.name, "url": r.get_absolute_url()} for r in article.regions.all()],
        "tags": [
            {"name": tag.name, "url": reverse("articles:tag", args=[tag.slug])}
            for tag in sorted(article.tags.all(), key=lambda tag: tag.name)
        ],
        "figures": [_figure(figure, figure.pk in marked) for figure in verified],
    }
    if marked:
        # body_html with each verified figure's sentence marked (articles.figure_marks); the page shows it
        # instead of body_html. Kept only when it differs, since it doubles the document.
        document["marked_body_html"] = marked_body
    for key, template_name in FRAGMENTS.items():
        document[key] = render_to_string(template_name, {"article": article, "page": document})
    return document


@cache
def version() -> str:
    """SCHEMA_VERSION and a digest of the templates the stored fragments are rendered with: editing one of
    them outdates every stored document, so no page shows markup from an older template."""
    digest = hashlib.sha256(str(SCHEMA_VERSION).encode())
    for template_name in FRAGMENT_TEMPLATES:
        digest.update(get_template(template_name).template.source.encode())
    return f"{SCHEMA_VERSION}-{digest.hexdigest()[:12]}"


def opens_body(summary, body_text):
    """Whether the summary is the body's opening paragraph (imported summaries often are): shown once is enough."""
    start = " ".join(summary.split())[:50]
    return bool(start) and start in " ".join(body_text.split())[: len(summary) + 300]


def appears_in(image, html):
    """Whether the body already shows ``image`` (syndicated bodies often open with the lead picture)."""
    urls = (image.remote_url, remote_src(image.remote_url), image.file.url if image.file else "")
    return any(url and url in html for url in urls)


def _figure_item(image):
    picture = describe_picture(image)
    if picture is None:
        return None
    return {
        "picture": asdict(picture),
        "image": {"caption": image.caption, "credit": image.credit, "data_source_line": image.data_source_line},
    }


def _gallery_items(images):
    """``articles_tags.gallery_items()`` (the showable images, numbered), as plain dicts."""
    return [
        {**_figure_item(item.image), "number": item.number, "total": item.total} for item in gallery_items(images)
    ]


def _byline_groups(bylines):
    """[{role, label, authors}] in the order of ArticleAuthor.Role: 记者, 作者, 摄影, 编辑, 翻译."""
    by_role = defaultdict(list)
    for byline in bylines:
        by_role[byline.role].append({"name": byline.author.name, "url": byline.author.get_absolute_url()})
    return [
        {"role": role.value, "label": role.label, "authors": by_role[role.value]}
        for role in ArticleAuthor.Role
        if by_role.get(role.value)
    ]


def _source(source):
    if source is None:
        return None
    return {"name": source.name, "url": source.get_absolute_url(), "homepage": source.homepage}


def _figure(figure, marked):
    """A verified figure for the panel. ``anchor`` is the id of its sentence's mark in the body when ``marked``,
    else of its row in the panel (so links from other pages to ``#figure-<pk>`` always land); ``href`` is where
    the panel links to: the mark, or a text fragment that finds the sentence."""
    region = figure.region
    return {
        "anchor": figure_marks.anchor(figure.pk),
        "marked": marked,
        "href": f"#{figure_marks.anchor(figure.pk)}" if marked else figure_marks.text_fragment(figure.quote),
        "indicator": figure.indicator,
        "value_text": figure.value_text,
        "period": figure.period,
        "quote": figure.quote,
        "region": {"name": region.name, "url": region.get_absolute_url()} if region else None,
        "source": figure.source.name if figure.source else None,
    }


def related_candidates(article) -> list[int]:
    """Up to RELATED_CANDIDATES other articles sharing the most tags, then the most regions, newest first.

    Any article that is or will be published (scheduled ones too): the page keeps those still
    published when it is viewed. The ranking of taggit's ``similar_objects()`` (shared tags),
    extended with regions as the fallback, over the newest ``RELATED_POOL`` articles
    sharing a tag or a region (found walking the public order's index, then ranked: two queries).
    """
    tag_ids = [tag.pk for tag in article.tags.all()]
    region_ids = [region.pk for region in article.regions.all()]
    if not tag_ids and not region_ids:
        return []

    tagged = TaggedItem.objects.filter(
        object_id=OuterRef("pk"), content_type=ContentType.objects.get_for_model(Article), tag_id__in=tag_ids)
    placed = Article.regions.through.objects.filter(article_id=OuterRef("pk"), region_id__in=region_ids)
    sharing = Q()
    if tag_ids:
        sharing |= Q(Exists(tagged))
    if region_ids:
        sharing |= Q(Exists(placed))
    candidates = (
        Article.objects.filter(sharing, status=Article.Status.PUBLISHED).exclude(pk=article.pk)
        .order_by("-published_at", "-pk").values_list("pk", flat=True)[:RELATED_POOL]
    )
    return list(
        Article.objects.filter(pk__in=list(candidates))
        .annotate(shared_tags=count_of(tagged, "object_id", tag_ids),
                  shared_regions=count_of(placed, "article_id", region_ids))
        .order_by("-shared_tags", "-shared_regions", "-published_at", "-pk")
        .values_list("pk", flat=True)[:RELATED_CANDIDATES]
    )


def count_of(rows, article_column, ids):
    """How many of ``rows`` (filtered on the outer article by ``article_column``) there are, as a correlated
    subquery; 0 without ``ids``. Cheaper than joining tags and regions and counting distinct rows (their
    product per article): 3 ms instead of 22 for 300 candidates on SQLite."""
    if not ids:
        return Value(0, output_field=IntegerField())
    counted = rows.order_by().values(article_column).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- reading --------------------------------------------------------------------------------------------------


def document_for(article) -> dict:
    """``article``'s stored page document, or a freshly built one when it is missing or outdated."""
    document = article.page_document
    if isinstance(document, dict) and document.get("version") == version():
        return document
    return build(Article.objects.for_export().defer(*BUILD_DEFERRED).get(pk=article.pk))


# --- refreshing -----------------------------------------------------------------------------------------------

# While a deferred_refresh() block runs: {"documents": article ids, "neighbours": article ids, "rank": bool}.
_pending = ContextVar("newsroom_page_documents_pending", default=None)


def refresh(article_ids, *, neighbours=False, rank=True) -> int:
    """Rebuild and store the page documents and related lists of ``article_ids`` (missing ids are skipped).

    With ``neighbours``, also have the articles each one is now related to ranked again (lazily, see
    ``rerank()``), so that a newly published or retagged article shows up beside them. Returns how many
    were stored.

    ``rank=False`` (an import run) leaves their related lists to their pages' next views too, and with
    ``neighbours`` has every published article sharing a tag or region with them ranked again: one UPDATE,
    instead of ranking each of them now (two queries and some 6 ms an article) into a list that the next
    imported article from the same region outdates again.
    """
    ids = sorted(set(article_ids))
    stored = 0
    related_of = {}
    for start in range(0, len(ids), REFRESH_CHUNK_SIZE):
        chunk = ids[start : start + REFRESH_CHUNK_SIZE]
        articles = list(Article.objects.for_export().defer(*BUILD_DEFERRED).filter(pk__in=chunk).order_by())
        for article in articles:
            article.page_document = build(article)
            article.related_ids = related_of[article.pk] = related_candidates(article) if rank else None
        Article.objects.bulk_update(articles, ["page_document", "related_ids"])
        stored += len(articles)
    if neighbours and rank:
        rerank({pk for ranked in related_of.values() for pk in ranked} - set(related_of))
    elif neighbours and related_of:
        rerank(sharing_taxonomy(related_of).exclude(pk__in=list(related_of)))
    return stored


def sharing_taxonomy(article_ids):
    """The published articles sharing a tag or a region with any of ``article_ids`` (a ``values("pk")`` queryset)."""
    ids = list(article_ids)
    article_type = ContentType.objects.get_for_model(Article)
    tag_ids = TaggedItem.objects.filter(content_type=article_type, object_id__in=ids).values("tag_id")
    region_ids = Article.regions.through.objects.filter(article_id__in=ids).values("region_id")
    tagged = TaggedItem.objects.filter(object_id=OuterRef("pk"), content_type=article_type, tag_id__in=tag_ids)
    placed = Article.regions.through.objects.filter(article_id=OuterRef("pk"), region_id__in=region_ids)
    return Article.objects.filter(Q(Exists(tagged)) | Q(Exists(placed)), status=Article.Status.PUBLISHED).values("pk")


def rerank(article_ids) -> None:
    """Have the related lists of ``article_ids`` ranked again when their pages are next viewed (one UPDATE, of the
    rows that have a list)."""
    Article.objects.filter(pk__in=article_ids, related_ids__isnull=False).update(related_ids=None)


def related_ids_of(article) -> list[int]:
    """``article.related_ids``, ranked now and stored when ``rerank()`` cleared them.

    A store racing with a newer ``rerank()`` may keep a list one change old until the next one: related
    articles are suggestions, and the page filters them through ``published()`` whatever the list says.
    """
    if article.related_ids is None:
        article.related_ids = related_candidates(article)
        Article.objects.filter(pk=article.pk).update(related_ids=article.related_ids)
    return article.related_ids


def request_refresh(article_ids, *, neighbours=False) -> None:
    """Refresh now, or when the enclosing ``deferred_refresh()`` block ends."""
    article_ids = {pk for pk in article_ids if pk is not None}
    if not article_ids:
        return
    pending = _pending.get()
    if pending is None:
        refresh_soon(article_ids, neighbours=neighbours)
        return
    pending["documents"] |= article_ids
    if neighbours:
        pending["neighbours"] |= article_ids


def deferred_refresh(*, even_on_error=False, rank=True):
    """Collect the refreshes that saves inside the block ask for and run each once when it ends.

    Nested blocks join the outermost one. When the block raises, nothing is refreshed (an import's
    or the admin's transaction rolls back what it saved), unless ``even_on_error``: a whole import
    run, whose files each commit on their own, refreshes those that did when it is interrupted
    (ids rolled back since are skipped). ``rank=False``: see ``refresh()``.
    """
    return deferring(_pending, lambda: _no_refreshes(rank=rank), _refresh_pending, even_on_error=even_on_error)


@contextmanager
def refreshes_asked():
    """Yield a dict that, when the block ends, holds the refreshes the saves inside it asked for
    (``{"documents": ids, "neighbours": ids}``), made by nobody: for a process that hands them to another
    (an import worker to its parent, see ``articles.importer.parallel``). Empty when the block raises."""
    asked = _no_refreshes(rank=False)
    with deferring(_pending, lambda: _no_refreshes(rank=False), asked.update):
        yield asked


def _no_refreshes(*, rank):
    """What a ``deferred_refresh()`` block collects, before anything is asked."""
    return {"documents": set(), "neighbours": set(), "rank": rank}


def _refresh_pending(pending):
    neighbours = pending["neighbours"]
    refresh_soon(pending["documents"] - neighbours, rank=pending["rank"])
    refresh_soon(neighbours, neighbours=True, rank=pending["rank"])


def refresh_soon(article_ids, *, neighbours=False, rank=True) -> None:
    """``refresh()`` now, or, for more than ``INLINE_REFRESH_LIMIT`` articles, outdate their documents
    (never shown again: pages build their own) and queue the rebuild in batches."""
    ids = sorted(set(article_ids))
    if len(ids) <= INLINE_REFRESH_LIMIT:
        refresh(ids, neighbours=neighbours, rank=rank)
        return
    from articles.tasks import enqueue_refresh

    for start in range(0, len(ids), REFRESH_CHUNK_SIZE):
        # Meanwhile each page builds its document and ranks its related articles when it is viewed.
        Article.objects.filter(pk__in=ids[start : start + REFRESH_CHUNK_SIZE]).update(page_document={}, related_ids=None)
    enqueue_refresh(ids, neighbours=neighbours)


def refresh_all(*, chunk_size=REFRESH_CHUNK_SIZE, progress=None) -> int:
    """Rebuild every article's document and related list (``manage.py refresh_page_documents``)."""
    ids = Article.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk_size)
    done = 0
    while chunk := list(islice(ids, chunk_size)):
        done += refresh(chunk)
        if progress:
            progress(done)
    return done


# --- what is shown where --------------------------------------------------------------------------------------


def refresh_showing(instance) -> None:
    """Refresh (now, or as the enclosing ``deferred_refresh()`` ends) the articles whose page shows ``instance``,
    for changes made without signals (``QuerySet.update()``, a save with nothing to update)."""
    request_refresh(_articles_showing(type(instance), instance))


def _articles_showing(model, instance):
    """Ids of the articles whose page shows ``instance`` (a row of ``model``)."""
    if model is Article:
        return {instance.pk}
    if model is StatisticFigure:  # any status: a figure that stops being verified leaves the page too
        return {instance.article_id}
    return set(articles_showing(instance))


# Deleting a row unlinks it first (cascades, SET_NULL updates), so who showed it is asked before.
_SHOWN_ON = "_newsroom_page_documents_shown_on"


def _about_to_delete(sender, instance, **kwargs):
    if sender is not Article:
        setattr(instance, _SHOWN_ON, _articles_showing(sender, instance))


def _saved(sender, instance, created=False, **kwargs):
    if created and sender in CATALOG:
        return  # nothing shows a new source, author, region, image or tag yet
    # An article's neighbours' related lists may change when it is new, published or rescheduled.
    before = stored_before_save(instance) if sender is Article else None
    rerank_neighbours = sender is Article and (
        before is None or (before["status"], before["published_at"]) != (instance.status, instance.published_at))
    request_refresh(_articles_showing(sender, instance), neighbours=rerank_neighbours)


def _deleted(sender, instance, **kwargs):
    # A deleted article needs nothing; its neighbours drop it when their pages filter for published ones.
    request_refresh(getattr(instance, _SHOWN_ON, ()))


def _relinked(sender, instance, action, reverse, pk_set, **kwargs):
    if action == "pre_clear" and reverse:  # pk_set is not given for clear(): ask before the links go
        setattr(instance, _SHOWN_ON, _articles_showing(type(instance), instance))
    if not action.startswith("post_"):
        return
    if isinstance(instance, Article):
        ids = {instance.pk}
    else:
        ids = set(pk_set or ()) | getattr(instance, _SHOWN_ON, set())
    request_refresh(ids, neighbours=sender in _TAXONOMY)


_TAXONOMY = set()  # the through models of what related articles are ranked by (tags, regions)


def connect_refresh() -> None:
    """Connect the receivers that keep documents fresh; called from ``ArticlesConfig.ready()``."""
    from taggit.models import Tag, TaggedItem

    from articles.models import ArticleImage, Author, Image, Region, Source

    # Taggings are followed through m2m_changed (taggit sends it for add, remove, set and clear) and through
    # their Tag: a TaggedItem's own save would only repeat what m2m_changed asks.
    shown = [Article, ArticleAuthor, ArticleImage, Image, Source, Author, Region, StatisticFigure, Tag]
    for model in shown:
        uid = f"newsroom-page-document-{model._meta.label_lower}"
        post_save.connect(_saved, sender=model, dispatch_uid=uid)
        pre_delete.connect(_about_to_delete, sender=model, dispatch_uid=uid)
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid)
    _TAXONOMY.update({Article.regions.through, TaggedItem})
    for through in (Article.regions.through, Article.data_sources.through, TaggedItem):
        m2m_changed.connect(_relinked, sender=through, dispatch_uid=f"newsroom-page-document-{through._meta.label_lower}")


def refresh_outdated(*, verbosity=1, stdout=None, **kwargs) -> int:
    """Build the documents that are missing or outdated (see ``version()``) as ``migrate`` ends: up to
    ``INLINE_REFRESH_LIMIT`` at once, more through the task queue; returns how many."""
    # Compared in Python: a missing key is NULL in SQL, which exclude() would not match on every backend.
    versions = Article.objects.values_list("pk", "page_document__version")
    current = version()
    outdated = [pk for pk, stored in versions if stored != current]
    if len(outdated) > INLINE_REFRESH_LIMIT:
        from articles.tasks import enqueue_refresh

        batches = enqueue_refresh(outdated)
        if verbosity and stdout:
            stdout.write(f"  Queued the page documents of {len(outdated)} articles (in {batches} task(s) for the"
                         " worker; their pages are built as they are viewed until then).\n")
        return len(outdated)
    done = refresh(outdated)
    if done and verbosity and stdout:
        stdout.write(f"  Built the page documents of {done} articles.\n")
    return done
