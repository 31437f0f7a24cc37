"""The one place that turns an article into its JSON document (export, NDJSON, JSON API).

``EXPORT_SCHEMA_VERSION`` is documented in the README. ``serialize_article(article)`` is the
public document; ``full=True`` adds what only a Newsroom-to-Newsroom copy needs (status,
the verbatim source file, import provenance) so that ``import_articles`` can restore an
article exactly from ``export_articles`` output.
"""

import json
import re
from itertools import islice

from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.urls import reverse
from taggit.models import TaggedItem

from articles.models import Article, ArticleAuthor, ArticleImage, Image, StatisticFigure
from articles.sanitize import web_url

EXPORT_SCHEMA_VERSION = "1.0"
# Articles fetched per round of queries when streaming a whole export (NDJSON).
EXPORT_CHUNK_SIZE = 500


def _iso(value):
    return value.isoformat() if value else None


def _absolute(url, base_url):
    if url and base_url and url.startswith("/"):
        return base_url.rstrip("/") + url
    return url


# --- Plain-dict documents -------------------------------------------------------------------------------------
# The document shape is defined once, by the ``*_document`` functions below, which take plain
# dicts (the field values). ``serialize_*`` turn model instances into those dicts; the NDJSON dump
# (``iter_export_lines``) builds them straight from ``values()`` rows, a few queries per chunk.

SOURCE_FIELDS = ("name", "slug", "kind", "homepage")
REGION_FIELDS = ("name", "slug", "code", "kind")
IMAGE_FIELDS = (
    "file", "remote_url", "width", "height", "alt_text", "caption", "credit", "renditions",
    "data_source_line", "fetch_status", "is_placeholder",
)
FIGURE_FIELDS = (
    "indicator", "value", "value_end", "value_text", "unit", "magnitude", "direction", "is_approximate",
    "period", "quote", "start_offset", "end_offset", "status",
)
ARTICLE_FIELDS = (
    "pk", "slug", "title", "summary", "body_html", "published_at", "updated_at", "language", "original_url",
    "categories",
)
FULL_ARTICLE_FIELDS = (
    "status", "body", "created_at", "quality_warnings", "raw_source", "source_filename", "source_encoding",
    "source_checksum", "source_key", "import_checksum", "imported_at",
)


def source_document(source):
    if source is None:
        return None
    return {"name": source["name"], "slug": source["slug"], "kind": source["kind"], "url": source["homepage"] or None}


def region_document(region):
    return {"name": region["name"], "slug": region["slug"], "code": region["code"] or None, "kind": region["kind"]}


def serialize_rendition(rendition, base_url="", full=False):
    document = {
        "url": _absolute(default_storage.url(rendition["file"]), base_url),
        "width": rendition.get("width"),
        "format": rendition.get("format", "webp"),
    }
    if full:  # a copy restores the renditions it stored along with the media folder
        document.update({"height": rendition.get("height"), "file": rendition["file"]})
    return document


def image_document(image, base_url="", full=False):
    """``image``: the ``IMAGE_FIELDS`` values (``file`` is the stored name) plus ``photographer`` (a name or None)."""
    # A remote address goes out only if it is http(s): consumers link to it (a restored dump may hold anything).
    url = default_storage.url(image["file"]) if image["file"] else web_url(image["remote_url"])
    document = {
        "url": _absolute(url, base_url) or None,
        "width": image["width"],
        "height": image["height"],
        "alt": image["alt_text"],
        "caption": image["caption"],
        "credit": image["credit"],
        "renditions": [serialize_rendition(r, base_url, full) for r in image["renditions"] or [] if r.get("file")],
    }
    if full:
        document.update(
            {
                "remote_url": image["remote_url"] or None,
                "file": image["file"] or None,
                "photographer": image["photographer"],
                "data_source_line": image["data_source_line"],
                "fetch_status": image["fetch_status"],
                "is_placeholder": image["is_placeholder"],
            }
        )
    return document


