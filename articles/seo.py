"""What search engines and link previews read: page metadata and an article's JSON-LD.

``page_meta()`` builds the dict that ``articles/base.html`` turns into ``<title>``, the meta
description, the canonical link and OpenGraph tags (the template escapes every value).
``article_jsonld()`` builds the schema.org ``NewsArticle`` for an article page, and
``jsonld_script()`` writes it into a ``<script type="application/ld+json">`` element, escaped
exactly as Django's ``json_script`` filter escapes (which only writes ``application/json``).
Views decide what a page is about; the templates decide how it looks.
"""

import json
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from articles.templatetags.articles_tags import describe as describe_picture

SITE_NAME = "Newsroom · 区域发展观察"
SITE_DESCRIPTION = "精选中国各地区域发展报道：城市、产业、生态与民生，附原发媒体、数据来源和核实过的统计数字。"
BEIJING = ZoneInfo("Asia/Shanghai")
DESCRIPTION_LENGTH = 120

# The same escapes as django.utils.html.json_script: inside <script> the HTML parser ends the
# element at "</script" whatever the JSON says, so "<", ">" and "&" never appear literally.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def describe(text: str, default: str = SITE_DESCRIPTION) -> str:
    """A one-paragraph description: ``text`` on one line, cut to DESCRIPTION_LENGTH characters."""
    text = " ".join((text or "").split())
    return Truncator(text).chars(DESCRIPTION_LENGTH) if text else default


def page_meta(request, *, title="", description="", path=None, og_type="website", image=None) -> dict:
    """Metadata for one page. ``path`` defaults to the request's path (query string dropped).

    ``image`` is an ``Image`` (see ``image_url()``), the address of a picture, or None.
    """
    return {
        "title": title,
        "description": describe(description),
        "canonical": request.build_absolute_uri(request.path if path is None else path),
        "og_type": og_type,
        "image": request.build_absolute_uri(image) if isinstance(image, str) else image_url(image, request),
    }


def image_url(image, request) -> str | None:
    """The absolute address of the largest version of ``image`` that pages show, as the picture tag chooses it:
    never a placeholder, never through the CORS proxy. None when there is nothing to show."""
    picture = describe_picture(image)
    return request.build_absolute_uri(picture.full) if picture else None


def beijing_isoformat(value) -> str | None:
    """ISO 8601 with the +08:00 offset readers in China expect."""
    return value.astimezone(BEIJING).isoformat() if value else None


def _organization(source, request):
    """``source``: a page document's source (``{"name", "url", "homepage"}``) or None for Newsroom itself."""
    if source is None:
        return {"@type": "Organization", "name": SITE_NAME, "url": request.build_absolute_uri("/")}
    organization = {"@type": "Organization", "name": source["name"]}
    if source["homepage"]:
        organization["url"] = source["homepage"]
    return organization


def article_jsonld(article, page, request) -> dict:
    """The schema.org NewsArticle for ``article`` and its page document ``page`` (``articles.page_document``).

    Reporters and writers are its authors (the original publisher when none is credited);
    photographers are contributors and editors editors, as schema.org names them.
    """
    site = request.build_absolute_uri("/")[:-1]  # the paths in ``page`` all start with "/"
    url = site + article.get_absolute_url()
    by_role = {
        group["role"]: [
            {"@type": "Person", "name": author["name"], "url": site + author["url"]}
            for author in group["authors"]
        ]
        for group in page["bylines"]
    }
    authors = by_role.get("reporter", []) + by_role.get("writer", [])
    document = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": Truncator(article.title).chars(110),
        "description": describe(page["description"]),
        "datePublished": beijing_isoformat(article.published_at),
        "dateModified": beijing_isoformat(article.updated_at or article.published_at),
        "inLanguage": "zh-Hans",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "author": authors or [_organization(page["publisher"], request)],
        "publisher": _organization(page["publisher"], request),
        "keywords": sorted(tag["name"] for tag in page["tags"]),
        "contentLocation": [{"@type": "Place", "name": region["name"]} for region in page["regions"]],
    }
    if by_role.get("editor"):
        document["editor"] = by_role["editor"]
    if by_role.get("photographer"):
        document["contributor"] = by_role["photographer"]
    if page["og_image"]:
        document["image"] = [request.build_absolute_uri(page["og_image"])]  # a path, or a remote picture's URL
    if article.original_url:
        document["isBasedOn"] = article.original_url
    return document


def jsonld_script(data) -> SafeString:
    """``<script type="application/ld+json">`` holding ``data``, safe to place anywhere in HTML."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    # format_html escapes its arguments; the JSON is already made inert above, so pass it as is.
    return format_html('<script type="application/ld+json">{}</script>', SafeString(text))
