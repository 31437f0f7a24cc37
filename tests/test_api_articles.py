"""The JSON API's article endpoints: /api/v1/articles/, /api/v1/articles/<slug>/, /api/v1/export.ndjson."""

import io
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image as PILImage
from taggit.models import Tag

from articles.cache import bump_generation
from articles.export import EXPORT_SCHEMA_VERSION, iter_export_lines
from articles.images import store_uploaded_image
from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source

from .factories import SEED, make_article, make_article_in_each_state

pytestmark = pytest.mark.django_db

LIST = "/api/v1/articles/"
NDJSON = "/api/v1/export.ndjson"
HIDDEN = ("draft", "review", "scheduled", "archived")


@pytest.fixture
def seed():
    return Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)


@pytest.fixture
def world():
    return make_article_in_each_state(title="{state}-重庆标题")


def region(name):
    return Region.objects.get(name=name).slug


def tag(name):
    return Tag.objects.get(name=name).slug


def slugs(response):
    assert response.status_code == 200, response.content
    return [document["slug"] for document in response.json()["results"]]


def all_pages(client, url):
    seen = []
    while url:
        data = client.get(url).json()
        seen += [document["slug"] for document in data["results"]]
        url = data["next"]
    return seen


def ndjson(client, url=NDJSON):
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


