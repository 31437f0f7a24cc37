"""The article desk in a real browser: a contributor writes an article with a gallery and submits it,
an editor publishes it, a reader finds it on the site.

Runs in headless Chromium against ``live_server`` (fixtures in ``conftest.py``). Full-page screenshots
land in ``artifacts/screenshots/`` (git-ignored) for a human to look at.
"""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from PIL import ImageDraw
from playwright.sync_api import expect

from articles.gallery import add_images
from articles.models import Article, ArticleImage

from ..factories import make_article

pytestmark = pytest.mark.urls("tests.browser.urls")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct-horse-电池"
TITLE = "巫山脆李丰收：直播带货带动三千户果农增收"
SUMMARY = "重庆巫山县今年脆李产量创新高，电商直播成为果农新的销售渠道。"
BODY = "<p>七月的巫山，漫山遍野的脆李进入采摘季。</p><p>在曲尺乡的直播间里，果农对着镜头介绍刚摘下的脆李。</p>"
BODY_SENTENCE = "在曲尺乡的直播间里，果农对着镜头介绍刚摘下的脆李。"
# (file name, Pillow format, size, colour): three real pictures of different sizes; widths identify them.
PICTURES = [
    ("caizhai.jpg", "JPEG", (800, 600), (200, 40, 40)),
    ("tubiao.png", "PNG", (640, 400), (40, 160, 60)),
    ("zhibo.jpg", "JPEG", (1024, 512), (40, 70, 200)),
]
GALLERY_ROWS = "#gallery-group tr.form-row:not(.empty-form)"
THUMBNAILS = f"{GALLERY_ROWS} td.field-thumbnail img"