def figure_document(figure, base_url=""):
    """``figure``: the ``FIGURE_FIELDS`` values, ``region``/``source`` (dicts or None), and the
    article's ``article`` (slug) and ``article_url`` (its path)."""
    return {
        "indicator": figure["indicator"],
        "value": str(figure["value"]),
        "value_end": str(figure["value_end"]) if figure["value_end"] is not None else None,
        "value_text": figure["value_text"],
        "unit": figure["unit"],
        "magnitude": str(figure["magnitude"]),
        "direction": figure["direction"],
        "approximate": figure["is_approximate"],
        "period": figure["period"],
        "region": region_document(figure["region"]) if figure["region"] else None,
        "source": source_document(figure["source"]),
        "quote": figure["quote"],
        "start_offset": figure["start_offset"],
        "end_offset": figure["end_offset"],
        "status": figure["status"],
        "article": figure["article"],
        "article_url": _absolute(figure["article_url"], base_url),
    }


def article_document(row, relations, base_url="", full=False):
    """``row``: ``ARTICLE_FIELDS`` (+ ``FULL_ARTICLE_FIELDS`` when ``full``) and ``url`` (the path);
    ``relations``: ``publisher``/``syndicator`` (source dicts or None), ``data_sources``, ``authors``
    (name, slug, role, in byline order), ``regions``, ``tags`` (names), ``lead_image`` (image dict or
    None), ``images`` (gallery order) and ``figures`` (offset order, all statuses or verified only)."""
    document = {
        "id": row["pk"],
        "slug": row["slug"],
        "url": _absolute(row["url"], base_url),
        "title": row["title"],
        "summary": row["summary"],
        "body_html": row["body_html"],
        "published_at": _iso(row["published_at"]),
        "updated_at": _iso(row["updated_at"]),
        "language": row["language"],
        "original_url": row["original_url"] or None,
        "publisher": source_document(relations["publisher"]),
        "syndicator": source_document(relations["syndicator"]),
        "data_sources": [source_document(s) for s in sorted(relations["data_sources"], key=lambda s: s["name"])],
        "authors": [{"name": a["name"], "slug": a["slug"], "role": a["role"]} for a in relations["authors"]],
        "regions": [
            region_document(r) for r in sorted(relations["regions"], key=lambda r: (r["code"], r["name"]))
        ],
        "tags": sorted(relations["tags"]),
        "categories": list(row["categories"]),
        "lead_image": image_document(relations["lead_image"], base_url, full) if relations["lead_image"] else None,
        "images": [image_document(image, base_url, full) for image in relations["images"]],
        # Public documents carry verified figures only; the full copy keeps candidates and rejections.
        "figures": [
            figure_document(f, base_url) for f in relations["figures"]
            if full or f["status"] == StatisticFigure.Status.VERIFIED
        ],
    }
    if full:
        document.update(
            {
                "schema_version": EXPORT_SCHEMA_VERSION,
                "status": row["status"],
                "body": row["body"],
                "created_at": _iso(row["created_at"]),
                "quality_warnings": list(row["quality_warnings"]),
                "raw_source": row["raw_source"],
                "source_filename": row["source_filename"],
                "source_encoding": row["source_encoding"],
                "source_checksum": row["source_checksum"],
                "source_key": row["source_key"],
                "import_checksum": row["import_checksum"],
                "imported_at": _iso(row["imported_at"]),
            }
        )
    return document


# --- Model instances -> plain dicts -----------------------------------------------------------------------------


def _source_values(source):
    return None if source is None else {f: getattr(source, f) for f in SOURCE_FIELDS}


def _region_values(region):
    return None if region is None else {f: getattr(region, f) for f in REGION_FIELDS}


def _image_values(image):
    values = {f: getattr(image, f) for f in IMAGE_FIELDS}
    values["file"] = image.file.name or ""
    values["photographer"] = image.photographer.name if image.photographer else None
    return values


def _figure_values(figure):
    values = {f: getattr(figure, f) for f in FIGURE_FIELDS}
    article = figure.article
    values.update(
        region=_region_values(figure.region), source=_source_values(figure.source),
        article=article.slug, article_url=article.get_absolute_url(),
    )
    return values


def serialize_source(source):
    return source_document(_source_values(source))


def serialize_region(region):
    return region_document(_region_values(region))


