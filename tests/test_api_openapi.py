"""GET /api/v1/openapi.json, kept true: real API responses validate against its schemas."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import Resolver404, resolve
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from articles.api import urls as api_urls
from articles.models import Article, Region, StatisticFigure
from tests.factories import make_article

pytestmark = pytest.mark.django_db

DOC_URI = "urn:newsroom:openapi"


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def validator(document, name):
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(document, name, instance):
    errors = sorted(validator(document, name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def require_endpoint(path):
    try:
        resolve(path)
    except Resolver404:
        pytest.skip(f"{path} endpoint not there yet")


@pytest.fixture
def world():
    article = make_article(title="重庆经济", summary="摘要", original_url="https://example.com/a")
    article.regions.add(Region.objects.get(name="万州区"))
    article.tags.add("经济")
    StatisticFigure.objects.create(
        article=article, indicator="地区生产总值", value=1, value_text="7.4 万亿元", quote="总量达 7.4 万亿元。",
        start_offset=0, end_offset=5, status=StatisticFigure.Status.VERIFIED, region=Region.objects.get(name="重庆市"),
    )
    StatisticFigure.objects.create(
        article=article, indicator="区间", value=5, value_end=6, value_text="5%至6%", quote="增长5%至6%。",
        start_offset=6, end_offset=9, status=StatisticFigure.Status.VERIFIED, is_approximate=True,
    )
    make_article(title="无地区文章")
    return article


def test_document_is_openapi_31_and_lists_every_endpoint(document):
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/api/v1/articles/", "/api/v1/articles/{slug}/", "/api/v1/withdrawals/", "/api/v1/figures/",
        "/api/v1/export.ndjson", "/api/v1/openapi.json",
    }
    for path in document["paths"]:
        resolve(path.replace("{slug}", "x"))  # every documented path is routed
    routed = {"/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern)) for p in api_urls.urlpatterns}
    assert routed == set(document["paths"])  # and every routed one is documented


def test_sync_recipe_is_in_the_document(document):
    description = document["info"]["description"]
    for step in ("updated_since=", "/api/v1/withdrawals/?since=", "by `id`", "max(updated_at, published_at)",
                 "withdrawn_at", "minus 5"):
        assert step in description, step


def test_component_schemas_are_valid_json_schema(document):
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert schema.get("additionalProperties") is False, name


def test_every_ref_resolves(document):
    for name in document["components"]["schemas"]:
        validator(document, name).is_valid({})  # raises on an unresolvable $ref


def test_figures_response_matches_schema(client, document, world):
    body = client.get("/api/v1/figures/", {"limit": 1}).json()
    assert len(body["results"]) == 1 and body["next"]
    assert_valid(document, "FigureList", body)
    assert_valid(document, "FigureList", client.get(body["next"]).json())


def test_schema_rejects_an_undocumented_key(client, document, world):
    body = client.get("/api/v1/figures/").json()
    body["results"][0]["surprise"] = 1
    assert not validator(document, "FigureList").is_valid(body)


def test_error_response_matches_schema(client, document):
    response = client.get("/api/v1/figures/", {"limit": "0"})
    assert response.status_code == 400
    assert_valid(document, "Error", response.json())


def test_articles_list_matches_schema(client, document, world):
    require_endpoint("/api/v1/articles/")
    response = client.get("/api/v1/articles/", {"limit": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["results"] and body["next"]
    assert_valid(document, "ArticleList", body)
    assert_valid(document, "ArticleList", client.get(body["next"]).json())
    bad = client.get("/api/v1/articles/", {"published_after": "yesterday"})
    assert bad.status_code == 400
    assert_valid(document, "Error", bad.json())


def test_article_detail_matches_schema(client, document, world):
    require_endpoint(f"/api/v1/articles/{world.slug}/")
    response = client.get(f"/api/v1/articles/{world.slug}/")
    assert response.status_code == 200
    assert_valid(document, "ArticleDetail", response.json())
    missing = client.get("/api/v1/articles/no-such-article/")
    assert missing.status_code == 404
    assert_valid(document, "Error", missing.json())


def test_ndjson_lines_match_article_schema(client, document, world):
    require_endpoint("/api/v1/export.ndjson")
    response = client.get("/api/v1/export.ndjson")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 2
    for line in lines:
        assert_valid(document, "Article", json.loads(line))


def test_withdrawals_response_matches_schema(client, document, world):
    gone = [make_article(title=f"撤下 {n}") for n in range(2)]
    Article.objects.filter(pk=gone[0].pk).delete()
    gone[1].status = Article.Status.ARCHIVED
    gone[1].save()
    response = client.get("/api/v1/withdrawals/", {"limit": 1, "since": "2000-01-01"})
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 1 and body["next"]
    assert_valid(document, "WithdrawalList", body)
    assert_valid(document, "WithdrawalList", client.get(body["next"]).json())
    bad = client.get("/api/v1/withdrawals/", {"since": "yesterday"})
    assert bad.status_code == 400
    assert_valid(document, "Error", bad.json())


def test_every_documented_parameter_is_read(client, document, world):
    """Each query parameter the document lists changes the answer when given a bad value (a 400 naming
    it), or is one of the few that accept any text."""
    free_text = {"q", "indicator", "period"}
    for path, item in document["paths"].items():
        for parameter in item["get"].get("parameters", []):
            if parameter["in"] != "query" or parameter["name"] in free_text:
                continue
            name = parameter["name"]
            value = "no-such-value" if name != "format" else "xml"
            response = client.get(path, {name: value})
            assert response.status_code == 400, (path, name)
            assert response.json()["error"]["parameter"] == name, (path, name)


def test_moments_in_the_documented_formats_are_accepted(client, document, world):
    examples = document["paths"]["/api/v1/articles/"]["get"]["parameters"]
    moment = next(p for p in examples if p["name"] == "updated_since")["schema"]["examples"]
    later = (world.published_at + timedelta(days=1)).isoformat()
    for value in [*moment, later]:
        for path, name in (("/api/v1/articles/", "updated_since"), ("/api/v1/articles/", "published_after"),
                           ("/api/v1/articles/", "published_before"), ("/api/v1/withdrawals/", "since")):
            assert client.get(path, {name: value}).status_code == 200, (path, name, value)


def test_page_sizes_are_the_documented_ones(client, document, world):
    for path, item in document["paths"].items():
        limit = next((p["schema"] for p in item["get"].get("parameters", []) if p["name"] == "limit"), None)
        if limit is None:
            continue
        assert client.get(path).status_code == 200, path  # the default
        assert client.get(path, {"limit": limit["maximum"]}).status_code == 200, path
        too_many = client.get(path, {"limit": limit["maximum"] + 1})
        assert too_many.status_code == 400 and too_many.json()["error"]["parameter"] == "limit", path
        assert str(limit["maximum"]) in too_many.json()["error"]["message"]
