"""The article desk through the real admin: list, form, workflow rules, actions, lost updates, preview."""

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleRevision
from articles.preview import signed_preview_url

from .adminform import form_data
from .factories import SEED, client_for, make_article

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:articles_article_changelist"


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


@pytest.fixture
def seed():
    return Article.objects.get(slug=import_markdown_file(SEED).slug)


# --- list ------------------------------------------------------------------------------------------------------


def test_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries, seed):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        return len(context)

    few = count_queries()
    for n in range(12):
        article = make_article(title=f"批量文章 {n}")
        article.regions.set(seed.regions.all())
    assert count_queries() == few


def test_changelist_columns_filters_and_chinese_search(admin_client, seed):
    response = admin_client.get(reverse(CHANGELIST))
    html = response.content.decode()
    assert seed.title in html and "人民日报" in html and "重庆" in html
    for query in ("status__exact=draft", "publication=scheduled", "publication=live", "tag=重庆",
                  f"regions__id__exact={seed.regions.first().pk}", "q=智能车间", "published_at__year=2022"):
        assert admin_client.get(reverse(CHANGELIST) + "?" + query).status_code == 200, query
    found = admin_client.get(reverse(CHANGELIST), {"q": "智能车间"}).context["cl"].result_list
    assert list(found) == [seed]
    assert list(admin_client.get(reverse(CHANGELIST), {"q": "不存在的词语"}).context["cl"].result_list) == []


# --- form ------------------------------------------------------------------------------------------------------


