"""Who may do what to an article: the newsroom's roles and its status workflow.

Two groups (created by migration 0004): **Contributor** writes and edits their own drafts
and submits them for review; **Editor** (anyone with ``articles.publish_article``) may do
everything: publish, unpublish, schedule (publish with a future date) and archive.

The admin calls these functions from its form, its actions and its permission hooks, so a
rule holds for a hand-made POST exactly as for a button.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from articles import page_document
from articles.models import Article

PUBLISH_PERMISSION = "articles.publish_article"
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


def allowed_statuses(user) -> list[str]:
    return list(Status.values) if can_publish(user) else list(CONTRIBUTOR_STATUSES)


def check_status_change(user, *, old_status, new_status) -> None:
    """Raise ValidationError when ``user`` may not move an article from ``old_status`` to ``new_status``."""
    if old_status == new_status or can_publish(user):
        return
    if new_status not in CONTRIBUTOR_STATUSES:
        raise ValidationError(
            "只有编辑可以把文章设为「%(status)s」；请提交审核。",
            code="publish_forbidden",
            params={"status": Status(new_status).label},
        )
    if old_status not in (None, Status.DRAFT):
        raise ValidationError("这篇文章已提交审核或已发布，只有编辑可以修改它的状态。", code="status_locked")


def _change_status(queryset, user, *, new_status, only_from, set_time=False):
    """Move the articles in ``queryset`` that are in ``only_from`` to ``new_status``. Returns them."""
    from articles.revisions import record_revision

    changed = []
    # A fresh queryset: the admin's carries aggregates, and PostgreSQL refuses FOR UPDATE with GROUP BY.
    rows = Article.objects.filter(pk__in=queryset.values("pk"), status__in=only_from).order_by("pk")
    with transaction.atomic(), page_document.deferred_refresh():
        for article in rows.select_for_update():
            article.status = new_status
            fields = ["status", "updated_by", "version", "updated_at"]
            if set_time and article.published_at is None:
                article.published_at = timezone.now()
                fields.append("published_at")
            article.updated_by = user
            article.version = F("version") + 1
            article.save(update_fields=fields)
            article.refresh_from_db(fields=["version"])
            record_revision(article, user=user, message=f"状态改为「{Status(new_status).label}」")
            changed.append(article)
    return changed


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
