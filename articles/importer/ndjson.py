"""Restore articles from ``export_articles`` NDJSON (one document per line).

Full documents (``export_articles``, with ``schema_version``) restore everything. Public
documents (``export_articles --public`` or ``GET /api/v1/export.ndjson``, no ``schema_version``)
restore every public field: the article becomes published, its body is the sanitized
``body_html``, and images are recorded by their public URL.

Each line is its own transaction. An article is matched by ``source_key``, else by slug,
and updated in place; everything in the document is restored (database ids are not: a
copy gets its own). Related rows (sources, regions, authors, images) are found by name,
slug or URL and created when missing. A full document that the matched article already
exports exactly (ids aside) is "unchanged" and writes nothing: importing a dump again, or
resuming an interrupted import of it, skips the articles already restored.

A dump is untrusted input, read as a stream: a line over ``NEWSROOM_MAX_NDJSON_LINE_BYTES`` is a
failed line (the rest of it is skipped, never held in memory), and so is a line that is not UTF-8
or not a JSON object; the lines around it are restored. An image's ``file`` is kept only if it
names a stored picture (``images/…`` with a picture's extension, see ``is_safe_image_name``);
any other name is left out with a warning and the image keeps its remote URL. A full dump also
names each picture's renditions (``file`` under ``renditions/``, see ``export.serialize_rendition``):
restored with the media folder, they are recorded again (a name that is not one is left out with a
warning); documents without rendition names (public ones, older revisions) leave them as they are.
"""

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from articles.export import EXPORT_SCHEMA_VERSION, serialize_article
from articles.figure_review import extract_candidates
from articles.importer.attribution import valid_url
from articles.importer.frontmatter import ImportFileError
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure
from articles.page_document import deferred_refresh

_SKIP_CHUNK = 1024 * 1024  # the rest of a line over the limit is read and dropped in pieces of this size
# A picture file name a dump may set: a relative name under images/ (where uploads and downloads are stored,
# ``Image.file``'s upload_to) with a picture's extension. Anything else could name any key of the media
# storage (an S3 bucket's other objects) and media URLs are built from it.
IMAGE_FILE_FOLDER = "images/"
IMAGE_FILE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp")
RENDITION_FILE_FOLDER = "renditions/"  # articles.images.make_renditions writes them there


def import_ndjson_file(path, *, dry_run=False):
    return list(iter_ndjson_results(path, dry_run=dry_run))


def iter_ndjson_results(path, *, dry_run=False):
    """Restore each line of the dump, yielding its ImportResult as soon as it is done (or saved)."""
    from articles.importer.run import ImportResult

    path = Path(path)
    limit = settings.NEWSROOM_MAX_NDJSON_LINE_BYTES
    try:
        handle = path.open("rb")
    except OSError as error:
        yield ImportResult(str(path), "failed", f"cannot read: {error}")
        return
    with handle:
        for number, line in _read_lines(handle, limit, str(path)):
            if isinstance(line, ImportResult):  # a line that cannot be read: failed alone, the rest goes on
                yield line
                continue
            if not line.strip():
                continue
            yield _restore_line(line, f"{path}:{number}", dry_run=dry_run)


def _read_lines(handle, limit, label):
    """(number, text) per line of the binary ``handle``, or (number, failed ImportResult) for a line over
    ``limit`` bytes (the rest of it is read in pieces and skipped: memory holds at most ``limit + 1``
    bytes) or not UTF-8. Lines end at b"\\n" only: str.splitlines() would also cut at U+2028 and the
    like, which export_articles writes unescaped inside strings (ensure_ascii=False)."""
    from articles.importer.run import ImportResult

    number = 0
    while raw := handle.readline(limit + 1):
        number += 1
        where = f"{label}:{number}"
        if len(raw) > limit and not raw.endswith(b"\n"):
            while not raw.endswith(b"\n") and (raw := handle.readline(_SKIP_CHUNK)):
                pass
            yield number, ImportResult(where, "failed", f"line {number} is over the limit of {limit:,} bytes "
                                       "(NEWSROOM_MAX_NDJSON_LINE_BYTES); skipped")
            continue
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            yield number, ImportResult(where, "failed", f"line {number} is not UTF-8: byte {error.start + 1} "
                                       f"({raw[error.start:error.start + 1].hex()}) cannot be decoded")
            continue
        yield number, text


