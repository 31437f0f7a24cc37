"""Article revisions: record the whole article after each save, compare two, restore one.

A revision's ``data`` is the article's own full export document (``serialize_article(full=True)``),
and restoring goes through ``articles.importer.ndjson.restore_article``, the NDJSON import path,
so whatever the export covers (fields, tags, bylines, gallery, figures) is versioned and restored.

The admin (``articles.admin.revisions``) only chooses rows, checks permissions and renders;
who may move an article to which status stays in ``articles.workflow``.
"""

import datetime as dt
import difflib
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles import workflow
from articles.cache import bump_generation
from articles.export import export_documents, export_rows
from articles.importer.ndjson import restore_article
from articles.models import Article, ArticleAuthor, ArticleImage, ArticleRevision, StatisticFigure
from articles.sanitize import html_to_text

# Keys that change on every save without the article changing.
VOLATILE_KEYS = frozenset({"updated_at"})
# Below this similarity two paragraphs are shown as one removed and one added, not marked up
# character by character (which would be mostly noise).
CHARACTER_DIFF_MIN_RATIO = 0.4


def article_document(article: Article) -> dict:
    """The article's full export document, read fresh from the database: as ``serialize_article(full=True)`` writes
    it, built as the NDJSON dump builds its documents (plain rows, a query per relation, no model instances: every
    save of an article and every imported file records one)."""
    return _documents([article.pk])[article.pk]


def _documents(article_ids) -> dict:
    """``{id: full export document}`` of the articles ``article_ids``, read together; DoesNotExist if one is gone."""
    rows = list(export_rows(Article.objects.filter(pk__in=article_ids), full=True))
    documents = {row["pk"]: document for row, document in zip(rows, export_documents(rows, full=True), strict=True)}
    if missing := [pk for pk in article_ids if pk not in documents]:
        raise Article.DoesNotExist(f"no article {', '.join(map(str, missing))}")
    return documents


def _comparable(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in VOLATILE_KEYS}


def record_revision(article: Article, *, user=None, message: str = "", new: bool = False) -> ArticleRevision:
    """Save the article as it is now as its next revision. Returns the new revision, or the
    latest one unchanged when the article has not changed since (ignoring ``updated_at``).

    ``new``: the article was created in the current transaction (an import's), so it has no revision
    yet and no one else can save it: its first revision, without locking its row or looking for the latest.
    """
    with transaction.atomic(savepoint=False):  # no caller goes on after an error
        if new:
            (revision,) = record_first_revisions([FirstRevision(article.pk, user, message)])
            return revision
        # Lock the article row: two saves at once must not both take the same number.
        Article.objects.select_for_update().filter(pk=article.pk).values_list("pk").get()
        document = article_document(article)
        latest = ArticleRevision.objects.filter(article_id=article.pk).order_by("-number").first()
        if latest is not None and _comparable(latest.data) == _comparable(document):
            return latest
        return ArticleRevision.objects.create(
            article_id=article.pk,
            number=latest.number + 1 if latest else 1,
            created_by=user,
            message=_message(message),
            data=document,
        )


@dataclass(frozen=True)
class FirstRevision:
    """The first revision to record of an article created in the current transaction (``record_first_revisions``)."""

    article_id: int
    user: object = None
    message: str = ""


def record_first_revisions(revisions) -> list:
    """Record the first revision of each article in ``revisions`` (``FirstRevision``), all created in the current
    transaction and never saved since by anyone else: their documents read together (a query per relation for all
    of them, as the NDJSON dump reads them). An import saving several files per transaction records its new articles'
    revisions so (``articles.importer.run``). Returns the revisions, in the same order."""
    revisions = list(revisions)
    if not revisions:
        return []
    documents = _documents([r.article_id for r in revisions])
    # On PostgreSQL a row per INSERT: sent together, the rows go as arrays (UNNEST), and psycopg escapes each document
    # into an array literal character by character (ten times the rest of the work on them). Elsewhere one INSERT.
    return ArticleRevision.objects.bulk_create(
        (ArticleRevision(article_id=r.article_id, number=1, created_by=r.user, message=_message(r.message),
                         data=documents[r.article_id]) for r in revisions),
        batch_size=1 if connection.vendor == "postgresql" else None,
    )


def _message(message: str) -> str:
    return message[: ArticleRevision._meta.get_field("message").max_length]


def restore_revision(revision: ArticleRevision, *, user=None) -> ArticleRevision:
    """Put ``revision.data`` back onto its own article (same row, current slug kept) and record
    that as a new revision. Returns the new revision (the latest one if nothing changed).

    With a ``user``, the workflow's status rules apply as to any edit: ValidationError if they
    may not move the article to the revision's status. Also raises what ``restore_article``
    raises (ValidationError, IntegrityError when another article took its source_key since).
    """
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=revision.article_id)
        if user is not None:
            workflow.check_status_change(user, old_status=article.status, new_status=revision.data.get("status"))
        restore_article(revision.data, article=article, restore_timestamps=False)
        # A restore is an edit: forms opened before it are stale (see Article.version).
        changes = {"version": F("version") + 1} | ({"updated_by": user} if user is not None else {})
        Article.objects.filter(pk=article.pk).update(**changes)
        bump_generation()  # update() sends no signals: tell the page cache
        return record_revision(article, user=user, message=f"恢复自版本 #{revision.number}")


@dataclass(frozen=True)
class FieldDiff:
    """One changed field. ``kind == "text"``: ``html`` is the marked-up diff (escaped, safe);
    ``kind == "value"``: ``before`` and ``after`` are plain strings, one item per line."""

    name: str
    label: str
    kind: str
    html: SafeString | str = ""
    before: str = ""
    after: str = ""


