"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of the read API.

Kept true by ``tests/test_api_openapi.py``, which validates real responses against these schemas
(objects use ``additionalProperties: false`` so an undocumented key fails the test).
"""

from django.http import JsonResponse

from articles.api.figures import DEFAULT_LIMIT as FIGURES_DEFAULT_LIMIT
from articles.api.figures import MAX_LIMIT as FIGURES_MAX_LIMIT
from articles.api.params import DEFAULT_LIMIT as ARTICLES_DEFAULT_LIMIT
from articles.api.params import MAX_LIMIT as ARTICLES_MAX_LIMIT
from articles.api.responses import JSON_OPTIONS, api_view
from articles.api.withdrawals import DEFAULT_LIMIT as WITHDRAWALS_DEFAULT_LIMIT
from articles.api.withdrawals import MAX_LIMIT as WITHDRAWALS_MAX_LIMIT
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
# Query parameters taking a moment: a date (its start) or a date-time; without an offset, Asia/Shanghai time.
MOMENT = {"type": "string", "examples": ["2022-07-31", "2022-07-31T08:00:00+08:00", "2022-07-31T00:00:00Z"]}

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
            "id": {"type": "integer", "description": "Database id: stable on this site (not across copies); the key to "
                   "mirror by, since a slug can change."},
            "slug": STRING,
            "url": URI,
            "title": STRING,
            "summary": STRING,
            "body_html": {"type": "string", "description": "Sanitized HTML."},
            "published_at": DATETIME,
            "updated_at": {**DATETIME, "description": "Last change to anything the document shows (the article, its "
                           "bylines, images, tags, regions, sources or verified figures)."},
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
    "Withdrawal": _object(
        {
            "id": {"type": "integer", "description": "The article's id, as in its documents."},
            "slug": {"type": "string", "description": "Its last public slug."},
            "withdrawn_at": {**DATETIME, "description": "When it left the public set."},
        }
    ),
    "WithdrawalList": _object(
        {
            "version": {"type": "string", "const": EXPORT_SCHEMA_VERSION},
            "results": {"type": "array", "items": _ref("Withdrawal")},
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


def _header(description):
    return {"description": description, "schema": STRING}


CACHE_HEADERS = {
    "ETag": _header("Changes whenever any public content changes; send it back as `If-None-Match`."),
    "Last-Modified": _header("Time of the last change to public content; for `If-Modified-Since`."),
    "Cache-Control": _header("`public, max-age=60` (less when a scheduled article goes public sooner)."),
    "Access-Control-Allow-Origin": _header("`*`: any origin may read (no credentials)."),
}


def _json(schema_name, description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}
    if headers:
        response["headers"] = headers
    return response


def _ok(schema_name, description):
    return _json(schema_name, description, CACHE_HEADERS)


BAD_REQUEST = _json("Error", "A bad parameter; `error.parameter` names it.")
NOT_FOUND = _json("Error", "Unknown or unpublished article.")
NOT_MODIFIED = {"description": "Not modified since the `ETag` / `Last-Modified` sent (`If-None-Match`, "
                "`If-Modified-Since`).", "headers": {"ETag": CACHE_HEADERS["ETag"]}}

SYNC = """
**Mirroring and incremental sync.** Key your copy by the article `id` (slugs can change).

1. Keep two watermarks, both `2000-01-01` at first: one for articles, one for withdrawals.
2. Each run (the first one included): `GET /api/v1/articles/?updated_since=<articles watermark minus 5
   minutes>&limit=100`, follow `next` until it is null and upsert every document by `id`; then
   `GET /api/v1/withdrawals/?since=<withdrawals watermark minus 5 minutes>&limit=1000`, follow `next`
   and delete every `id` listed (ids you do not have are fine).
3. Move the articles watermark to the greatest `max(updated_at, published_at)` among the documents
   received, the withdrawals one to the greatest `withdrawn_at` (compare as date-times; keep a watermark
   when nothing came).

