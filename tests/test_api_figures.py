"""GET /api/v1/figures/: verified figures of published articles, filters, cursor pages, CSV, errors."""

import csv
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.api.figures import CSV_COLUMNS, flatten_figure
from articles.models import Article, Region, Source, StatisticFigure
from tests.factories import make_article

pytestmark = pytest.mark.django_db

URL = "/api/v1/figures/"


def add_figure(article, status=StatisticFigure.Status.VERIFIED, **fields):
    values = {"indicator": "地区生产总值", "value": Decimal("74000000000000"), "value_text": "7.4 万亿元",
              "unit": "yuan", "magnitude": Decimal("1000000000000"), "period": "2021",
              "quote": "总量达 7.4 万亿元。", "start_offset": 0, "end_offset": 5, "status": status}
    values.update(fields)
    return StatisticFigure.objects.create(article=article, **values)


def region(name):
    return Region.objects.get(name=name)


@pytest.fixture
def world():
    published = make_article(title="已发布")
    draft = make_article(title="草稿", status=Article.Status.DRAFT)
    scheduled = make_article(title="定时", published_at=timezone.now() + timezone.timedelta(days=1))
    stats = Source.objects.get(name="重庆市统计局")
    figures = {
        "chongqing": add_figure(published, region=region("重庆市"), source=stats),
        "wanzhou": add_figure(published, region=region("万州区"), indicator="常住人口", value=Decimal("1560000"),
                              value_text="156 万人", unit="person", period="2022", direction="increase",
                              is_approximate=True, quote="常住人口约 156 万人，增长明显。"),
        "sichuan": add_figure(published, region=region("四川省"), value_end=Decimal("5.5"), value_text="5%至5.5%",
                              unit="percent", indicator="增速", period="2021Q1"),
        "nowhere": add_figure(published, indicator="无地区", value=Decimal("3")),
    }
    add_figure(published, status=StatisticFigure.Status.CANDIDATE, indicator="待核实", region=region("重庆市"))
    add_figure(published, status=StatisticFigure.Status.REJECTED, indicator="已否决", region=region("重庆市"))
    add_figure(draft, indicator="草稿数字", region=region("重庆市"), source=stats)
    add_figure(scheduled, indicator="定时数字", region=region("重庆市"), source=stats)
    return figures


def results(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def indicators(client, **params):
    return sorted(row["indicator"] for row in results(client, **params)["results"])


def test_only_verified_figures_of_published_articles(client, world):
    body = results(client)
    assert body["version"] == "1.0" and body["next"] is None
    assert [row["indicator"] for row in body["results"]] == ["地区生产总值", "常住人口", "增速", "无地区"]
    assert {row["status"] for row in body["results"]} == {"verified"}
    assert {row["article"] for row in body["results"]} == {world["chongqing"].article.slug}


def test_row_carries_provenance(client, world):
    row = next(r for r in results(client)["results"] if r["indicator"] == "常住人口")
    article = world["wanzhou"].article
    assert row["value"] == "1560000.000000" and row["value_text"] == "156 万人" and row["unit"] == "person"
    assert row["direction"] == "increase" and row["approximate"] is True and row["period"] == "2022"
    assert row["region"]["slug"] == region("万州区").slug and row["quote"] == "常住人口约 156 万人，增长明显。"
    assert row["article_url"] == "http://testserver" + article.get_absolute_url()
    chongqing = next(r for r in results(client)["results"] if r["indicator"] == "地区生产总值")
    assert chongqing["source"]["name"] == "重庆市统计局"


def test_region_filter_includes_child_regions_and_area_members(client, world):
    assert indicators(client, region=region("重庆市").slug) == sorted(["地区生产总值", "常住人口"])
    assert indicators(client, region=region("万州区").slug) == ["常住人口"]
    assert indicators(client, region=region("成渝地区双城经济圈").slug) == sorted(["地区生产总值", "增速", "常住人口"])
    assert indicators(client, region=region("广东省").slug) == []


def test_indicator_source_and_period_filters(client, world):
    assert indicators(client, indicator="增速") == ["增速"]
    assert indicators(client, indicator="增") == []  # exact match, documented
    assert indicators(client, source=Source.objects.get(name="重庆市统计局").slug) == ["地区生产总值"]
    assert indicators(client, period="2021") == sorted(["地区生产总值", "无地区"])
    assert indicators(client, period="2021Q1", region=region("四川省").slug) == ["增速"]


@pytest.mark.parametrize(
    "params, parameter",
    [
        ({"region": "no-such-region"}, "region"),
        ({"source": "no-such-source"}, "source"),
        ({"limit": "0"}, "limit"),
        ({"limit": str(10**9)}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "12:tampered"}, "cursor"),
        ({"format": "xml"}, "format"),
        ({"indicator": "地区\x00"}, "indicator"),  # NUL: PostgreSQL refuses it in text
        ({"period": "\x00"}, "period"),
        ({"source": "a\x00"}, "source"),
    ],
)
def test_bad_parameters_are_400_naming_them(client, world, params, parameter):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["parameter"] == parameter
    assert response.json()["error"]["message"]


