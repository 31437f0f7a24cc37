"""The page cache: anonymous pages come from the cache, any change to what they show retires
them, scheduled articles appear on time, staff always see fresh pages, 304 answers, and a
broken cache backend only costs speed."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from articles.cache import page_timeout
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source

from .factories import make_article

pytestmark = pytest.mark.django_db

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


class BrokenCache(BaseCache):
    """A cache backend whose server is down."""

    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise ConnectionError("cache server is down")

    get = set = add = delete = get_many = set_many = touch = has_key = incr = _fail

    def clear(self):
        pass


@pytest.fixture
def story():
    """A published article showing a publisher, a tag, a byline and a captioned gallery picture."""
    publisher = Source.objects.create(name="旧日报", kind=Source.Kind.PUBLISHER)
    article = make_article(title="缓存测试文章", publisher=publisher)
    article.tags.add("旧标签")
    author = Author.objects.create(name="旧记者")
    ArticleAuthor.objects.create(article=article, author=author, role=ArticleAuthor.Role.REPORTER)
    image = Image.objects.create(remote_url="https://img.example.cn/cache.jpg", width=800, height=600,
                                 caption="旧图说", alt_text="码头")
    ArticleImage.objects.create(article=article, image=image, order=0)
    return {"article": article, "publisher": publisher, "author": author, "image": image}


def page(client, url, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.content.decode()


def test_second_anonymous_request_runs_no_queries(client, story):
    url = story["article"].get_absolute_url()
    first = page(client, url)
    with CaptureQueriesContext(connection) as uncached:
        client.get(reverse("articles:list"))
    assert len(uncached) > 0
    with CaptureQueriesContext(connection) as cached:
        assert page(client, url) == first
    assert len(cached) == 0


def test_every_public_page_is_cached(client, story):
    region = Region.objects.get(name="万州区")
    article = story["article"]
    article.regions.add(region)
    tag = Tag.objects.get(name="旧标签")
    urls = [
        reverse("articles:home"),
        reverse("articles:list"),
        article.get_absolute_url(),
        reverse("articles:tag", kwargs={"slug": tag.slug}),
        region.get_absolute_url(),
        story["publisher"].get_absolute_url(),
        story["author"].get_absolute_url(),
        reverse("articles:search") + "?q=缓存",
        reverse("articles:feed_latest"),
        reverse("articles:feed_latest_atom"),
        reverse("articles:feed_region", kwargs={"slug": region.slug}),
        reverse("articles:feed_tag", kwargs={"slug": tag.slug}),
        reverse("sitemap"),
    ]
    for url in urls:
        page(client, url)
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            page(client, url)
        assert len(queries) == 0, url


def test_query_string_is_part_of_the_key(client):
    make_article(title="港口新闻", body="<p>长江港口。</p>")
    make_article(title="产业新闻", body="<p>智能制造产业。</p>")
    search = reverse("articles:search")
    assert "港口新闻" in page(client, search, query_params={"q": "港口"})
    second = page(client, search, query_params={"q": "产业"})
    assert "产业新闻" in second and "港口新闻" not in second


def rename_article(story):
    story["article"].title = "新标题文章"
    story["article"].save()
    return "新标题文章"


def rename_publisher(story):
    story["publisher"].name = "新日报"
    story["publisher"].save()
    return "新日报"


def add_tag(story):
    story["article"].tags.add("新标签")
    return "新标签"


def rename_tag(story):
    tag = Tag.objects.get(name="旧标签")
    tag.name = "改名标签"
    tag.save()
    return "改名标签"


def recaption_image(story):
    story["image"].caption = "新图说"
    story["image"].save()
    return "新图说"


def add_byline(story):
    author = Author.objects.create(name="新摄影")
    ArticleAuthor.objects.create(article=story["article"], author=author, role=ArticleAuthor.Role.PHOTOGRAPHER)
    return "新摄影"


def rename_author(story):
    story["author"].name = "新记者"
    story["author"].save()
    return "新记者"


def add_region(story):
    story["article"].regions.add(Region.objects.get(name="万州区"))
    return "万州区"


@pytest.mark.parametrize(
    "change",
    [rename_article, rename_publisher, add_tag, rename_tag, recaption_image, add_byline, rename_author, add_region],
)
def test_a_change_shows_on_the_next_request(client, story, change):
    url = story["article"].get_absolute_url()
    page(client, url)
    page(client, url)  # now from the cache
    expected = change(story)
    assert expected in page(client, url)


def test_deleting_an_article_removes_it_from_cached_lists(client, story):
    assert "缓存测试文章" in page(client, reverse("articles:home"))
    story["article"].delete()
    assert "缓存测试文章" not in page(client, reverse("articles:home"))


def test_page_timeout_is_the_time_until_the_next_scheduled_article(settings):
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 300
    assert page_timeout() == 300  # nothing scheduled
    now = timezone.now()
    make_article(published_at=now + timedelta(seconds=120))
    make_article(published_at=now + timedelta(hours=1))
    make_article(status=Article.Status.DRAFT, published_at=now + timedelta(seconds=10))  # not scheduled: a draft
    assert 118 <= page_timeout() <= 120
    settings.NEWSROOM_PAGE_CACHE_SECONDS = 60
    assert page_timeout() == 60


def test_browsers_keep_a_page_no_longer_than_until_the_next_scheduled_article(client):
    make_article(published_at=timezone.now() + timedelta(seconds=30))
    cache_control = client.get(reverse("articles:home"))["Cache-Control"]
    max_age = int(cache_control.split("max-age=")[1].split(",")[0])
    assert "public" in cache_control and 28 <= max_age <= 30


def test_scheduled_article_appears_on_time_without_a_save(client):
    make_article(title="早已发布的文章")
    scheduled = make_article(title="定时发布的文章", published_at=timezone.now() + timedelta(seconds=2))
    home = reverse("articles:home")
    assert "定时发布的文章" not in page(client, home)
    assert "定时发布的文章" not in page(client, home)
    time.sleep(max(0, scheduled.published_at.timestamp() - time.time()) + 0.05)
    assert "定时发布的文章" in page(client, home)


def test_staff_see_fresh_pages(client, admin_client, story):
    url = story["article"].get_absolute_url()
    page(client, url)
    # update() sends no signal: the cached anonymous page stays as it was, staff see the row.
    Article.objects.filter(pk=story["article"].pk).update(title="悄悄改过的标题")
    assert "悄悄改过的标题" not in page(client, url)
    response = admin_client.get(url)
    assert "悄悄改过的标题" in response.content.decode()
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert not response.has_header("ETag")


def test_staff_pages_are_never_cached_for_others(client, admin_client, story):
    url = story["article"].get_absolute_url()
    admin_client.get(url)
    admin_client.get(url)
    with CaptureQueriesContext(connection) as queries:
        page(client, url)
    assert len(queries) > 0


def test_validators_and_conditional_requests(client, story, django_assert_num_queries):
    url = story["article"].get_absolute_url()
    response = client.get(url)
    etag, last_modified = response["ETag"], response["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]

    with django_assert_num_queries(0):
        not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag
    since = client.get(url, headers={"If-Modified-Since": last_modified})
    assert since.status_code == 304 and since.content == b""

    story["article"].save()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


@pytest.mark.parametrize(
    "backend",
    [
        {"BACKEND": "tests.test_cache.BrokenCache"},
        # Nothing listens on the discard port: connection refused, as when Redis is down.
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"},
    ],
    ids=["broken-backend", "redis-down"],
)
def test_a_failing_cache_serves_pages_from_the_database(client, settings, caplog, backend):
    settings.CACHES = {"default": backend}
    article = make_article(title="缓存坏了也能看")  # saving works too
    for _ in range(2):
        assert "缓存坏了也能看" in page(client, article.get_absolute_url())
        assert "缓存坏了也能看" in page(client, reverse("articles:home"))
    assert "Page cache unavailable" in caplog.text


@pytest.mark.parametrize(
    "redis_url, backend",
    [
        (REDIS_TEST_URL, "django.core.cache.backends.redis.RedisCache"),
        ("", "django.core.cache.backends.locmem.LocMemCache"),
    ],
)
def test_redis_url_chooses_the_backend(redis_url, backend):
    code = "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "newsroom.settings", "DEBUG": "1", "REDIS_URL": redis_url}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parent.parent,
        capture_output=True, text=True, check=True,
    )
    assert result.stdout.strip() == backend


@pytest.fixture
def redis_cache(settings):
    """The real RedisCache on database 15 of the local Redis, under a key prefix of its own."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL}: start it to test the Redis backend")
    prefix = f"newsroom-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_redis_caches_and_invalidates_pages(client, redis_cache, story):
    url = story["article"].get_absolute_url()
    page(client, url)
    with CaptureQueriesContext(connection) as queries:
        page(client, url)
    assert len(queries) == 0
    assert rename_publisher(story) in page(client, url)