Both boundaries are inclusive and the margin makes rows come again: upserts and deletes make that
harmless, and a change whose transaction committed after later ones (up to the margin) is not missed.
The two feeds never contradict each other:
an article is in at most one of them at any moment (a withdrawn article published again leaves the
withdrawals and comes back through `updated_since`, as does a scheduled article when its time comes).
`updated_at` moves whenever anything a document shows changes, figures included.
"""

DOCUMENT = {
    "openapi": "3.1.0",
    "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
    "info": {
        "title": "Newsroom read API",
        "version": EXPORT_SCHEMA_VERSION,
        "description": (
            "Published articles and verified statistic figures on Chinese regional development. "
            "Read-only, JSON in UTF-8, CORS open for GET. Only published content is ever returned: an article is "
            "public when it is published and its `published_at` has come.\n" + SYNC
        ),
    },
    "servers": [{"url": "/"}],
    "paths": {
        "/api/v1/articles/": {
            "get": {
                "operationId": "listArticles",
                "summary": "Published articles, newest first (by `published_at`, then `id`), cursor-paginated.",
                "description": "With `updated_since`: the sync feed, articles whose `max(updated_at, published_at)` "
                "is at or after that moment, oldest change first (then `id`). Pages stay correct while articles are "
                "added or edited: an article edited while you page comes again at the end, never skipped. All filters "
                "combine.",
                "parameters": [
                    _param("region", "Region slug; includes child regions and, for an area, its members. Unknown: 400."),
                    _param("tag", "Tag slug; 400 when no published article has it."),
                    _param("source", "Source slug (publisher, syndicator or data source); 400 when no published "
                           "article has it."),
                    _param("author", "Author slug; 400 when no published article has it."),
                    _param("q", "Full-text search (Chinese-aware, as on the site); at most 500 matches."),
                    _param("published_after", "Published at or after: ISO 8601 date (its start) or date-time; "
                           "without an offset, Asia/Shanghai time.", MOMENT),
                    _param("published_before", "Published before (exclusive); same format.", MOMENT),
                    _param("updated_since", "Changed at or after (inclusive); same format. Switches to the sync "
                           "order.", MOMENT),
                    _limit(ARTICLES_DEFAULT_LIMIT, ARTICLES_MAX_LIMIT),
                    CURSOR,
                ],
                "responses": {"200": _ok("ArticleList", "A page of articles."), "304": NOT_MODIFIED,
                              "400": BAD_REQUEST},
            }
        },
        "/api/v1/articles/{slug}/": {
            "get": {
                "operationId": "getArticle",
                "summary": "One published article.",
                "parameters": [_param("slug", "The article's slug.", where="path", required=True)],
                "responses": {"200": _ok("ArticleDetail", "The article."), "304": NOT_MODIFIED,
                              "404": NOT_FOUND},
            }
        },
        "/api/v1/withdrawals/": {
            "get": {
                "operationId": "listWithdrawals",
                "summary": "Articles that left the public set, oldest withdrawal first (then `id`), cursor-paginated.",
                "description": "An article withdraws when it is unpublished, archived, moved to a future "
                "`published_at` or deleted. Only articles not public now are listed (one row each, with its latest "
                "withdrawal); one published again is back in the `updated_since` feed instead. Never lists an "
                "article that was not public.",
                "parameters": [
                    _param("since", "Withdrawn at or after (inclusive); the format of `updated_since`.", MOMENT),
                    _limit(WITHDRAWALS_DEFAULT_LIMIT, WITHDRAWALS_MAX_LIMIT),
                    CURSOR,
                ],
                "responses": {"200": _ok("WithdrawalList", "A page of withdrawals."), "304": NOT_MODIFIED,
                              "400": BAD_REQUEST},
            }
        },
        "/api/v1/figures/": {
            "get": {
                "operationId": "listFigures",
                "summary": "Verified statistic figures of published articles, by figure id ascending.",
                "description": "`format=csv` returns every matching row (no pagination) as UTF-8 CSV with a BOM; "
                "region and source are flattened to region, region_slug, region_code, source, source_slug. "
                "Rows carry no id of their own: to keep figures in sync, take them from the article documents of "
                "the `updated_since` feed (an article's `figures` are exactly its rows here, and verifying, "
                "rejecting or editing a figure moves its article's `updated_at`).",
                "parameters": [
                    _param("region", "Region slug; includes child regions and, for an area, its members. Unknown: 400."),
                    _param("indicator", "Indicator name, exact match."),
                    _param("source", "Data source slug. Unknown: 400."),
                    _param("period", "Period, exact match (e.g. 2021, 2021Q1)."),
                    _param("format", "Response format.", {"type": "string", "enum": ["json", "csv"], "default": "json"}),
                    _limit(FIGURES_DEFAULT_LIMIT, FIGURES_MAX_LIMIT),
                    CURSOR,
                ],
                "responses": {
                    "200": {
                        "description": "A page of figures (JSON) or all of them (CSV).",
                        "headers": CACHE_HEADERS,
                        "content": {
                            "application/json": {"schema": _ref("FigureList")},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "304": NOT_MODIFIED,
                    "400": BAD_REQUEST,
                },
            }
        },
        "/api/v1/export.ndjson": {
            "get": {
                "operationId": "exportArticles",
                "summary": "Every published article, one Article document per line (by `id`), streamed.",
                "responses": {
                    "200": {
                        "description": "Newline-delimited JSON; each line is an Article.",
                        "headers": CACHE_HEADERS,
                        "content": {"application/x-ndjson": {"schema": _ref("Article")}},
                    },
                    "304": NOT_MODIFIED,
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


@api_view
def openapi_view(request):
    return JsonResponse(DOCUMENT, json_dumps_params=JSON_OPTIONS)