def test_tampered_cursor_from_a_real_one(client, world):
    next_url = results(client, limit=1)["next"]
    value, signature = parse_qs(urlsplit(next_url).query)["cursor"][0].split(":", 1)
    response = client.get(URL, {"limit": 1, "cursor": f"{int(value) + 1}:{signature}"})
    assert response.status_code == 400 and response.json()["error"]["parameter"] == "cursor"


def test_cursor_pages_cover_every_row_once_and_keep_filters(client, world):
    seen, body = [], results(client, limit=1, period="2021")
    while True:
        seen += [row["indicator"] for row in body["results"]]
        if body["next"] is None:
            break
        assert "period=2021" in body["next"] and body["next"].startswith("http://testserver/api/v1/figures/?")
        response = client.get(body["next"])
        assert response.status_code == 200
        body = response.json()
    assert seen == ["地区生产总值", "无地区"]


def test_constant_queries_per_page(client, world):
    article = make_article()
    for n in range(60):
        add_figure(article, indicator=f"指标{n}", region=region("万州区"), source=Source.objects.get(name="国家统计局"))

    def count(**params):
        with CaptureQueriesContext(connection) as queries:
            body = results(client, **params)
        return len(queries), len(body["results"])

    small, large = count(limit=5), count(limit=50)
    assert small[1] == 5 and large[1] == 50
    assert small[0] == large[0]
    assert count(limit=5, region=region("重庆市").slug)[0] == count(limit=50, region=region("重庆市").slug)[0]


def read_csv(response):
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads the Chinese as UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_has_the_same_rows_as_json(client, world):
    response = client.get(URL, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="figures.csv"'
    rows = read_csv(response)
    assert rows[0] == CSV_COLUMNS
    assert {"region", "region_slug", "source", "source_slug", "value_text", "article_url"} <= set(rows[0])
    json_rows = results(client)["results"]
    assert len(rows) - 1 == len(json_rows)
    assert rows[1:] == [[str(value) for value in flatten_figure(row)] for row in json_rows]
    by_indicator = {row[CSV_COLUMNS.index("indicator")]: dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert by_indicator["常住人口"]["region"] == "万州区" and by_indicator["常住人口"]["approximate"] == "true"
    assert by_indicator["地区生产总值"]["source"] == "重庆市统计局"
    assert by_indicator["无地区"]["region"] == "" and by_indicator["增速"]["value_end"] == "5.500000"


def test_csv_cells_never_run_as_spreadsheet_formulas(client, world):
    article = world["chongqing"].article  # published
    hostile = ['=HYPERLINK("http://evil.example","点我")', "+1+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]
    for n, text in enumerate(hostile):
        StatisticFigure.objects.create(article=article, indicator=text, quote=text, value=Decimal("-2.75"),
                                       value_text="-2.75 ‰", start_offset=n, end_offset=n + 1,
                                       status=StatisticFigure.Status.VERIFIED)
    rows = read_csv(client.get(URL, {"format": "csv"}))
    cells = {row[CSV_COLUMNS.index("indicator")]: dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]}
    for text in hostile:
        row = cells["'" + text]  # shown as text by spreadsheets
        assert row["quote"] == "'" + text
        assert row["value"] == "-2.750000" and row["value_text"] == "'-2.75 ‰"  # a number stays a number
    assert set(hostile) <= {row["indicator"] for row in results(client, limit=100)["results"]}  # JSON: as written


def test_csv_is_filtered_unpaginated_and_bounded_in_queries(client, world):
    article = make_article()

    def csv_rows_and_queries():
        with CaptureQueriesContext(connection) as queries:
            rows = read_csv(client.get(URL, {"format": "csv", "region": region("重庆市").slug, "limit": "5"}))
        return len(rows) - 1, len(queries)

    for n in range(10):
        add_figure(article, indicator=f"指标{n}", region=region("万州区"))
    few, few_queries = csv_rows_and_queries()
    for n in range(10, 300):
        add_figure(article, indicator=f"指标{n}", region=region("万州区"))
    many, many_queries = csv_rows_and_queries()
    assert (few, many) == (12, 302)  # limit is ignored: CSV is every matching row
    assert few_queries == many_queries
    assert client.get(URL, {"format": "csv", "region": "nowhere"}).status_code == 400


def test_cors_header(client, world):
    assert client.get(URL)["Access-Control-Allow-Origin"] == "*"
    assert client.get(URL, {"format": "csv"})["Access-Control-Allow-Origin"] == "*"
    assert client.get(URL, {"limit": "0"})["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_figures_answer_conditional_gets_and_articles_show_verified_figures_only(client):
    from articles.importer.run import import_markdown_file
    from articles.models import Article, StatisticFigure

    from .factories import SEED

    article = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    for status in ("verified", "candidate", "rejected"):
        StatisticFigure.objects.create(article=article, indicator=f"{status} 指标", value=1, value_text="1%",
                                       quote="q", start_offset=0, end_offset=1, status=status)
    response = client.get("/api/v1/figures/")
    assert response.status_code == 200 and response["ETag"]
    assert client.get("/api/v1/figures/", headers={"if-none-match": response["ETag"]}).status_code == 304
    document = client.get(f"/api/v1/articles/{article.slug}/").json()["result"]
    assert [f["indicator"] for f in document["figures"]] == ["verified 指标"]
