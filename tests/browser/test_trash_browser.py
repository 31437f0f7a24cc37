"""The trash in a real browser: an editor deletes a published article from its form, finds it gone from
the site and the article list, and restores it from 回收站 with its gallery; only a superuser may purge.

Headless Chromium against ``live_server`` (fixtures in ``conftest.py``).
"""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from articles.models import Article, ArticleRevision

from ..richsite import rich_article
from .test_desk import PASSWORD, loaded_widths, log_in, run_action, screenshot

pytestmark = pytest.mark.urls("tests.browser.urls")


@pytest.fixture
def editor(django_user_model):
    user = django_user_model.objects.create_user("laoli", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


def test_editor_deletes_to_the_trash_and_restores_with_the_gallery(live_site, page, new_page, editor):
    article = rich_article(user=editor, title="移入回收站再恢复的报道", pictures=3)
    revisions = ArticleRevision.objects.filter(article=article).count()
    reader = new_page()
    assert reader.goto(f"{live_site}{article.get_absolute_url()}").status == 200

    # Delete from the article's form: the confirmation says what happens, nothing is deleted.
    log_in(page, live_site, "laoli")
    page.goto(f"{live_site}/admin/articles/article/{article.pk}/change/")
    page.locator("a.deletelink").click()
    page.wait_for_url(f"**/admin/articles/article/{article.pk}/delete/")
    expect(page.locator("#content")).to_contain_text("会移入回收站")
    expect(page.locator("#content")).to_contain_text("在「回收站」里可以恢复")
    screenshot(page, "trash-confirmation.png")
    page.get_by_role("button", name="确认移入回收站").click()
    page.wait_for_url("**/admin/articles/article/")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("移入回收站")
    expect(page.locator("#content-main")).not_to_contain_text(article.title)
    article.refresh_from_db()
    assert article.status == Article.Status.TRASHED and article.trashed_by == editor
    assert reader.goto(f"{live_site}{article.get_absolute_url()}").status == 404

    # 回收站 lists it; the editor may restore but not purge.
    page.goto(f"{live_site}/admin/")
    page.get_by_role("link", name="回收站").first.click()
    page.wait_for_url("**/admin/articles/trashedarticle/")
    expect(page.locator("#result_list")).to_contain_text(article.title)
    options = page.locator("select[name=action] option").all_inner_texts()
    assert "恢复所选文章（回到删除前的状态）" in options and not any("永久删除" in text for text in options)
    screenshot(page, "trash-list.png")
    run_action(page, article, "恢复所选文章（回到删除前的状态）")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("已恢复 1 篇文章")
    expect(page.locator("#result_list")).to_have_count(0)

    # Back on the site, as it was: the same gallery, its pictures loading from their renditions.
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert ArticleRevision.objects.filter(article=article).count() == revisions + 2
    assert reader.goto(f"{live_site}{article.get_absolute_url()}").status == 200
    expect(reader.locator("section.gallery figure")).to_have_count(2)  # the lead picture is shown above it
    assert all(loaded_widths(reader, "section.gallery img"))
    sources = reader.locator("section.gallery img").evaluate_all("imgs => imgs.map(img => img.currentSrc)")
    assert len(sources) == 2 and all("/media/renditions/" in src for src in sources), sources
    captions = reader.locator("section.gallery .gallery-caption").all_inner_texts()
    in_order = [placement.image.caption for placement in article.gallery.select_related("image").order_by("order")]
    assert captions == [caption for caption in in_order if caption != article.lead_image.caption]
    for p in (page, reader):
        assert p.js_errors == [] and p.blocked_requests == []
