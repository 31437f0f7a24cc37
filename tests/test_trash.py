"""Deleting is reversible: the admin's delete moves an article to the trash, the trash restores it with
everything it links to, and only a superuser (or ``purge_trash``) deletes for good. Catalogue rows still
in use (a publisher, a picture in a gallery, a tag on articles, a reviewed figure) are not deleted.

Through the real admin, the real public site and API, a real database and Pillow-made pictures."""

import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from taggit.models import Tag

from articles import workflow
from articles.importer.run import import_markdown_file
from articles.models import (
    Article,
    ArticleAuthor,
    ArticleImage,
    ArticleRevision,
    Author,
    Image,
    Indicator,
    Region,
    Source,
    StatisticFigure,
    Withdrawal,
)
from articles.revisions import article_document, restore_revision

from .adminform import form_data
from .factories import client_for, make_article, write_markdown
from .richsite import rich_article

pytestmark = pytest.mark.django_db

TRASHED = Article.Status.TRASHED
CHANGELIST = reverse("admin:articles_article_changelist")
TRASH = reverse("admin:articles_trashedarticle_changelist")


@pytest.fixture
def article(editor):
    return rich_article(user=editor, title="回收站测试文章")


def snapshot(article):
    """Everything the article shows and keeps, ids included: its full document (without updated_at, which a
    trash and a restore move, and status), its revisions, figures with their review records, and files."""
    document = {k: v for k, v in article_document(article).items() if k not in ("updated_at", "status")}
    figures = list(StatisticFigure.objects.filter(article=article).order_by("pk").values_list(
        "pk", "status", "indicator", "value", "region_id", "source_id"))
    changes = list(StatisticFigure.objects.filter(article=article).order_by("pk").values_list("changes__pk", flat=True))
    revisions = list(ArticleRevision.objects.filter(article=article).order_by("number").values_list("number", "data"))
    files = [name for image in Image.objects.filter(placements__article=article)
             for name in [image.file.name, *(r["file"] for r in image.renditions)]]
    return {"document": document, "figures": figures, "changes": changes, "revisions": revisions,
            "bylines": list(article.bylines.values_list("pk", "author_id", "role", "order")),
            "gallery": list(article.gallery.values_list("pk", "image_id", "order")), "files": files}


def public_urls(article):
    return [
        article.get_absolute_url(),
        reverse("articles:home"),
        reverse("articles:list"),
        reverse("articles:tag", args=["重庆"]),
        Region.objects.get(name="万州区").get_absolute_url(),
        Source.objects.get(name="测试日报社").get_absolute_url(),
        Author.objects.get(name="王斌来").get_absolute_url(),
        reverse("articles:search") + "?q=万州",
        reverse("articles:feed_latest"),
        "/sitemap.xml",
        reverse("articles:region_figures", args=[Region.objects.get(name="万州区").slug]),
        f"/api/v1/articles/{article.slug}/",
        "/api/v1/articles/",
        "/api/v1/export.ndjson",
        "/api/v1/figures/",
    ]


def shown_on(client, url, article) -> bool:
    response = client.get(url)
    if response.status_code == 404:
        return False
    assert response.status_code == 200, (url, response.status_code)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return article.title in content.decode() or f"/articles/{article.slug}/" in content.decode()


# --- deleting in the admin moves to the trash ---------------------------------------------------------------------


