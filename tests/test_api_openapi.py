"""GET /api/v1/openapi.json, kept true: real API responses validate against its schemas."""

import json

import pytest
from django.urls import Resolver404, resolve
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from articles.models import Region, StatisticFigure
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
        "/api/v1/articles/", "/api/v1/articles/{slug}/", "/api/v1/figures/", "/api/v1/export.ndjson",
        "/api/v1/openapi.json",
    }
    for path in document["paths"]:
        resolve(path.replace("{slug}", "x"))  # every documented path is routed


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
