"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of the read API.

Kept true by ``tests/test_api_openapi.py``, which validates real responses against these schemas
(objects use ``additionalProperties: false`` so an undocumented key fails the test).
"""

from django.http import JsonResponse

from articles.api.figures import DEFAULT_LIMIT as FIGURES_DEFAULT_LIMIT
from articles.api.figures import MAX_LIMIT as FIGURES_MAX_LIMIT
from articles.api.params import DEFAULT_LIMIT as ARTICLES_DEFAULT_LIMIT
from articles.api.params import MAX_LIMIT as ARTICLES_MAX_LIMIT
from articles.export import EXPORT_SCHEMA_VERSION


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties, required=None):
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _nullable(type_, **extra):
    return {"type": [type_, "null"], **extra}


STRING = {"type": "string"}
DATETIME = {"type": "string", "format": "date-time"}
URI = {"type": "string", "format": "uri"}
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "Decimal number as a string (exact)."}

SCHEMAS = {
    "SourceRef": _object(
        {
            "name": STRING,
            "slug": STRING,
            "kind": {"type": "string", "enum": ["publisher", "syndicator", "data"]},
            "url": _nullable("string", format="uri", description="The source's homepage."),
        }
    ),
    "RegionRef": _object(
        {
            "name": STRING,
            "slug": STRING,
            "code": _nullable("string", description="Administrative division code (行政区划代码)."),
            "kind": {"type": "string", "enum": ["country", "province", "city", "county", "area"]},
        }
    ),
    "Author": _object({"name": STRING, "slug": STRING, "role": STRING}),
    "Rendition": _object(
        {"url": URI, "width": _nullable("integer", minimum=1), "format": STRING}
    ),
    "Image": _object(
        {
            "url": _nullable("string", format="uri"),
            "width": _nullable("integer", minimum=0),
            "height": _nullable("integer", minimum=0),
            "alt": STRING,
            "caption": STRING,
            "credit": STRING,
            "renditions": {"type": "array", "items": _ref("Rendition")},
        }
    ),
    "Figure": _object(
        {
            "indicator": {"type": "string", "description": "Indicator name, e.g. 地区生产总值."},
            "value": {**DECIMAL, "description": "The value, already multiplied by its magnitude (万, 亿...)."},
            "value_end": {"anyOf": [DECIMAL, {"type": "null"}], "description": "Other end of a range."},
            "value_text": {"type": "string", "description": "The number as written, e.g. 7.4 万亿元."},
            "unit": {"type": "string", "description": "Normalized unit, e.g. percent, yuan, mu."},
            "magnitude": DECIMAL,
            "direction": {"type": "string", "enum": ["increase", "decrease", "level"]},
            "approximate": {"type": "boolean"},
            "period": {"type": "string", "description": "e.g. 2021, 2021Q1, 2021-01/2021-07."},
            "region": {"anyOf": [_ref("RegionRef"), {"type": "null"}]},
            "source": {"anyOf": [_ref("SourceRef"), {"type": "null"}]},
            "quote": {"type": "string", "description": "The sentence the figure was taken from."},
            "start_offset": {"type": "integer", "minimum": 0},
            "end_offset": {"type": "integer", "minimum": 0},
            "status": {"type": "string", "enum": ["candidate", "verified", "rejected"]},
            "article": {"type": "string", "description": "The article's slug."},
            "article_url": URI,
        }
    ),
    "Article": _object(
        {
            "id": {"type": "integer"},
            "slug": STRING,
            "url": URI,
            "title": STRING,
            "summary": STRING,
            "body_html": {"type": "string", "description": "Sanitized HTML."},
            "published_at": DATETIME,
            "updated_at": DATETIME,
            "language": STRING,
            "original_url": _nullable("string", format="uri"),
            "publisher": {"anyOf": [_ref("SourceRef"), {"type": "null"}]},
            "syndicator": {"anyOf": [_ref("SourceRef"), {"type": "null"}]},
            "data_sources": {"type": "array", "items": _ref("SourceRef")},
            "authors": {"type": "array", "items": _ref("Author"), "description": "In byline order."},
            "regions": {"type": "array", "items": _ref("RegionRef")},
            "tags": {"type": "array", "items": STRING},
            "categories": {"type": "array", "items": STRING},
            "lead_image": {"anyOf": [_ref("Image"), {"type": "null"}]},
            "images": {"type": "array", "items": _ref("Image"), "description": "Gallery order."},
            "figures": {"type": "array", "items": _ref("Figure")},
        }
    ),
    "ArticleList": _object(
        {
            "version": {"type": "string", "const": EXPORT_SCHEMA_VERSION},
            "results": {"type": "array", "items": _ref("Article")},
            "next": _nullable("string", format="uri", description="The next page; null on the last one."),
        }
    ),
    "ArticleDetail": _object(
        {"version": {"type": "string", "const": EXPORT_SCHEMA_VERSION}, "result": _ref("Article")}
    ),
    "FigureList": _object(
        {
            "version": {"type": "string", "const": EXPORT_SCHEMA_VERSION},
            "results": {"type": "array", "items": _ref("Figure")},
            "next": _nullable("string", format="uri", description="The next page; null on the last one."),
        }
    ),
    "Error": _object(
        {
            "error": _object(
                {
                    "parameter": _nullable("string", description="The offending query parameter, if any."),
                    "message": STRING,
                },
                required=["message"],
            )
        }
    ),
}


def _param(name, description, schema=None, where="query", required=False):
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema or STRING}


def _limit(default, maximum):
    return _param("limit", f"Page size, 1 to {maximum}.", {"type": "integer", "minimum": 1, "maximum": maximum,
                                                           "default": default})


CURSOR = _param("cursor", "Opaque signed cursor; follow `next` rather than building it.")


def _json(schema_name, description):
    return {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}


BAD_REQUEST = _json("Error", "A bad parameter; `error.parameter` names it.")
NOT_FOUND = _json("Error", "Unknown or unpublished article.")

DOCUMENT = {
    "openapi": "3.1.0",
    "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
    "info": {
        "title": "Newsroom read API",
        "version": EXPORT_SCHEMA_VERSION,
        "description": (
            "Published articles and verified statistic figures on Chinese regional development. "
            "Read-only, JSON in UTF-8, CORS open for GET. Only published content is ever returned."
        ),
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/v1/articles/": {
            "get": {
                "operationId": "listArticles",
                "summary": "Published articles, newest first, cursor-paginated.",
                "parameters": [
                    _param("region", "Region slug; includes child regions and, for an area, its members."),
                    _param("tag", "Tag slug."),
                    _param("source", "Source slug (publisher, syndicator or data source)."),
                    _param("author", "Author slug."),
                    _param("q", "Full-text search (Chinese-aware, as on the site)."),
                    _param("published_after", "ISO 8601 date or datetime.", {"type": "string", "format": "date-time"}),
                    _param("published_before", "ISO 8601 date or datetime.", {"type": "string", "format": "date-time"}),
                    _param("updated_since", "ISO 8601 datetime; for incremental sync.",
                           {"type": "string", "format": "date-time"}),
                    _limit(ARTICLES_DEFAULT_LIMIT, ARTICLES_MAX_LIMIT),
                    CURSOR,
                ],
                "responses": {"200": _json("ArticleList", "A page of articles."), "400": BAD_REQUEST},
            }
        },
        "/api/v1/articles/{slug}/": {
            "get": {
                "operationId": "getArticle",
                "summary": "One published article.",
                "parameters": [_param("slug", "The article's slug.", where="path", required=True)],
                "responses": {"200": _json("ArticleDetail", "The article."), "404": NOT_FOUND},
            }
        },
        "/api/v1/figures/": {
            "get": {
                "operationId": "listFigures",
                "summary": "Verified statistic figures of published articles, by figure id ascending.",
                "description": "`format=csv` returns every matching row (no pagination) as UTF-8 CSV with a BOM; "
                "region and source are flattened to region, region_slug, region_code, source, source_slug.",
                "parameters": [
                    _param("region", "Region slug; includes child regions and, for an area, its members."),
                    _param("indicator", "Indicator name, exact match."),
                    _param("source", "Data source slug."),
                    _param("period", "Period, exact match (e.g. 2021, 2021Q1)."),
                    _param("format", "Response format.", {"type": "string", "enum": ["json", "csv"], "default": "json"}),
                    _limit(FIGURES_DEFAULT_LIMIT, FIGURES_MAX_LIMIT),
                    CURSOR,
                ],
                "responses": {
                    "200": {
                        "description": "A page of figures (JSON) or all of them (CSV).",
                        "content": {
                            "application/json": {"schema": _ref("FigureList")},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "400": BAD_REQUEST,
                },
            }
        },
        "/api/v1/export.ndjson": {
            "get": {
                "operationId": "exportArticles",
                "summary": "Every published article, one Article document per line, streamed.",
                "responses": {
                    "200": {
                        "description": "Newline-delimited JSON; each line is an Article.",
                        "content": {"application/x-ndjson": {"schema": _ref("Article")}},
                    }
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenAPI",
                "summary": "This document.",
                "responses": {
                    "200": {"description": "OpenAPI 3.1 document.", "content": {"application/json": {"schema": {
                        "type": "object"}}}}
                },
            }
        },
    },
    "components": {"schemas": SCHEMAS},
}


def openapi_view(request):
    response = JsonResponse(DOCUMENT, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response
