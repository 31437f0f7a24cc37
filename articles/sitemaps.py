"""/sitemap.xml: published articles, and the tag, region, source and author pages that list any.

Every section starts from ``Article.objects.published()``; ``SITEMAPS`` is wired in newsroom/urls.py.
"""

from django.contrib.sitemaps import Sitemap
from django.db.models import Q
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article, Author, Region, Source


def published():
    return Article.objects.published()


def regions_with_articles():
    """Regions whose page lists a published article: tagged directly, or above or around one that is."""
    ids = set(Region.objects.filter(articles__in=published()).values_list("pk", flat=True))
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
        return ["articles:home", "articles:list"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "static": StaticSitemap,
    "articles": ArticleSitemap,
    "tags": TagSitemap,
    "regions": RegionSitemap,
    "sources": SourceSitemap,
    "authors": AuthorSitemap,
}
