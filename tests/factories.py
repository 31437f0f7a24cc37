"""Plain factory functions for tests: defaults, unique values, keyword overrides."""

import io
import itertools
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as PILImage

from articles.gallery import add_images
from articles.models import Article, ArticleAuthor, Author, Region, Source, StatisticFigure
from articles.revisions import record_revision

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed_chongqing.md"
_counter = itertools.count(1)

FRONT_MATTER = """
---
title: '{title}'
categories:
 - 新媒体
 - ZAKER
 - source
author: ZAKER
comments: false
date: {date}
---

<div>
{body}
</div>
"""


def make_markdown(*, title=None, date="Mon, 01 Aug 2022 02:00:00 GMT", body=None) -> str:
    n = next(_counter)
    title = title or f"测试文章 {n}"
    body = body or f"<p>重庆市第{n}个测试段落，内容足够长，用来确认导入器保留每一个自然段落的文字和顺序。</p>" * 3
    return FRONT_MATTER.format(title=title, date=date, body=body)


def write_markdown(folder: Path, name: str, **kwargs) -> Path:
    path = folder / name
    path.write_text(make_markdown(**kwargs), encoding="utf-8")
    return path


def make_article(**overrides) -> Article:
    n = next(_counter)
    fields = {
        "title": f"文章 {n}",
        "body": f"<p>正文 {n}</p>",
        "status": Article.Status.PUBLISHED,
        "published_at": timezone.now() - timezone.timedelta(hours=1),
    }
    fields.update(overrides)
    return Article.objects.create(**fields)


def make_article_in_each_state(*, title="{state}-标题", summary=None) -> dict:
    """One article per state (published, draft, review, scheduled, archived), all sharing a tag
    (重庆), a region (万州区), a publisher and data source, and a reporter: to check that only
    the published one ever shows. ``title``/``summary`` are formats with ``{state}``."""
    wanzhou = Region.objects.get(name="万州区")
    source = Source.objects.create(name="测试日报", kind=Source.Kind.PUBLISHER)
    author = Author.objects.create(name="共同作者")
    now = timezone.now()
    states = {
        "published": {"status": Article.Status.PUBLISHED, "published_at": now - timedelta(hours=2)},
        "draft": {"status": Article.Status.DRAFT},
        "review": {"status": Article.Status.REVIEW},
        "scheduled": {"status": Article.Status.PUBLISHED, "published_at": now + timedelta(days=1)},
        "archived": {"status": Article.Status.ARCHIVED, "published_at": now - timedelta(days=3)},
    }
    articles = {}
    for state, fields in states.items():
        extra = {"summary": summary.format(state=state)} if summary else {}
        article = make_article(title=title.format(state=state), publisher=source, **extra, **fields)
        article.tags.add("重庆")
        article.regions.add(wanzhou)
        article.data_sources.add(source)
        ArticleAuthor.objects.create(article=article, author=author, role=ArticleAuthor.Role.REPORTER)
        articles[state] = article
    return articles


def image_bytes(img: PILImage.Image, fmt: str, **options) -> bytes:
    """The file Pillow writes for ``img`` in format ``fmt`` (``options`` go to ``Image.save``)."""
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


def png_upload(name, colour, size=(900, 600)) -> SimpleUploadedFile:
    """An uploaded PNG file called ``name``, one ``colour`` all over, as a form would receive it."""
    return SimpleUploadedFile(name, image_bytes(PILImage.new("RGB", size, colour), "PNG"), content_type="image/png")


def make_rich_article(*, editor, uploads, remote_images=(), tags=(), indicator="地区生产总值", **overrides) -> Article:
    """A published article with something for every part of its page: a gallery of ``uploads`` (the first becomes
    the lead picture, left out of the gallery shown) followed by ``remote_images``, the region 重庆市, ``tags``,
    two verified figures of ``indicator`` (2022 and 2023: a chart) and two revisions by ``editor`` (the second
    changes the summary). ``overrides`` go to ``make_article`` (the title, the body...)."""
    fields = {
        "title": "两江新区智能制造提速",
        "body": "<p>重庆市地区生产总值达 2.9 万亿元，智能制造提速。</p>",
        "published_at": timezone.now() - timedelta(hours=2),
    }
    article = make_article(**(fields | overrides))
    images, errors = add_images(article, uploads)
    assert errors == [] and len(images) == len(uploads)
    for order, image in enumerate(remote_images, start=len(uploads)):
        article.gallery.create(image=image, order=order)
    if tags:
        article.tags.add(*tags)
    chongqing = Region.objects.get(name="重庆市")
    article.regions.add(chongqing)
    for year, value in (("2022", "2.9"), ("2023", "3.0")):
        StatisticFigure.objects.create(
            article=article, status=StatisticFigure.Status.VERIFIED, indicator=indicator, value=Decimal(value),
            value_text=f"{value} 万亿元", unit="yuan", period=year, region=chongqing,
            quote=f"{indicator}达 {value} 万亿元", start_offset=0, end_offset=10,
        )
    record_revision(article, user=editor, message="第一版")
    article.summary = "改过的摘要"
    article.save()
    record_revision(article, user=editor, message="第二版")
    article.refresh_from_db()
    return article


def client_for(user):
    """A test client logged in as ``user``."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
