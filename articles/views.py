"""Public views. Every list and detail starts from Article.objects.published().

Pages: home, the article list, the article page, and lists by tag, region, source and author;
staff previews render the article page for unpublished articles. What each page tells search
engines is built by ``articles.seo``; search, feeds and sitemaps live in their own modules.
"""

from collections import defaultdict

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, Q, Value
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.generic import DetailView, ListView
from taggit.models import Tag

from articles.models import Article, ArticleAuthor, Author, Region, Source, StatisticFigure
from articles.preview import article_id_from_token
from articles.seo import SITE_DESCRIPTION, article_jsonld, jsonld_script, page_meta
from articles.templatetags.articles_tags import remote_src

DETAIL_TEMPLATE = "articles/article_detail.html"
HOME_LENGTH = 12
RELATED_LENGTH = 4
REGION_STRIP_LENGTH = 24
# Cards never show these; an article's raw file and bodies can be hundreds of kilobytes.
CARD_DEFERRED = ("body", "body_html", "body_text", "search_text", "raw_source", "quality_warnings")


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


class ArticleDetailView(DetailView):
    template_name = DETAIL_TEMPLATE

    def get_queryset(self):
        return Article.objects.published().for_export()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(article_context(self.request, self.object))
        return context


def article_context(request, article):
    """What the article page shows besides the article: a constant number of queries (one, for related)."""
    lead = article.lead_image
    lead_in_body = lead is not None and _appears_in(lead, article.body_html)
    shown_lead = lead if lead is not None and not lead_in_body else None
    gallery = [
        placement.image
        for placement in article.gallery.all()
        if placement.image != shown_lead and not _appears_in(placement.image, article.body_html)
    ]
    return {
        "standfirst": "" if _opens_body(article.summary, article.body_text) else article.summary,
        "lead_image": shown_lead,
        "gallery_images": gallery,
        "byline_groups": group_bylines(article.bylines.all()),
        "figures": [f for f in article.figures.all() if f.status == StatisticFigure.Status.VERIFIED],
        "data_sources": sorted(article.data_sources.all(), key=lambda source: source.name),
        "related_articles": related_articles(article),
        "page_meta": page_meta(
            request, title=article.title, description=article.summary or article.body_text,
            path=article.get_absolute_url(), og_type="article", image=lead,
        ),
        "jsonld_script": jsonld_script(article_jsonld(article, request)),
    }


def _opens_body(summary, body_text):
    """Whether the summary is the body's opening paragraph (imported summaries often are): shown once is enough."""
    start = " ".join(summary.split())[:50]
    return bool(start) and start in " ".join(body_text.split())[: len(summary) + 300]


def _appears_in(image, html):
    """Whether the body already shows ``image`` (syndicated bodies often open with the lead picture)."""
    urls = (image.remote_url, remote_src(image.remote_url), image.file.url if image.file else "")
    return any(url and url in html for url in urls)


def group_bylines(bylines):
    """[(role label, [authors])] in the order of ArticleAuthor.Role: 记者, 作者, 摄影, 编辑, 翻译."""
    by_role = defaultdict(list)
    for byline in bylines:
        by_role[byline.role].append(byline.author)
    return [(role.label, by_role[role.value]) for role in ArticleAuthor.Role if by_role.get(role.value)]


def related_articles(article):
    """Up to RELATED_LENGTH published articles sharing the most tags, then the most regions.

    The ranking of taggit's ``similar_objects()`` (shared tags), extended with regions as the
    fallback, in one query that starts from ``published()`` and stops at RELATED_LENGTH:
    ``similar_objects()`` loads every article sharing a tag, drafts included.
    """
    tag_ids = [tag.pk for tag in article.tags.all()]
    region_ids = [region.pk for region in article.regions.all()]
    if not tag_ids and not region_ids:
        return []

    def shared(field, ids):
        if not ids:
            return Value(0, output_field=IntegerField())
        return Count(field, filter=Q(**{f"{field}__in": ids}), distinct=True)

    candidates = Article.objects.filter(Q(tags__in=tag_ids) | Q(regions__in=region_ids)).values("pk")
    return list(
        Article.objects.published()
        .filter(pk__in=candidates)
        .exclude(pk=article.pk)
        .annotate(shared_tags=shared("tags", tag_ids), shared_regions=shared("regions", region_ids))
        .select_related("lead_image")
        .defer(*CARD_DEFERRED)
        .order_by("-shared_tags", "-shared_regions", "-published_at", "-pk")[:RELATED_LENGTH]
    )


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
    article = get_object_or_404(Article.objects.for_export(), pk=pk)
    context = {"article": article, "object": article, "is_preview": True, **article_context(request, article)}
    return render(request, DETAIL_TEMPLATE, context)


@staff_member_required
def preview(request, pk):
    """The public page of any article, for staff who may view it."""
    if not request.user.has_perm("articles.view_article"):
        raise PermissionDenied
    return _render_preview(request, pk)


def signed_preview(request, token):
    """The public page of an article through a signed link that expires."""
    pk = article_id_from_token(token)
    if pk is None:
        raise Http404("预览链接无效或已过期")
    return _render_preview(request, pk)