def picture_bytes(fmt, size, colour) -> bytes:
    img = PILImage.new("RGB", size, colour)
    ImageDraw.Draw(img).rectangle([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(250, 250, 250))
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def pictures(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    paths = []
    for name, fmt, size, colour in PICTURES:
        path = folder / name
        path.write_bytes(picture_bytes(fmt, size, colour))
        paths.append(path)
    return paths


@pytest.fixture
def make_user(django_user_model):
    def make(username, group):
        user = django_user_model.objects.create_user(username, password=PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user
    return make


# --- steps ----------------------------------------------------------------------------------------------------


def log_in(page, base, username):
    page.goto(f"{base}/admin/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#user-tools")).to_contain_text(username)


def log_out(page):
    page.locator("#logout-form button").click()
    page.wait_for_url("**/admin/logout/")


def save_and_continue(page):
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()


def expect_saved(page):
    expect(page.locator("ul.messagelist li.success")).to_be_visible()
    expect(page.locator(".errornote")).to_have_count(0)


def run_action(page, article, label):
    page.locator(f"input[name=_selected_action][value='{article.pk}']").check()
    page.locator("select[name=action]").select_option(label=label)
    page.locator("button[name=index]").click()
    page.wait_for_load_state()


def gallery_row_ids(page) -> list[int]:
    """The ArticleImage pks of the gallery rows, in page order."""
    return [int(value) for value in page.locator(f"{GALLERY_ROWS} input[name$='-id']").evaluate_all(
        "inputs => inputs.map(input => input.value)")]


def loaded_widths(page, selector) -> list[int]:
    """Scroll each <img> into view (they are loading="lazy"), wait until all have loaded, return their naturalWidth."""
    images = page.locator(selector)
    for image in images.all():
        image.scroll_into_view_if_needed()
    page.wait_for_function(
        "selector => [...document.querySelectorAll(selector)].every(img => img.complete && img.naturalWidth > 0)",
        arg=selector,
    )
    return images.evaluate_all("imgs => imgs.map(img => img.naturalWidth)")


def screenshot(page, name) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=path, full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    return path


def gallery_in_order(article) -> list[ArticleImage]:
    return list(ArticleImage.objects.filter(article=article).select_related("image").order_by("order", "pk"))


# --- tests ----------------------------------------------------------------------------------------------------


def test_contributor_builds_gallery_and_submits_then_editor_publishes(live_site, page, new_page, make_user, pictures):
    make_user("xiaowang", "Contributor")
    editor = make_user("laoli", "Editor")

    # The contributor writes an article and uploads three pictures at once.
    log_in(page, live_site, "xiaowang")
    page.goto(f"{live_site}/admin/articles/article/")
    page.get_by_role("link", name="增加 文章").click()
    page.wait_for_url("**/admin/articles/article/add/")
    assert "已发布" not in page.locator("select[name=status] option").all_inner_texts()
    page.locator("input[name=title]").fill(TITLE)
    page.locator("textarea[name=summary]").fill(SUMMARY)
    page.locator("textarea[name=body]").fill(BODY)
    page.locator("input[name=new_images]").set_input_files(pictures)
    save_and_continue(page)
    expect_saved(page)

    article = Article.objects.get(title=TITLE)
    assert article.created_by.username == "xiaowang" and article.status == Article.Status.DRAFT
    placements = gallery_in_order(article)
    first, second, third = (placement.image for placement in placements)
    assert [image.width for image in (first, second, third)] == [size[0] for _, _, size, _ in PICTURES]
    assert article.lead_image == first  # the first upload becomes the lead when there is none

    # Three rows, each with a thumbnail served from MEDIA_URL that really loads (the 320px rendition).
    expect(page.locator(GALLERY_ROWS)).to_have_count(3)
    sources = page.locator(THUMBNAILS).evaluate_all("imgs => imgs.map(img => img.getAttribute('src'))")
    assert all(src.startswith("/media/renditions/") for src in sources), sources
    for placement in placements:
        assert all(default_storage.exists(r["file"]) for r in placement.image.renditions)
    assert loaded_widths(page, THUMBNAILS) == [320, 320, 320]
    assert gallery_row_ids(page) == [p.pk for p in placements]

    # Reorder by typing the numbers: the third picture first.
    for row, new_order in zip(page.locator(GALLERY_ROWS).all(), [1, 2, 0], strict=True):
        row.locator("input.gallery-order").fill(str(new_order))
    save_and_continue(page)
    expect_saved(page)
    reordered = gallery_in_order(article)
    assert [p.image for p in reordered] == [third, first, second]
    assert gallery_row_ids(page) == [p.pk for p in reordered]

    # Ticking a second lead box is refused; moving the tick to the (now first) third picture works.
    rows = page.locator(GALLERY_ROWS)
    expect(rows.nth(1).locator("input[name$='-is_lead']")).to_be_checked()
    rows.nth(0).locator("input[name$='-is_lead']").check()
    save_and_continue(page)
    expect(page.locator("#gallery-group")).to_contain_text("只能勾选一张题图")
    rows.nth(1).locator("input[name$='-is_lead']").uncheck()
    save_and_continue(page)
    expect_saved(page)
    article.refresh_from_db()
    assert article.lead_image == third
    expect(page.locator(GALLERY_ROWS).nth(0).locator("input[name$='-is_lead']")).to_be_checked()
    assert loaded_widths(page, ".field-lead_image_preview img") == [third.width]
    screenshot(page, "article-form.png")

    # Submit for review from the change list.
    page.goto(f"{live_site}/admin/articles/article/")
    run_action(page, article, "提交审核")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("已提交审核 1 篇文章")
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEW
    log_out(page)

    # The editor publishes it from the review queue.
    log_in(page, live_site, "laoli")
    page.goto(f"{live_site}/admin/articles/article/?status__exact=review")
    expect(page.locator("#result_list")).to_contain_text(TITLE)
    run_action(page, article, "发布所选文章（未来时间则定时发布）")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("已发布 1 篇文章")
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.updated_by == editor
    page.goto(f"{live_site}/admin/articles/article/")
    expect(page.locator("#result_list")).to_contain_text(TITLE)
    screenshot(page, "article-changelist.png")

    # A reader (no cookies) finds it on the home page and reads it.
    reader = new_page()
    reader.goto(f"{live_site}/")
    reader.get_by_role("link", name=TITLE).first.click()
    reader.wait_for_url(f"**{article.get_absolute_url()}")
    expect(reader.locator("body")).to_contain_text(BODY_SENTENCE)
    screenshot(reader, "article-page.png")

    for p in (page, reader):
        assert p.js_errors == [] and p.blocked_requests == []


def test_dragging_a_gallery_row_renumbers_the_order(live_site, page, make_user, pictures):
    make_user("laoli", "Editor")
    article = make_article(title="拖动排序测试", status=Article.Status.DRAFT)
    add_images(article, [SimpleUploadedFile(path.name, path.read_bytes()) for path in pictures])
    first, second, third = (p.image for p in gallery_in_order(article))

    log_in(page, live_site, "laoli")
    page.goto(f"{live_site}/admin/articles/article/{article.pk}/change/")
    expect(page.locator(GALLERY_ROWS)).to_have_count(3)
    assert loaded_widths(page, THUMBNAILS) == [320, 320, 320]  # a lazy <img> has no box until loaded
    # Grab the last row by its picture and drop it on the top half of the first row.
    page.locator("#gallery-2 td.field-thumbnail img").drag_to(
        page.locator("#gallery-0 td.field-thumbnail"), target_position={"x": 10, "y": 3})
    orders = page.locator(f"{GALLERY_ROWS} input.gallery-order")
    for index in range(3):
        expect(orders.nth(index)).to_have_value(str(index))
    assert page.locator(GALLERY_ROWS).evaluate_all("rows => rows.map(row => row.id)") == [
        "gallery-2", "gallery-0", "gallery-1"]
    save_and_continue(page)
    expect_saved(page)
    assert [p.image for p in gallery_in_order(article)] == [third, first, second]
    assert page.js_errors == []


def test_page_never_reaches_outside_the_live_server(live_site, page):
    article = make_article(title="外链图片测试", body='<p>正文</p><img src="https://img.example.cn/outside.jpg" alt="外链">')
    page.goto(f"{live_site}{article.get_absolute_url()}")
    expect(page.locator("body")).to_contain_text("正文")
    assert page.blocked_requests == ["https://img.example.cn/outside.jpg"]