def serialize_image(image, base_url="", *, full=False):
    return image_document(_image_values(image), base_url, full)


def serialize_figure(figure, base_url=""):
    return figure_document(_figure_values(figure), base_url)


def serialize_withdrawal(withdrawal) -> dict:
    """A ``Withdrawal``: the article's ``id`` and last public ``slug``, and when it left the public set."""
    return {"id": withdrawal.article_id, "slug": withdrawal.slug, "withdrawn_at": _iso(withdrawal.withdrawn_at)}


def serialize_article(article: Article, *, base_url: str = "", full: bool = False) -> dict:
    """Return the article's JSON document. Use ``Article.objects.for_export()`` to avoid N+1."""
    row = {f: getattr(article, f) for f in ARTICLE_FIELDS + (FULL_ARTICLE_FIELDS if full else ())}
    row["url"] = article.get_absolute_url()
    relations = {
        "publisher": _source_values(article.publisher),
        "syndicator": _source_values(article.syndicator),
        "data_sources": [_source_values(s) for s in article.data_sources.all()],
        "authors": [{"name": b.author.name, "slug": b.author.slug, "role": b.role} for b in article.bylines.all()],
        "regions": [_region_values(r) for r in article.regions.all()],
        "tags": [tag.name for tag in article.tags.all()],
        "lead_image": _image_values(article.lead_image) if article.lead_image else None,
        "images": [_image_values(placement.image) for placement in article.gallery.all()],
        "figures": [
            _figure_values(f) for f in article.figures.all() if full or f.status == StatisticFigure.Status.VERIFIED
        ],
    }
    return article_document(row, relations, base_url, full)


# --- The chunked dump -------------------------------------------------------------------------------------------


def _split(row, prefix, fields):
    """``{field: row[prefix + field]}``, or None when the related row is absent (its pk is None)."""
    if row[prefix + "id"] is None:
        return None
    return {f: row[prefix + f] for f in fields}


def _article_filter(ids, field):
    """``{field}__in=ids``, or a cheaper range when the ids are dense (rows outside ``ids`` are skipped)."""
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return {f"{field}__gte": low, f"{field}__lte": high}
    return {f"{field}__in": ids}


_SLUG_SAFE = re.compile(r"[-a-zA-Z0-9_]+")


def _article_path_maker():
    """``slug -> article path``: ``reverse()`` once, then a template for plain slugs (they need no quoting)."""
    marker = "SLUG0MARKER"
    prefix, suffix = reverse("articles:detail", kwargs={"slug": marker}).split(marker)

    def path(slug):
        if _SLUG_SAFE.fullmatch(slug):
            return prefix + slug + suffix
        return reverse("articles:detail", kwargs={"slug": slug})

    return path


