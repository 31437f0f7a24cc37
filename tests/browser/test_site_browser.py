"""The public site in a real browser: a reader on a desktop and on a phone.

Home, an article with a three-picture gallery and its keyboard lightbox, a search from the header,
the imported seed article (whose remote pictures the fixtures block). Every test fails on a console
error, an uncaught exception, or a failed or >= 400 request to the live server; requests to other
origins are aborted by ``conftest.py``'s routing and do not count. Full-page screenshots land in
``artifacts/screenshots/site-*.png`` (git-ignored); two are copied to ``docs/screenshots/`` when
that folder has none yet.
"""

import io
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from PIL import ImageDraw
from playwright.sync_api import expect

from articles.gallery import add_images
from articles.images import store_uploaded_image
from articles.importer.run import import_markdown_file
from articles.models import Article

from ..factories import SEED, make_article

pytestmark = pytest.mark.urls("tests.browser.urls")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DOC_SCREENSHOTS = ROOT / "docs" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "device_scale_factor": 2, "has_touch": True}

TITLE = "两江新区智能制造提速：一座“灯塔工厂”的三年"
SUMMARY = "从数字化车间到智能工厂，重庆两江新区的制造企业用三年完成转型，生产效率提升三成。"
BODY = (
    "<p>清晨七点，两江新区的一座工厂里，机械臂已经开始有序挥舞。三年前，这里还是一条依靠人工的装配线。</p>"
    "<p>企业负责人说，智能制造改造让生产效率提升了 33%，不良率下降了近一半。</p>"
    "<p>如今，园区里越来越多的企业把数据采集、质量检测和仓储物流接入同一个平台。</p>"
)
# (file name, Pillow format, size, colour, caption, credit): different sizes and colours.
LEAD = ("yuanqu.jpg", "JPEG", (1200, 675), (90, 90, 90), "两江新区的工业园区", "李明 摄")
GALLERY = [
    ("chejian.jpg", "JPEG", (1200, 800), (190, 50, 40), "改造后的总装车间", "李明 摄"),
    ("jixiebi.png", "PNG", (640, 480), (40, 150, 70), "机械臂在焊接车身", "王芳 摄"),
    ("cangchu.jpg", "JPEG", (900, 1200), (40, 80, 200), "自动化立体仓库", "王芳 摄"),
]
GALLERY_LINKS = "section.gallery a.gallery-link"
LIGHTBOX = "dialog.lightbox"


def picture(name, fmt, size, colour) -> SimpleUploadedFile:
    img = PILImage.new("RGB", size, colour)
    ImageDraw.Draw(img).ellipse([size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4], fill=(245, 245, 245))
    out = io.BytesIO()
    img.save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.fixture
def site(live_site):
    """The seed article and a newer one with a lead picture and a gallery of three uploaded pictures.

    The lead picture is stored apart from the gallery: the article page shows the lead above the body
    and leaves it out of the gallery (``articles.views.article_context``), so all three gallery pictures show.
    """
    seed = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    name, fmt, size, colour, caption, credit = LEAD
    lead = store_uploaded_image(picture(name, fmt, size, colour), caption=caption, credit=credit)
    article = make_article(title=TITLE, summary=SUMMARY, body=BODY, lead_image=lead)
    images, errors = add_images(article, [picture(*spec[:4]) for spec in GALLERY])
    assert errors == [] and len(images) == 3
    for image, spec in zip(images, GALLERY, strict=True):
        image.caption, image.credit = spec[4], spec[5]
        image.save(update_fields=["caption", "credit"])
    article.refresh_from_db()
    assert article.lead_image == lead
    return {"url": live_site, "seed": seed, "article": article}


# --- watching a page --------------------------------------------------------------------------------------------


def open_page(new_page, base, **context_options):
    """A page (conftest's routing: only the live server) that also records every problem the site causes."""
    page = new_page(**context_options)
    own = urlsplit(base).netloc
    problems = page.site_problems = []

    def is_own(url):
        return urlsplit(url).netloc == own

    def on_console(message):
        if message.type != "error":
            return
        source = message.location.get("url", "")
        # Chromium logs "Failed to load resource" for the requests conftest aborts; those are expected.
        if source and not is_own(source) and source in page.blocked_requests:
            return
        problems.append(f"console error: {message.text} ({source})")

    def on_request_failed(request):
        if is_own(request.url) and request.url not in page.blocked_requests:
            problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def on_response(response):
        if is_own(response.url) and response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    return page


def visit(page, url):
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    settle(page)


def settle(page):
    """Scroll through the page so every lazy picture loads, wait until they have, then back to the top."""
    page.wait_for_load_state("load")
    for img in page.locator("img").all():
        img.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.images].every(img => img.complete)")
    page.wait_for_load_state("networkidle")
    page.evaluate("() => window.scrollTo(0, 0)")


def assert_no_problems(page):
    assert page.site_problems == []
    assert all(urlsplit(url).netloc != urlsplit(page.url).netloc for url in page.blocked_requests)


