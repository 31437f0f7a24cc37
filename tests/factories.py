"""Plain factory functions for tests: defaults, unique values, keyword overrides."""

import itertools
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from articles.models import Article, ArticleAuthor, Author, Region, Source

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


def client_for(user):
    """A test client logged in as ``user``."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
