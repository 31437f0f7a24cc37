"""Restore articles from ``export_articles`` NDJSON (one document per line).

Full documents (``export_articles``, with ``schema_version``) restore everything. Public
documents (``export_articles --public`` or ``GET /api/v1/export.ndjson``, no ``schema_version``)
restore every public field: the article becomes published, its body is the sanitized
``body_html``, and images are recorded by their public URL.

Each line is its own transaction. An article is matched by ``source_key``, else by slug,
and updated in place; everything in the document is restored (database ids are not: a
copy gets its own). Related rows (sources, regions, authors, images) are found by name,
slug or URL and created when missing.
"""

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from articles.export import EXPORT_SCHEMA_VERSION
from articles.figure_review import extract_candidates
from articles.importer.frontmatter import ImportFileError
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure
from articles.page_document import deferred_refresh


def import_ndjson_file(path, *, dry_run=False):
    from articles.importer.run import ImportResult

    path = Path(path)
    results = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        return [ImportResult(str(path), "failed", f"cannot read: {error}")]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            document = json.loads(line)
            if not isinstance(document, dict):
                raise ImportFileError("not a JSON object")
            with transaction.atomic():
                with deferred_refresh():
                    status, slug = restore_article(document)
                if dry_run:
                    transaction.set_rollback(True)
            results.append(ImportResult(where, status, slug=slug))
        except json.JSONDecodeError as error:
            results.append(ImportResult(where, "failed", f"invalid JSON: {error.msg} at column {error.colno}"))
        except (ImportFileError, ValidationError, DatabaseError, KeyError, TypeError, ValueError, InvalidOperation) as error:
            results.append(ImportResult(where, "failed", f"{type(error).__name__}: {error}"))
    return results


def _dt(value):
    return dt.datetime.fromisoformat(value) if value else None


def _source(data):
    if not data:
        return None
    source, _ = Source.objects.get_or_create(
        name=data["name"], defaults={"kind": data.get("kind") or Source.Kind.PUBLISHER, "homepage": data.get("url") or ""}
    )
    return source


def _region(data):
    region = Region.objects.filter(name=data["name"]).first()
    if region is None:
        region = Region.objects.create(name=data["name"], kind=data.get("kind") or Region.Kind.AREA, code=data.get("code") or "")
    return region


def _author(name):
    return Author.objects.get_or_create(name=name)[0] if name else None


def _image(data):
    image = None
    if "remote_url" not in data and "file" not in data:  # a public document: the image by its URL
        data = {**data, "remote_url": data.get("url")}
    if data.get("remote_url"):
        image = Image.objects.filter(remote_url=data["remote_url"]).first()
    elif data.get("file"):
        image = Image.objects.filter(file=data["file"]).first()
    image = image or Image()
    image.remote_url = data.get("remote_url") or ""
    image.file.name = data.get("file") or ""
    image.caption = data.get("caption") or ""
    image.alt_text = data.get("alt") or ""
    image.credit = data.get("credit") or ""
    image.photographer = _author(data.get("photographer"))
    image.data_source_line = data.get("data_source_line") or ""
    image.fetch_status = data.get("fetch_status") or Image.FetchStatus.REMOTE
    image.is_placeholder = bool(data.get("is_placeholder"))
    image.save()
    # width/height last: ImageField's width_field would otherwise read a file that may not be here.
    Image.objects.filter(pk=image.pk).update(width=data.get("width"), height=data.get("height"))
    return image


def _from_public(document):
    """A public document as the full one restore_article reads: published, body from body_html."""
    if "status" in document or not document.get("slug") or not document.get("title"):
        raise ImportFileError("schema_version missing and not a public document: export with `export_articles`")
    return {**document, "status": Article.Status.PUBLISHED, "body": document.get("body_html") or ""}


