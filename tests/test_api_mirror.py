"""End to end: a consumer that follows only the README's sync recipe keeps an exact mirror.

The consumer knows the API from the README and the OpenAPI document only: it keys documents by
``id``, reads ``/api/v1/articles/?updated_since=`` and ``/api/v1/withdrawals/?since=`` from two
watermarks (minus the recommended margin), following ``next``. After a first full sync and a
series of changes (new, edited, figure verified, unpublished, archived, deleted, scheduled going
live, slug changed, slug reused, unpublished and back), one incremental run must leave it with
exactly the documents the detail endpoint serves for the published articles, and the figures
endpoint must agree with the figures inside those documents.
"""

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from taggit.models import Tag

from articles import workflow
from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleAuthor, Author, Region, Source, StatisticFigure

from .factories import SEED, make_article

pytestmark = pytest.mark.django_db

START = datetime(2000, 1, 1, tzinfo=UTC)  # "both 2000-01-01 at first"
MARGIN = timedelta(minutes=5)  # "minus 5 minutes"


class Consumer:
    """The README recipe, nothing more."""

    def __init__(self, client, *, limit):
        self.client = client
        self.limit = limit
        self.mirror = {}  # id -> document
        self.articles_mark = self.withdrawals_mark = START
        self.received = 0

    def pages(self, path, params, between_pages=None):
        response = self.client.get(path, params)
        while True:
            assert response.status_code == 200, response.content
            data = response.json()
            yield from data["results"]
            if data["next"] is None:
                return
            if between_pages:
                between_pages()
            response = self.client.get(data["next"])  # as given: an absolute URL keeping our parameters

    def run(self, between_pages=None):
        since = (self.articles_mark - MARGIN).isoformat()
        for document in self.pages("/api/v1/articles/", {"updated_since": since, "limit": self.limit}, between_pages):
            self.mirror[document["id"]] = document
            self.received += 1
            changed = max(datetime.fromisoformat(document["updated_at"]), datetime.fromisoformat(document["published_at"]))
            self.articles_mark = max(self.articles_mark, changed)
        since = (self.withdrawals_mark - MARGIN).isoformat()
        for row in self.pages("/api/v1/withdrawals/", {"since": since, "limit": self.limit}):
            self.mirror.pop(row["id"], None)
            self.withdrawals_mark = max(self.withdrawals_mark, datetime.fromisoformat(row["withdrawn_at"]))


def published_documents(client):
    """What the site serves: every published article's document from the detail endpoint, by id."""
    documents = {}
    for slug in Article.objects.published().values_list("slug", flat=True):
        response = client.get(f"/api/v1/articles/{slug}/")
        assert response.status_code == 200
        document = response.json()["result"]
        documents[document["id"]] = document
    return documents


def add_figure(article, indicator, status):
    return StatisticFigure.objects.create(
        article=article, indicator=indicator, value=Decimal("12.5"), value_text="12.5%", unit="percent", period="2021",
        quote=f"{indicator}增长 12.5%。", start_offset=0, end_offset=5, status=status,
        region=Region.objects.get(name="重庆市"), source=Source.objects.get(name="重庆市统计局"),
    )


def canonical(rows):
    return Counter(json.dumps(row, sort_keys=True, ensure_ascii=False) for row in rows)


def all_figures(client, **params):
    rows, response = [], client.get("/api/v1/figures/", {"limit": 2, **params})
    while True:
        data = response.json()
        rows += data["results"]
        if data["next"] is None:
            return rows
        response = client.get(data["next"])


@pytest.fixture
def world(clock, editor):
    """An hour between writes, so the incremental run has something to skip."""
    articles = {}
    articles["seed"] = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    reporter = Author.objects.create(name="共同记者")
    for name in ("edited", "figures", "unpublished", "archived", "deleted", "renamed", "reused", "back", "quiet"):
        clock.advance(hours=1)
        article = make_article(title=f"{name} 的标题", summary=f"{name} 摘要", published_at=clock.now - timedelta(days=1))
        article.tags.add("共同标签", name)
        article.regions.add(Region.objects.get(name="万州区"))
        ArticleAuthor.objects.create(article=article, author=reporter, role="reporter")
        articles[name] = article
    add_figure(articles["figures"], "规模以上工业增加值", StatisticFigure.Status.VERIFIED)
    add_figure(articles["figures"], "社会消费品零售总额", StatisticFigure.Status.CANDIDATE)
    add_figure(articles["seed"], "地区生产总值", StatisticFigure.Status.VERIFIED)
    clock.advance(hours=1)
    articles["draft"] = make_article(title="草稿", status=Article.Status.DRAFT)
    articles["scheduled"] = make_article(title="定时", published_at=clock.now + timedelta(days=1, hours=1))
    articles["old archive"] = make_article(title="旧归档", status=Article.Status.ARCHIVED)
    clock.advance(days=1)
    return articles


