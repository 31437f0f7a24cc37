"""Which articles show a row: the one answer for everything that must follow a change to it.

An article's public document (the JSON API) and its page (``articles.page_document``) show rows of
other tables: bylines and their authors, the lead image and the gallery, tags, regions, sources and
verified figures. When such a row changes, ``articles.sync`` moves those articles' ``updated_at``
and ``articles.page_document`` rebuilds their page documents; both ask ``articles_showing()``.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.db.models.signals import pre_save
from taggit.models import Tag, TaggedItem

from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure

VERIFIED = StatisticFigure.Status.VERIFIED
CATALOG = (Source, Author, Region, Image, Tag)  # rows an article links to; nothing shows a new one yet
_STORED = "_newsroom_stored_before_save"  # set on an article just before its save


def _read_stored(sender, instance, raw=False, **kwargs):
    row = None
    if not raw and instance.pk is not None:
        row = Article.objects.filter(pk=instance.pk).values("slug", "status", "published_at").first()
    instance.__dict__[_STORED] = row


def stored_before_save(article):
    """``{"slug", "status", "published_at"}`` of ``article``'s row as the database held it just before the
    save that is ending (read once, for every receiver that compares before and after); None for a new
    article or a raw (fixture) save. For ``post_save`` receivers."""
    return article.__dict__.get(_STORED)


def connect_stored() -> None:
    """Connect the one pre_save read; called from ``ArticlesConfig.ready()`` before the receivers that use it."""
    pre_save.connect(_read_stored, sender=Article, dispatch_uid="newsroom-stored-before-save")


def articles_showing(instance):
    """Ids (a list, or a queryset of ids usable as a subquery) of the articles whose public document and
    page show ``instance``: a byline, gallery placement, verified figure, tagging, or a source, author,
    region, image or tag they link to."""
    model = type(instance)
    if model in (ArticleAuthor, ArticleImage):
        return [instance.article_id]
    if model is StatisticFigure:
        return [instance.article_id] if instance.status == VERIFIED else []
    article_type = ContentType.objects.get_for_model(Article)
    if model is TaggedItem:
        return [instance.object_id] if instance.content_type_id == article_type.pk else []
    if model is Tag:
        return TaggedItem.objects.filter(tag=instance, content_type=article_type).values_list("object_id", flat=True)
    shown_by = {
        Source: Q(publisher=instance) | Q(syndicator=instance) | Q(data_sources=instance)
        | Q(figures__source=instance, figures__status=VERIFIED),
        Author: Q(bylines__author=instance),
        Region: Q(regions=instance) | Q(figures__region=instance, figures__status=VERIFIED),
        Image: Q(lead_image=instance) | Q(gallery__image=instance),
    }
    return Article.objects.filter(shown_by[model]).values_list("pk", flat=True).distinct()
