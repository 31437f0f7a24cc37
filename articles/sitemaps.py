"""/sitemap.xml: published articles, and the tag, region, source and author pages that list any;
the figure pages of the regions and vocabulary indicators that have public figures.

Every section starts from ``Article.objects.published()`` (figures from ``figure_tables.public_figures()``,
verified figures of published articles); ``SITEMAPS`` is wired in newsroom/urls.py.
"""

from django.contrib.sitemaps import Sitemap
from django.db.models import Q
from django.urls import reverse
from taggit.models import Tag

from articles.figure_tables import Vocabulary, public_figures, summarize_indicators
from articles.models import Article, Author, Region, Source


def published():
    return Article.objects.published()


def regions_with_articles():
    """Regions whose page lists a published article: tagged directly, or above or around one that is."""
    return regions_above(set(Region.objects.filter(articles__in=published()).values_list("pk", flat=True)))


def regions_above(ids):
    """The regions ``ids`` and those whose pages include theirs: parents and areas, all the way up."""
    ids = set(ids)
    frontier = ids
    while frontier:
        above = Region.objects.filter(Q(children__in=frontier) | Q(members__in=frontier)).values_list("pk", flat=True)
        frontier = set(above) - ids
        ids |= frontier
    return Region.objects.filter(pk__in=ids)


class ArticleSitemap(Sitemap):
    def items(self):
        return published().order_by("-published_at", "-pk").only("slug", "updated_at")

    def lastmod(self, article):
        return article.updated_at


class TagSitemap(Sitemap):
    def items(self):
        return Tag.objects.filter(pk__in=published().values("tags")).order_by("name", "pk")

    def location(self, tag):
        return reverse("articles:tag", kwargs={"slug": tag.slug})


class RegionSitemap(Sitemap):
    def items(self):
        return regions_with_articles().order_by("code", "name")


class RegionFiguresSitemap(Sitemap):
    def items(self):
        ids = public_figures().filter(region__isnull=False).values_list("region_id", flat=True).distinct()
        return regions_above(ids).order_by("code", "name")

    def location(self, region):
        return reverse("articles:region_figures", kwargs={"slug": region.slug})


class IndicatorSitemap(Sitemap):
    """The vocabulary's indicators with public figures; a page per unlisted phrase would be noise."""

    def items(self):
        return [summary.indicator for summary in summarize_indicators(Vocabulary()) if summary.indicator.entry]

    def location(self, indicator):
        return indicator.url


class SourceSitemap(Sitemap):
    def items(self):
        articles = published()
        return Source.objects.filter(
            Q(pk__in=articles.values("publisher"))
            | Q(pk__in=articles.values("syndicator"))
            | Q(pk__in=articles.values("data_sources"))
        ).order_by("name")


class AuthorSitemap(Sitemap):
    def items(self):
        return Author.objects.filter(pk__in=published().values("authors")).order_by("name")


class StaticSitemap(Sitemap):
    def items(self):
        return ["articles:home", "articles:list", "articles:figures"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "static": StaticSitemap,
    "articles": ArticleSitemap,
    "tags": TagSitemap,
    "regions": RegionSitemap,
    "region-figures": RegionFiguresSitemap,
    "indicators": IndicatorSitemap,
    "sources": SourceSitemap,
    "authors": AuthorSitemap,
}