def png_upload(name="photo.png"):
    out = io.BytesIO()
    PILImage.new("RGB", (700, 400), (120, 90, 60)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


# --- the document -----------------------------------------------------------------------------------------


def test_seed_document_shape(client, seed):
    response = client.get(LIST)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "重庆" in response.content.decode()  # UTF-8, not \u escapes
    data = response.json()
    assert data["version"] == EXPORT_SCHEMA_VERSION and data["next"] is None
    [document] = data["results"]
    assert document["url"] == f"http://testserver/articles/{seed.slug}/"
    assert "status" not in document and "raw_source" not in document and "body" not in document
    assert [(a["name"], a["role"]) for a in document["authors"]][:2] == [("王斌来", "reporter"), ("崔佳", "reporter")]
    assert set(document["publisher"]) >= {"name", "slug", "url"}
    assert {"name": "重庆市", "slug": region("重庆市"), "code": "500000"}.items() <= next(
        r for r in document["regions"] if r["name"] == "重庆市").items()
    image = document["images"][0]
    assert set(image) == {"url", "width", "height", "alt", "caption", "credit", "renditions"}
    assert image["url"].startswith("http") and image["renditions"] == []
    assert document["published_at"].endswith("+00:00") or "+" in document["published_at"]
    detail = client.get(f"{LIST}{seed.slug}/").json()
    assert detail["version"] == EXPORT_SCHEMA_VERSION and detail["result"] == document


def test_stored_image_has_absolute_url_and_renditions(client):
    stored = store_uploaded_image(png_upload())
    article = make_article(lead_image=stored)
    ArticleImage.objects.create(article=article, image=stored, order=0)
    document = client.get(f"{LIST}{article.slug}/").json()["result"]
    image = document["images"][0]
    assert image == document["lead_image"]
    assert image["url"].startswith("http://testserver/media/") and image["width"] == 700
    assert image["renditions"] and all(r["url"].startswith("http://testserver/media/") for r in image["renditions"])
    assert {r["format"] for r in image["renditions"]} >= {"webp"}
    assert all(set(r) == {"url", "width", "format"} for r in image["renditions"])


# --- published only -----------------------------------------------------------------------------------------


def test_only_published_articles_anywhere(client, world):
    public = world["published"].slug
    assert slugs(client.get(LIST)) == [public]
    for query in (f"region={region('万州区')}", f"tag={tag('重庆')}", f"source={world['published'].publisher.slug}",
                  f"author={Author.objects.get().slug}", "q=重庆标题", "updated_since=2000-01-01", "limit=1"):
        assert all_pages(client, f"{LIST}?{query}") == [public], query
    assert [d["slug"] for d in ndjson(client)] == [public]
    for state in HIDDEN:
        response = client.get(f"{LIST}{world[state].slug}/")
        assert response.status_code == 404 and response.json() == {"error": {"message": "not found"}}
    assert client.get(f"{LIST}no-such-article/").status_code == 404


def test_filters_of_draft_only_subjects_are_unknown(client, world):
    draft = world["draft"]
    draft.tags.add("草稿专用")
    ArticleAuthor.objects.create(article=draft, author=Author.objects.create(name="草稿作者"), role="writer")
    for query, name in ((f"tag={tag('草稿专用')}", "tag"), (f"author={Author.objects.get(name='草稿作者').slug}", "author")):
        response = client.get(f"{LIST}?{query}")
        assert response.status_code == 400 and response.json()["error"]["parameter"] == name


# --- filters --------------------------------------------------------------------------------------------------


def test_each_filter(client, seed):
    wanzhou = Region.objects.get(name="万州区")
    other_source = Source.objects.create(name="另一家报", kind=Source.Kind.PUBLISHER)
    in_wanzhou = make_article(title="万州新闻", publisher=other_source, published_at=timezone.now() - timedelta(days=1))
    in_wanzhou.regions.add(wanzhou)
    in_wanzhou.tags.add("万州测试专题")
    ArticleAuthor.objects.create(article=in_wanzhou, author=Author.objects.create(name="万州记者"), role="reporter")
    elsewhere = make_article(title="成都新闻", published_at=timezone.now() - timedelta(days=2))
    elsewhere.regions.add(Region.objects.get(name="成都市"))

    assert set(slugs(client.get(f"{LIST}?region={region('重庆市')}"))) == {seed.slug, in_wanzhou.slug}  # with child regions
    assert in_wanzhou.slug in slugs(client.get(f"{LIST}?region={region('万州区')}"))
    assert elsewhere.slug not in slugs(client.get(f"{LIST}?region={region('重庆市')}"))
    chengdu = Region.objects.get(name="成都市")
    area = next((a for a in Region.objects.filter(kind=Region.Kind.AREA) if chengdu in Region.objects.in_scope_of(a)), None)
    if area is not None:  # 成渝地区双城经济圈: its members' articles
        assert elsewhere.slug in slugs(client.get(f"{LIST}?region={area.slug}"))
    assert slugs(client.get(f"{LIST}?tag={tag('万州测试专题')}")) == [in_wanzhou.slug]
    assert slugs(client.get(f"{LIST}?source={other_source.slug}")) == [in_wanzhou.slug]
    assert slugs(client.get(f"{LIST}?source=ren-min-ri-bao")) == [seed.slug]
    assert slugs(client.get(f"{LIST}?author={Author.objects.get(name='万州记者').slug}")) == [in_wanzhou.slug]
    assert slugs(client.get(f"{LIST}?author=wang-bin-lai")) == [seed.slug]
    assert slugs(client.get(f"{LIST}?q=智能制造")) == [seed.slug]
    assert slugs(client.get(f"{LIST}?q=万州新闻&region={region('重庆市')}")) == [in_wanzhou.slug]
    assert slugs(client.get(f"{LIST}?q=成都新闻&region={region('万州区')}")) == []
    day = timezone.localtime(in_wanzhou.published_at).date()
    assert slugs(client.get(f"{LIST}?published_after={day}&published_before={day + timedelta(days=1)}")) == [in_wanzhou.slug]
    moment = in_wanzhou.published_at.isoformat()
    assert in_wanzhou.slug in slugs(client.get(f"{LIST}?published_after={moment.replace('+', '%2B')}"))
    assert in_wanzhou.slug not in slugs(client.get(f"{LIST}?published_before={moment.replace('+', '%2B')}"))
    naive = timezone.localtime(in_wanzhou.published_at).replace(tzinfo=None).isoformat()  # Asia/Shanghai
    assert in_wanzhou.slug in slugs(client.get(f"{LIST}?published_after={naive}"))


# --- pagination -----------------------------------------------------------------------------------------------


def test_cursor_pages_stay_stable_while_articles_are_added(client):
    now = timezone.now()
    made = [make_article(published_at=now - timedelta(hours=n)) for n in range(1, 8)]
    first = client.get(f"{LIST}?limit=3").json()
    assert [d["slug"] for d in first["results"]] == [a.slug for a in made[:3]]
    assert first["next"].startswith("http://testserver/api/v1/articles/?") and "limit=3" in first["next"]
    make_article(published_at=now - timedelta(minutes=1))  # newer: would shift an offset page
    seen = [d["slug"] for d in first["results"]] + all_pages(client, first["next"])
    assert seen == [a.slug for a in made]


def test_updated_since_orders_by_change_for_sync(client):
    now = timezone.now()
    old, middle, new = (make_article(published_at=now - timedelta(days=n)) for n in (3, 2, 1))
    mirror = {}
    since = "2000-01-01T00:00:00Z"
    url = f"{LIST}?updated_since={since}&limit=2"
    data = client.get(url).json()
    assert [d["slug"] for d in data["results"]] == [old.slug, middle.slug]  # oldest change first
    mirror.update({d["slug"]: d for d in data["results"]})
    old.title = "改过的标题"
    old.save()  # edited while paging: moves to the end, delivered again
    while data["next"]:
        data = client.get(data["next"]).json()
        mirror.update({d["slug"]: d for d in data["results"]})
    assert mirror[old.slug]["title"] == "改过的标题" and set(mirror) == {old.slug, middle.slug, new.slug}

    # The next sync starts from the latest change seen: only what changed since.
    watermark = max(max(d["updated_at"], d["published_at"]) for d in mirror.values())
    middle.summary = "新摘要"
    middle.save()
    changed = all_pages(client, f"{LIST}?updated_since={watermark.replace('+', '%2B')}")
    assert middle.slug in changed and new.slug not in changed


def test_scheduled_article_reaches_a_sync_when_it_goes_public(client):
    scheduled = make_article(published_at=timezone.now() + timedelta(hours=1))
    watermark = timezone.now().isoformat().replace("+", "%2B")
    assert all_pages(client, f"{LIST}?updated_since={watermark}") == []
    Article.objects.filter(pk=scheduled.pk).update(published_at=timezone.now() + timedelta(seconds=1))
    Article.objects.filter(pk=scheduled.pk).update(published_at=timezone.now())  # its time has come
    bump_generation()
    assert all_pages(client, f"{LIST}?updated_since={watermark}") == [scheduled.slug]


# --- bad parameters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("region=no-such-region", "region"),
        ("tag=no-such-tag", "tag"),
        ("source=no-such-source", "source"),
        ("author=no-such-author", "author"),
        ("published_after=2022-13-45", "published_after"),
        ("published_before=yesterday", "published_before"),
        ("updated_since=2022-07-31T25:00", "updated_since"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        (f"limit={10**9}", "limit"),
        ("limit=101", "limit"),
        ("cursor=garbage", "cursor"),
        ("published_after=0001-01-01", "published_after"),  # year 0 in UTC
        ("updated_since=9999-12-31T23:59:59-10:00", "updated_since"),  # year 10000 in UTC
        ("q=%E9%87%8D%00", "q"),  # NUL: PostgreSQL refuses it in text
        ("tag=a%00", "tag"),
        ("region=%00", "region"),
        ("updated_since=2022-07-31%00", "updated_since"),
    ],
)
def test_bad_parameter_is_a_400_naming_it(client, seed, query, name):
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["parameter"] == name and response.json()["error"]["message"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_tampered_cursor_is_a_400(client):
    for n in range(3):
        make_article(published_at=timezone.now() - timedelta(hours=n + 1))
    next_url = client.get(f"{LIST}?limit=1").json()["next"]
    assert client.get(next_url).status_code == 200
    cursor = next_url.split("cursor=")[1].split("&")[0]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    response = client.get(f"{LIST}?limit=1&cursor={tampered}")
    assert response.status_code == 400 and response.json()["error"]["parameter"] == "cursor"
    response = client.get(f"{LIST}?limit=1&updated_since=2000-01-01&cursor={cursor}")  # another order's cursor
    assert response.status_code == 400 and response.json()["error"]["parameter"] == "cursor"


# --- queries ------------------------------------------------------------------------------------------------------


def make_rich_articles(count):
    region = Region.objects.get(name="万州区")
    source = Source.objects.create(name="数据局", kind=Source.Kind.DATA)
    for n in range(count):
        article = make_article(published_at=timezone.now() - timedelta(minutes=n + 1))
        article.tags.add(f"标签{n}")
        article.regions.add(region)
        article.data_sources.add(source)
        ArticleAuthor.objects.create(article=article, author=Author.objects.create(name=f"作者{n}"), role="reporter")
        image = Image.objects.create(remote_url=f"https://img.example/{n}.jpg")
        ArticleImage.objects.create(article=article, image=image, order=0)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


def test_constant_queries_per_page(client):
    make_rich_articles(60)
    small, large = count_queries(client, f"{LIST}?limit=5"), count_queries(client, f"{LIST}?limit=50")
    assert small == large
    filters = f"region={region('万州区')}&source=shu-ju-ju&q=文章"
    assert count_queries(client, f"{LIST}?limit=5&{filters}") == count_queries(client, f"{LIST}?limit=50&{filters}")


def test_ndjson_streams_in_chunks_with_bounded_queries(client):
    make_rich_articles(12)
    response = client.get(NDJSON)
    assert response["Content-Type"].startswith("application/x-ndjson") and response.streaming
    per_chunk_small = count_queries(client, NDJSON)
    lines = list(iter_export_lines(Article.objects.published(), chunk_size=5))
    assert len(lines) == 12
    with CaptureQueriesContext(connection) as one_chunk:
        list(iter_export_lines(Article.objects.published(), chunk_size=100))
    with CaptureQueriesContext(connection) as three_chunks:
        list(iter_export_lines(Article.objects.published(), chunk_size=5))
    assert len(one_chunk) < len(three_chunks) <= 3 * len(one_chunk)  # per chunk, not per article
    assert per_chunk_small <= len(one_chunk) + 2


# --- HTTP ------------------------------------------------------------------------------------------------------


def test_cors_cache_control_and_conditional_get(client, seed):
    for url in (LIST, f"{LIST}{seed.slug}/", NDJSON):
        response = client.get(url)
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response
        assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
        assert response["ETag"] and response["Last-Modified"]
        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and again["ETag"] == response["ETag"]
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    etag = client.get(LIST)["ETag"]
    seed.title = "新标题"
    seed.save()
    assert client.get(LIST, HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert client.get(f"{LIST}?limit=0")["Access-Control-Allow-Origin"] == "*"
    for url in (LIST, f"{LIST}{seed.slug}/", NDJSON, "/api/v1/openapi.json"):
        response = client.post(url)
        assert response.status_code == 405 and response.json()["error"]["message"], url
        assert response["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight_and_readable_etag(client, seed):
    """A script on another origin may send conditional requests (a preflight) and read the ETag."""
    for url in (LIST, f"{LIST}{seed.slug}/", NDJSON, "/api/v1/figures/", "/api/v1/openapi.json"):
        preflight = client.options(url, HTTP_ORIGIN="https://partner.example",
                                   HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                                   HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match,if-modified-since")
        assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*", url
        assert {"GET", "HEAD"} <= {m.strip() for m in preflight["Access-Control-Allow-Methods"].split(",")}
        allowed = preflight["Access-Control-Allow-Headers"].lower()
        assert "if-none-match" in allowed and "if-modified-since" in allowed
        assert "Access-Control-Allow-Credentials" not in preflight
        response = client.get(url, HTTP_ORIGIN="https://partner.example")
        assert response["ETag"] and "ETag" in response["Access-Control-Expose-Headers"]


# --- round trip ----------------------------------------------------------------------------------------------


def without_ids(document):
    return {key: value for key, value in document.items() if key != "id"}


def test_ndjson_dump_round_trips_into_an_empty_database(client, world, seed, tmp_path):
    before = ndjson(client)
    assert {d["slug"] for d in before} == {seed.slug, world["published"].slug}
    command_path = tmp_path / "public.ndjson"
    call_command("export_articles", "--public", "--base-url", "http://testserver", "--output", str(command_path))
    assert [json.loads(line) for line in command_path.read_text(encoding="utf-8").splitlines()] == before

    dump = tmp_path / "dump.ndjson"
    dump.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in before), encoding="utf-8")
    Article.objects.all().delete()
    Image.objects.all().delete()
    Author.objects.all().delete()
    Source.objects.all().delete()
    call_command("import_articles", str(dump))

    assert Article.objects.published().count() == 2 and Article.objects.count() == 2
    bump_generation()
    after = ndjson(client)
    assert [without_ids(d) for d in after] == [without_ids(d) for d in before]
