"""The updated_since feed sees every change to a public document, and scheduled articles when their time comes.

Each change happens one minute after the article was last synced (``clock``, no sleeps): the
article must come back through ``updated_since=<that minute>`` with the new document, its
``updated_at`` moved, or, for a change the document does not show, stay out of it.
"""

import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image as PILImage
from taggit.models import Tag

from articles import gallery
from articles.merge import merge_sources
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure

from .adminform import form_data
from .factories import make_article

pytestmark = pytest.mark.django_db

ARTICLES = "/api/v1/articles/"
WITHDRAWALS = "/api/v1/withdrawals/"
VERIFIED, CANDIDATE, REJECTED = (StatisticFigure.Status.VERIFIED, StatisticFigure.Status.CANDIDATE,
                                 StatisticFigure.Status.REJECTED)


def feed(client, since, url=ARTICLES, key="updated_since"):
    """Every document of the sync feed (or the withdrawals) from ``since``, following ``next``."""
    rows, url, params = [], url, {key: since.isoformat(), "limit": 2}
    while url:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        data, params = response.json(), None
        rows += data["results"]
        url = data["next"]
    return rows


def add_figure(article, status=VERIFIED, **fields):
    values = {"indicator": "地区生产总值", "value": Decimal("2.9"), "value_text": "2.9 万亿元", "quote": "总量 2.9 万亿元。",
              "start_offset": 0, "end_offset": 5, "status": status}
    return StatisticFigure.objects.create(article=article, **{**values, **fields})


def png(name="photo.png"):
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), (10, 120, 60)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


@pytest.fixture
def rich(clock):
    """A published article showing one of everything, and a bystander sharing nothing with it."""
    article = make_article(title="丰富的文章", publisher=Source.objects.create(name="原发报", kind=Source.Kind.PUBLISHER))
    article.regions.add(Region.objects.get(name="万州区"))
    article.data_sources.add(Source.objects.create(name="数据局", kind=Source.Kind.DATA))
    article.tags.add("同步")
    ArticleAuthor.objects.create(article=article, author=Author.objects.create(name="记者甲"), role="reporter")
    for order in range(2):
        image = Image.objects.create(remote_url=f"https://img.example/{order}.jpg", caption=f"图 {order}")
        ArticleImage.objects.create(article=article, image=image, order=order)
    article.lead_image = image
    article.save()
    add_figure(article, status=VERIFIED, indicator="已核实")
    add_figure(article, status=CANDIDATE, indicator="待核实")
    make_article(title="旁观者")
    clock.advance(minutes=1)
    return Article.objects.get(pk=article.pk)


def figure(article, indicator):
    return article.figures.get(indicator=indicator)


def save_figure(owner, indicator, **changes):
    row = figure(owner, indicator)
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()


def rename(row, name="新名字"):
    row.name = name
    row.save()


