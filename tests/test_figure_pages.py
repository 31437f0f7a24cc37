"""Showing the numbers: the article page's marked sentences, /regions/<slug>/figures/ and /figures/.

Only verified figures of published articles appear, in tables, charts and CSV alike; figures line up
by indicator, measure, region and period; charts are valid SVG; every hostile text stays text.
"""

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import quote as percent_encode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import page_document
from articles.api.figures import CSV_COLUMNS
from articles.cache import bump_generation
from articles.figure_marks import mark_quotes, text_fragment
from articles.figure_tables import period_key
from articles.models import Article, Indicator, Region, Source, StatisticFigure

from .factories import make_article, make_article_in_each_state

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '</title><script>alert(1)</script> & "引号" <desc>'
VERIFIED, CANDIDATE, REJECTED = (StatisticFigure.Status.VERIFIED, StatisticFigure.Status.CANDIDATE,
                                 StatisticFigure.Status.REJECTED)


def region(name):
    return Region.objects.get(name=name)


def add_figure(article, *, status=VERIFIED, region_name="重庆市", quote=None, **fields):
    """A figure of ``article``; its quote's offsets are where the quote is in the body text, if it is."""
    values = {"indicator": "测试产值", "value": Decimal("100"), "value_text": "100 亿元", "unit": "yuan",
              "period": "2021", "region": region(region_name) if region_name else None}
    values.update(fields)
    quote = quote or f"{values['indicator']}达 {values['value_text']}"
    start = max(article.body_text.find(quote), 0)
    return StatisticFigure.objects.create(article=article, status=status, quote=quote, start_offset=start,
                                          end_offset=start + len(quote), **values)


