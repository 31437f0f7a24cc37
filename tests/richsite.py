"""An article with everything an article can carry, built through the real code paths: bylines,
publisher, syndicator, data sources, regions, tags, a gallery of Pillow-made pictures stored with
their renditions (in a chosen order, with captions and a lead image), verified, candidate and
rejected figures with their review records, and revisions. For the trash and backup tests."""

import itertools
from datetime import timedelta

from django.utils import timezone

from articles import figure_review
from articles.gallery import add_images, reorder
from articles.models import Article, ArticleAuthor, Author, Region, Source, StatisticFigure
from articles.revisions import record_revision

from .factories import make_article, png_upload

_n = itertools.count(1)
BODY = (
    "<p>2021年，{place}地区生产总值达到2.79万亿元，比上年增长8.3%。</p>"
    "<p>全年规模以上工业增加值增长10.7%，{place}的智能制造项目超过{n}00个。</p>"
)


def rich_article(*, user, title=None, status=Article.Status.PUBLISHED, published_at=None, pictures=2, **fields):
    """A saved article with every relation filled (see the module docstring); ``user`` reviews and edits."""
    n = next(_n)
    publisher, _ = Source.objects.get_or_create(name="测试日报社", defaults={"kind": Source.Kind.PUBLISHER,
                                                                         "homepage": "https://daily.example.cn/"})
    syndicator, _ = Source.objects.get_or_create(name="测试转载平台", defaults={"kind": Source.Kind.SYNDICATOR})
    bureau = Source.objects.get(name="重庆市统计局")
    region = Region.objects.get(name="万州区")
    if published_at is None and status in (Article.Status.PUBLISHED, Article.Status.ARCHIVED):
        published_at = timezone.now() - timedelta(hours=n)
    article = make_article(
        title=title or f"万州发展报告 {n}", body=BODY.format(place="重庆市万州区", n=n), summary=f"摘要 {n}",
        status=status, published_at=published_at, publisher=publisher, syndicator=syndicator,
        original_url=f"https://daily.example.cn/a/{n}", categories=["新媒体", "ZAKER"], created_by=user,
        source_key=f"test:rich-{n}", **fields,
    )
    article.data_sources.add(bureau)
    article.regions.add(region, Region.objects.get(name="重庆市"))
    article.tags.add("重庆", f"专题{n}")
    reporter, _ = Author.objects.get_or_create(name="王斌来")
    photographer, _ = Author.objects.get_or_create(name="何超")
    ArticleAuthor.objects.create(article=article, author=reporter, role=ArticleAuthor.Role.REPORTER, order=0)
    ArticleAuthor.objects.create(article=article, author=photographer, role=ArticleAuthor.Role.PHOTOGRAPHER, order=1)

    colours = [((40 * n + 60 * i) % 256, (90 + 30 * i) % 256, (150 + 17 * n) % 256) for i in range(pictures)]
    images, errors = add_images(article, [png_upload(f"photo-{n}-{i}.png", c) for i, c in enumerate(colours)],
                                user=user)
    assert not errors and len(images) == pictures
    for i, image in enumerate(images):
        image.caption, image.credit, image.alt_text = f"图说 {n}-{i}", "何超 摄", f"替代文字 {n}-{i}"
        image.photographer = photographer
        image.save()
    if pictures > 1:
        reorder(article, [image.pk for image in reversed(images)])  # the gallery order is not the upload order

    text = Article.objects.get(pk=article.pk).body_text
    verified, candidate, rejected = (
        StatisticFigure.objects.create(
            article=article, indicator=indicator, value=value, value_text=value_text, unit=unit, period="2021",
            quote=text[: text.index("。") + 1], start_offset=0, end_offset=5, region=region, source=bureau,
        )
        for indicator, value, value_text, unit in (
            ("地区生产总值", 2790000000000, "2.79万亿元", "yuan"),
            ("地区生产总值增速", "8.3", "8.3%", "percent"),
            ("规模以上工业增加值增速", "10.7", "10.7%", "percent"),
        )
    )
    figure_review.verify([verified], user=user)
    figure_review.reject([rejected], user=user)
    record_revision(article, user=user, message="新建")
    article.refresh_from_db()
    article.summary = f"改过的摘要 {n}"
    article.save()
    record_revision(article, user=user, message="修改")
    article.refresh_from_db()
    assert candidate.status == StatisticFigure.Status.CANDIDATE
    return article


def article_html(page: str) -> str:
    """The ``<article>`` of an article page (header, lead picture, body, gallery, figures, provenance), with
    the database ids it carries (the figures' anchors) replaced: the same on any copy of the site."""
    import re

    from bs4 import BeautifulSoup

    article = BeautifulSoup(page, "html.parser").select_one("article.article")
    assert article is not None, "no <article> on the page"
    return re.sub(r"figure-\d+", "figure-N", str(article))