CHANGES = {
    # figures: only verified ones are public
    "figure verified": lambda a: save_figure(a, "待核实", status=VERIFIED),
    "verified figure edited": lambda a: save_figure(a, "已核实", value_text="3.0 万亿元"),
    "verified figure rejected": lambda a: save_figure(a, "已核实", status=REJECTED),
    "verified figure deleted": lambda a: figure(a, "已核实").delete(),
    "verified figure added": lambda a: add_figure(a, indicator="新数字"),
    "verified figure moved to another article": lambda a: save_figure(
        a, "已核实", article=make_article(status=Article.Status.DRAFT)),
    "figure's region renamed": lambda a: (save_figure(a, "已核实", region=Region.objects.get(name="重庆市")),
                                          rename(Region.objects.get(name="重庆市"), "重庆")),
    # tags
    "tag added": lambda a: a.tags.add("新标签"),
    "tag removed": lambda a: a.tags.remove("同步"),
    "tags cleared": lambda a: a.tags.clear(),
    "tag renamed": lambda a: rename(Tag.objects.get(name="同步")),
    "tag deleted": lambda a: Tag.objects.get(name="同步").delete(),
    # regions
    "region added": lambda a: a.regions.add(Region.objects.get(name="成都市")),
    "region removed": lambda a: a.regions.clear(),
    "article added to a region": lambda a: Region.objects.get(name="成都市").articles.add(a),
    "region's articles cleared": lambda a: Region.objects.get(name="万州区").articles.clear(),
    "region renamed": lambda a: rename(Region.objects.get(name="万州区")),
    "region deleted": lambda a: Region.objects.get(name="万州区").delete(),
    # sources
    "data source added": lambda a: a.data_sources.add(Source.objects.get(name="重庆市统计局")),
    "article added to a source's data": lambda a: Source.objects.get(name="重庆市统计局").data_articles.add(a),
    "data source renamed": lambda a: rename(Source.objects.get(name="数据局")),
    "publisher renamed": lambda a: rename(a.publisher),
    "publisher deleted": lambda a: a.publisher.delete(),
    "publishers merged": lambda a: merge_sources(keep=Source.objects.create(name="合并后", kind="publisher"),
                                                 duplicates=[a.publisher]),
    # authors
    "byline added": lambda a: ArticleAuthor.objects.create(article=a, author=Author.objects.create(name="乙"), role="editor"),
    "byline added through the m2m": lambda a: a.authors.add(Author.objects.create(name="丙"),
                                                            through_defaults={"role": "writer"}),
    "byline removed": lambda a: a.bylines.get().delete(),
    "author renamed": lambda a: rename(Author.objects.get(name="记者甲")),
    # images
    "gallery image added": lambda a: gallery.add_images(a, [png()]),
    "gallery image removed": lambda a: a.gallery.first().delete(),
    "gallery reordered": lambda a: gallery.reorder(a, [p.image_id for p in a.gallery.order_by("-order")]),
    "image caption edited": lambda a: (setattr(img := a.gallery.first().image, "caption", "新说明"), img.save()),
    "lead image changed": lambda a: gallery.set_lead_image(a, a.gallery.first().image),
    "lead image deleted": lambda a: a.lead_image.delete(),
    # the article itself, including saves naming their fields
    "title saved with update_fields": lambda a: (setattr(a, "title", "新标题"), a.save(update_fields=["title"])),
    "lead image saved with update_fields": lambda a: (setattr(a, "lead_image", None), a.save(update_fields=["lead_image"])),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_to_a_document_moves_it_into_the_feed(client, clock, rich, change):
    since = clock.now
    before = client.get(f"{ARTICLES}{rich.slug}/").json()["result"]
    assert feed(client, since) == []
    clock.advance(minutes=1)
    CHANGES[change](rich)
    after = client.get(f"{ARTICLES}{rich.slug}/").json()["result"]
    assert after != before  # the change shows...
    documents = feed(client, since)
    assert [d["id"] for d in documents] == [rich.pk]  # ...and reaches the feed, the bystander does not
    assert documents[0] == after and after["updated_at"] == clock.now.isoformat()


UNSEEN = {
    "candidate figure edited": lambda a: save_figure(a, "待核实", value_text="9 亿元"),
    "candidate figure rejected": lambda a: save_figure(a, "待核实", status=REJECTED),
    "candidate figure added": lambda a: add_figure(a, status=CANDIDATE, indicator="又一个"),
    "unrelated source renamed": lambda a: rename(Source.objects.get(name="重庆市统计局")),
    "import bookkeeping saved": lambda a: (setattr(a, "import_checksum", "x"), a.save(update_fields=["import_checksum"])),
}


@pytest.mark.parametrize("change", UNSEEN)
def test_changes_the_document_does_not_show_leave_it_alone(client, clock, rich, change):
    since = clock.now
    before = client.get(f"{ARTICLES}{rich.slug}/").json()["result"]
    clock.advance(minutes=1)
    UNSEEN[change](rich)
    assert client.get(f"{ARTICLES}{rich.slug}/").json()["result"] == before
    assert feed(client, since) == []


def test_figure_verified_in_the_admin_moves_its_article(admin_client, clock, rich):
    since = clock.now
    clock.advance(minutes=1)
    candidate = figure(rich, "待核实")
    url = reverse("admin:articles_statisticfigure_change", args=[candidate.pk])
    data = form_data(admin_client.get(url))
    data["status"] = VERIFIED
    assert admin_client.post(url, data).status_code == 302
    [document] = feed(admin_client, since)
    assert {f["indicator"] for f in document["figures"]} == {"已核实", "待核实"}
    assert {row["indicator"] for row in admin_client.get("/api/v1/figures/").json()["results"]} == {"已核实", "待核实"}


def test_source_renamed_in_the_admin_moves_its_articles(admin_client, clock, rich):
    since = clock.now
    clock.advance(minutes=1)
    url = reverse("admin:articles_source_change", args=[rich.publisher_id])
    data = form_data(admin_client.get(url))
    data["name"] = "改名的报纸"
    assert admin_client.post(url, data).status_code == 302
    [document] = feed(admin_client, since)
    assert document["publisher"]["name"] == "改名的报纸"


# --- scheduled articles --------------------------------------------------------------------------------------------


def test_a_scheduled_article_reaches_a_consumer_that_synced_before_its_time(client, clock):
    scheduled = make_article(title="定时", published_at=clock.now + timedelta(days=2))  # saved long before
    clock.advance(days=1)
    make_article(title="已发布")
    documents = feed(client, clock.now - timedelta(days=30))
    assert [d["title"] for d in documents] == ["已发布"]
    since = max(datetime.fromisoformat(d[key]) for d in documents for key in ("updated_at", "published_at"))
    assert since == clock.now  # the watermark: no later than the sync
    assert client.get(f"{ARTICLES}{scheduled.slug}/").status_code == 404

    clock.advance(days=1, seconds=-1)  # one second before its time: still nothing new
    assert [d["title"] for d in feed(client, since)] == ["已发布"]  # the inclusive boundary repeats the last one
    assert feed(client, since, WITHDRAWALS, "since") == []
    clock.advance(seconds=1)  # its time has come, with no save to announce it
    assert [d["title"] for d in feed(client, since)] == ["已发布", "定时"]
    document = feed(client, since)[-1]
    assert document["slug"] == scheduled.slug and document["published_at"] == clock.now.isoformat()
    assert document == client.get(f"{ARTICLES}{scheduled.slug}/").json()["result"]
    assert client.get(ARTICLES).json()["results"][0]["slug"] == scheduled.slug  # newest first, too
    assert feed(client, since, WITHDRAWALS, "since") == []


def test_changed_at_is_the_later_of_updated_and_published(client, clock):
    backdated = make_article(title="补发", published_at=clock.now - timedelta(days=400))  # published now, dated last year
    rescheduled = make_article(title="改期")
    rescheduled.published_at = clock.now + timedelta(hours=1)
    rescheduled.save()
    clock.advance(hours=2)
    documents = feed(client, clock.now - timedelta(hours=3))
    assert [d["id"] for d in documents] == [backdated.pk, rescheduled.pk]  # oldest change first


def test_a_save_reads_the_stored_article_row_once():
    """The withdrawal record and the page document's neighbours both compare the row before and after a save:
    they share one read of it (articles.shown.stored_before_save)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    article = make_article()
    article.title = "新标题"
    with CaptureQueriesContext(connection) as queries:
        article.save()
    statements = [q["sql"] for q in queries]
    update = next(i for i, sql in enumerate(statements) if sql.startswith('UPDATE "articles_article"'))
    reads = [sql for sql in statements[:update] if sql.startswith("SELECT") and 'FROM "articles_article"' in sql]
    assert len(reads) == 1, reads


def test_an_import_moves_the_articles_updated_at_once_after_writing_its_rows(tmp_path):
    """Each byline, picture, tag and region an import writes would touch the article; inside the import's
    transaction they are collected into one UPDATE, which still comes after the rows (so the feed has it). A new
    article is not touched at all: its rows come in its own transaction, with the updated_at of its INSERT."""
    from pathlib import Path

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from articles.importer.run import import_markdown_file

    seed = Path(__file__).parent / "data" / "seed_chongqing.md"

    def import_touches(path):
        with CaptureQueriesContext(connection) as captured:
            result = import_markdown_file(path, publish=True)
        sql = [query["sql"] for query in captured.captured_queries]
        touches = [n for n, text in enumerate(sql) if text.startswith('UPDATE "articles_article" SET "updated_at"')]
        rows = [n for n, text in enumerate(sql) if text.startswith(('INSERT INTO "articles_articleauthor"',
                                                                    'INSERT INTO "taggit_taggeditem"'))]
        return result, touches, rows

    result, touches, rows = import_touches(seed)
    assert result.status == "created" and rows and touches == []
    created = Article.objects.get(slug=result.slug)

    changed = tmp_path / seed.name  # the same story (its ZAKER id), edited at the source: an update
    changed.write_text(seed.read_text(encoding="utf-8").replace("重庆", "重庆市", 1), encoding="utf-8")
    result, touches, rows = import_touches(changed)
    assert result.status == "updated"
    assert len(touches) == 1 and touches[0] > max(rows)
    assert Article.objects.get(pk=created.pk).updated_at > created.updated_at