def region_url(name, **query):
    url = reverse("articles:region_figures", kwargs={"slug": region(name).slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def indicator_url(indicator, **query):
    return reverse("articles:figures") + "?" + "&".join(
        f"{k}={percent_encode(str(v))}" for k, v in {"indicator": indicator, **query}.items()
    )


def get_page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def charts(page) -> list:
    """Every chart on ``page``, parsed as XML (which fails on anything but well-formed SVG)."""
    return [ET.fromstring(svg) for svg in re.findall(r'<svg xmlns="http://www\.w3\.org/2000/svg" class="chart-svg".*?</svg>',
                                                     page, re.S)]


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf")  # BOM, as the figures API writes it: Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == CSV_COLUMNS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


# --- only verified figures of published articles ---------------------------------------------------------------


@pytest.fixture
def states():
    """A verified figure in an article of each state (all about 万州区, one indicator, one year each), and a
    candidate and a rejected figure in the published one."""
    articles = make_article_in_each_state(title="{state}-标题")
    years = {"published": "2021", "draft": "2017", "review": "2018", "scheduled": "2022", "archived": "2019"}
    for state, article in articles.items():
        add_figure(article, region_name="万州区", indicator="共同指标", value_text=f"{state}-值", period=years[state],
                   value=Decimal(len(state)))
        if state != "published":
            add_figure(article, region_name="万州区", indicator="隐藏指标", value_text=f"{state}-隐藏值")
    published = articles["published"]
    add_figure(published, status=CANDIDATE, region_name="万州区", indicator="共同指标", value_text="candidate-值",
               period="2023", value=Decimal(7))
    add_figure(published, status=REJECTED, region_name="万州区", indicator="共同指标", value_text="rejected-值",
               period="2024", value=Decimal(8))
    add_figure(published, status=CANDIDATE, region_name="万州区", indicator="隐藏指标", value_text="candidate-隐藏值")
    return articles


HIDDEN_VALUES = ("draft-值", "review-值", "scheduled-值", "archived-值", "candidate-值", "rejected-值", "隐藏")


def test_only_verified_figures_of_published_articles_appear(client, states):
    pages = [region_url(name) for name in ("万州区", "重庆市", "成渝地区双城经济圈")]
    pages += [indicator_url("共同指标"), reverse("articles:figures")]
    for url in pages:
        page = get_page(client, url)
        assert "published-值" in page or url == reverse("articles:figures"), url
        for hidden in HIDDEN_VALUES:
            assert hidden not in page, (url, hidden)
        for state in ("draft", "review", "scheduled", "archived"):
            assert f"{state}-标题" not in page, (url, state)
        assert charts(page) == [], url  # one public period only: the hidden years would have made a chart
    assert "共同指标" in get_page(client, reverse("articles:figures"))
    assert client.get(indicator_url("隐藏指标")).status_code == 404


@pytest.mark.parametrize("url", ["region", "indicator"])
def test_csv_has_only_verified_figures_of_published_articles(client, states, url):
    url = region_url("重庆市", format="csv") if url == "region" else indicator_url("共同指标", format="csv")
    rows = read_csv(client.get(url))
    assert [(row["article"], row["value_text"]) for row in rows] == [(states["published"].slug, "published-值")]


def test_region_page_of_an_unknown_region_is_404_and_an_empty_one_is_not_indexed(client, states):
    assert client.get(reverse("articles:region_figures", kwargs={"slug": "nowhere"})).status_code == 404
    page = get_page(client, region_url("广东省"))
    assert '<meta name="robots" content="noindex">' in page and "还没有经编辑核实的统计数字" in page
    assert '<meta name="robots"' not in get_page(client, region_url("万州区"))


# --- grouping ---------------------------------------------------------------------------------------------------


@pytest.fixture
def vocabulary_entry():
    return Indicator.objects.create(name="测试总产值", aliases=["测试GDP", "测试 生产总值"], description="测试用的指标。")


def test_region_page_groups_by_indicator_measure_region_and_period(client, vocabulary_entry):
    article, other = make_article(title="甲"), make_article(title="乙")
    add_figure(article, indicator="测试总产值", standard=vocabulary_entry, period="2022", value=Decimal(3))
    add_figure(article, indicator="随便写的名字", standard=vocabulary_entry, period="2021", value=Decimal(2))
    add_figure(other, indicator="测试GDP", region_name="万州区", period="2021", value=Decimal(1))  # filed by its alias
    add_figure(other, indicator="测试总产值", standard=vocabulary_entry, unit="percent", direction="increase",
               value_text="8.5%", value=Decimal("8.5"))
    add_figure(other, indicator="常住人口测试", unit="person", value_text="3000 万人")
    add_figure(other, indicator="测试总产值", standard=vocabulary_entry, region_name="广东省", value_text="广东-值")

    response = client.get(region_url("重庆市"))
    groups = response.context["groups"]
    assert [group.name for group in groups] == ["测试总产值", "常住人口测试"]
    total, growth = groups[0].measures
    assert (total.unit, total.direction, growth.unit, growth.direction) == ("yuan", "level", "percent", "increase")
    assert total.label == "水平/总量（元）" and growth.label == "增长（%）"
    assert total.periods == ["2021", "2022"]
    assert [row.region.name for row in total.rows] == ["重庆市", "万州区"]
    assert [[cell and cell.readings[0].value for cell in row.cells] for row in total.rows] == [
        [Decimal(2), Decimal(3)], [Decimal(1), None],
    ]
    page = response.content.decode()
    assert "广东-值" not in page  # not in 重庆's scope
    assert f'href="{indicator_url(vocabulary_entry.slug)}"' in page
    # 万州区's page has its own figure only; the area's page has its members'.
    assert [g.name for g in client.get(region_url("万州区")).context["groups"]] == ["测试总产值"]
    assert client.get(region_url("成渝地区双城经济圈")).context["figure_count"] == 5


def test_periods_sort_chronologically():
    periods = ["2022", "", "十四五", "2021/2025", "2021", "2021-01/2021-07", "2021H1", "2021Q1", "2020-12-31"]
    assert sorted(periods, key=period_key) == [
        "2020-12-31", "2021Q1", "2021H1", "2021-01/2021-07", "2021", "2022", "2021/2025", "十四五", "",
    ]


def test_region_page_links_to_its_figures_and_the_site_to_the_indicators(client):
    page = get_page(client, region("重庆市").get_absolute_url())
    assert f'href="{region_url("重庆市")}"' in page
    assert f'href="{reverse("articles:figures")}"' in page


# --- charts -----------------------------------------------------------------------------------------------------


def test_chart_only_for_a_measure_with_two_periods_and_it_is_valid_svg(client):
    article = make_article()
    add_figure(article, period="2020", value=Decimal(90), value_text="90 亿元")
    add_figure(article, period="2021", value=Decimal(100))
    add_figure(article, period="2021", region_name="万州区", value=Decimal(10), value_text="10 亿元")
    add_figure(article, indicator="一年指标", period="2021")
    add_figure(article, indicator="测试产值", unit="percent", direction="increase", value_text="5%", value=Decimal(5))

    page = get_page(client, region_url("重庆市"))
    (svg,) = charts(page)  # 测试产值 in yuan has two periods; its growth and 一年指标 have one
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "重庆市 · 测试产值"
    assert "2020 至 2021" in desc.text and "重庆市、万州区" in desc.text
    assert len(svg.findall(f".//{SVG}circle")) == 3
    assert [p.get("d") for p in svg.findall(f".//{SVG}path")] == ["M215.0 51.2 L485.0 28.0", "M485.0 236.8"]
    assert [t.text for t in svg.findall(f"{SVG}g/{SVG}text")][-2:] == ["2020", "2021"]
    # the table after the chart holds the same values
    table = page[page.index("</figure>", page.index('class="chart-svg"')):]
    for value in ("90 亿元", "100 亿元", "10 亿元"):
        assert value in table[: table.index("</table>")]


def test_indicator_page_draws_bars_for_one_period_and_lines_for_several(client, vocabulary_entry):
    article = make_article()
    add_figure(article, standard=vocabulary_entry, value=Decimal(100))
    add_figure(article, standard=vocabulary_entry, region_name="四川省", value=Decimal(50), value_text="50 亿元")
    (svg,) = charts(get_page(client, indicator_url(vocabulary_entry.slug)))
    assert len(svg.findall(f".//{SVG}rect")) == 2 and svg.find(f"{SVG}desc").text.startswith("条形图")
    add_figure(article, standard=vocabulary_entry, period="2022", value=Decimal(120), value_text="120 亿元")
    (svg,) = charts(get_page(client, indicator_url(vocabulary_entry.slug)))
    assert len(svg.findall(f".//{SVG}circle")) == 3 and svg.find(f"{SVG}desc").text.startswith("折线图")


# --- one indicator across regions -------------------------------------------------------------------------------


def test_indicator_page_sets_regions_side_by_side_and_flags_conflicts(client, vocabulary_entry):
    first, second = make_article(title="第一篇"), make_article(title="第二篇")
    one = add_figure(first, standard=vocabulary_entry, value=Decimal(100), value_text="100 亿元")
    two = add_figure(second, standard=vocabulary_entry, value=Decimal(120), value_text="120 亿元")
    add_figure(first, standard=vocabulary_entry, region_name="四川省", value=Decimal(50), value_text="50 亿元")
    add_figure(second, standard=vocabulary_entry, region_name="四川省", value=Decimal(50), value_text="五十亿元")
    add_figure(second, standard=vocabulary_entry, region_name="四川省", period="2022", value=Decimal(60),
               value_text="60 亿元")

    response = client.get(indicator_url(vocabulary_entry.slug))
    (measure,) = response.context["group"].measures
    assert measure.periods == ["2021", "2022"]
    assert [row.region.name for row in measure.rows] == ["重庆市", "四川省"]
    chongqing, sichuan = measure.rows
    assert chongqing.cells[0].conflict and chongqing.cells[1] is None
    assert [r.value for r in chongqing.cells[0].readings] == [Decimal(120), Decimal(100)]  # newest article first
    assert not sichuan.cells[0].conflict and len(sichuan.cells[0].readings[0].figures) == 2  # they agree
    assert measure.conflicts == 1
    page = response.content.decode()
    cell = re.search(r'<td class="conflict">(.*?)</td>', page, re.S).group(1)
    assert "数值不一致" in cell and "100 亿元" in cell and "120 亿元" in cell
    assert f'href="{first.get_absolute_url()}#figure-{one.pk}">第一篇</a>' in cell
    assert f'href="{second.get_absolute_url()}#figure-{two.pk}">第二篇</a>' in cell
    assert page.count('<td class="conflict">') == 1


def test_indicator_is_found_by_slug_name_or_alias_and_metadata_points_to_the_slug(client, vocabulary_entry):
    article = make_article()
    add_figure(article, standard=vocabulary_entry)
    add_figure(article, indicator="只有文字的指标")
    canonical = f'<link rel="canonical" href="http://testserver{indicator_url(vocabulary_entry.slug)}">'
    for query in (vocabulary_entry.slug, "测试总产值", "测试gdp", " 测试 生产总值 "):
        response = client.get(reverse("articles:figures"), {"indicator": query})
        assert response.status_code == 200, query
        page = response.content.decode()
        assert canonical in page, query
        assert "<title>测试总产值 · 各地比较 · Newsroom · 区域发展观察</title>" in page
        assert '<meta name="description" content="测试用的指标。">' in page
    page = get_page(client, indicator_url("只有文字的指标"))
    assert "<h1>只有文字的指标</h1>" in page
    assert client.get(indicator_url("没有的指标")).status_code == 404
    listing = client.get(reverse("articles:figures"), {"indicator": " "})
    assert [s.name for s in listing.context["indicators"]] == ["只有文字的指标", "测试总产值"]
    assert '<link rel="canonical" href="http://testserver/figures/">' in listing.content.decode()


def test_figure_pages_are_cached_for_anonymous_readers(client):
    add_figure(make_article())
    for url in (region_url("重庆市"), indicator_url("测试产值"), reverse("articles:figures")):
        first = client.get(url)
        assert first["ETag"] and "public" in first["Cache-Control"]
        assert client.get(url, headers={"if-none-match": first["ETag"]}).status_code == 304


def test_sitemap_lists_figure_pages_with_public_figures_only(client, vocabulary_entry):
    add_figure(make_article(), standard=vocabulary_entry, region_name="万州区")
    add_figure(make_article(), indicator="只有文字的指标", region_name="万州区")
    draft = make_article(status=Article.Status.DRAFT)
    add_figure(draft, region_name="广东省")
    add_figure(make_article(), status=CANDIDATE, region_name="四川省")
    sitemap = client.get("/sitemap.xml").content.decode()
    paths = {loc.removeprefix("http://testserver") for loc in re.findall(r"<loc>(.*?)</loc>", sitemap)}
    paths = {html.unescape(path) for path in paths}
    for name in ("万州区", "重庆市", "成渝地区双城经济圈"):
        assert region_url(name) in paths, name
    for name in ("广东省", "四川省"):
        assert region_url(name) not in paths, name
    assert reverse("articles:figures") in paths and indicator_url(vocabulary_entry.slug) in paths
    assert not any("只有文字的指标" in path or "%E5%8F%AA" in path for path in paths)


# --- CSV --------------------------------------------------------------------------------------------------------


def test_region_csv_has_the_api_columns_with_provenance(client):
    source = Source.objects.create(name="测试统计局", kind=Source.Kind.DATA)
    article = make_article(title="来源文章", body="<p>今年测试产值达 100 亿元，增长较快。</p>")
    figure = add_figure(article, source=source, quote="今年测试产值达 100 亿元")
    add_figure(article, region_name="万州区", value_text="10 亿元", value=Decimal(10), quote="万州, 10 亿元")
    response = client.get(region_url("重庆市", format="csv"))
    assert response["Content-Disposition"] == f'attachment; filename="{region("重庆市").slug}-figures.csv"'
    rows = read_csv(response)
    assert [row["region"] for row in rows] == ["重庆市", "万州区"]
    row = rows[0]
    assert row["article"] == article.slug
    assert row["article_url"] == f"http://testserver{article.get_absolute_url()}"
    assert (row["quote"], row["source"], row["source_slug"], row["period"], row["region_slug"]) == (
        "今年测试产值达 100 亿元", "测试统计局", source.slug, "2021", region("重庆市").slug,
    )
    assert (row["start_offset"], row["end_offset"]) == (str(figure.start_offset), str(figure.end_offset))
    assert rows[1]["quote"] == "万州, 10 亿元"  # a comma stays inside its quoted column


# --- hostile text -----------------------------------------------------------------------------------------------


def test_hostile_indicator_and_quote_stay_text_in_html_svg_and_csv(client):
    article = make_article(title=HOSTILE, body=f"<p>{html.escape(HOSTILE)}，另有一句。</p>")
    add_figure(article, indicator=HOSTILE, quote=HOSTILE, value_text=HOSTILE, period="2020", value=Decimal(1))
    add_figure(article, indicator=HOSTILE, quote=HOSTILE, value_text="2", period="2021", value=Decimal(2))
    urls = [region_url("重庆市"), indicator_url(HOSTILE), reverse("articles:figures"), article.get_absolute_url()]
    for url in urls:
        page = get_page(client, url)
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    svg = charts(get_page(client, indicator_url(HOSTILE)))[0]
    assert svg.find(f"{SVG}title").text == HOSTILE
    assert HOSTILE in svg.find(f"{SVG}desc").text
    assert [circle.find(f"{SVG}title").text for circle in svg.iter(f"{SVG}circle")][0].endswith(f"2020：{HOSTILE}")
    for url in (region_url("重庆市", format="csv"), indicator_url(HOSTILE, format="csv")):
        rows = read_csv(client.get(url))
        assert {(row["indicator"], row["quote"]) for row in rows} == {(HOSTILE, HOSTILE)}
    # The quote is marked in the body with its entities intact.
    assert '<mark id="figure-' in get_page(client, article.get_absolute_url())


# --- the article page: marks and anchors ------------------------------------------------------------------------


BODY = (
    "<p>第一段，地区生产总值增长 8.5%。</p>"
    "<p>第二段，<strong>总量</strong>达 7.4 万亿元。</p>"
    "<p>第三段，地区生产总值增长 8.5%。</p>"
)


def test_article_page_marks_each_verified_figures_sentence_and_links_to_it(client):
    article = make_article(body=BODY)
    text = article.body_text
    second = text.index("地区生产总值增长 8.5%", text.index("第三段"))
    repeated = StatisticFigure.objects.create(
        article=article, status=VERIFIED, indicator="地区生产总值", value=Decimal("8.5"), value_text="8.5%",
        quote="地区生产总值增长 8.5%", start_offset=second, end_offset=second + 12,
    )
    across = add_figure(article, indicator="总量", quote="总量达 7.4 万亿元", value_text="7.4 万亿元")
    candidate = add_figure(article, status=CANDIDATE, quote="第一段")

    response = client.get(article.get_absolute_url())
    page = response.content.decode()
    body = page[page.index('<div class="article-body">'):page.index('<section class="figures"')]
    # The second occurrence, which the figure's offset names, is marked; the first is not.
    assert (f'<p>第三段，<mark id="figure-{repeated.pk}" class="figure-quote">地区生产总值增长 8.5%</mark>。</p>'
            in body)
    assert "<p>第一段，地区生产总值增长 8.5%。</p>" in body
    assert f'id="figure-{candidate.pk}"' not in page
    # A sentence across elements gets no mark: the panel links with a text fragment, and its row carries the id.
    assert f'id="figure-{across.pk}"' not in body
    assert "<p>第二段，<strong>总量</strong>达 7.4 万亿元。</p>" in body
    panel = page[page.index('<section class="figures"'):]
    assert f'href="#figure-{repeated.pk}"' in panel
    assert f'<tr id="figure-{across.pk}">' in panel
    assert f'href="{text_fragment("总量达 7.4 万亿元")}"' in panel
    assert text_fragment("总量达 7.4 万亿元") == "#:~:text=" + percent_encode("总量达 7.4 万亿元", safe="")
    # The stored body stays as sanitized (API, feeds); only the page document holds the marks.
    stored = Article.objects.get(pk=article.pk)
    assert "<mark" not in stored.body_html
    assert "<mark" in stored.page_document["marked_body_html"]


def test_article_without_verified_figures_keeps_no_marked_body(client):
    article = make_article(body=BODY)
    add_figure(article, status=CANDIDATE, quote="地区生产总值增长 8.5%")
    add_figure(article, status=REJECTED, quote="第一段")
    document = Article.objects.get(pk=article.pk).page_document
    assert "marked_body_html" not in document and document["figures"] == []
    assert "<mark" not in get_page(client, article.get_absolute_url())


def test_article_page_with_marks_stays_at_two_queries(client):
    article = make_article(body=BODY)
    add_figure(article, quote="地区生产总值增长 8.5%")
    client.get(article.get_absolute_url())
    bump_generation()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(article.get_absolute_url()).status_code == 200
    tables = [q["sql"].split(" FROM ", 1)[1].split()[0] for q in queries if q["sql"].startswith("SELECT")]
    # The article row and the page document (the related articles' query is skipped: there are none).
    assert tables == ['"articles_article"'], tables
    assert page_document.SCHEMA_VERSION >= 3


def fig(pk, quote, start=0):
    return SimpleNamespace(pk=pk, quote=quote, start_offset=start)


def mark(pk, inner):
    return f'<mark id="figure-{pk}" class="figure-quote">{inner}</mark>'


@pytest.mark.parametrize("body, figures, expected, marked", [
    ("<p>增长\n  8.5%。</p>", [fig(1, "增长 8.5%")], "<p>" + mark(1, "增长\n  8.5%") + "。</p>", {1}),
    ("<p>增长&nbsp;8.5%。</p>", [fig(1, "增长 8.5%")], f"<p>{mark(1, '增长&nbsp;8.5%')}。</p>", {1}),
    ("<p>甲 &amp; 乙 &lt;丙&gt;</p>", [fig(1, "甲 & 乙 <丙>")], f"<p>{mark(1, '甲 &amp; 乙 &lt;丙&gt;')}</p>", {1}),
    # Two figures of one clause, or one clause inside another's: nested marks, both ids present.
    ("<p>总量达 7.4 万亿元</p>", [fig(2, "总量达 7.4 万亿元"), fig(1, "总量达 7.4 万亿元")],
     f"<p>{mark(1, mark(2, '总量达 7.4 万亿元'))}</p>", {1, 2}),
    ("<p>总量达 7.4 万亿元，增长 8%</p>", [fig(1, "总量达 7.4 万亿元，增长 8%"), fig(2, "增长 8%", 12)],
     f"<p>{mark(1, '总量达 7.4 万亿元，' + mark(2, '增长 8%'))}</p>", {1, 2}),
    # Overlapping in part: the second cannot nest and stays unmarked.
    ("<p>甲乙丙丁</p>", [fig(1, "甲乙丙"), fig(2, "乙丙丁", 1)], f"<p>{mark(1, '甲乙丙')}丁</p>", {1}),
    # A ">" inside an attribute, and a quote that only an attribute holds: neither is touched.
    ('<p><img alt="a>增长 8.5%" src="x.jpg">增长 8.5%</p>', [fig(1, "增长 8.5%")],
     f'<p><img alt="a>增长 8.5%" src="x.jpg">{mark(1, "增长 8.5%")}</p>', {1}),
    ('<p><a href="x" title="增长 8.5%">别的</a></p>', [fig(1, "增长 8.5%")],
     '<p><a href="x" title="增长 8.5%">别的</a></p>', set()),
    ("<p>增长 <b>8.5%</b></p>", [fig(1, "增长 8.5%")], "<p>增长 <b>8.5%</b></p>", set()),
    ("<p>正文</p>", [fig(1, "")], "<p>正文</p>", set()),
])
def test_mark_quotes(body, figures, expected, marked):
    result, done = mark_quotes(body, html.unescape(re.sub(r"<[^>]+>", "", body)), figures)
    assert (result, done) == (expected, marked)


# --- constant queries -------------------------------------------------------------------------------------------


def count_queries(client, url):
    client.get(url)  # warm what is not about the page (content types)
    bump_generation()  # and measure real rendering, not the page cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def add_many(count, entry):
    regions = list(Region.objects.filter(parent__name="重庆市").order_by("pk")[:count])
    for n in range(count):
        source = Source.objects.create(name=f"来源{count}-{n}", kind=Source.Kind.DATA)
        article = make_article(published_at=timezone.now() - timedelta(hours=n + 1))
        add_figure(article, standard=entry, region_name=regions[n % len(regions)].name, period=str(2010 + n),
                   source=source, value=Decimal(n + 1))
        add_figure(article, indicator=f"文字指标{n}", source=source)


@pytest.mark.parametrize("page", ["region", "region-csv", "indicator", "indicator-csv", "index"])
def test_figure_pages_run_the_same_queries_however_many_figures(client, vocabulary_entry, page):
    url = {
        "region": region_url("重庆市"),
        "region-csv": region_url("重庆市", format="csv"),
        "indicator": indicator_url(vocabulary_entry.slug),
        "indicator-csv": indicator_url(vocabulary_entry.slug, format="csv"),
        "index": reverse("articles:figures"),
    }[page]
    add_many(2, vocabulary_entry)
    few = count_queries(client, url)
    add_many(9, vocabulary_entry)
    assert count_queries(client, url) == few
    assert few <= 10
