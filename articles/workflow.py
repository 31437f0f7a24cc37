"""Who may do what to an article: the newsroom's roles and its status workflow.

Two groups (created by migration 0004): **Contributor** writes and edits their own drafts
and submits them for review; **Editor** (anyone with ``articles.publish_article``) may do
everything: publish, unpublish, schedule (publish with a future date) and archive.

Deleting is reversible: ``trash()`` moves articles to the trash (status TRASHED, with who and
when), ``restore()`` brings them back with everything they link to (bylines, gallery, figures,
tags, revisions); only ``purge()`` (superusers, or ``manage.py purge_trash``) deletes rows.
An article enters and leaves the trash only through these, never through the form's status.

The admin calls these functions from its form, its actions and its permission hooks, so a
rule holds for a hand-made POST exactly as for a button.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from articles import page_document
from articles.models import Article
from articles.shown import articles_showing

PUBLISH_PERMISSION = "articles.publish_article"
TRASH_PERMISSION = "articles.delete_article"
Status = Article.Status
CONTRIBUTOR_STATUSES = (Status.DRAFT, Status.REVIEW)


def can_publish(user) -> bool:
    return user.is_active and user.has_perm(PUBLISH_PERMISSION)


def can_edit(user, article) -> bool:
    """May ``user`` change ``article``? (None: may they create one?)"""
    if article is None:
        return user.has_perm("articles.add_article")
    if not user.has_perm("articles.change_article"):
        return False
    if can_publish(user):
        return True
    return article.created_by_id == user.pk and article.status == Status.DRAFT


def may_change_image(user, image) -> bool:
    """May ``user`` change this picture (its file, caption, credit, alt text)?

    Every article that has it as lead image or in its gallery shows the change, and one ``Image`` can
    be shared (the importer reuses the row of a remote URL it knows). An editor may change any picture;
    anyone else only one that some article shows and that only articles they may edit show
    (``can_edit``: a contributor's own drafts).
    """
    if can_publish(user):
        return True
    showing = Article.objects.filter(pk__in=articles_showing(image)).only("pk", "created_by", "status")
    return bool(showing) and all(can_edit(user, article) for article in showing)


def can_trash(user, article=None) -> bool:
    """May ``user`` move ``article`` to the trash, and bring it back? (None: any article?)"""
    if not (user.is_active and user.has_perm(TRASH_PERMISSION)):
        return False
    return article is None or can_edit(user, article)


def can_purge(user) -> bool:
    """May ``user`` delete articles for good (from the trash only)?"""
    return user.is_active and user.is_superuser


def allowed_statuses(user) -> list[str]:
    """The statuses ``user`` may choose in the form (the trash is entered and left by its own actions)."""
    statuses = Status.values if can_publish(user) else CONTRIBUTOR_STATUSES
    return [status for status in statuses if status != Status.TRASHED]


def check_status_change(user, *, old_status, new_status) -> None:
    """Raise ValidationError when ``user`` may not move an article from ``old_status`` to ``new_status``."""
    if old_status == new_status:
        return
    if Status.TRASHED in (old_status, new_status):
        raise ValidationError(
            "文章只能用「移入回收站」删除，用回收站的「恢复」找回，不能直接改成或改出「回收站」状态。",
            code="trash_by_action",
        )
    if can_publish(user):
        return
    if new_status not in CONTRIBUTOR_STATUSES:
        raise ValidationError(
            "只有编辑可以把文章设为「%(status)s」；请提交审核。",
            code="publish_forbidden",
            params={"status": Status(new_status).label},
        )
    if old_status not in (None, Status.DRAFT):
        raise ValidationError("这篇文章已提交审核或已发布，只有编辑可以修改它的状态。", code="status_locked")


def _save_each(queryset, user, *, only_from, change):
    """Lock the articles of ``queryset`` that are in ``only_from``; for each one ``change(article)`` sets
    the new values and returns ``(fields, message)``, or None to leave it alone. Each is saved as an
    edit (a save, so withdrawals, the page cache and page documents follow) and gets a revision.
    Returns the changed articles (``Article`` instances, whatever the queryset's model)."""
    from articles.revisions import record_revision

    changed = []
    # A fresh queryset: the admin's carries aggregates, and PostgreSQL refuses FOR UPDATE with GROUP BY.
    rows = Article.objects.filter(pk__in=queryset.values("pk"), status__in=only_from).order_by("pk")
    with transaction.atomic(), page_document.deferred_refresh():
        for article in rows.select_for_update():
            outcome = change(article)
            if outcome is None:
                continue
            fields, message = outcome
            article.updated_by = user
            article.version = F("version") + 1
            article.save(update_fields=[*fields, "updated_by", "version", "updated_at"])
            article.refresh_from_db(fields=["version"])
            record_revision(article, user=user, message=message)
            changed.append(article)
    return changed


def _change_status(queryset, user, *, new_status, only_from, set_time=False):
    """Move the articles in ``queryset`` that are in ``only_from`` to ``new_status``. Returns them."""

    def change(article):
        article.status = new_status
        fields = ["status"]
        if set_time and article.published_at is None:
            article.published_at = timezone.now()
            fields.append("published_at")
        return fields, f"状态改为「{Status(new_status).label}」"

    return _save_each(queryset, user, only_from=only_from, change=change)


def _require_publisher(user):
    if not can_publish(user):
        raise PermissionError("只有编辑可以发布、撤回或归档文章。")


def publish(queryset, *, user) -> list[Article]:
    """Publish drafts and articles in review; a future published_at schedules them (no cron needed)."""
    _require_publisher(user)
    return _change_status(queryset, user, new_status=Status.PUBLISHED, only_from=[Status.DRAFT, Status.REVIEW],
                          set_time=True)


def unpublish(queryset, *, user) -> list[Article]:
    _require_publisher(user)
    return _change_status(queryset, user, new_status=Status.DRAFT, only_from=[Status.PUBLISHED])


def archive(queryset, *, user) -> list[Article]:
    _require_publisher(user)
    return _change_status(queryset, user, new_status=Status.ARCHIVED,
                          only_from=[Status.DRAFT, Status.REVIEW, Status.PUBLISHED])


def submit_for_review(queryset, *, user) -> list[Article]:
    """Send drafts to review: a contributor's own drafts, or any draft for an editor."""
    if not can_publish(user):
        queryset = queryset.filter(created_by=user)
    return _change_status(queryset, user, new_status=Status.REVIEW, only_from=[Status.DRAFT])


# --- the trash ------------------------------------------------------------------------------------------------


def trash(queryset, *, user) -> list[Article]:
    """Move the articles of ``queryset`` that ``user`` may edit to the trash (a published one leaves the
    public set like an unpublished one: a withdrawal is recorded). Nothing is deleted: its bylines,
    gallery, figures, tags and revisions stay, and ``restore()`` brings it back. Returns them."""
    if not can_trash(user):
        raise PermissionError("你没有删除文章的权限。")
    now = timezone.now()

    def change(article):
        if not can_edit(user, article):
            return None
        article.status_before_trash, article.status = article.status, Status.TRASHED
        article.trashed_at, article.trashed_by = now, user
        return ["status", "status_before_trash", "trashed_at", "trashed_by"], "移入回收站"

    return _save_each(queryset, user, only_from=[s for s in Status.values if s != Status.TRASHED], change=change)


def restore(queryset, *, user, as_draft=False) -> list[Article]:
    """Bring trashed articles of ``queryset`` back, as they were: in the status they had (a published
    one is public again at once, unless its time is still to come), or as drafts with ``as_draft``.
    A status ``user`` may not set (publishing, archiving) comes back as a draft. Returns them."""
    if not can_trash(user):
        raise PermissionError("你没有恢复文章的权限。")

    def change(article):
        if not can_edit(user, article):
            return None
        target = Status.DRAFT if as_draft else (article.status_before_trash or Status.DRAFT)
        if target == Status.TRASHED or target not in allowed_statuses(user):
            target = Status.DRAFT
        article.status = target  # save() clears trashed_at, trashed_by and status_before_trash
        return ["status"], f"从回收站恢复为「{Status(target).label}」"

    return _save_each(queryset, user, only_from=[Status.TRASHED], change=change)


def purge(queryset, *, user) -> int:
    """Delete for good the articles of ``queryset`` that are in the trash (superusers only), with their
    bylines, gallery placements, figures and revisions; pictures stay in the image catalogue (others may
    show them). Returns how many articles were deleted."""
    if not can_purge(user):
        raise PermissionError("只有超级管理员可以永久删除文章。")
    return _purge(Article.objects.filter(pk__in=queryset.values("pk")))


def purge_trashed_before(moment) -> int:
    """Delete for good the articles in the trash since before ``moment`` (``manage.py purge_trash``)."""
    return _purge(Article.objects.filter(trashed_at__lt=moment))


def _purge(queryset) -> int:
    with transaction.atomic():
        # Through Article itself (not a proxy's queryset), so every receiver connected to Article hears it.
        ids = list(queryset.filter(status=Status.TRASHED).values_list("pk", flat=True))
        _, per_model = Article.objects.filter(pk__in=ids).delete()
    return per_model.get(Article._meta.label, 0)
