"""RSS/Atom feeds and the sitemap: published articles only, full sanitized content, escaped titles."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, ArticleAuthor, Author, Region, Source

from .factories import make_article, make_article_in_each_state

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HOSTILE_TITLE = '</title><script>alert(1)</script> & "引号"'


def region(name):
    return Region.objects.get(name=name)


def get_xml(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response, ET.fromstring(response.content)


def rss_items(client, url):
    _, root = get_xml(client, url)
    return root.findall("channel/item")


def rss_titles(client, url):
    return [item.findtext("title") for item in rss_items(client, url)]


def atom_titles(client, url):
    _, root = get_xml(client, url)
    return [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]


@pytest.fixture
def mixed_articles():
    """One published article and four that must stay hidden, sharing a region, a tag, a source, an author."""
    return make_article_in_each_state(title="{state}：万州港口")


FEED_URLS = [
    "/feeds/latest/",
    "/feeds/latest/atom/",
    "/feeds/regions/{wanzhou}/",
    "/feeds/regions/{chongqing}/",
    "/feeds/regions/{chengyu}/",
    "/feeds/tags/重庆/",
]


@pytest.mark.parametrize("url", FEED_URLS)
def test_feeds_show_only_published_articles(client, mixed_articles, url):
    url = url.format(
        wanzhou=region("万州区").slug, chongqing=region("重庆市").slug, chengyu=region("成渝地区双城经济圈").slug
    )
    titles = atom_titles(client, url) if "atom" in url else rss_titles(client, url)
    assert titles == ["published：万州港口"]


def test_sitemap_lists_only_published_content(client, mixed_articles):
    _, root = get_xml(client, "/sitemap.xml")
    locations = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    published = mixed_articles["published"]
    assert f"http://testserver{published.get_absolute_url()}" in locations
    for key in ("draft", "review", "archived", "scheduled"):
        assert f"http://testserver{mixed_articles[key].get_absolute_url()}" not in locations
    lastmods = [url.findtext(f"{SITEMAP}lastmod") for url in root.findall(f"{SITEMAP}url")
                if url.findtext(f"{SITEMAP}loc").endswith(published.get_absolute_url())]
    # The date in the site's time zone (TIME_ZONE), as the sitemap writes it: not UTC's, a day behind until 08:00.
    assert lastmods == [timezone.localdate(published.updated_at).isoformat()]


def test_sitemap_lists_pages_with_published_articles_only(client, mixed_articles):
    lonely_source = Source.objects.create(name="只有草稿的来源", kind=Source.Kind.PUBLISHER)
    lonely_author = Author.objects.create(name="只有草稿的作者")
    draft = make_article(status=Article.Status.DRAFT, publisher=lonely_source)
    draft.tags.add("只在草稿里")
    draft.regions.add(region("广东省"))
    ArticleAuthor.objects.create(article=draft, author=lonely_author)

    _, root = get_xml(client, "/sitemap.xml")
    paths = {loc.text.removeprefix("http://testserver") for loc in root.iter(f"{SITEMAP}loc")}

    def page(name, slug):
        return reverse(f"articles:{name}", kwargs={"slug": slug})

    assert {reverse("articles:home"), reverse("articles:list")} <= paths
    assert page("tag", "重庆") in paths and page("tag", "只在草稿里") not in paths
    assert page("source", Source.objects.get(name="测试日报").slug) in paths
    assert page("source", lonely_source.slug) not in paths
    assert page("author", Author.objects.get(name="共同作者").slug) in paths
    assert page("author", lonely_author.slug) not in paths
    # A region page lists its descendants' articles, and an area page its members'.
    for name in ("万州区", "重庆市", "成渝地区双城经济圈"):
        assert page("region", region(name).slug) in paths
    assert page("region", region("广东省").slug) not in paths
    assert page("region", region("粤港澳大湾区").slug) not in paths


def test_rss_item_carries_full_body_authors_dates_and_tags(client):
    article = make_article(title="万州港口", body="<p>第一段：港口吞吐量增长。</p><p>第二段。</p>")
    article.tags.add("重庆", "港口")
    for order, name in enumerate(["王斌来", "何超"]):
        ArticleAuthor.objects.create(article=article, author=Author.objects.create(name=name), order=order)

    [item] = rss_items(client, "/feeds/latest/")
    url = f"http://testserver{article.get_absolute_url()}"
    assert "<p>第一段：港口吞吐量增长。</p>" in item.findtext("description")
    assert item.findtext("link") == url and item.findtext("guid") == url
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "王斌来、何超"
    assert sorted(c.text for c in item.findall("category")) == ["港口", "重庆"]
    assert item.findtext("pubDate")


def test_atom_entry_carries_full_body_as_html_content(client):
    article = make_article(summary="摘要一句。", body="<p>第一段：港口吞吐量增长。</p>")
    response, root = get_xml(client, "/feeds/latest/atom/")
    assert response["Content-Type"].startswith("application/atom+xml")
    [entry] = root.findall(f"{ATOM}entry")
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<p>第一段：港口吞吐量增长。</p>" in content.text
    assert entry.findtext(f"{ATOM}summary") == "摘要一句。"
    assert entry.findtext(f"{ATOM}id") == f"http://testserver{article.get_absolute_url()}"
    assert entry.findtext(f"{ATOM}published") and entry.findtext(f"{ATOM}updated")


@pytest.mark.parametrize("url", ["/feeds/latest/", "/feeds/latest/atom/"])
def test_hostile_title_is_escaped_and_round_trips(client, url):
    make_article(title=HOSTILE_TITLE)
    response = client.get(url)
    assert b"<script>" not in response.content
    titles = atom_titles(client, url) if "atom" in url else rss_titles(client, url)
    assert titles == [HOSTILE_TITLE]


def test_feed_titles_are_chinese(client):
    _, root = get_xml(client, "/feeds/latest/")
    assert root.findtext("channel/title") == "Newsroom：最新文章"
    assert "中国区域发展报道" in root.findtext("channel/description")


def test_region_feed_includes_child_regions(client):
    in_city = make_article(title="重庆市的文章")
    in_city.regions.add(region("重庆市"))
    in_county = make_article(title="万州区的文章")
    in_county.regions.add(region("万州区"))
    elsewhere = make_article(title="成都市的文章")
    elsewhere.regions.add(region("成都市"))

    assert rss_titles(client, f"/feeds/regions/{region('重庆市').slug}/") == ["万州区的文章", "重庆市的文章"]
    assert rss_titles(client, f"/feeds/regions/{region('万州区').slug}/") == ["万州区的文章"]


def test_area_feed_includes_its_members_articles(client):
    for name in ("万州区", "成都市", "成渝地区双城经济圈", "广东省"):
        make_article(title=f"{name}的文章").regions.add(region(name))
    titles = rss_titles(client, f"/feeds/regions/{region('成渝地区双城经济圈').slug}/")
    assert sorted(titles) == sorted(["万州区的文章", "成都市的文章", "成渝地区双城经济圈的文章"])


def test_tag_feed_with_chinese_slug(client):
    tagged = make_article(title="带标签")
    tagged.tags.add("重庆")
    make_article(title="无标签")
    url = reverse("articles:feed_tag", kwargs={"slug": "重庆"})
    assert rss_titles(client, url) == ["带标签"]
    _, root = get_xml(client, url)
    assert "重庆" in root.findtext("channel/title")


def test_unknown_region_or_tag_feed_is_404(client):
    assert client.get("/feeds/regions/no-such-region/").status_code == 404
    assert client.get("/feeds/tags/没有这个标签/").status_code == 404


def make_rich_articles(count):
    authors = [Author.objects.create(name=f"记者{n}") for n in range(3)]
    for n in range(count):
        article = make_article()
        article.tags.add(f"标签{n}", "重庆", "港口")
        for order, author in enumerate(authors):
            ArticleAuthor.objects.create(article=article, author=author, order=order)


@pytest.mark.parametrize("count", [3, 15])
@pytest.mark.parametrize("url", ["/feeds/latest/", "/feeds/latest/atom/"])
def test_latest_feed_query_count_is_constant(client, django_assert_num_queries, count, url):
    make_rich_articles(count)
    with django_assert_num_queries(3):  # articles, tags, bylines with authors
        items = rss_items(client, url) if "atom" not in url else get_xml(client, url)[1].findall(f"{ATOM}entry")
    assert len(items) == count
