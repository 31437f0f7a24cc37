"""The chunked NDJSON dump (``iter_export_lines``) writes exactly what ``serialize_article`` does."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.export import iter_export_lines, serialize_article
from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure

from .factories import SEED, make_article

pytestmark = pytest.mark.django_db


def make_world(count=8):
    """The seed (images, bylines, regions, sources) plus ``count`` articles with every relation varied."""
    seed = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    seed.tags.add("高质量发展", "重庆")
    regions = list(Region.objects.order_by("pk")[:3])
    data = Source.objects.create(name="数据局", kind=Source.Kind.DATA, homepage="https://data.example/")
    other = Source.objects.create(name="另一个来源", kind=Source.Kind.DATA)
    photographer = Author.objects.create(name="摄影者")
    for status in ("verified", "candidate", "rejected"):
        StatisticFigure.objects.create(
            article=seed, indicator=f"指标{status}", value=Decimal("33.5"), value_end=Decimal("40"),
            value_text="33.5%", unit="percent", direction="increase", quote="原句", start_offset=10,
            end_offset=20, status=status, region=regions[0], source=data,
        )
    StatisticFigure.objects.create(
        article=seed, value=Decimal("7"), value_text="7", quote="原句", start_offset=1, end_offset=2,
        status="verified",
    )
    for n in range(count):
        article = make_article(
            published_at=timezone.now() - timedelta(minutes=n + 1), original_url=f"https://origin.example/{n}",
            publisher=data if n % 2 else None, syndicator=other if n % 3 == 0 else None,
            categories=["经济", f"c{n}"], status="published" if n % 4 else "draft",
        )
        if n % 2:
            article.tags.add(f"标签{n}", "共同")
        article.regions.add(*regions[: n % 4])
        article.data_sources.add(*[data, other][: n % 3])
        for order in range(n % 3):
            ArticleAuthor.objects.create(
                article=article, author=Author.objects.create(name=f"作者{n}-{order}"), role="reporter", order=2 - order,
            )
        for order in range(n % 3):
            image = Image.objects.create(
                remote_url=f"https://img.example/{n}-{order}.jpg", caption=f"图{n}", credit="摄",
                photographer=photographer if order else None, is_placeholder=bool(order),
                renditions=[{"file": f"images/r/{n}.webp", "width": 320}, {"width": 640}],
                file=f"images/2024/01/{n}-{order}.jpg" if order else "", width=800, height=600,
            )
            ArticleImage.objects.create(article=article, image=image, order=order)
        if n % 2:
            article.lead_image = Image.objects.create(
                file=f"images/lead{n}.png", width=10, height=20, photographer=photographer, alt_text="题图",
            )
            article.save()
        if n % 3 == 1:
            StatisticFigure.objects.create(
                article=article, value=Decimal("1.25"), value_text="1.25", quote="句", start_offset=3,
                end_offset=4, status="verified", source=other, region=regions[1],
            )
    return seed


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("base_url", ["", "https://news.example"])
def test_dump_lines_equal_serialize_article(full, base_url):
    make_world()
    expected = [
        json.dumps(serialize_article(article, base_url=base_url, full=full), ensure_ascii=False) + "\n"
        for article in Article.objects.for_export().order_by("pk")
    ]
    assert len(expected) == 9
    documents = [json.loads(line) for line in expected]
    assert any(d["lead_image"] for d in documents) and any(d["images"] for d in documents)
    assert any(d["figures"] for d in documents) and any(d["tags"] for d in documents)
    for chunk_size in (1, 4, 500):
        assert list(iter_export_lines(Article.objects.all(), base_url=base_url, full=full, chunk_size=chunk_size)) == expected


def test_dump_of_a_filtered_queryset():
    make_world()
    published = Article.objects.published()
    expected = [
        json.dumps(serialize_article(article), ensure_ascii=False) + "\n"
        for article in published.for_export().order_by("pk")
    ]
    assert list(iter_export_lines(published, chunk_size=3)) == expected


def test_queries_grow_by_a_fixed_number_per_chunk():
    make_world(count=11)  # 12 articles

    def queries(chunk_size, full):
        with CaptureQueriesContext(connection) as captured:
            lines = list(iter_export_lines(Article.objects.all(), full=full, chunk_size=chunk_size))
        assert len(lines) == 12
        return len(captured)

    for full in (False, True):
        three, four, six = queries(4, full), queries(3, full), queries(2, full)
        per_chunk = four - three
        assert 0 < per_chunk <= 8
        assert six - three == 3 * per_chunk
