"""Roles and the status workflow as plain functions (the admin calls these)."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils import timezone

from articles import workflow
from articles.models import Article

from .factories import make_article

pytestmark = pytest.mark.django_db
S = Article.Status


@pytest.fixture
def users(django_user_model):
    made = {}
    for name in ("Editor", "Contributor"):
        user = django_user_model.objects.create_user(name.lower(), password="pw", is_staff=True)
        user.groups.add(Group.objects.get(name=name))
        made[name] = user
    return made["Editor"], made["Contributor"]


@pytest.mark.parametrize(
    "role, old, new, allowed",
    [
        ("contributor", None, S.DRAFT, True),
        ("contributor", None, S.REVIEW, True),
        ("contributor", None, S.PUBLISHED, False),
        ("contributor", S.DRAFT, S.REVIEW, True),
        ("contributor", S.DRAFT, S.PUBLISHED, False),
        ("contributor", S.DRAFT, S.ARCHIVED, False),
        ("contributor", S.REVIEW, S.DRAFT, False),
        ("contributor", S.PUBLISHED, S.PUBLISHED, True),
        ("editor", S.DRAFT, S.PUBLISHED, True),
        ("editor", S.PUBLISHED, S.ARCHIVED, True),
        ("editor", S.ARCHIVED, S.DRAFT, True),
    ],
)
def test_check_status_change(users, role, old, new, allowed):
    user = users[0] if role == "editor" else users[1]
    if allowed:
        workflow.check_status_change(user, old_status=old, new_status=new)
    else:
        with pytest.raises(ValidationError):
            workflow.check_status_change(user, old_status=old, new_status=new)


def test_can_edit(users):
    editor, contributor = users
    own_draft = make_article(status=S.DRAFT, created_by=contributor)
    own_review = make_article(status=S.REVIEW, created_by=contributor)
    others = make_article(status=S.DRAFT, created_by=editor)
    assert workflow.can_edit(contributor, own_draft)
    assert not workflow.can_edit(contributor, own_review)
    assert not workflow.can_edit(contributor, others)
    assert all(workflow.can_edit(editor, a) for a in (own_draft, own_review, others))
    assert workflow.allowed_statuses(contributor) == [S.DRAFT, S.REVIEW]


def test_bulk_functions_refuse_contributors(users):
    _, contributor = users
    article = make_article(status=S.REVIEW)
    for function in (workflow.publish, workflow.unpublish, workflow.archive):
        with pytest.raises(PermissionError):
            function(Article.objects.all(), user=contributor)
    article.refresh_from_db()
    assert article.status == S.REVIEW


def test_publish_keeps_a_future_date_and_stamps_a_missing_one(users):
    editor, _ = users
    later = timezone.now() + timezone.timedelta(days=1)
    scheduled = make_article(status=S.REVIEW, published_at=later)
    undated = make_article(status=S.DRAFT, published_at=None)
    changed = workflow.publish(Article.objects.all(), user=editor)
    assert len(changed) == 2
    scheduled.refresh_from_db()
    undated.refresh_from_db()
    assert scheduled.published_at == later
    assert undated.published_at <= timezone.now()
    assert list(Article.objects.published()) == [undated]
    assert scheduled.version == 1 and scheduled.updated_by == editor