@pytest.fixture
def editor(admin_user):
    return admin_user


def test_a_consumer_following_the_readme_mirrors_every_published_article(client, clock, world, editor):
    consumer = Consumer(client, limit=2)

    # --- first run: everything, page by page; one article is edited while the consumer pages
    def edit_while_paging():
        if not hasattr(edit_while_paging, "done"):
            edit_while_paging.done = True
            article = world["edited"]  # the oldest change: on the first page
            article.summary = "翻页时改过的摘要"
            article.save()

    consumer.run(between_pages=edit_while_paging)
    assert consumer.mirror == published_documents(client)
    assert consumer.mirror[world["edited"].pk]["summary"] == "翻页时改过的摘要"
    assert len(consumer.mirror) == 10 and consumer.received == 11  # the edited one came twice
    first_run = consumer.received

    # --- a day of changes, a minute apart
    def then(change):
        clock.advance(minutes=1)
        change()

    new = {}
    then(lambda: new.setdefault("article", make_article(title="新文章")))
    then(lambda: new["article"].tags.add("共同标签"))

    def edit():
        article = world["edited"]
        article.title, article.body = "改过的标题", "<p>改过的正文</p>"
        article.save()

    then(edit)

    def verify():
        figure = world["figures"].figures.get(status=StatisticFigure.Status.CANDIDATE)
        figure.status = StatisticFigure.Status.VERIFIED
        figure.save()

    then(verify)
    then(lambda: workflow.unpublish(Article.objects.filter(pk=world["unpublished"].pk), user=editor))
    then(lambda: workflow.archive(Article.objects.filter(pk=world["archived"].pk), user=editor))
    deleted_slug = world["deleted"].slug
    then(lambda: world["deleted"].delete())
    then(lambda: new.setdefault("reuse", make_article(title="用旧网址的新文章", slug=deleted_slug)))

    def rename():
        article = world["renamed"]
        article.slug = "xin-wang-zhi"
        article.save()

    then(rename)
    then(lambda: workflow.unpublish(Article.objects.filter(pk=world["back"].pk), user=editor))
    then(lambda: workflow.publish(Article.objects.filter(pk=world["back"].pk), user=editor))

    def rename_tag():
        tag = Tag.objects.get(name="共同标签")
        tag.name = "改名的共同标签"
        tag.save()

    then(rename_tag)
    clock.advance(hours=1)  # the scheduled article's time has come

    # --- second run: only what changed
    consumer.received = 0
    consumer.run()
    expected = published_documents(client)
    assert consumer.mirror == expected
    assert world["scheduled"].pk in expected and new["reuse"].pk in expected and world["back"].pk in expected
    assert not {world[name].pk for name in ("unpublished", "archived", "draft", "old archive")} & set(expected)
    assert expected[new["reuse"].pk]["slug"] == deleted_slug and consumer.mirror[world["renamed"].pk]["slug"] == "xin-wang-zhi"
    assert consumer.received < first_run  # incremental: what changed (and the margin), not everything
    assert {"规模以上工业增加值", "社会消费品零售总额"} <= {
        f["indicator"] for f in consumer.mirror[world["figures"].pk]["figures"]
    }

    # --- a third run with nothing new changes nothing
    consumer.run()
    assert consumer.mirror == expected

    # --- the dump and the figures endpoint agree with the mirror
    dump = client.get("/api/v1/export.ndjson")
    lines = b"".join(dump.streaming_content).decode().splitlines()
    assert {d["id"]: d for d in map(json.loads, lines)} == consumer.mirror
    mirrored_figures = [figure for document in consumer.mirror.values() for figure in document["figures"]]
    assert canonical(all_figures(client)) == canonical(mirrored_figures)
    by_url = {document["url"]: document["slug"] for document in consumer.mirror.values()}
    assert all(by_url[figure["article_url"]] == figure["article"] for figure in mirrored_figures)
    csv_rows = list(csv.DictReader(io.StringIO(
        b"".join(client.get("/api/v1/figures/", {"format": "csv"}).streaming_content).decode("utf-8-sig"))))
    assert Counter((r["article"], r["indicator"]) for r in csv_rows) == Counter(
        (f["article"], f["indicator"]) for f in mirrored_figures)
    wanzhou = Region.objects.get(name="重庆市").slug
    assert canonical(all_figures(client, region=wanzhou)) == canonical(
        f for f in mirrored_figures if f["region"] and f["region"]["slug"] == wanzhou)