def restore_article(document, *, article=None, restore_timestamps=True):
    """Create or update one article from a full export document. Returns (status, slug).

    ``article``: update this row instead of matching by source_key or slug (restoring a
    revision onto its own article even if its slug or source_key changed since); its slug is
    kept, and so are its statistic figures with their reviews (extraction follows the restored
    text). ``restore_timestamps=False`` leaves created_at alone and updated_at at "now", as
    for any other edit; an import restores both from the document.
    """
    if "schema_version" in document:
        version = str(document.get("schema_version") or "")
        if version.split(".")[0] != EXPORT_SCHEMA_VERSION.split(".")[0]:
            raise ImportFileError(f"schema_version {version or 'missing'} is not {EXPORT_SCHEMA_VERSION}: "
                                  "export with `export_articles`")
    else:
        document = _from_public(document)
    key = document.get("source_key")
    own_article = article
    if article is None:
        article = (Article.objects.filter(source_key=key).first() if key else None) or Article.objects.filter(
            slug=document["slug"]).first()
    created = article is None
    article = article or Article(slug=document["slug"])
    for name in ("title", "summary", "body", "status", "language", "source_filename", "source_encoding",
                 "source_checksum", "import_checksum", "raw_source"):
        setattr(article, name, document.get(name) or "")
    article.source_key = key or None
    article.original_url = document.get("original_url") or ""
    article.published_at = _dt(document.get("published_at"))
    article.imported_at = _dt(document.get("imported_at"))
    article.categories = list(document.get("categories") or [])
    article.quality_warnings = list(document.get("quality_warnings") or [])
    article.publisher = _source(document.get("publisher"))
    article.syndicator = _source(document.get("syndicator"))
    article.full_clean(exclude=["slug"], validate_unique=False)
    article.save()

    article.data_sources.set([_source(s) for s in document.get("data_sources") or []])
    article.regions.set([_region(r) for r in document.get("regions") or []])
    article.tags.set(list(document.get("tags") or []), clear=True)
    article.bylines.all().delete()
    for order, byline in enumerate(document.get("authors") or [], start=1):
        ArticleAuthor.objects.create(article=article, author=_author(byline["name"]), role=byline["role"], order=order)
    article.gallery.all().delete()
    images = [_image(data) for data in document.get("images") or []]
    for order, image in enumerate(images):
        ArticleImage.objects.create(article=article, image=image, order=order)
    lead = document.get("lead_image")
    article.lead_image = _image(lead) if lead else None
    if own_article is None:
        article.figures.all().delete()
        for figure in document.get("figures") or []:
            StatisticFigure.objects.create(
                article=article,
                indicator=figure.get("indicator") or "",
                value=Decimal(figure["value"]),
                value_end=Decimal(figure["value_end"]) if figure.get("value_end") is not None else None,
                value_text=figure.get("value_text") or "",
                unit=figure.get("unit") or "",
                magnitude=Decimal(figure.get("magnitude") or "1"),
                direction=figure.get("direction") or StatisticFigure.Direction.LEVEL,
                is_approximate=bool(figure.get("approximate")),
                period=figure.get("period") or "",
                region=_region(figure["region"]) if figure.get("region") else None,
                source=_source(figure.get("source")),
                quote=figure.get("quote") or "",
                start_offset=figure.get("start_offset") or 0,
                end_offset=figure.get("end_offset") or 0,
                status=figure.get("status") or StatisticFigure.Status.CANDIDATE,
            )
    article.save(update_fields=["lead_image"])
    if own_article is not None:
        # A revision restored onto its own article: figures are reviewed on the figure desk, not in
        # revisions, so they stay with their review history; extraction follows the restored text
        # (reviewed figures keep their values and move with their sentence, candidates are redone).
        extract_candidates(article)
    if restore_timestamps:
        # Timestamps are history, not "now": bypass auto_now with a queryset update.
        Article.objects.filter(pk=article.pk).update(
            created_at=_dt(document.get("created_at")) or article.created_at,
            updated_at=_dt(document.get("updated_at")) or article.updated_at,
        )
    return ("created" if created else "updated"), article.slug
