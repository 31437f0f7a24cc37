"""The article page's stored document (articles.page_document): what it holds and that it stays fresh.

Every change to something an article page shows (from the ORM, so from the admin, the importer
and the shell alike) must reach the stored document; the page itself must never show stale rows.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from taggit.models import Tag

from articles import page_document
from articles.cache import bump_generation
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure

from .factories import make_article

pytestmark = pytest.mark.django_db


def stored(article) -> dict:
    return Article.objects.get(pk=article.pk).page_document


def page_text(client, article) -> str:
    return client.get(article.get_absolute_url()).content.decode()


def test_document_holds_what_the_page_shows():
    source = Source.objects.create(name="测试晚报", kind=Source.Kind.PUBLISHER, homepage="https://news.example.cn/")
    data = Source.objects.create(name="测试统计局", kind=Source.Kind.DATA)
    chongqing = Region.objects.get(name="重庆市")
    article = make_article(publisher=source, summary="摘要不在正文开头。")
    article.tags.add("智能制造")
    article.regions.add(chongqing)
    article.data_sources.add(data)
    ArticleAuthor.objects.create(article=article, author=Author.objects.create(name="王斌来"), role="reporter")
    ArticleAuthor.objects.create(article=article, author=Author.objects.create(name="何超"), role="photographer")
    StatisticFigure.objects.create(article=article, indicator="地区生产总值", value=1, value_text="7.4 万亿元",
                                   quote="总量达 7.4 万亿元。", start_offset=0, end_offset=5, status="verified")
    StatisticFigure.objects.create(article=article, indicator="候选", value=2, value_text="2 个",
                                   quote="候选。", start_offset=6, end_offset=8)

    document = stored(article)
    assert document["version"] == page_document.version()
    assert document["standfirst"] == "摘要不在正文开头。"
    assert document["publisher"] == {"name": "测试晚报", "url": source.get_absolute_url(),
                                     "homepage": "https://news.example.cn/"}
    assert [s["name"] for s in document["data_sources"]] == ["测试统计局"]
    assert document["regions"] == [{"name": "重庆市", "url": chongqing.get_absolute_url()}]
    assert [t["name"] for t in document["tags"]] == ["智能制造"]
    assert [(g["role"], [a["name"] for a in g["authors"]]) for g in document["bylines"]] == [
        ("reporter", ["王斌来"]), ("photographer", ["何超"]),
    ]
    assert [f["indicator"] for f in document["figures"]] == ["地区生产总值"]  # verified only


@pytest.mark.parametrize("change", ["author", "source", "region", "tag", "image", "figure", "byline"])
def test_renaming_or_editing_what_a_page_shows_reaches_its_document(client, change):
    author = Author.objects.create(name="旧作者")
    source = Source.objects.create(name="旧来源", kind=Source.Kind.PUBLISHER)
    region = Region.objects.create(name="旧地区", kind=Region.Kind.CITY)
    image = Image.objects.create(remote_url="https://img.example.cn/1.jpg", width=800, height=600, caption="旧图注")
    article = make_article(publisher=source, lead_image=image)
    article.tags.add("旧标签")
    article.regions.add(region)
    byline = ArticleAuthor.objects.create(article=article, author=author)
    figure = StatisticFigure.objects.create(article=article, indicator="旧指标", value=1, value_text="1 个",
                                            quote="一个。", start_offset=0, end_offset=3)
    assert "旧作者" in page_text(client, article)

    row, field, value = {
        "author": (author, "name", "新作者"),
        "source": (source, "name", "新来源"),
        "region": (region, "name", "新地区"),
        "tag": (Tag.objects.get(name="旧标签"), "name", "新标签"),
        "image": (image, "caption", "新图注"),
        "figure": (figure, "status", StatisticFigure.Status.VERIFIED),
        "byline": (byline, "role", ArticleAuthor.Role.PHOTOGRAPHER),
    }[change]
    setattr(row, field, value)
    row.save()
    expected = {"figure": "旧指标", "byline": "摄影"}.get(change, value)  # what the page shows for it
    assert expected in str(stored(article))
    assert expected in page_text(client, article)


def test_deleting_a_shown_row_reaches_the_document(client):
    image = Image.objects.create(remote_url="https://img.example.cn/9.jpg", width=800, height=600, caption="题图注")
    author = Author.objects.create(name="将删除")
    article = make_article(lead_image=image)
    byline = ArticleAuthor.objects.create(article=article, author=author)
    article.tags.add("将删除的标签")
    assert "题图注" in page_text(client, article)

    image.delete()  # lead_image is SET_NULL: an UPDATE that sends no signal of its own
    byline.delete()
    Tag.objects.get(name="将删除的标签").delete()
    text = page_text(client, article)
    assert "题图注" not in text and "img.example.cn/9.jpg" not in text
    assert "将删除" not in text
    assert stored(article)["lead_image"] is None and stored(article)["tags"] == []


def test_relinking_regions_and_sources_from_either_side(client):
    region = Region.objects.create(name="链接地区", kind=Region.Kind.CITY)
    data = Source.objects.create(name="链接数据", kind=Source.Kind.DATA)
    article = make_article()
    region.articles.add(article)  # the reverse side: instance is the region, pk_set the articles
    data.data_articles.add(article)
    assert "链接地区" in page_text(client, article) and "链接数据" in page_text(client, article)
    region.articles.clear()  # reverse clear(): no pk_set
    data.data_articles.clear()
    assert "链接地区" not in page_text(client, article)
    assert "链接数据" not in page_text(client, article)


def test_gallery_placements_reach_the_document(client):
    article = make_article()
    image = Image.objects.create(remote_url="https://img.example.cn/5.jpg", width=800, height=600, caption="图集图注")
    placement = ArticleImage.objects.create(article=article, image=image)
    assert [item["image"]["caption"] for item in stored(article)["gallery"]] == ["图集图注"]
    placement.delete()
    assert stored(article)["gallery"] == []


def test_reordering_the_gallery_reaches_the_document():
    from articles.gallery import reorder

    article = make_article()
    first, second = (Image.objects.create(remote_url=f"https://img.example.cn/r{n}.jpg", width=8, height=6,
                                          caption=f"第{n}张") for n in (1, 2))
    ArticleImage.objects.create(article=article, image=first, order=0)
    ArticleImage.objects.create(article=article, image=second, order=1)
    reorder(article, [second.pk, first.pk])  # bulk_update: no signals
    assert [item["image"]["caption"] for item in stored(article)["gallery"]] == ["第2张", "第1张"]


def test_a_newly_published_article_joins_its_neighbours_related_lists(client):
    older = make_article(title="早先的文章")
    older.tags.add("港口")
    assert client.get(older.get_absolute_url()).context["related_articles"] == []

    draft = make_article(title="后来的文章", status=Article.Status.DRAFT, published_at=None)
    draft.tags.add("港口")
    assert client.get(older.get_absolute_url()).context["related_articles"] == []  # drafts never show

    draft.status = Article.Status.PUBLISHED
    draft.published_at = older.published_at
    draft.save()
    assert client.get(older.get_absolute_url()).context["related_articles"] == [draft]
    draft.delete()
    assert client.get(older.get_absolute_url()).context["related_articles"] == []


def test_related_articles_are_ranked_among_the_newest_that_share_a_tag_or_region(monkeypatch):
    """Shared tags first, then shared regions, then newest; counted over the newest RELATED_POOL articles sharing
    any (so a tag on thousands of articles does not make every ranking count them all)."""
    from django.utils import timezone

    now = timezone.now()
    wanzhou = Region.objects.get(name="万州区")
    article = make_article(title="本文")
    article.tags.add("港口", "物流")
    article.regions.add(wanzhou)
    oldest_two_tags = make_article(title="最早，两个标签", published_at=now - timezone.timedelta(days=9))
    oldest_two_tags.tags.add("港口", "物流")
    one_tag = make_article(title="一个标签", published_at=now - timezone.timedelta(days=3))
    one_tag.tags.add("港口")
    region_only = make_article(title="只有地区", published_at=now - timezone.timedelta(days=2))
    region_only.regions.add(wanzhou)
    newest_unrelated = make_article(title="无关", published_at=now - timezone.timedelta(days=1))
    newest_unrelated.tags.add("农业")
    draft = make_article(title="草稿", status=Article.Status.DRAFT, published_at=None)
    draft.tags.add("港口", "物流")

    ranked = page_document.related_candidates(article)
    assert ranked == [oldest_two_tags.pk, one_tag.pk, region_only.pk]
    monkeypatch.setattr(page_document, "RELATED_POOL", 2)  # the oldest falls out of the pool
    assert page_document.related_candidates(article) == [one_tag.pk, region_only.pk]


def test_deferred_refresh_builds_each_document_once():
    article = make_article()
    calls = []
    original = page_document.build

    def counting(article):
        calls.append(article.pk)
        return original(article)

    page_document.build = counting
    try:
        with page_document.deferred_refresh():
            article.tags.add("甲", "乙")
            for name in ("张三", "李四", "王五"):
                ArticleAuthor.objects.create(article=article, author=Author.objects.create(name=name))
            article.save()
            assert calls == []
    finally:
        page_document.build = original
    assert calls == [article.pk]
    assert [a["name"] for a in stored(article)["bylines"][0]["authors"]] == ["张三", "李四", "王五"]


def test_deferred_refresh_refreshes_nothing_when_the_block_fails():
    article = make_article()
    with pytest.raises(RuntimeError), page_document.deferred_refresh():
        ArticleAuthor.objects.create(article=article, author=Author.objects.create(name="失败"))
        raise RuntimeError
    assert stored(article)["bylines"] == []


def test_an_outdated_document_is_never_shown(client):
    article = make_article()
    article.tags.add("过时")
    Article.objects.filter(pk=article.pk).update(page_document={"version": 0, "tags": [{"name": "旧", "url": "/"}]})
    assert "过时" in page_text(client, article)

    out = io.StringIO()
    call_command("refresh_page_documents", stdout=out)
    assert "Refreshed 1 outdated" in out.getvalue()
    assert stored(article)["version"] == page_document.version()


def test_refresh_all_command_rebuilds_after_unsignalled_updates(client):
    article = make_article()
    author = Author.objects.create(name="原名")
    ArticleAuthor.objects.create(article=article, author=author)
    Author.objects.filter(pk=author.pk).update(name="改名")  # QuerySet.update() sends no signal
    assert "原名" in page_text(client, article)
    call_command("refresh_page_documents", "--all", stdout=io.StringIO(), stderr=io.StringIO())
    assert "改名" in page_text(client, article)


def test_the_article_page_reads_two_rows_however_big_the_article(client):
    article = make_article()
    article.tags.add(*[f"标签{i}" for i in range(8)])
    for i in range(8):
        ArticleAuthor.objects.create(article=article, author=Author.objects.create(name=f"作者{i}"), order=i)
        make_article().tags.add(f"标签{i}")
    client.get(article.get_absolute_url())
    bump_generation()  # render, do not serve from the page cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries if q["sql"].startswith("SELECT")]
    assert len(response.context["related_articles"]) == 4
    assert tables.count('"articles_article"') == 2, tables  # the article, then its related articles
    assert len(queries) <= 4
