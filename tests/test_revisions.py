"""Article revisions: record, diff, restore (articles.revisions) and the admin views (RevisionAdminMixin)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleImage, ArticleRevision, Image
from articles.revisions import article_document, diff_documents, diff_text, record_revision, restore_revision

from .factories import SEED

pytestmark = pytest.mark.django_db

views = pytest.mark.urls("tests.revision_urls")


@pytest.fixture
def article():
    """The seed article with a two-picture gallery, so that gallery order can change."""
    article = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    second = Image.objects.create(remote_url="https://img.example.com/2.jpg", caption="第二张图")
    ArticleImage.objects.create(article=article, image=second, order=5)
    # The import recorded revision #1 of the one-picture article; these tests number their own.
    assert [r.message for r in article.revisions.all()] == ["导入 seed_chongqing.md"]
    article.revisions.all().delete()
    return article


def edit(article):
    """Change title, body, tags, bylines and gallery order, as an editor would."""
    article.title = "推动高质量发展 创造美好生活"
    article.body = article.body.replace("机器手臂有序挥舞", "机器手臂整齐挥舞")
    article.save()
    article.tags.set(["高质量发展"], clear=True)
    article.bylines.filter(role="photographer").delete()
    first = article.bylines.order_by("order", "pk").first()
    first.order = 99
    first.save()
    for order, placement in enumerate(article.gallery.order_by("-order", "-pk")):
        ArticleImage.objects.filter(pk=placement.pk).update(order=order)


def comparable(document):
    return {key: value for key, value in document.items() if key != "updated_at"}


@pytest.fixture
def two_revisions(article, admin_user):
    first = record_revision(article, user=admin_user, message="新建")
    edit(article)
    second = record_revision(article, user=admin_user, message="修改")
    return first, second


# --- record --------------------------------------------------------------------------------------------------


def test_recording_an_unchanged_article_keeps_one_revision(article):
    first = record_revision(article, message="新建")
    article.save()  # only updated_at moves
    again = record_revision(article, message="修改")
    assert again == first
    assert list(article.revisions.values_list("number", "message")) == [(1, "新建")]
    assert first.data["title"] == article.title and first.data["status"] == "published"


def test_changes_make_the_next_revision(two_revisions, article):
    first, second = two_revisions
    assert (first.number, second.number) == (1, 2)
    assert second.data["title"] == "推动高质量发展 创造美好生活"
    assert second.data["tags"] == ["高质量发展"]
    assert [a["name"] for a in second.data["authors"]][-1] == "王斌来"
    assert [i["caption"] for i in second.data["images"]][0] == "第二张图"


# --- diff ----------------------------------------------------------------------------------------------------


def test_diff_lists_only_changed_fields(two_revisions):
    first, second = two_revisions
    diffs = {diff.name: diff for diff in diff_documents(first.data, second.data)}
    assert list(diffs) == ["title", "authors", "tags", "images", "body"]
    assert diffs["title"].label == "标题" and diffs["title"].kind == "text"
    assert "<del>高品质</del><ins>美好</ins>" in diffs["title"].html
    assert diffs["tags"].kind == "value"
    assert diffs["tags"].before == "万州、成渝地区双城经济圈、渝中、重庆" and diffs["tags"].after == "高质量发展"
    assert diffs["authors"].before.splitlines()[0] == "王斌来（记者）"
    assert "何超（摄影）" not in diffs["authors"].after


def test_body_diff_marks_characters_within_a_chinese_sentence(two_revisions):
    first, second = two_revisions
    body = next(diff for diff in diff_documents(first.data, second.data) if diff.name == "body")
    assert body.label == "正文"
    assert "机器手臂<del>有序</del><ins>整齐</ins>挥舞" in body.html
    assert body.html.count('class="diff-changed"') == 1
    assert "diff-gap" in body.html  # unchanged paragraphs far from the change are left out


def test_diff_escapes_hostile_text(article):
    first = record_revision(article)
    article.title = "<script>alert(1)</script>标题"
    article.body += "<p>&lt;script&gt;alert(2)&lt;/script&gt;</p><script>alert(3)</script>"
    article.save()
    second = record_revision(article)
    diffs = {diff.name: diff.html for diff in diff_documents(first.data, second.data)}
    assert "<script" not in diffs["title"] + diffs["body"]
    assert "&lt;script&gt;alert(1)" in diffs["title"]
    assert "<ins>&lt;script&gt;alert(2)&lt;/script&gt;</ins>" in diffs["body"]
    assert "alert(3)" not in diffs["body"]  # sanitized away on save, never in a revision


GAP = '<p class="diff-gap">…</p>'


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("甲\n乙\n丙", "甲\n乙\n丙\n丁", [GAP, "<p>丙</p>", '<p class="diff-added"><ins>丁</ins></p>']),
        ("甲\n乙", "乙", ['<p class="diff-removed"><del>甲</del></p>', "<p>乙</p>"]),
        ("完全不同的一段", "另一回事",
         ['<p class="diff-removed"><del>完全不同的一段</del></p>', '<p class="diff-added"><ins>另一回事</ins></p>']),
        ("a & b", "a & c", ['<p class="diff-changed">a &amp; <del>b</del><ins>c</ins></p>']),
        ("1\n2\n3\n4\n5\n6", "1\n2\n3x\n4\n5\n6",
         [GAP, "<p>2</p>", '<p class="diff-changed">3<ins>x</ins></p>', "<p>4</p>", GAP]),
    ],
)
def test_diff_text(old, new, expected):
    assert diff_text(old, new).split("\n") == expected


# --- restore -------------------------------------------------------------------------------------------------


def test_restore_brings_back_the_whole_article(two_revisions, article, admin_user):
    first, _ = two_revisions
    version = Article.objects.get(pk=article.pk).version
    third = restore_revision(first, user=admin_user)
    assert (third.number, third.message, third.created_by) == (3, "恢复自版本 #1", admin_user)
    article = Article.objects.get(pk=article.pk)
    assert article.title == "推动高质量发展 创造高品质生活"
    assert "机器手臂有序挥舞" in article.body
    assert sorted(article.tags.names()) == ["万州", "成渝地区双城经济圈", "渝中", "重庆"]
    assert [b.author.name for b in article.bylines.all()][:2] == ["王斌来", "崔佳"]
    assert [p.image.caption for p in article.gallery.all()][-1] == "第二张图"
    assert comparable(article_document(article)) == comparable(first.data)
    # A restore is an edit made now, not a trip back in time.
    assert article.updated_at.isoformat() > first.data["updated_at"]
    assert (article.version, article.updated_by) == (version + 1, admin_user)


def test_restore_updates_the_same_row_after_slug_and_key_changed(two_revisions, article):
    first, _ = two_revisions
    Article.objects.filter(pk=article.pk).update(slug="renamed", source_key="zaker:renamed")
    restore_revision(first)
    restored = Article.objects.get()
    assert restored.pk == article.pk
    assert restored.slug == "renamed"  # the URL stays where readers now find it
    assert restored.source_key == first.data["source_key"]


def test_contributor_cannot_publish_by_restoring(article, django_user_model):
    contributor = django_user_model.objects.create_user("co", is_staff=True)
    contributor.groups.add(Group.objects.get(name="Contributor"))
    published = record_revision(article)
    Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT, created_by=contributor)
    with pytest.raises(ValidationError):
        restore_revision(published, user=contributor)
    assert Article.objects.get(pk=article.pk).status == Article.Status.DRAFT
    assert article.revisions.count() == 1


# --- admin views -----------------------------------------------------------------------------------------------


def url(name, article, *args):
    return reverse(f"admin:articles_article_{name}", args=[article.pk, *args])


@views
def test_revision_list_shows_numbers_editors_and_admin_log(admin_client, two_revisions, article):
    LogEntry.objects.log_actions(user_id=two_revisions[0].created_by_id, queryset=[article], action_flag=2,
                                 change_message="手工修改")
    response = admin_client.get(url("revisions", article))
    assert response.status_code == 200
    content = response.content.decode()
    assert "#1" in content and "#2" in content and "修改" in content and "手工修改" in content
    assert url("revisions_compare", article) in content
    assert url("revision_restore", article, 1) in content


@views
def test_history_link_leads_to_revisions(admin_client, article):
    response = admin_client.get(url("history", article))
    assert response.status_code == 302 and response["Location"] == url("revisions", article)


@views
def test_compare_page_shows_the_diff(admin_client, two_revisions, article):
    response = admin_client.get(url("revisions_compare", article), {"a": 2, "b": 1})
    assert response.status_code == 200
    content = response.content.decode()
    assert "机器手臂<del>有序</del><ins>整齐</ins>挥舞" in content
    assert "版本 #1" in content and "版本 #2" in content
    assert admin_client.get(url("revisions_compare", article), {"a": "x"}).status_code == 302
    assert admin_client.get(url("revisions_compare", article), {"a": 1, "b": 9}).status_code == 404


@views
def test_restore_asks_then_restores(admin_client, two_revisions, article):
    response = admin_client.get(url("revision_restore", article, 1))
    assert response.status_code == 200
    content = response.content.decode()
    assert "确认恢复到版本 #1" in content and "<del>整齐</del><ins>有序</ins>" in content
    assert article.revisions.count() == 2

    response = admin_client.post(url("revision_restore", article, 1))
    assert response.status_code == 302 and response["Location"] == url("change", article)
    assert Article.objects.get(pk=article.pk).title == "推动高质量发展 创造高品质生活"
    assert article.revisions.order_by("-number").first().message == "恢复自版本 #1"
    assert LogEntry.objects.get(object_id=str(article.pk)).change_message == "恢复自版本 #1"


@views
def test_staff_without_permission_gets_403(two_revisions, article, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    client = Client()
    client.force_login(viewer)
    assert client.get(url("revisions", article)).status_code == 403
    assert client.get(url("revisions_compare", article), {"a": 1, "b": 2}).status_code == 403

    viewer.user_permissions.add(Permission.objects.get(codename="view_article"))
    assert client.get(url("revisions", article)).status_code == 200
    assert client.get(url("revision_restore", article, 1)).status_code == 403
    assert client.post(url("revision_restore", article, 1)).status_code == 403
    assert ArticleRevision.objects.filter(article=article).count() == 2
