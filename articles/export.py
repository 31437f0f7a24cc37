"""The one place that turns an article into its JSON document (export, NDJSON, JSON API).

``EXPORT_SCHEMA_VERSION`` is documented in the README. ``serialize_article(article)`` is the
public document; ``full=True`` adds what only a Newsroom-to-Newsroom copy needs (status,
the verbatim source file, import provenance) so that ``import_articles`` can restore an
article exactly from ``export_articles`` output.
"""

import json

from django.core.files.storage import default_storage

from articles.models import Article, StatisticFigure

EXPORT_SCHEMA_VERSION = "1.0"
# Articles fetched per round of queries when streaming a whole export (NDJSON).
EXPORT_CHUNK_SIZE = 200


def _iso(value):
    return value.isoformat() if value else None


def _absolute(url, base_url):
    if url and base_url and url.startswith("/"):
        return base_url.rstrip("/") + url
    return url


def serialize_source(source):
    if source is None:
        return None
    return {"name": source.name, "slug": source.slug, "kind": source.kind, "url": source.homepage or None}


def serialize_region(region):
    return {"name": region.name, "slug": region.slug, "code": region.code or None, "kind": region.kind}


def serialize_rendition(rendition, base_url=""):
    return {
        "url": _absolute(default_storage.url(rendition["file"]), base_url),
        "width": rendition.get("width"),
        "format": rendition.get("format", "webp"),
    }


def serialize_image(image, base_url="", *, full=False):
    document = {
        "url": _absolute(image.url, base_url) or None,
        "width": image.width,
        "height": image.height,
        "alt": image.alt_text,
        "caption": image.caption,
        "credit": image.credit,
        "renditions": [serialize_rendition(r, base_url) for r in image.renditions or [] if r.get("file")],
    }
    if full:
        document.update(
            {
                "remote_url": image.remote_url or None,
                "file": image.file.name or None,
                "photographer": image.photographer.name if image.photographer else None,
                "data_source_line": image.data_source_line,
                "fetch_status": image.fetch_status,
                "is_placeholder": image.is_placeholder,
            }
        )
    return document


def serialize_figure(figure, base_url=""):
    article = figure.article
    return {
        "indicator": figure.indicator,
        "value": str(figure.value),
        "value_end": str(figure.value_end) if figure.value_end is not None else None,
        "value_text": figure.value_text,
        "unit": figure.unit,
        "magnitude": str(figure.magnitude),
        "direction": figure.direction,
        "approximate": figure.is_approximate,
        "period": figure.period,
        "region": serialize_region(figure.region) if figure.region else None,
        "source": serialize_source(figure.source),
        "quote": figure.quote,
        "start_offset": figure.start_offset,
        "end_offset": figure.end_offset,
        "status": figure.status,
        "article": article.slug,
        "article_url": _absolute(article.get_absolute_url(), base_url),
    }


def serialize_article(article: Article, *, base_url: str = "", full: bool = False) -> dict:
    """Return the article's JSON document. Use ``Article.objects.for_export()`` to avoid N+1."""
    gallery = [placement.image for placement in article.gallery.all()]
    document = {
        "id": article.pk,
        "slug": article.slug,
        "url": _absolute(article.get_absolute_url(), base_url),
        "title": article.title,
        "summary": article.summary,
        "body_html": article.body_html,
        "published_at": _iso(article.published_at),
        "updated_at": _iso(article.updated_at),
        "language": article.language,
        "original_url": article.original_url or None,
        "publisher": serialize_source(article.publisher),
        "syndicator": serialize_source(article.syndicator),
        "data_sources": [serialize_source(s) for s in sorted(article.data_sources.all(), key=lambda s: s.name)],
        "authors": [
            {"name": b.author.name, "slug": b.author.slug, "role": b.role} for b in article.bylines.all()
        ],
        "regions": [serialize_region(r) for r in sorted(article.regions.all(), key=lambda r: (r.code, r.name))],
        "tags": sorted(tag.name for tag in article.tags.all()),
        "categories": list(article.categories),
        "lead_image": serialize_image(article.lead_image, base_url, full=full) if article.lead_image else None,
        "images": [serialize_image(image, base_url, full=full) for image in gallery],
        # Public documents carry verified figures only; the full copy keeps candidates and rejections.
        "figures": [
            serialize_figure(f, base_url) for f in article.figures.all()
            if full or f.status == StatisticFigure.Status.VERIFIED
        ],
    }
    if full:
        document.update(
            {
                "schema_version": EXPORT_SCHEMA_VERSION,
                "status": article.status,
                "body": article.body,
                "created_at": _iso(article.created_at),
                "quality_warnings": list(article.quality_warnings),
                "raw_source": article.raw_source,
                "source_filename": article.source_filename,
                "source_encoding": article.source_encoding,
                "source_checksum": article.source_checksum,
                "source_key": article.source_key,
                "import_checksum": article.import_checksum,
                "imported_at": _iso(article.imported_at),
            }
        )
    return document


def iter_export_lines(queryset, *, base_url: str = "", full: bool = False, chunk_size: int = EXPORT_CHUNK_SIZE):
    """NDJSON lines (each ending in a newline) for ``queryset``'s articles, in primary-key order.

    The one generator behind ``export_articles`` and ``GET /api/v1/export.ndjson``. Articles are
    fetched ``chunk_size`` at a time with ``for_export()``'s prefetches (Django 5.2 prefetches per
    chunk when ``iterator()`` is given a chunk size), so memory stays flat and the number of
    queries grows with the number of chunks, not of articles.
    """
    for article in queryset.for_export().order_by("pk").iterator(chunk_size=chunk_size):
        yield json.dumps(serialize_article(article, base_url=base_url, full=full), ensure_ascii=False) + "\n"
