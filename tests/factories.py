"""Plain factory functions for tests: defaults, unique values, keyword overrides."""

import itertools
from pathlib import Path

from django.utils import timezone

from articles.models import Article

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
