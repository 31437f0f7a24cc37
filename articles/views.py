"""Public views. Every list and detail starts from Article.objects.published().

Pages: home, the article list, the article page, and lists by tag, region, source and author;
staff previews render the article page for unpublished articles. What each page tells search
engines is built by ``articles.seo``; search, feeds and sitemaps live in their own modules.
"""

from collections import defaultdict

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.generic import ListView
from taggit.models import Tag

from articles import page_document
from articles.models import Article, Author, Region, Source
from articles.preview import article_id_from_token
from articles.seo import SITE_DESCRIPTION, article_jsonld, jsonld_script, page_meta

DETAIL_TEMPLATE = "articles/article_detail.html"
HOME_LENGTH = 12
RELATED_LENGTH = 4
REGION_STRIP_LENGTH = 24
# Cards never show these; an article's raw file and bodies can be hundreds of kilobytes.
CARD_DEFERRED = (
    "body", "body_html", "body_text", "search_text", "raw_source", "quality_warnings", "page_document", "related_ids",
)
# What the article page reads of the article row; the rest of what it shows is in the page document.
PAGE_FIELDS = ("slug", "title", "body_html", "published_at", "updated_at", "original_url", "page_document", "related_ids")
# What a related article's card shows (_related_card.html): the article and its lead picture.
RELATED_CARD_FIELDS = (
    "slug", "title", "published_at", *(f"lead_image__{field}" for field in (
        "file", "remote_url", "renditions", "width", "height", "alt_text", "caption", "is_placeholder")),
)


def listing(queryset):
    """Cards need the lead image and the regions: two queries for any number of articles."""
    return queryset.for_listing().defer(*CARD_DEFERRED).prefetch_related("regions")


def home(request):
    """The latest HOME_LENGTH articles (the first as the lead story) and the regions that have articles."""
    articles = list(listing(Article.objects.published())[:HOME_LENGTH])
    counts = region_article_counts()
    strip = sorted(
        (region for region in Region.objects.filter(pk__in=list(counts)).exclude(kind=Region.Kind.COUNTRY)),
        key=lambda region: (-counts[region.pk], region.code or "~", region.name),
    )[:REGION_STRIP_LENGTH]
    for region in strip:
        region.article_count = counts[region.pk]
    context = {
        "lead_article": articles[0] if articles else None,
        "articles": articles[1:],
        "regions": strip,
        "page_meta": page_meta(request, description=SITE_DESCRIPTION),
    }
    return render(request, "articles/home.html", context)


class ArticleListView(ListView):
    """All published articles, newest first; subclasses narrow it to one tag, region, source or author."""

    paginate_by = 20
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    heading = "全部文章"
    kind = ""  # what the subject is, shown above the heading ("标签", "地区"...)

    def get(self, request, *args, **kwargs):
        self.subject = self.get_subject()
        return super().get(request, *args, **kwargs)

    def get_subject(self):
        return None

    def filter_articles(self, queryset):
        return queryset

    def get_queryset(self):
        return listing(self.filter_articles(Article.objects.published()))

    def get_heading(self):
        return str(self.subject) if self.subject is not None else self.heading

    def get_description(self):
        return ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        path = self.request.path if page.number == 1 else f"{self.request.path}?page={page.number}"
        heading = self.get_heading()
        title = heading if page.number == 1 else f"{heading}（第 {page.number} 页）"
        description = self.get_description() or f"{self.kind}{'：' if self.kind else ''}{heading}，Newsroom 收录的相关报道。"
        context.update(
            subject=self.subject,
            kind=self.kind,
            heading=heading,
            intro=self.get_description(),
            page_range=page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            page_meta=page_meta(self.request, title=title, description=description, path=path),
        )
        return context


class TagArticleListView(ArticleListView):
    kind = "标签"
    allow_empty = False  # a tag used only on unpublished articles is not public yet

    def get_subject(self):
        return get_object_or_404(Tag, slug=self.kwargs["slug"])

    def filter_articles(self, queryset):
        return queryset.filter(tags=self.subject)


class RegionArticleListView(ArticleListView):
    """A region's articles with its subregions' (万州区 under 重庆市); an area's with its members'."""

    template_name = "articles/region_detail.html"
    kind = "地区"

    def get_subject(self):
        return get_object_or_404(Region.objects.select_related("parent"), slug=self.kwargs["slug"])

    def filter_articles(self, queryset):
        return queryset.filter(regions__in=Region.objects.in_scope_of(self.subject)).distinct()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = region_article_counts()
        context["subregions"] = [
            region for region in self.subject.children.all() if counts.get(region.pk)
        ]
        context["members"] = list(self.subject.members.all())
        context["areas"] = list(self.subject.areas.all())
        return context