def test_the_delete_page_moves_the_article_to_the_trash(editor, article):
    client = client_for(editor)
    before = snapshot(article)
    url = reverse("admin:articles_article_delete", args=[article.pk])
    page = client.get(url).content.decode()
    assert "<h1>移入回收站</h1>" in page and "都保留" in page and "确认移入回收站" in page
    response = client.post(url, {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert "已将文章「回收站测试文章」移入回收站" in response.content.decode()

    article.refresh_from_db()
    assert (article.status, article.status_before_trash, article.trashed_by) == (TRASHED, "published", editor)
    assert article.trashed_at is not None
    after = snapshot(article)
    assert after["revisions"][:-1] == before["revisions"]  # all kept, and one more: the move itself
    assert after["revisions"][-1][1]["status"] == TRASHED
    assert {k: v for k, v in after.items() if k != "revisions"} == {k: v for k, v in before.items() if k != "revisions"}
    # Two pictures, each its file and 4 renditions (320 and 640 px wide, WEBP and JPEG), all still stored.
    assert len(after["files"]) == 2 * 5 and all(default_storage.exists(name) for name in after["files"])
    entry = LogEntry.objects.get(object_id=str(article.pk))
    assert (entry.action_flag, entry.change_message) == (CHANGE, "移入回收站")


def test_the_list_action_confirms_then_moves_to_the_trash(editor, article):
    other = make_article(title="另一篇")
    client = client_for(editor)
    selected = {"action": "trash_selected", "_selected_action": [article.pk, other.pk]}
    page = client.post(CHANGELIST, selected)
    assert page.status_code == 200 and "下列 2 篇文章会移入回收站" in page.content.decode()
    assert not Article.objects.filter(status=TRASHED).exists()  # nothing yet: a confirmation page
    response = client.post(CHANGELIST, {**selected, "post": "yes"}, follow=True)
    assert "已将 2 篇文章移入回收站" in response.content.decode()
    assert set(Article.objects.filter(status=TRASHED).values_list("pk", flat=True)) == {article.pk, other.pk}
    # Django's delete_selected is gone from the article list: nothing there deletes rows.
    assert "delete_selected" not in client.get(CHANGELIST).content.decode()


def test_trashed_articles_leave_the_article_list_for_the_trash(editor, article):
    client = client_for(editor)
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    listed = client.get(CHANGELIST)
    assert article.title not in listed.content.decode()
    assert "trashed" not in [value for value, _ in listed.context["cl"].filter_specs[0].lookup_choices]
    assert client.get(CHANGELIST + "?status__exact=published").status_code == 200
    # Its form is gone from the desk (restore it first); the trash shows it, read-only.
    assert client.get(reverse("admin:articles_article_change", args=[article.pk])).status_code == 302
    trash = client.get(TRASH).content.decode()
    assert "回收站测试文章" in trash and "restore_selected" in trash and "delete_selected" not in trash
    view = client.get(reverse("admin:articles_trashedarticle_change", args=[article.pk])).content.decode()
    assert "回收站测试文章" in view and 'name="title"' not in view


def test_a_trashed_articles_figures_leave_the_figure_desk_until_it_is_restored(editor, article):
    client = client_for(editor)
    desk = reverse("admin:articles_statisticfigure_changelist")
    figure = StatisticFigure.objects.filter(article=article).first()
    assert figure is not None
    change = reverse("admin:articles_statisticfigure_change", args=[figure.pk])

    def listed():
        return {row.pk for row in client.get(desk + "?all=").context["cl"].result_list}

    assert figure.pk in listed() and client.get(change).status_code == 200
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    assert not {f.pk for f in StatisticFigure.objects.filter(article=article)} & listed()
    assert client.get(change).status_code == 302  # "perhaps it was deleted?": back to the desk
    workflow.restore(Article.objects.filter(pk=article.pk), user=editor)
    assert figure.pk in listed()


def test_a_trashed_article_is_never_public_and_is_withdrawn(client, editor, article, clock):
    sibling = rich_article(user=editor, title="同专题的另一篇")
    for url in public_urls(article):
        assert shown_on(client, url, article), url  # public before (and its pages are now cached)
    assert article in client.get(sibling.get_absolute_url()).context["related_articles"]
    clock.advance(minutes=1)

    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)

    for url in public_urls(article):
        assert not shown_on(client, url, article), url
    assert article not in client.get(sibling.get_absolute_url()).context["related_articles"]
    feed = client.get("/api/v1/withdrawals/").json()["results"]
    assert [(row["id"], row["slug"]) for row in feed] == [(article.pk, article.slug)]
    assert article.get_absolute_url() not in client.get("/sitemap.xml").content.decode()


def test_restore_brings_everything_back_and_the_article_is_public_again(client, editor, article, clock):
    before = snapshot(article)
    synced_at = clock.now
    clock.advance(minutes=1)
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    clock.advance(minutes=1)
    response = client_for(editor).post(TRASH, {"action": "restore_selected", "_selected_action": [article.pk]},
                                       follow=True)
    assert "已恢复 1 篇文章" in response.content.decode()

    article.refresh_from_db()
    assert (article.status, article.trashed_at, article.trashed_by, article.status_before_trash) == (
        "published", None, None, "")
    after = snapshot(article)
    assert [number for number, _ in after["revisions"]] == [1, 2, 3, 4]  # 新建, 修改, 移入回收站, 从回收站恢复
    assert after["revisions"][-1][1] == {**before["revisions"][-1][1], "updated_at": after["revisions"][-1][1]["updated_at"]}
    assert {k: v for k, v in after.items() if k != "revisions"} == {k: v for k, v in before.items() if k != "revisions"}
    for url in public_urls(article):
        assert shown_on(client, url, article), url
    # For API mirrors: out of the withdrawals, back through updated_since.
    assert client.get("/api/v1/withdrawals/").json()["results"] == []
    synced = client.get("/api/v1/articles/", {"updated_since": synced_at.isoformat()}).json()["results"]
    assert [document["id"] for document in synced] == [article.pk]
    assert Withdrawal.objects.filter(article_id=article.pk).exists()  # the row stays; current() leaves it out


def test_restore_as_draft_keeps_it_off_the_site(client, editor, article):
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    client_for(editor).post(TRASH, {"action": "restore_as_draft_selected", "_selected_action": [article.pk]})
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT and article.trashed_at is None
    assert client.get(article.get_absolute_url()).status_code == 404
    assert [row["id"] for row in client.get("/api/v1/withdrawals/").json()["results"]] == [article.pk]
    assert client_for(editor).get(reverse("admin:articles_article_change", args=[article.pk])).status_code == 200


@pytest.mark.parametrize("status", ["draft", "review", "archived"])
def test_restore_returns_each_status(editor, status):
    article = make_article(status=status)
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    workflow.restore(Article.objects.filter(pk=article.pk), user=editor)
    article.refresh_from_db()
    assert article.status == status


# --- who may ------------------------------------------------------------------------------------------------------


def test_contributors_cannot_trash_restore_or_see_the_trash(contributor, editor):
    own = make_article(status=Article.Status.DRAFT, published_at=None, created_by=contributor)
    client = client_for(contributor)
    assert client.get(reverse("admin:articles_article_delete", args=[own.pk])).status_code == 403
    client.post(CHANGELIST, {"action": "trash_selected", "_selected_action": [own.pk], "post": "yes"})
    assert Article.objects.get(pk=own.pk).status == Article.Status.DRAFT
    with pytest.raises(PermissionError):
        workflow.trash(Article.objects.filter(pk=own.pk), user=contributor)
    workflow.trash(Article.objects.filter(pk=own.pk), user=editor)
    assert client.get(TRASH).status_code == 403
    client.post(TRASH, {"action": "restore_selected", "_selected_action": [own.pk]})
    assert Article.objects.get(pk=own.pk).status == TRASHED
    with pytest.raises(PermissionError):
        workflow.restore(Article.objects.filter(pk=own.pk), user=contributor)


def test_only_superusers_purge_and_purging_deletes_for_good(editor, admin_client, article):
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    pictures = list(Image.objects.filter(placements__article=article))
    editor_client = client_for(editor)
    assert editor_client.get(reverse("admin:articles_trashedarticle_delete", args=[article.pk])).status_code == 403
    editor_client.post(TRASH, {"action": "delete_selected", "_selected_action": [article.pk], "post": "yes"})
    with pytest.raises(PermissionError):
        workflow.purge(Article.objects.filter(pk=article.pk), user=editor)
    assert Article.objects.filter(pk=article.pk).exists()

    # The superuser sees what goes with it (Django's confirmation), then it is gone.
    page = admin_client.post(TRASH, {"action": "delete_selected", "_selected_action": [article.pk]})
    assert "永久删除" in admin_client.get(TRASH).content.decode()
    assert "历史版本" in page.content.decode() and "统计数字" in page.content.decode()
    admin_client.post(TRASH, {"action": "delete_selected", "_selected_action": [article.pk], "post": "yes"})
    assert not Article.objects.filter(pk=article.pk).exists()
    assert not ArticleRevision.objects.filter(article_id=article.pk).exists()
    assert not StatisticFigure.objects.filter(article_id=article.pk).exists()
    # Pictures are catalogue rows other articles may show: they and their files stay.
    for image in pictures:
        image.refresh_from_db()
        assert default_storage.exists(image.file.name)


def test_purge_only_ever_deletes_trashed_articles(admin_user, editor):
    live, trashed = make_article(), make_article()
    workflow.trash(Article.objects.filter(pk=trashed.pk), user=editor)
    assert workflow.purge(Article.objects.filter(pk__in=[live.pk, trashed.pk]), user=admin_user) == 1
    assert Article.objects.filter(pk=live.pk).exists() and not Article.objects.filter(pk=trashed.pk).exists()


def test_purge_trash_command_purges_what_has_waited_long_enough(editor, clock, capsys):
    old, recent, live = make_article(title="旧的"), make_article(title="新的"), make_article(title="没删的")
    workflow.trash(Article.objects.filter(pk=old.pk), user=editor)
    clock.advance(days=20)
    workflow.trash(Article.objects.filter(pk=recent.pk), user=editor)
    clock.advance(days=11)
    call_command("purge_trash", "--dry-run")
    assert f"would purge {old.slug}" in capsys.readouterr().out
    assert Article.objects.filter(pk=old.pk).exists()
    call_command("purge_trash")  # 30 days by default
    assert "Purged 1 article(s)" in capsys.readouterr().out
    assert set(Article.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    call_command("purge_trash", "--older-than", "0")
    assert set(Article.objects.values_list("pk", flat=True)) == {live.pk}


# --- one way in, one way out --------------------------------------------------------------------------------------


def test_the_form_cannot_move_an_article_into_or_out_of_the_trash(editor, article):
    client = client_for(editor)
    url = reverse("admin:articles_article_change", args=[article.pk])
    page = client.get(url)
    assert 'value="trashed"' not in page.content.decode()
    response = client.post(url, form_data(page) | {"status": "trashed"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()  # not a choice: the form again
    article.refresh_from_db()
    assert article.status == "published"
    with pytest.raises(ValidationError, match="回收站"):
        workflow.check_status_change(editor, old_status="published", new_status=TRASHED)
    with pytest.raises(ValidationError, match="回收站"):
        workflow.check_status_change(editor, old_status=TRASHED, new_status="published")


def test_restoring_the_revision_of_the_move_to_the_trash_is_refused(editor, article):
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    workflow.restore(Article.objects.filter(pk=article.pk), user=editor)
    moved = ArticleRevision.objects.get(article=article, message="移入回收站")
    with pytest.raises(ValidationError, match="回收站"):
        restore_revision(moved, user=editor)
    article.refresh_from_db()
    assert article.status == "published"


def test_trash_fields_follow_the_status_whoever_sets_it(editor):
    article = make_article()
    article.status = TRASHED  # a dump or a revision restored without the workflow
    article.save()
    assert article.trashed_at is not None
    article.status = Article.Status.DRAFT
    article.save(update_fields=["status"])
    article.refresh_from_db()
    assert (article.trashed_at, article.status_before_trash) == (None, "")


def test_a_slug_held_in_the_trash_is_named_and_new_titles_get_another(editor, article):
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    twin = make_article(title=article.title)
    assert twin.slug != article.slug
    client = client_for(editor)
    url = reverse("admin:articles_article_change", args=[twin.pk])
    response = client.post(url, form_data(client.get(url)) | {"slug": article.slug})
    assert response.status_code == 200
    assert "回收站里的文章「回收站测试文章」占用了这个网址名" in response.content.decode()


def test_importing_a_trashed_articles_file_again_leaves_it_in_the_trash(tmp_path, editor):
    path = write_markdown(tmp_path, "trash.md", title="导入后删除")
    slug = import_markdown_file(path, publish=True).slug
    workflow.trash(Article.objects.filter(slug=slug), user=editor)
    assert import_markdown_file(path, publish=True).status == "unchanged"
    path.write_text(path.read_text(encoding="utf-8").replace("导入后删除", "导入后删除（新标题）"), encoding="utf-8")
    assert import_markdown_file(path, publish=True).status == "updated"
    assert Article.objects.get(slug=slug).status == TRASHED


def test_a_full_dump_keeps_the_trash(tmp_path, editor):
    article = make_article(title="在回收站里导出")
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    dump = tmp_path / "dump.ndjson"
    call_command("export_articles", "--output", str(dump))
    [document] = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert document["status"] == TRASHED
    call_command("export_articles", "--public", "--output", str(dump))
    assert dump.read_text(encoding="utf-8") == ""


# --- the catalogue: rows in use are merged or unlinked, never deleted ----------------------------------------------


def in_use_rows(article):
    """A row of each catalogue model that the article (or its figures) uses."""
    image = article.gallery.first().image
    figure = article.figures.get(status=StatisticFigure.Status.VERIFIED)  # with its review record
    indicator = Indicator.objects.create(name="测试标准指标")
    figure.standard = indicator
    figure.save()
    return {
        "source": article.publisher,
        "author": Author.objects.get(name="何超"),  # a byline and the pictures' photographer
        "region": Region.objects.get(name="万州区"),
        "image": image,
        "tag": Tag.objects.get(name="重庆"),
        "indicator": indicator,
        "statisticfigure": figure,
    }


def delete_url(row, name):
    app = "taggit" if name == "tag" else "articles"
    return reverse(f"admin:{app}_{name}_delete", args=[row.pk])


@pytest.mark.parametrize("name", ["source", "author", "region", "image", "tag", "indicator", "statisticfigure"])
def test_a_catalogue_row_in_use_is_not_deleted(admin_client, article, name):
    row = in_use_rows(article)[name]
    before = article_document(article)
    page = admin_client.get(delete_url(row, name))
    assert page.status_code == 200 and f"「{row}」仍在使用" in page.content.decode()
    assert 'name="post"' not in page.content.decode()  # no confirm button
    admin_client.post(delete_url(row, name), {"post": "yes"})
    assert type(row).objects.filter(pk=row.pk).exists()
    changelist = delete_url(row, name).rsplit("/", 3)[0] + "/"
    admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert type(row).objects.filter(pk=row.pk).exists()
    assert article_document(article) == before


def test_merge_is_offered_instead(admin_client, article):
    page = admin_client.get(delete_url(article.publisher, "source")).content.decode()
    assert "1 篇文章的原发媒体" in page and "合并所选来源" in page


@pytest.mark.parametrize("name, make", [
    ("source", lambda: Source.objects.create(name="没人用的来源", kind=Source.Kind.DATA)),
    ("author", lambda: Author.objects.create(name="没人用的作者")),
    ("region", lambda: Region.objects.create(name="没人用的地区", kind=Region.Kind.AREA)),
    ("image", lambda: Image.objects.create(remote_url="https://img.example.cn/unused.jpg")),
    ("tag", lambda: Tag.objects.create(name="没人用的标签")),
    ("indicator", lambda: Indicator.objects.create(name="没人用的指标")),
])
def test_a_catalogue_row_nothing_uses_is_deleted(admin_client, name, make):
    row = make()
    assert admin_client.post(delete_url(row, name), {"post": "yes"}).status_code == 302
    assert not type(row).objects.filter(pk=row.pk).exists()


def test_byline_and_gallery_rows_are_edits_recorded_in_revisions(editor, article):
    """Removing a byline or a picture from an article is an edit of the article: its revision history
    keeps the earlier state, and restoring it puts them back."""
    keep = ArticleRevision.objects.filter(article=article).latest("number")
    ArticleAuthor.objects.filter(article=article, role=ArticleAuthor.Role.PHOTOGRAPHER).delete()
    ArticleImage.objects.filter(article=article).delete()
    restore_revision(keep, user=editor)
    article.refresh_from_db()
    assert article.bylines.count() == 2 and article.gallery.count() == 2
    restored = article_document(article)
    for key in ("authors", "images", "lead_image"):
        assert restored[key] == keep.data[key], key


# --- previews -------------------------------------------------------------------------------------------------------


def test_staff_still_preview_a_trashed_article(editor, article):
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    response = client_for(editor).get(reverse("articles:preview", args=[article.pk]))
    assert response.status_code == 200 and "回收站测试文章" in response.content.decode()


def test_a_shared_preview_link_stops_working_when_the_article_is_trashed(client, editor, article):
    from articles.preview import signed_preview_url

    link = signed_preview_url(article)
    assert client.get(link).status_code == 200
    workflow.trash(Article.objects.filter(pk=article.pk), user=editor)
    assert client.get(link).status_code == 404