def assert_no_horizontal_scroll(page):
    widths = page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            wider: [...document.querySelectorAll("body *")]
                .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
                .slice(0, 5)
                .map(el => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "")),
        })"""
    )
    assert widths["innerWidth"] == PHONE["viewport"]["width"], widths
    assert widths["scrollWidth"] <= widths["innerWidth"], widths


def screenshot(page, name, *, full_page=True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=path, full_page=full_page, animations="disabled")  # the lightbox fades in
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    return path


def copy_to_docs(path, name):
    """The README's screenshots: written once, never over one already there."""
    target = DOC_SCREENSHOTS / name
    if not target.exists():
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def is_focused(locator) -> bool:
    return locator.evaluate("node => node === document.activeElement")


# --- steps ------------------------------------------------------------------------------------------------------


def check_home(page, site):
    visit(page, f"{site['url']}/")
    for article in (site["article"], site["seed"]):
        expect(page.get_by_role("link", name=article.title).first).to_be_visible()


def check_lightbox(page):
    links = page.locator(GALLERY_LINKS)
    expect(page.locator("section.gallery figure.gallery-item")).to_have_count(3)
    hrefs = links.evaluate_all("links => links.map(link => link.href)")
    assert len(set(hrefs)) == 3 and all(urlsplit(href).path.startswith("/media/") for href in hrefs), hrefs
    first = links.first

    first.click()
    dialog = page.locator(LIGHTBOX)
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("open", "")
    assert dialog.evaluate("dialog => dialog.matches(':modal') && dialog.contains(document.activeElement)")
    counter, image = dialog.locator(".lightbox-counter"), dialog.locator("img.lightbox-image")
    expect(counter).to_have_text("1 / 3")
    expect(image).to_have_attribute("src", hrefs[0])
    page.wait_for_function("() => document.querySelector('dialog.lightbox img.lightbox-image').naturalWidth > 0")
    screenshot(page, "site-lightbox-desktop.png", full_page=False)  # the dialog covers the viewport

    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text("2 / 3")
    expect(image).to_have_attribute("src", hrefs[1])

    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("1 / 3")
    expect(image).to_have_attribute("src", hrefs[0])

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(dialog).not_to_have_attribute("open", "")
    assert is_focused(first)
    page.wait_for_load_state("networkidle")  # the lightbox preloads its neighbours


def check_search(page, site):
    page.locator("#site-search-q").fill("智能制造")
    page.locator("#site-search-q").press("Enter")
    page.wait_for_url("**/search/?q=*")
    settle(page)
    expect(page.locator("#search-q")).to_have_value("智能制造")
    hit = page.locator("li.search-hit").filter(has=page.get_by_role("link", name=site["article"].title))
    expect(hit).to_have_count(1)
    expect(hit.locator("mark").first).to_have_text("智能制造")
    expect(page.locator("li.search-hit").filter(has=page.get_by_role("link", name=site["seed"].title))).to_have_count(1)


def check_seed_article(page, site):
    visit(page, f"{site['url']}{site['seed'].get_absolute_url()}")
    expect(page.locator("h1.article-title")).to_have_text(site["seed"].title)
    expect(page.locator(".article-body")).to_contain_text("智能车间")
    # Its pictures stay on their Chinese hosts: the browser asked for them, the routing refused.
    assert page.blocked_requests and all("myzaker.com" in url for url in page.blocked_requests), page.blocked_requests


# --- tests ------------------------------------------------------------------------------------------------------


def test_reader_on_a_desktop(site, new_page):
    page = open_page(new_page, site["url"], **DESKTOP)
    article = site["article"]

    check_home(page, site)
    home = screenshot(page, "site-home-desktop.png")
    copy_to_docs(home, "home-desktop.png")

    page.get_by_role("link", name=article.title).first.click()
    page.wait_for_url(f"**{article.get_absolute_url()}")
    settle(page)
    expect(page.locator("h1.article-title")).to_have_text(article.title)
    screenshot(page, "site-article-desktop.png")
    check_lightbox(page)

    check_search(page, site)
    screenshot(page, "site-search-desktop.png")

    check_seed_article(page, site)
    screenshot(page, "site-seed-desktop.png")
    assert_no_problems(page)


def test_reader_on_a_phone(site, new_page):
    page = open_page(new_page, site["url"], **PHONE)
    article = site["article"]

    check_home(page, site)
    assert_no_horizontal_scroll(page)
    screenshot(page, "site-home-phone.png")

    visit(page, f"{site['url']}{article.get_absolute_url()}")
    expect(page.locator("h1.article-title")).to_have_text(article.title)
    assert_no_horizontal_scroll(page)
    phone_article = screenshot(page, "site-article-phone.png")
    copy_to_docs(phone_article, "article-phone.png")

    # A tap opens the lightbox as a click does; Escape (a phone's keyboard or a remote) closes it.
    page.locator(GALLERY_LINKS).nth(1).tap()
    expect(page.locator(f"{LIGHTBOX} .lightbox-counter")).to_have_text("2 / 3")
    page.wait_for_function("() => document.querySelector('dialog.lightbox img.lightbox-image').naturalWidth > 0")
    screenshot(page, "site-lightbox-phone.png", full_page=False)
    page.keyboard.press("Escape")
    expect(page.locator(LIGHTBOX)).to_be_hidden()
    page.wait_for_load_state("networkidle")

    check_seed_article(page, site)
    assert_no_horizontal_scroll(page)
    screenshot(page, "site-seed-phone.png")
    assert_no_problems(page)