def test_editor_saves_form_with_tags_and_a_revision(editor, seed):
    client = client_for(editor)
    data = form_data(client.get(change_url(seed)))
    data.update({"title": "新标题", "new_tags": "智能制造, 高质量发展"})
    response = client.post(change_url(seed), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    seed.refresh_from_db()
    assert seed.title == "新标题"
    assert set(seed.tags.names()) == {"重庆", "渝中", "成渝地区双城经济圈", "万州", "智能制造", "高质量发展"}
    assert seed.updated_by == editor and seed.version == 1
    assert [r.message for r in ArticleRevision.objects.filter(article=seed)] == ["修改", "导入 seed_chongqing.md"]


def test_body_is_sanitized_again_on_save(editor, seed):
    client = client_for(editor)
    data = form_data(client.get(change_url(seed)))
    data["body"] = '<p onclick="x()">新正文</p><script>alert(1)</script>'
    assert client.post(change_url(seed), data).status_code == 302
    seed.refresh_from_db()
    assert seed.body_html == "<p>新正文</p>"


def test_second_save_from_a_stale_form_is_refused_and_keeps_the_text(editor, make_user, seed):
    other = make_user("ed2", "Editor")
    first, second = client_for(editor), client_for(other)
    stale = form_data(first.get(change_url(seed)))
    fresh = form_data(second.get(change_url(seed)))
    fresh["title"] = "第二位编辑先保存"
    assert second.post(change_url(seed), fresh).status_code == 302

    stale["title"] = "第一位编辑的标题"
    stale["summary"] = "第一位编辑写的摘要，不能丢"
    response = first.post(change_url(seed), stale)
    assert response.status_code == 200
    html = response.content.decode()
    assert "保存被拒绝" in html and "ed2" in html
    assert "第一位编辑写的摘要，不能丢" in html and "第一位编辑的标题" in html
    seed.refresh_from_db()
    assert seed.title == "第二位编辑先保存"


# --- roles ---------------------------------------------------------------------------------------------------


def test_contributor_creates_a_draft_but_cannot_publish_it(contributor):
    client = client_for(contributor)
    add_url = reverse("admin:articles_article_add")
    data = form_data(client.get(add_url))
    data.update({"title": "投稿人的稿子", "body": "<p>正文</p>", "status": "published",
                 "published_at_0": "2022-08-01", "published_at_1": "10:00:00"})
    response = client.post(add_url, data)
    assert response.status_code == 200
    assert not Article.objects.exists()
    data["status"] = "draft"
    assert client.post(add_url, data).status_code == 302
    article = Article.objects.get()
    assert article.created_by == contributor and article.status == Article.Status.DRAFT


def test_contributor_cannot_touch_others_work_or_submitted_work(contributor, editor):
    client = client_for(contributor)
    theirs = make_article(status=Article.Status.DRAFT, created_by=editor)
    mine_in_review = make_article(status=Article.Status.REVIEW, created_by=contributor)
    for article in (theirs, mine_in_review):
        assert client.post(change_url(article), {"title": "改掉"}).status_code == 403
        article.refresh_from_db()
        assert article.title != "改掉"


def test_contributor_direct_post_of_publish_action_is_refused(contributor):
    draft = make_article(status=Article.Status.DRAFT, created_by=contributor)
    client = client_for(contributor)
    response = client.post(reverse(CHANGELIST), {"action": "publish_selected", "_selected_action": [draft.pk]})
    assert response.status_code in (200, 302)
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_contributor_submits_own_drafts_only(contributor, editor):
    mine = make_article(status=Article.Status.DRAFT, created_by=contributor)
    theirs = make_article(status=Article.Status.DRAFT, created_by=editor)
    client = client_for(contributor)
    response = client.post(reverse(CHANGELIST), {"action": "submit_selected", "_selected_action": [mine.pk, theirs.pk]},
                           follow=True)
    assert "已提交审核 1 篇文章" in response.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == (Article.Status.REVIEW, Article.Status.DRAFT)


# --- editor actions ------------------------------------------------------------------------------------------


def test_editor_publish_unpublish_archive_report_counts(editor, client):
    review = make_article(status=Article.Status.REVIEW, published_at=None)
    later = make_article(status=Article.Status.DRAFT, published_at=timezone.now() + timezone.timedelta(days=2))
    already = make_article(status=Article.Status.PUBLISHED)
    admin = client_for(editor)

    def act(action, *articles):
        ids = [a.pk for a in articles]
        return admin.post(reverse(CHANGELIST), {"action": action, "_selected_action": ids}, follow=True).content.decode()

    assert "已发布 2 篇文章。1 篇状态不符" in act("publish_selected", review, later, already)
    review.refresh_from_db()
    later.refresh_from_db()
    assert review.status == later.status == Article.Status.PUBLISHED and review.published_at is not None
    assert client.get(review.get_absolute_url()).status_code == 200
    assert client.get(later.get_absolute_url()).status_code == 404  # scheduled: invisible until its time
    assert "已撤回 1 篇文章" in act("unpublish_selected", review)
    assert "已归档 2 篇文章" in act("archive_selected", review, already)
    assert ArticleRevision.objects.filter(article=review).count() == 3


def test_reextract_credits_action(editor, seed):
    seed.bylines.all().delete()
    seed.data_sources.clear()
    response = client_for(editor).post(
        reverse(CHANGELIST), {"action": "reextract_credits", "_selected_action": [seed.pk]}, follow=True
    )
    assert "重新提取并更新了 1 篇文章" in response.content.decode()
    assert seed.bylines.count() == 7 and seed.data_sources.count() == 4


# --- preview -----------------------------------------------------------------------------------------------------


def test_staff_preview_and_signed_link(editor, client, settings):
    draft = make_article(title="尚未发布", body="<p>草稿正文</p>", status=Article.Status.DRAFT)
    assert client.get(reverse("articles:preview", args=[draft.pk])).status_code == 302  # to the login page
    response = client_for(editor).get(reverse("articles:preview", args=[draft.pk]))
    assert response.status_code == 200 and "草稿正文" in response.content.decode()
    url = signed_preview_url(draft)
    assert "草稿正文" in client.get(url).content.decode()
    assert client.get(url[:-3] + "xyz/").status_code == 404
    settings.NEWSROOM_PREVIEW_MAX_AGE = -1
    assert client.get(url).status_code == 404


def test_tag_and_author_autocomplete(admin_client, seed):
    response = admin_client.get(
        "/admin/autocomplete/", {"app_label": "articles", "model_name": "article", "field_name": "tags", "term": "重"}
    )
    assert response.status_code == 200
    assert "重庆" in [item["text"] for item in response.json()["results"]]
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "articles", "model_name": "articleauthor", "field_name": "author", "term": "王"},
    )
    assert {"王斌来", "王欣悦"} <= {item["text"] for item in response.json()["results"]}


def test_history_compare_and_restore_in_the_real_admin(editor, contributor, seed):
    client = client_for(editor)
    data = form_data(client.get(change_url(seed)))
    data["title"] = "改过的标题"
    assert client.post(change_url(seed), data).status_code == 302
    history = client.get(reverse("admin:articles_article_history", args=[seed.pk]), follow=True)
    assert "导入 seed_chongqing.md" in history.content.decode()
    compare = client.get(reverse("admin:articles_article_revisions_compare", args=[seed.pk]), {"a": 1, "b": 2})
    assert "改过的标题" in compare.content.decode()
    restore_url = reverse("admin:articles_article_revision_restore", args=[seed.pk, 1])
    assert client_for(contributor).post(restore_url).status_code == 403
    assert client.post(restore_url).status_code == 302
    seed.refresh_from_db()
    assert seed.title == "推动高质量发展 创造高品质生活"
    assert seed.revisions.first().message == "恢复自版本 #1"


def test_admin_speaks_chinese_by_default_and_english_on_request(admin_client, seed):
    chinese = admin_client.get(reverse(CHANGELIST)).content.decode()
    english = admin_client.get(reverse(CHANGELIST), headers={"accept-language": "en"}).content.decode()
    assert "注销" in chinese and "Log out" not in chinese
    assert "Log out" in english and seed.title in english
