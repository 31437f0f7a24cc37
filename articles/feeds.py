"""RSS and Atom feeds: the latest articles, and one feed per region and per tag.

Every feed starts from ``Article.objects.published()`` and carries the full sanitized
``body_html``; pages and sitemaps are elsewhere (views.py, sitemaps.py).
"""

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from taggit.models import Tag

from articles.models import Article, ArticleAuthor, Region

FEED_LENGTH = 30


def feed_articles(queryset):
    """Newest first, the first FEED_LENGTH, with what an item needs in two extra queries."""
    return queryset.order_by("-published_at", "-pk").prefetch_related(
        "tags",
        Prefetch("bylines", queryset=ArticleAuthor.objects.select_related("author").order_by("order", "pk")),
    )[:FEED_LENGTH]


class FullContentAtom1Feed(Atom1Feed):
    """Atom with the whole article in <content type="html">; Atom1Feed only writes <summary>."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


class LatestArticlesFeed(Feed):
    title = "Newsroom：最新文章"
    description = "中国区域发展报道精选：最新发布的文章"

    def link(self):
        return reverse("articles:home")

    def feed_url(self):
        return reverse("articles:feed_latest")

    def items(self):
        return feed_articles(Article.objects.published())

    def item_title(self, item):
        # Titles are plain text (never HTML), so they go out as text: the XML writer escapes
        # them once. Django's default escapes twice for readers that render titles as HTML.
        return item.title

    def item_description(self, item):
        return item.body_html

    def item_author_name(self, item):
        names = dict.fromkeys(byline.author.name for byline in item.bylines.all())
        return "、".join(names) or None

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_categories(self, item):
        return sorted(tag.name for tag in item.tags.all())


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = FullContentAtom1Feed
    subtitle = LatestArticlesFeed.description

    def feed_url(self):
        return reverse("articles:feed_latest_atom")

    def item_description(self, item):
        # Atom1Feed writes <summary type="html">, so readers render it as HTML; the summary is plain text
        # (an editor's "<img onerror=...>" must show as those characters), hence escaped once here.
        return escape(item.summary) if item.summary else None

    def item_extra_kwargs(self, item):
        return {"content_html": item.body_html}


class RegionFeed(LatestArticlesFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Region, slug=slug)

    def title(self, region):
        return f"Newsroom：{region.name}"

    def description(self, region):
        if region.kind == Region.Kind.AREA:
            return f"{region.name}及其包含地区的最新报道"
        return f"{region.name}及其下辖地区的最新报道"

    def link(self, region):
        return region.get_absolute_url()

    def feed_url(self, region):
        return reverse("articles:feed_region", kwargs={"slug": region.slug})

    def items(self, region):
        articles = Article.objects.published().filter(regions__in=Region.objects.in_scope_of(region)).distinct()
        return feed_articles(articles)


class TagFeed(LatestArticlesFeed):
    def get_object(self, request, slug):
        # As the tag page: a tag is public once a published article has it (a draft's tag is no one's business).
        return get_object_or_404(Tag.objects.filter(pk__in=Article.objects.published().values("tags")), slug=slug)

    def title(self, tag):
        return f"Newsroom：标签“{tag.name}”"

    def description(self, tag):
        return f"标签为“{tag.name}”的最新报道"

    def link(self, tag):
        return reverse("articles:tag", kwargs={"slug": tag.slug})

    def feed_url(self, tag):
        return reverse("articles:feed_tag", kwargs={"slug": tag.slug})

    def items(self, tag):
        return feed_articles(Article.objects.published().filter(tags__in=[tag]))