def _restore_line(line, where, *, dry_run):
    """Restore one line's document in its own transaction; its ImportResult."""
    from articles.importer.run import ImportResult

    try:
        document = json.loads(line)
        if not isinstance(document, dict):
            raise ImportFileError("not a JSON object")
        if is_restored(document):
            return ImportResult(where, "unchanged", slug=document["slug"])
        notes = []
        with transaction.atomic():
            with deferred_refresh():
                status, slug = restore_article(document, notes=notes)
            if dry_run:
                transaction.set_rollback(True)
        return ImportResult(where, status, slug=slug, warnings=notes)
    except json.JSONDecodeError as error:
        return ImportResult(where, "failed", f"invalid JSON: {error.msg} at column {error.colno}")
    except RecursionError:  # "[[[[…" nested deeper than the parser's stack
        return ImportResult(where, "failed", "invalid JSON: nested too deeply")
    except (ImportFileError, ValidationError, DatabaseError, KeyError, TypeError, ValueError, InvalidOperation) as error:
        return ImportResult(where, "failed", f"{type(error).__name__}: {error}")


def is_restored(document) -> bool:
    """True if ``document`` is a full export document and the article it would update (same
    ``source_key``, else same slug) already exports exactly as it, ids aside."""
    if "schema_version" not in document or not document.get("slug"):
        return False
    key = document.get("source_key")
    articles = Article.objects.for_export()
    article = (articles.filter(source_key=key).first() if key else None) or articles.filter(
        slug=document["slug"]).first()
    if article is None:
        return False
    path, url = article.get_absolute_url(), document.get("url") or ""
    base_url = url[: -len(path)] if path and url.endswith(path) else ""  # export_articles --base-url
    return _without_ids(serialize_article(article, base_url=base_url, full=True)) == _without_ids(document)


def _without_ids(document):
    return {name: value for name, value in document.items() if name != "id"}


def _dt(value):
    return dt.datetime.fromisoformat(value) if value else None


def _source(data, notes=None):
    """The source named ``data["name"]``, created when missing; a homepage that is not an http(s) URL a
    URLField accepts (``javascript:``...) is left out, with a note, rather than failing the article."""
    if not data:
        return None
    homepage = valid_url(str(data.get("url") or ""), notes if notes is not None else [],
                         f"homepage of source {str(data['name'])[:50]!r}",
                         max_length=Source._meta.get_field("homepage").max_length)
    source, _ = Source.objects.get_or_create(
        name=data["name"], defaults={"kind": data.get("kind") or Source.Kind.PUBLISHER, "homepage": homepage}
    )
    return source


def _region(data):
    region = Region.objects.filter(name=data["name"]).first()
    if region is None:
        region = Region.objects.create(name=data["name"], kind=data.get("kind") or Region.Kind.AREA, code=data.get("code") or "")
    return region


def _author(name):
    return Author.objects.get_or_create(name=name)[0] if name else None


def is_safe_image_name(name, folder=IMAGE_FILE_FOLDER) -> bool:
    """True for a stored picture's name as this project writes them: ``images/…/name.jpg`` (jpg, jpeg,
    png, gif or webp), relative, with no ``..`` or ``.`` part, no empty part, no backslash or control
    character, within ``Image.file``'s max_length."""
    if not isinstance(name, str) or not name.startswith(folder):
        return False
    if len(name) > Image._meta.get_field("file").max_length or "\\" in name:
        return False
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return False
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    return parts[-1].lower().endswith(IMAGE_FILE_EXTENSIONS) and not parts[-1].startswith(".")