class SourceArticleListView(ArticleListView):
    """Articles a source first published, republished, or supplied data for."""

    template_name = "articles/source_detail.html"
    kind = "来源"
    allow_empty = False

    def get_subject(self):
        return get_object_or_404(Source, slug=self.kwargs["slug"])

    def filter_articles(self, queryset):
        source = self.subject
        return queryset.filter(Q(publisher=source) | Q(syndicator=source) | Q(data_sources=source)).distinct()

    def get_description(self):
        return self.subject.producer and f"数据由{self.subject.producer}发布。"


class AuthorArticleListView(ArticleListView):
    kind = "作者"
    allow_empty = False  # nobody is named in public before one of their articles is published

    def get_subject(self):
        return get_object_or_404(Author, slug=self.kwargs["slug"])

    def filter_articles(self, queryset):
        return queryset.filter(bylines__author=self.subject).distinct()

    def get_description(self):
        return self.subject.bio


def article_detail(request, slug):
    """A published article: its row (the columns the page shows) and its related articles, two queries."""
    article = get_object_or_404(Article.objects.published().only(*PAGE_FIELDS), slug=slug)
    context = {"article": article, **article_context(request, article, page_document.document_for(article))}
    return render(request, DETAIL_TEMPLATE, context)


def article_context(request, article, page):
    """What the article page shows besides the article row: its page document (``articles.page_document``),
    the related articles (one query) and what search engines read."""
    return {
        "page": page,
        "related_articles": related_articles(article),
        "page_meta": page_meta(
            request, title=article.title, description=page["description"],
            path=article.get_absolute_url(), og_type="article", image=page["og_image"],
        ),
        "jsonld_script": jsonld_script(article_jsonld(article, page, request)),
    }


def related_articles(article):
    """The first RELATED_LENGTH of the article's ranked related articles that are published now."""
    ids = page_document.related_ids_of(article)
    if not ids:
        return []
    found = Article.objects.published().filter(pk__in=ids).select_related("lead_image").only(*RELATED_CARD_FIELDS)
    by_pk = {related.pk: related for related in found}
    return [by_pk[pk] for pk in ids if pk in by_pk][:RELATED_LENGTH]


def region_article_counts():
    """{region id: published articles its page lists} for every region listing any, in three queries.

    The same scope as ``Region.objects.in_scope_of()``: its own articles, its subregions', an area's members'.
    """
    direct = defaultdict(set)
    for region_id, article_id in Article.objects.published().filter(regions__isnull=False).values_list("regions", "pk"):
        direct[region_id].add(article_id)
    children = defaultdict(list)
    for pk, parent_id in Region.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    members = defaultdict(list)
    for area_id, member_id in Region.members.through.objects.values_list("from_region_id", "to_region_id"):
        members[area_id].append(member_id)

    below = {}

    def subtree(pk):
        if pk not in below:
            below[pk] = set()  # guards against a cycle in bad data
            found = set(direct.get(pk, ()))
            for child in children.get(pk, ()):
                found |= subtree(child)
            below[pk] = found
        return below[pk]

    counts = {}
    for pk in [pk for pks in children.values() for pk in pks]:
        scope = subtree(pk).union(*(subtree(member) for member in members.get(pk, ())))
        if scope:
            counts[pk] = len(scope)
    return counts


def _render_preview(request, pk):
    """Built from the rows as they are now, whatever the stored document says."""
    article = get_object_or_404(Article.objects.for_export(), pk=pk)
    article.related_ids = page_document.related_candidates(article)
    page = page_document.build(article)
    context = {"article": article, "is_preview": True, **article_context(request, article, page)}
    return render(request, DETAIL_TEMPLATE, context)


@never_cache  # a preview is for whoever asked, now: no shared cache keeps it, no browser reuses it after expiry
@staff_member_required
def preview(request, pk):
    """The public page of any article, for staff who may view it."""
    if not request.user.has_perm("articles.view_article"):
        raise PermissionDenied
    return _render_preview(request, pk)


@never_cache
def signed_preview(request, token):
    """The public page of an article through a signed link that expires."""
    pk = article_id_from_token(token)
    if pk is None or Article.objects.filter(pk=pk, status=Article.Status.TRASHED).exists():  # deleted: the link dies
        raise Http404("预览链接无效或已过期")
    return _render_preview(request, pk)