def _verbose_name(model, field=None) -> str:
    """The label editors already know from the admin form."""
    return str(model._meta.get_field(field).verbose_name if field else model._meta.verbose_name_plural)


def _local_time(value) -> str:
    return timezone.localtime(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M") if value else ""


def _choice_label(choices, value) -> str:
    return str(dict(choices.choices).get(value, value or ""))


def _name(item) -> str:
    return (item or {}).get("name") or ""


def _image_line(image) -> str:
    if not image:
        return ""
    where = image.get("url") or image.get("remote_url") or image.get("file") or ""
    return f"{where}　{image['caption']}" if image.get("caption") else where


def _byline(author) -> str:
    return f"{author['name']}（{_choice_label(ArticleAuthor.Role, author.get('role'))}）"


# (document key, label, read(document) -> str); the body is handled on its own, as text.
TEXT_FIELDS = [
    ("title", _verbose_name(Article, "title"), lambda d: d.get("title") or ""),
    ("summary", _verbose_name(Article, "summary"), lambda d: d.get("summary") or ""),
]
VALUE_FIELDS = [
    ("status", _verbose_name(Article, "status"), lambda d: _choice_label(Article.Status, d.get("status"))),
    ("published_at", _verbose_name(Article, "published_at"), lambda d: _local_time(d.get("published_at"))),
    ("original_url", _verbose_name(Article, "original_url"), lambda d: d.get("original_url") or ""),
    ("publisher", _verbose_name(Article, "publisher"), lambda d: _name(d.get("publisher"))),
    ("syndicator", _verbose_name(Article, "syndicator"), lambda d: _name(d.get("syndicator"))),
    ("data_sources", _verbose_name(Article, "data_sources"), lambda d: "\n".join(map(_name, d.get("data_sources") or []))),
    ("authors", _verbose_name(ArticleAuthor), lambda d: "\n".join(map(_byline, d.get("authors") or []))),
    ("regions", _verbose_name(Article, "regions"), lambda d: "\n".join(map(_name, d.get("regions") or []))),
    ("tags", _verbose_name(Article, "tags"), lambda d: "、".join(d.get("tags") or [])),
    ("categories", _verbose_name(Article, "categories"), lambda d: "、".join(d.get("categories") or [])),
    ("images", _verbose_name(ArticleImage), lambda d: "\n".join(map(_image_line, d.get("images") or []))),
    ("lead_image", _verbose_name(Article, "lead_image"), lambda d: _image_line(d.get("lead_image"))),
    ("figures", f"{_verbose_name(StatisticFigure)}条数", lambda d: str(len(d.get("figures") or []))),
]


def diff_documents(old: dict, new: dict) -> list[FieldDiff]:
    """The fields that differ between two article documents, in form order, body last."""
    diffs = []
    for name, label, read in TEXT_FIELDS:
        if read(old) != read(new):
            diffs.append(FieldDiff(name, label, "text", html=diff_text(read(old), read(new))))
    for name, label, read in VALUE_FIELDS:
        before, after = read(old), read(new)
        if before != after:
            diffs.append(FieldDiff(name, label, "value", before=before, after=after))
    old_body, new_body = html_to_text(old.get("body_html") or ""), html_to_text(new.get("body_html") or "")
    if old_body != new_body:
        diffs.append(FieldDiff("body", _verbose_name(Article, "body"), "text", html=diff_text(old_body, new_body)))
    return diffs


def diff_text(old: str, new: str, *, context: int = 1) -> SafeString:
    """Paragraph-by-paragraph diff of two plain texts as HTML: one ``<p>`` per line, changed
    paragraphs marked character by character with ``<del>``/``<ins>`` (Chinese has no spaces
    to split words on). ``context`` unchanged paragraphs are kept around each change."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    parts = []
    shown_until = 0
    for group in matcher.get_grouped_opcodes(context):
        if group[0][1] > shown_until:
            parts.append('<p class="diff-gap">…</p>')
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                parts.extend(f"<p>{escape(line)}</p>" for line in old_lines[i1:i2])
            else:
                parts.extend(_changed_paragraphs(old_lines[i1:i2], new_lines[j1:j2]))
        shown_until = group[-1][2]
    if shown_until < len(old_lines):
        parts.append('<p class="diff-gap">…</p>')
    # Safe: every piece of text above went through escape(); only our own tags are added.
    return mark_safe("\n".join(parts))


def _changed_paragraphs(old_lines: list[str], new_lines: list[str]) -> list[str]:
    parts = []
    for index in range(max(len(old_lines), len(new_lines))):
        old = old_lines[index] if index < len(old_lines) else None
        new = new_lines[index] if index < len(new_lines) else None
        if old is not None and new is not None:
            matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
            if matcher.ratio() >= CHARACTER_DIFF_MIN_RATIO:
                parts.append(f'<p class="diff-changed">{_mark_characters(matcher)}</p>')
                continue
        if old is not None:
            parts.append(f'<p class="diff-removed"><del>{escape(old)}</del></p>')
        if new is not None:
            parts.append(f'<p class="diff-added"><ins>{escape(new)}</ins></p>')
    return parts


def _mark_characters(matcher: difflib.SequenceMatcher) -> str:
    old, new = matcher.a, matcher.b
    pieces = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(escape(old[i1:i2]))
            continue
        if i2 > i1:
            pieces.append(f"<del>{escape(old[i1:i2])}</del>")
        if j2 > j1:
            pieces.append(f"<ins>{escape(new[j1:j2])}</ins>")
    return "".join(pieces)