def _chunk_relations(rows, full):
    """Every relation of ``rows``' articles, in one query per relation, grouped by article id."""
    ids = [row["pk"] for row in rows]
    by_article = _article_filter(ids, "article_id")
    relations = {
        row["pk"]: {
            "publisher": _split(row, "publisher__", SOURCE_FIELDS),
            "syndicator": _split(row, "syndicator__", SOURCE_FIELDS),
            "data_sources": [], "authors": [], "regions": [], "tags": [], "lead_image": None, "images": [],
            "figures": [],
        }
        for row in rows
    }
    bylines = (
        ArticleAuthor.objects.filter(**by_article).order_by("order", "pk")
        .values_list("article_id", "author__name", "author__slug", "role")
    )
    for article_id, name, slug, role in bylines:
        if article_id in relations:
            relations[article_id]["authors"].append({"name": name, "slug": slug, "role": role})

    source_lookups = [f"source__{f}" for f in SOURCE_FIELDS]
    for row in Article.data_sources.through.objects.filter(**by_article).values("article_id", *source_lookups):
        if row["article_id"] in relations:
            relations[row["article_id"]]["data_sources"].append({f: row[f"source__{f}"] for f in SOURCE_FIELDS})

    region_lookups = [f"region__{f}" for f in REGION_FIELDS]
    for row in Article.regions.through.objects.filter(**by_article).values("article_id", *region_lookups):
        if row["article_id"] in relations:
            relations[row["article_id"]]["regions"].append({f: row[f"region__{f}"] for f in REGION_FIELDS})

    tagged = TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Article), **_article_filter(ids, "object_id")
    ).values_list("object_id", "tag__name")
    for article_id, name in tagged:
        if article_id in relations:
            relations[article_id]["tags"].append(name)

    placements = list(
        ArticleImage.objects.filter(**by_article).order_by("order", "pk").values_list("article_id", "image_id")
    )
    placements = [(article_id, image_id) for article_id, image_id in placements if article_id in relations]
    image_ids = {image_id for _, image_id in placements} | {row["lead_image_id"] for row in rows if row["lead_image_id"]}
    images = {}
    if image_ids:
        for row in Image.objects.filter(pk__in=image_ids).values("pk", *IMAGE_FIELDS, "photographer__name"):
            row["photographer"] = row.pop("photographer__name")
            images[row.pop("pk")] = row
    for article_id, image_id in placements:
        relations[article_id]["images"].append(images[image_id])
    for row in rows:
        if row["lead_image_id"]:
            relations[row["pk"]]["lead_image"] = images[row["lead_image_id"]]

    figures = StatisticFigure.objects.filter(**by_article)
    if not full:
        figures = figures.filter(status=StatisticFigure.Status.VERIFIED)
    figure_lookups = (
        *FIGURE_FIELDS, "article_id", "region_id", *region_lookups, "source_id", *source_lookups,
    )
    article_urls = {row["pk"]: (row["slug"], row["url"]) for row in rows}
    for row in figures.order_by("start_offset", "pk").values(*figure_lookups):
        if row["article_id"] not in relations:
            continue
        figure = {f: row[f] for f in FIGURE_FIELDS}
        figure["region"] = {f: row[f"region__{f}"] for f in REGION_FIELDS} if row["region_id"] is not None else None
        figure["source"] = {f: row[f"source__{f}"] for f in SOURCE_FIELDS} if row["source_id"] is not None else None
        figure["article"], figure["article_url"] = article_urls[row["article_id"]]
        relations[row["article_id"]]["figures"].append(figure)
    return relations


def export_rows(queryset, *extra, full: bool = False):
    """``queryset`` as the plain ``values()`` rows ``export_documents`` takes, in its order.

    ``extra``: further fields or annotations to read along (a pagination key, say).
    """
    source_lookups = [f"{fk}__{f}" for fk in ("publisher", "syndicator") for f in ("id", *SOURCE_FIELDS)]
    fields = ARTICLE_FIELDS + (FULL_ARTICLE_FIELDS if full else ())
    return queryset.prefetch_related(None).values(*fields, *source_lookups, "lead_image_id", *extra)


def export_documents(rows, *, base_url: str = "", full: bool = False, article_path=None) -> list:
    """The documents of ``export_rows`` rows, in their order: each relation in one query for all of them."""
    article_path = article_path or _article_path_maker()
    for row in rows:
        row["url"] = article_path(row["slug"])
    relations = _chunk_relations(rows, full) if rows else {}
    return [article_document(row, relations[row["pk"]], base_url, full) for row in rows]


def iter_export_lines(queryset, *, base_url: str = "", full: bool = False, chunk_size: int = EXPORT_CHUNK_SIZE):
    """NDJSON lines (each ending in a newline) for ``queryset``'s articles, in primary-key order.

    The one generator behind ``export_articles`` and ``GET /api/v1/export.ndjson``. Articles are
    read ``chunk_size`` at a time as plain ``values()`` rows (``export_rows``); each chunk's
    relations (bylines, data sources, regions, tags, images, figures) come in one query per
    relation (``export_documents``), so memory stays flat and the number of queries grows with
    the number of chunks, not of articles. The documents are built by ``article_document``, like
    ``serialize_article``'s.
    """
    rows = export_rows(queryset.order_by("pk"), full=full).iterator(chunk_size=chunk_size)
    article_path = _article_path_maker()
    while chunk := list(islice(rows, chunk_size)):
        for document in export_documents(chunk, base_url=base_url, full=full, article_path=article_path):
            yield json.dumps(document, ensure_ascii=False) + "\n"