def _image(data, notes=None):
    image = None
    if "remote_url" not in data and "file" not in data:  # a public document: the image by its URL
        data = {**data, "remote_url": data.get("url")}
    if data.get("file") and not is_safe_image_name(data["file"]):
        if notes is not None:
            notes.append(f"image file name left out: {str(data['file'])[:100]!r} is not a picture under "
                         f"{IMAGE_FILE_FOLDER} ({', '.join(IMAGE_FILE_EXTENSIONS)}); "
                         + ("its remote URL is kept" if data.get("remote_url") else "the picture has no file"))
        data = {**data, "file": None, "fetch_status": Image.FetchStatus.REMOTE}
    if data.get("remote_url"):
        image = Image.objects.filter(remote_url=data["remote_url"]).first()
    elif data.get("file"):
        image = Image.objects.filter(file=data["file"]).first()
    photographer = _author(data.get("photographer"))
    values = {
        "remote_url": data.get("remote_url") or "",
        "caption": data.get("caption") or "",
        "alt_text": data.get("alt") or "",
        "credit": data.get("credit") or "",
        "photographer_id": photographer.pk if photographer else None,
        "data_source_line": data.get("data_source_line") or "",
        "fetch_status": data.get("fetch_status") or Image.FetchStatus.REMOTE,
        "is_placeholder": bool(data.get("is_placeholder")),
        "width": data.get("width"),
        "height": data.get("height"),
    }
    renditions = data.get("renditions") or []
    if all(isinstance(rendition, dict) and rendition.get("file") for rendition in renditions):
        values["renditions"] = _renditions(renditions if data.get("file") else [], notes)
    if (image is not None and (image.file.name or "") == (data.get("file") or "")
            and all(getattr(image, name) == value for name, value in values.items())):
        # Already as the document has it (another article of the dump shows it too): saving it again
        # would move the updated_at of every article showing it (articles.sync).
        return image
    image = image or Image()
    image.file.name = data.get("file") or ""
    for name, value in values.items():
        if name not in ("width", "height"):
            setattr(image, name, value)
    image.save()
    # width/height last: ImageField's width_field would otherwise read a file that may not be here.
    Image.objects.filter(pk=image.pk).update(width=data.get("width"), height=data.get("height"))
    return image


def _renditions(renditions, notes=None) -> list[dict]:
    """``Image.renditions`` from a full document's: those that name a rendition file (the rest left out)."""
    kept = []
    for rendition in renditions:
        width, height = rendition.get("width"), rendition.get("height")
        if (is_safe_image_name(rendition["file"], RENDITION_FILE_FOLDER) and rendition.get("format") in ("webp", "jpeg")
                and isinstance(width, int) and isinstance(height, int)):
            kept.append({"width": width, "height": height, "format": rendition["format"], "file": rendition["file"]})
        elif notes is not None:
            notes.append(f"rendition left out: {str(rendition['file'])[:100]!r} is not a rendition under "
                         f"{RENDITION_FILE_FOLDER}")
    return kept


def _from_public(document):
    """A public document as the full one restore_article reads: published, body from body_html."""
    if "status" in document or not document.get("slug") or not document.get("title"):
        raise ImportFileError("schema_version missing and not a public document: export with `export_articles`")
    return {**document, "status": Article.Status.PUBLISHED, "body": document.get("body_html") or ""}


def restore_article(document, *, article=None, restore_timestamps=True, notes=None):
    """Create or update one article from a full export document. Returns (status, slug).

    ``article``: update this row instead of matching by source_key or slug (restoring a
    revision onto its own article even if its slug or source_key changed since); its slug is
    kept, and so are its statistic figures with their reviews (extraction follows the restored
    text). ``restore_timestamps=False`` leaves created_at alone and updated_at at "now", as
    for any other edit; an import restores both from the document. ``notes``: a list that gets a
    warning per thing of the document left out (an image file name that is not a stored picture's).
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
    article.publisher = _source(document.get("publisher"), notes)
    article.syndicator = _source(document.get("syndicator"), notes)
    article.full_clean(exclude=["slug"], validate_unique=False)
    article.save()

    article.data_sources.set([_source(s, notes) for s in document.get("data_sources") or []])
    article.regions.set([_region(r) for r in document.get("regions") or []])
    article.tags.set(list(document.get("tags") or []), clear=True)
    article.bylines.all().delete()
    for order, byline in enumerate(document.get("authors") or [], start=1):
        ArticleAuthor.objects.create(article=article, author=_author(byline["name"]), role=byline["role"], order=order)
    article.gallery.all().delete()
    images = [_image(data, notes) for data in document.get("images") or []]
    for order, image in enumerate(images):
        ArticleImage.objects.create(article=article, image=image, order=order)
    lead = document.get("lead_image")
    article.lead_image = _image(lead, notes) if lead else None
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
                source=_source(figure.get("source"), notes),
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
