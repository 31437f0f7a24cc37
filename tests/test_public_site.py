"""The public pages: home, lists by tag/region/source/author, the article page and their metadata.

Only published articles appear anywhere; queries stay constant however big an article is; every
title comes out as text, in the page, its metadata and its JSON-LD.
"""

import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from articles.cache import bump_generation
from articles.images import store_uploaded_image
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure
from articles.seo import jsonld_script
from articles.views import region_article_counts

from .factories import make_article, make_article_in_each_state

pytestmark = pytest.mark.django_db

HOSTILE = '</script><script>alert(1)</script> & "引号"'
COUNTER = iter(range(100, 10_000))
JSONLD_RE = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def text_of(response) -> str:
    """The page's text: scripts and tags dropped (inline, so no space is added), entities decoded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", "", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())


def jsonld_of(response) -> dict:
    (payload,) = JSONLD_RE.findall(response.content.decode())
    return json.loads(payload)


def meta_content(response, attribute, name):
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', response.content.decode())
    return html.unescape(match.group(1)) if match else None


def remote_image(n=1, **fields):
    fields.setdefault("alt_text", f"图片 {n}")
    return Image.objects.create(remote_url=f"https://img.example.cn/{n}.jpg", width=800, height=600, **fields)


def png_upload(name="photo.png"):
    out = io.BytesIO()
    PILImage.new("RGB", (700, 400), (120, 90, 60)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def add_byline(article, name, role, order=0):
    author, _ = Author.objects.get_or_create(name=name)
    return ArticleAuthor.objects.create(article=article, author=author, role=role, order=order)


def add_figure(article, status=StatisticFigure.Status.VERIFIED, **fields):
    values = {"indicator": "地区生产总值", "value": 1, "value_text": "7.4 万亿元", "quote": "总量达 7.4 万亿元。",
              "start_offset": 0, "end_offset": 5, "status": status}
    values.update(fields)
    return StatisticFigure.objects.create(article=article, **values)


# --- only published content -------------------------------------------------------------------------------


@pytest.fixture
def world():
    """One article in each state, all sharing a tag, a region (万州区), a source and an author."""
    articles = make_article_in_each_state(title="{state}-标题-{state}", summary="{state} 摘要")
    wanzhou = Region.objects.get(name="万州区")
    now = timezone.now()
    # A second published article, so that related articles have something to show.
    sibling = make_article(title="sibling-标题-sibling", published_at=now - timedelta(hours=3))
    sibling.tags.add("重庆")
    sibling.regions.add(wanzhou)
    articles["sibling"] = sibling
    return articles


HIDDEN = ("draft", "review", "scheduled", "archived")


def public_pages(world):
    article = world["published"]
    source = article.publisher
    author = Author.objects.get(name="共同作者")
    return [
        reverse("articles:home"),
        reverse("articles:list"),
        article.get_absolute_url(),
        world["sibling"].get_absolute_url(),  # its related articles
        reverse("articles:tag", kwargs={"slug": "重庆"}),
        Region.objects.get(name="万州区").get_absolute_url(),
        Region.objects.get(name="重庆市").get_absolute_url(),
        Region.objects.get(name="成渝地区双城经济圈").get_absolute_url(),
        source.get_absolute_url(),
        author.get_absolute_url(),
    ]


def test_every_page_shows_only_published_articles(client, world):
    for url in public_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "published-标题-published" in page, url
        for state in HIDDEN:
            assert f"{state}-标题" not in page and f"{state} 摘要" not in page, (url, state)


def test_unpublished_articles_have_no_page(client, world):
    for state in HIDDEN:
        assert client.get(world[state].get_absolute_url()).status_code == 404, state
    assert client.get(world["published"].get_absolute_url()).status_code == 200


def test_related_articles_are_published_only(client, world):
    related = client.get(world["sibling"].get_absolute_url()).context["related_articles"]
    assert related == [world["published"]]


def test_region_counts_count_published_articles_only(client, world):
    counts = region_article_counts()
    assert counts[Region.objects.get(name="万州区").pk] == 2
    assert counts[Region.objects.get(name="重庆市").pk] == 2  # through its subregion
    assert counts[Region.objects.get(name="成渝地区双城经济圈").pk] == 2  # through its member
    strip = {region.name: region.article_count for region in client.get("/").context["regions"]}
    assert strip["万州区"] == 2 and strip["重庆市"] == 2
    assert "中国" not in strip


def test_names_used_only_by_unpublished_articles_are_not_public(client):
    draft = make_article(title="embargoed", status=Article.Status.DRAFT)
    draft.tags.add("秘密标签")
    author = add_byline(draft, "未署名者", ArticleAuthor.Role.REPORTER).author
    source = Source.objects.create(name="未公开来源", kind=Source.Kind.DATA)
    draft.data_sources.add(source)
    assert client.get(reverse("articles:tag", kwargs={"slug": "秘密标签"})).status_code == 404
    assert client.get(author.get_absolute_url()).status_code == 404
    assert client.get(source.get_absolute_url()).status_code == 404
    assert client.get(reverse("articles:tag", kwargs={"slug": "no-such-tag"})).status_code == 404


# --- lists: regions, tags, sources, pagination ---------------------------------------------------------------


def test_region_page_includes_subregions_and_area_pages_include_members(client):
    chongqing_only = make_article(title="重庆市本级")
    chongqing_only.regions.add(Region.objects.get(name="重庆市"))
    wanzhou = make_article(title="万州区的文章")
    wanzhou.regions.add(Region.objects.get(name="万州区"))
    sichuan = make_article(title="四川省的文章")
    sichuan.regions.add(Region.objects.get(name="四川省"))

    def titles(name):
        response = client.get(Region.objects.get(name=name).get_absolute_url())
        assert response.status_code == 200
        return sorted(a.title for a in response.context["articles"])

    assert titles("重庆市") == sorted(["重庆市本级", "万州区的文章"])
    assert titles("万州区") == ["万州区的文章"]
    assert titles("成渝地区双城经济圈") == sorted(["重庆市本级", "万州区的文章", "四川省的文章"])
    assert titles("广东省") == []  # a region without articles is an empty page, not an error


def test_tag_page_with_chinese_slug(client):
    article = make_article(title="带中文标签")
    article.tags.add("智能制造")
    url = reverse("articles:tag", kwargs={"slug": "智能制造"})
    assert url == "/tags/%E6%99%BA%E8%83%BD%E5%88%B6%E9%80%A0/"
    response = client.get(url)
    assert response.status_code == 200
    assert [a.title for a in response.context["articles"]] == ["带中文标签"]
    assert f'href="{url}"' in client.get(article.get_absolute_url()).content.decode()


def test_source_page_lists_publisher_syndicator_and_data_source_articles(client):
    source = Source.objects.create(name="多用途来源", kind=Source.Kind.PUBLISHER)
    published_by = make_article(title="原发", publisher=source)
    syndicated_by = make_article(title="转载", syndicator=source)
    data_from = make_article(title="数据")
    data_from.data_sources.add(source)
    make_article(title="无关")
    response = client.get(source.get_absolute_url())
    assert {a.title for a in response.context["articles"]} == {"原发", "转载", "数据"}
    assert len(response.context["articles"]) == 3
    assert published_by and syndicated_by


def test_author_page_lists_each_article_once(client):
    article = make_article(title="一人两职")
    add_byline(article, "多面手", ArticleAuthor.Role.REPORTER)
    byline = add_byline(article, "多面手", ArticleAuthor.Role.PHOTOGRAPHER, order=1)
    response = client.get(byline.author.get_absolute_url())
    assert [a.title for a in response.context["articles"]] == ["一人两职"]


def test_pagination(client):
    start = timezone.now() - timedelta(days=1)
    for n in range(25):
        make_article(title=f"分页文章 {n:02d}", published_at=start - timedelta(minutes=n))
    first = client.get(reverse("articles:list"))
    assert len(first.context["articles"]) == 20
    assert first.context["articles"][0].title == "分页文章 00"
    assert 'href="?page=2"' in first.content.decode() and 'rel="next"' in first.content.decode()
    second = client.get(reverse("articles:list"), {"page": 2})
    assert [a.title for a in second.context["articles"]] == [f"分页文章 {n:02d}" for n in range(20, 25)]
    assert meta_content(second, "property", "og:url") == "http://testserver/articles/?page=2"
    for page in ("3", "0", "abc"):
        assert client.get(reverse("articles:list"), {"page": page}).status_code == 404, page


def test_home_shows_latest_twelve_with_a_lead_story(client):
    start = timezone.now() - timedelta(days=1)
    for n in range(14):
        make_article(title=f"首页 {n:02d}", summary=f"摘要 {n:02d}", published_at=start - timedelta(minutes=n))
    response = client.get("/")
    assert response.context["lead_article"].title == "首页 00"
    assert [a.title for a in response.context["articles"]] == [f"首页 {n:02d}" for n in range(1, 12)]
    assert "摘要 00" in response.content.decode() and "首页 12" not in response.content.decode()


# --- the article page -------------------------------------------------------------------------------------


def test_date_is_shown_in_beijing_time(client, settings):
    settings.TIME_ZONE = "UTC"  # pages show Beijing time whatever the server's zone
    article = make_article(published_at=datetime(2022, 7, 31, 22, 26, 46, tzinfo=UTC))
    response = client.get(article.get_absolute_url())
    assert "2022年8月1日 06:26" in text_of(response)
    assert 'datetime="2022-08-01T06:26:46+08:00"' in response.content.decode()
    document = jsonld_of(response)
    assert document["datePublished"] == "2022-08-01T06:26:46+08:00"
    assert document["dateModified"].endswith("+08:00")


def test_byline_groups_authors_by_role(client):
    article = make_article()
    add_byline(article, "王斌来", ArticleAuthor.Role.REPORTER, 0)
    add_byline(article, "何超", ArticleAuthor.Role.PHOTOGRAPHER, 1)
    add_byline(article, "崔佳", ArticleAuthor.Role.REPORTER, 2)
    add_byline(article, "赵敏", ArticleAuthor.Role.EDITOR, 3)
    response = client.get(article.get_absolute_url())
    assert "记者：王斌来、崔佳 · 摄影：何超 · 编辑：赵敏" in text_of(response)
    author_url = Author.objects.get(name="何超").get_absolute_url()
    assert f'<a href="{author_url}">何超</a>' in response.content.decode()
    document = jsonld_of(response)
    assert [person["name"] for person in document["author"]] == ["王斌来", "崔佳"]
    assert [person["name"] for person in document["contributor"]] == ["何超"]
    assert [person["name"] for person in document["editor"]] == ["赵敏"]


def test_provenance_box_links(client):
    publisher = Source.objects.create(name="人民日报测试", kind=Source.Kind.PUBLISHER, homepage="https://people.example")
    syndicator = Source.objects.create(name="转载平台测试", kind=Source.Kind.SYNDICATOR)
    data = Source.objects.create(name="统计局测试", kind=Source.Kind.DATA)
    article = make_article(publisher=publisher, syndicator=syndicator, original_url="https://wap.peopleapp.com/article/1")
    article.data_sources.add(data)
    page = client.get(article.get_absolute_url()).content.decode()
    box = page[page.index('class="provenance"'):]
    box = box[: box.index("</aside>")]
    assert '<a class="external" href="https://wap.peopleapp.com/article/1" rel="nofollow noopener">' in box
    for source in (publisher, syndicator, data):
        assert f'<a href="{source.get_absolute_url()}">{source.name}</a>' in box
    assert "原发媒体" in box and "转载平台" in box and "数据来源" in box
    for source in (publisher, syndicator, data):
        assert client.get(source.get_absolute_url()).status_code == 200


def test_figures_table_shows_verified_figures_only(client):
    article = make_article()
    region = Region.objects.get(name="重庆市")
    add_figure(article, indicator="核实指标", value_text="8.5%", period="2021", region=region,
               quote="地区生产总值增长 8.5%。")
    add_figure(article, StatisticFigure.Status.CANDIDATE, indicator="候选指标", value_text="33%")
    add_figure(article, StatisticFigure.Status.REJECTED, indicator="否决指标", value_text="44%")
    response = client.get(article.get_absolute_url())
    page = response.content.decode()
    assert "核实指标" in page and "8.5%" in page and "2021" in page
    assert "<details><summary>原句</summary><blockquote>地区生产总值增长 8.5%。</blockquote></details>" in page
    assert f'href="{region.get_absolute_url()}"' in page
    assert "候选指标" not in page and "否决指标" not in page
    no_figures = make_article()
    add_figure(no_figures, StatisticFigure.Status.CANDIDATE)
    assert 'class="figures"' not in client.get(no_figures.get_absolute_url()).content.decode()


def test_summary_is_shown_unless_the_body_opens_with_it(client):
    distinct = make_article(summary="一句独立的导语。", body="<p>正文从这里开始，和导语不同。</p>")
    assert '<p class="standfirst">一句独立的导语。</p>' in client.get(distinct.get_absolute_url()).content.decode()
    lead = "智能车间，生产线上的机器手臂有序挥舞；港口码头，源源不断的集装箱从世界各地汇聚。"
    figure = "<figure><img src='https://a.cn/1.jpg' alt=''><figcaption>底图</figcaption></figure>"
    repeated = make_article(summary=lead, body=f"{figure}<p>{lead}</p>")
    page = client.get(repeated.get_absolute_url()).content.decode()
    assert 'class="standfirst"' not in page and page.split("<main", 1)[1].count(lead) == 1


def test_tags_and_regions_are_links(client):
    article = make_article()
    article.tags.add("重庆")
    region = Region.objects.get(name="万州区")
    article.regions.add(region)
    page = client.get(article.get_absolute_url()).content.decode()
    assert f'href="{reverse("articles:tag", kwargs={"slug": "重庆"})}" rel="tag">重庆</a>' in page
    assert f'href="{region.get_absolute_url()}">万州区</a>' in page


def test_related_articles_prefer_shared_tags_then_regions(client):
    region = Region.objects.get(name="重庆市")
    article = make_article(title="本文")
    article.tags.add("港口", "物流")
    article.regions.add(region)
    two_tags = make_article(title="两个相同标签", published_at=timezone.now() - timedelta(days=5))
    two_tags.tags.add("港口", "物流")
    one_tag = make_article(title="一个相同标签")
    one_tag.tags.add("港口")
    same_region = make_article(title="同一地区")
    same_region.regions.add(region)
    make_article(title="毫无关系")
    for n in range(3):
        make_article(title=f"同地区 {n}", published_at=timezone.now() - timedelta(days=10 + n)).regions.add(region)
    related = client.get(article.get_absolute_url()).context["related_articles"]
    assert [a.title for a in related] == ["两个相同标签", "一个相同标签", "同一地区", "同地区 0"]
    lonely = make_article()
    assert client.get(lonely.get_absolute_url()).context["related_articles"] == []


def test_lead_image_on_top_unless_the_body_opens_with_it(client):
    image = remote_image(7, caption="码头夜景", credit="何超 摄")
    article = make_article(lead_image=image)
    ArticleImage.objects.create(article=article, image=image)
    page = client.get(article.get_absolute_url()).content.decode()
    top = page[page.index('<figure class="lead-image">'):]
    assert 'src="https://img.example.cn/7.jpg"' in top[: top.index("</figure>")]
    assert 'referrerpolicy="no-referrer"' in top and "码头夜景" in top and "何超 摄" in top

    inline = make_article(lead_image=image, body='<figure><img src="https://img.example.cn/7.jpg" alt="x"></figure><p>正文</p>')
    ArticleImage.objects.create(article=inline, image=image)
    response = client.get(inline.get_absolute_url())
    assert 'class="lead-image"' not in response.content.decode()
    main = response.content.decode().split('<main', 1)[1]
    assert main.count("https://img.example.cn/7.jpg") == 1  # once, in the body
    assert response.context["page"]["gallery"] == []


def test_gallery_shows_pictures_not_already_in_the_body(client):
    lead, second, third = remote_image(1), remote_image(2), remote_image(3)
    article = make_article(lead_image=lead, body='<p>正文</p><img src="https://img.example.cn/3.jpg" alt="">')
    for order, image in enumerate((lead, second, third)):
        ArticleImage.objects.create(article=article, image=image, order=order)
    response = client.get(article.get_absolute_url())
    assert [item["picture"]["src"] for item in response.context["page"]["gallery"]] == ["https://img.example.cn/2.jpg"]
    assert 'class="gallery"' in response.content.decode()


# --- metadata and escaping --------------------------------------------------------------------------------


def test_metadata_on_the_article_page(client):
    image = remote_image(5)
    article = make_article(title="港口吞吐量", summary="前7月大湾区港口集装箱吞吐量稳中有升。", lead_image=image)
    article.tags.add("港口")
    response = client.get(article.get_absolute_url())
    page = response.content.decode()
    canonical = f"http://testserver{article.get_absolute_url()}"
    assert "<title>港口吞吐量 · Newsroom · 区域发展观察</title>" in page
    assert f'<link rel="canonical" href="{canonical}">' in page
    assert meta_content(response, "name", "description") == "前7月大湾区港口集装箱吞吐量稳中有升。"
    assert meta_content(response, "property", "og:title") == "港口吞吐量"
    assert meta_content(response, "property", "og:type") == "article"
    assert meta_content(response, "property", "og:url") == canonical
    assert meta_content(response, "property", "og:image") == "https://img.example.cn/5.jpg"
    assert meta_content(response, "property", "article:tag") == "港口"
    document = jsonld_of(response)
    assert document["@type"] == "NewsArticle" and document["headline"] == "港口吞吐量"
    assert document["mainEntityOfPage"]["@id"] == canonical
    assert document["image"] == ["https://img.example.cn/5.jpg"]
    assert 'name="robots"' not in page


def test_metadata_on_list_pages_and_defaults(client):
    article = make_article(title="无图文章")
    article.tags.add("重庆")
    for url in ("/", reverse("articles:list"), reverse("articles:tag", kwargs={"slug": "重庆"})):
        response = client.get(url)
        assert meta_content(response, "property", "og:type") == "website", url
        assert meta_content(response, "property", "og:url") == f"http://testserver{url}", url
        assert meta_content(response, "name", "description"), url
        assert meta_content(response, "property", "og:image") is None, url
        assert not JSONLD_RE.search(response.content.decode()), url
    assert "<title>重庆 · Newsroom · 区域发展观察</title>" in client.get(
        reverse("articles:tag", kwargs={"slug": "重庆"})).content.decode()
    no_summary = client.get(article.get_absolute_url())
    assert meta_content(no_summary, "name", "description") == article.body_text


def test_placeholder_pictures_are_never_advertised(client):
    article = make_article(lead_image=remote_image(9, is_placeholder=True))
    response = client.get(article.get_absolute_url())
    assert meta_content(response, "property", "og:image") is None
    assert "image" not in jsonld_of(response)
    assert "img.example.cn/9.jpg" not in response.content.decode()


def test_og_image_is_the_picture_readers_get(client):
    proxied = remote_image(4)
    proxied.remote_url = "https://cors.zfour.workers.dev/?http://zkres2.myzaker.com/202208/lead.jpg"
    proxied.save()
    response = client.get(make_article(lead_image=proxied).get_absolute_url())
    assert meta_content(response, "property", "og:image") == "http://zkres2.myzaker.com/202208/lead.jpg"
    assert jsonld_of(response)["image"] == ["http://zkres2.myzaker.com/202208/lead.jpg"]
    assert "cors.zfour" not in response.content.decode()

    stored = store_uploaded_image(png_upload())
    response = client.get(make_article(lead_image=stored).get_absolute_url())
    og_image = meta_content(response, "property", "og:image")
    assert og_image.startswith("http://testserver/media/") and og_image.endswith(".jpg")


def test_hostile_title_is_text_everywhere(client):
    article = make_article(title=HOSTILE, summary=HOSTILE)
    article.tags.add("重庆")
    add_byline(article, "作者", ArticleAuthor.Role.REPORTER)
    escaped = "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;引号&quot;"
    response = client.get(article.get_absolute_url())
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    assert f"<title>{escaped} · Newsroom · 区域发展观察</title>" in page
    assert f'<h1 class="article-title">{escaped}</h1>' in page
    for attribute, name in (("name", "description"), ("property", "og:title"), ("property", "og:description")):
        assert meta_content(response, attribute, name) == HOSTILE, name
    (payload,) = JSONLD_RE.findall(page)
    assert not set("<>&") & set(payload)
    assert json.loads(payload)["headline"] == HOSTILE
    assert page.count("</script>") == page.count("<script")  # every script element ends where it should
    for url in ("/", reverse("articles:list"), reverse("articles:tag", kwargs={"slug": "重庆"})):
        listing = client.get(url).content.decode()
        assert "<script>alert(1)" not in listing and escaped in listing, url


def test_jsonld_script_escapes_like_json_script():
    rendered = jsonld_script({"headline": HOSTILE})
    assert rendered.startswith('<script type="application/ld+json">') and rendered.endswith("</script>")
    payload = rendered.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert "\\u003C/script\\u003E" in payload and "\\u0026" in payload
    assert json.loads(payload) == {"headline": HOSTILE}


def test_preview_keeps_the_banner_and_noindex(admin_client):
    draft = make_article(title="预览草稿", status=Article.Status.DRAFT)
    page = admin_client.get(reverse("articles:preview", args=[draft.pk])).content.decode()
    assert '<meta name="robots" content="noindex">' in page
    assert 'class="preview-banner"' in page and "预览草稿" in page


def test_pages_use_the_stylesheet_without_inline_styles_or_scripts(client, world):
    for url in public_pages(world):
        page = client.get(url).content.decode()
        assert "/static/articles/site.css" in page, url
        assert "<style" not in page and " style=" not in page, url
        for script in re.findall(r"<script\b[^>]*>", page):
            assert 'type="application/ld+json"' in script or "src=" in script, (url, script)


# --- a constant number of queries -------------------------------------------------------------------------


def build_article(size, n):
    """An article with ``size`` tags, regions, authors, images, figures and data sources."""
    regions = list(Region.objects.exclude(kind=Region.Kind.COUNTRY).order_by("pk")[:size])
    images = [remote_image(f"{n}-{i}") for i in range(size - 1)] + [store_uploaded_image(png_upload(f"{n}.png"))]
    article = make_article(title=f"规模 {size} 的文章 {n}", lead_image=images[0])
    article.tags.add(*[f"标签{i}" for i in range(size)])
    article.regions.add(*regions)
    for i in range(size):
        add_byline(article, f"作者{n}-{i}", list(ArticleAuthor.Role)[i % 5], i)
        ArticleImage.objects.create(article=article, image=images[i], order=i)
        add_figure(article, indicator=f"指标{i}", region=regions[i],
                   source=Source.objects.get_or_create(name=f"数据{i}", kind=Source.Kind.DATA)[0])
        article.data_sources.add(Source.objects.get_or_create(name=f"来源{n}-{i}", kind=Source.Kind.DATA)[0])
    return article


def count_queries(client, url):
    client.get(url)  # warm caches that are not about the page (content types, templates)
    bump_generation()  # ...but not the page cache: measure real rendering
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_article_page_queries_do_not_grow_with_the_article(client):
    small, big = build_article(1, 1), build_article(10, 2)
    make_article(title="related").tags.add("标签0")
    assert count_queries(client, small.get_absolute_url()) == count_queries(client, big.get_absolute_url())
    assert count_queries(client, big.get_absolute_url()) <= 4  # issue 4: no more than 4 on the detail page



def test_article_page_shows_every_change_on_the_next_request(client):
    """Renamed authors, sources, regions and tags, a new caption and a figure's new indicator
    all show at once: the page reads live rows and the page cache is retired by the change."""
    article = build_article(2, 3)
    gallery_image = article.gallery.order_by("order").last().image
    assert client.get(article.get_absolute_url()).status_code == 200
    author = article.bylines.order_by("order").first().author
    author.name = "改名记者"
    author.save()
    source = article.data_sources.order_by("pk").first()
    source.name = "改名数据来源"
    source.save()
    region = article.regions.order_by("pk").first()
    region.name = "改名地区"
    region.save()
    tag = article.tags.order_by("pk").first()
    tag.name = "改名标签"
    tag.save()
    gallery_image.caption = "新的图说"
    gallery_image.save()
    figure = article.figures.order_by("pk").first()
    figure.indicator = "新的指标"
    figure.save()
    page = text_of(client.get(article.get_absolute_url()))
    for text in ("改名记者", "改名数据来源", "改名地区", "改名标签", "新的图说", "新的指标"):
        assert text in page, text

@pytest.mark.parametrize("url_name", ["home", "list", "tag", "region"])
def test_list_page_queries_do_not_grow_with_the_list(client, url_name):
    region = Region.objects.get(name="重庆市")

    def url():
        if url_name == "tag":
            return reverse("articles:tag", kwargs={"slug": "共同"})
        if url_name == "region":
            return region.get_absolute_url()
        return reverse(f"articles:{url_name}")

    def add(count):
        for _ in range(count):
            article = build_article(3, next(COUNTER))
            article.tags.add("共同")
            article.regions.add(region)

    add(3)
    few = count_queries(client, url())
    add(12)
    assert len(client.get(url()).context["articles"]) >= 11
    assert count_queries(client, url()) == few

