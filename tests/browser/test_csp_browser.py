"""The Content-Security-Policy in Chromium: the site and the desk work under it, and it stops what it should.

Every page gets an init script that forwards each ``securitypolicyviolation`` event to Python, and every
console message naming the "Content Security Policy" is kept too: a reader's walk (home, an article with its
gallery lightbox, the list, a search from the header, the figure pages with a chart) and an editor's (login,
dashboard, list with its action checkboxes, the article form with autocomplete, an added byline row and the
calendar, the figure desk, revisions, the lockout page) must report none, and each step checks that the
page's scripts did their work. Then an injected inline handler, inline script and javascript: link on a
live page are refused and reported: the wall is really there.
"""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from articles.importer.run import import_markdown_file
from articles.models import Article

from ..factories import SEED, make_rich_article, png_upload

pytestmark = pytest.mark.urls("tests.browser.urls")

PASSWORD = "correct-horse-电池"
TITLE = "两江新区智能制造提速"
INDICATOR = "地区生产总值"
REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
    window.reportCspViolation({
        directive: event.effectiveDirective, blocked: event.blockedURI, sample: event.sample,
        source: event.sourceFile, line: event.lineNumber, page: location.pathname,
    });
});
"""


@pytest.fixture
def site(live_site, django_user_model):
    """The seed article (remote pictures, which the routing blocks), an article with a two-picture gallery and
    verified figures over two years (a chart), two revisions; an editor."""
    seed = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    editor = django_user_model.objects.create_user("laoli", password=PASSWORD, is_staff=True, is_superuser=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    # The first upload becomes the lead picture, shown above the body and left out of the gallery of two.
    uploads = [png_upload(f"{n}.png", colour, size) for n, size, colour in (
        (1, (900, 500), (90, 90, 90)), (2, (800, 500), (200, 40, 40)), (3, (600, 600), (40, 90, 200)))]
    article = make_rich_article(editor=editor, uploads=uploads, indicator=INDICATOR, title=TITLE)
    return {"url": live_site, "seed": seed, "article": article, "region": article.regions.get()}


@pytest.fixture
def watched(new_page):
    """``watched()``: a page whose CSP violations (events and console messages) and script errors are recorded."""

    def make(**context_options):
        page = new_page(**context_options)
        page.csp_violations, page.csp_console = [], []
        page.expose_function("reportCspViolation", lambda violation: page.csp_violations.append(violation))
        page.add_init_script(REPORTER)
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.csp_console.append(message.text))
        return page

    return make


def assert_clean(page):
    page.wait_for_timeout(100)  # violation events are dispatched asynchronously
    assert page.csp_violations == [] and page.csp_console == [], (page.csp_violations, page.csp_console)
    assert page.js_errors == []


def go(page, url):
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert "script-src 'self'" in (response.header_value("content-security-policy") or ""), url
    page.wait_for_load_state("load")


# --- a reader ----------------------------------------------------------------------------------------------


def test_the_public_site_works_under_the_policy(site, watched):
    page, base, article = watched(), site["url"], site["article"]

    go(page, f"{base}/")
    expect(page.get_by_role("link", name=TITLE).first).to_be_visible()

    go(page, f"{base}{article.get_absolute_url()}")
    expect(page.locator("h1.article-title")).to_have_text(TITLE)
    assert page.locator('script[type="application/ld+json"]').count() == 1  # a data block: no violation
    page.locator("section.gallery a.gallery-link").first.click()  # lightbox.js, a static file
    dialog = page.locator("dialog.lightbox")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".lightbox-counter")).to_have_text("1 / 2")
    page.keyboard.press("ArrowRight")
    expect(dialog.locator(".lightbox-counter")).to_have_text("2 / 2")
    page.wait_for_function("() => document.querySelector('dialog.lightbox img.lightbox-image').naturalWidth > 0")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    go(page, f"{base}{site['seed'].get_absolute_url()}")  # remote pictures: allowed by img-src, blocked by routing
    expect(page.locator(".article-body")).to_contain_text("智能车间")

    go(page, f"{base}/articles/")
    page.locator("#site-search-q").fill("智能制造")
    page.locator("#site-search-q").press("Enter")
    page.wait_for_url("**/search/?q=*")
    expect(page.locator("li.search-hit").filter(has=page.get_by_role("link", name=TITLE))).to_have_count(1)

    go(page, f"{base}/figures/?indicator={INDICATOR}")
    chart = page.locator("svg.chart-svg").first
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 100
    go(page, f"{base}/regions/{site['region'].slug}/figures/")
    expect(page.locator("body")).to_contain_text(INDICATOR)
    assert_clean(page)


# --- an editor ---------------------------------------------------------------------------------------------


def log_in(page, base):
    go(page, f"{base}/admin/login/")
    page.locator("input[name=username]").fill("laoli")
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#user-tools")).to_contain_text("laoli")


def test_the_desk_works_under_the_policy(site, watched):
    page, base, article = watched(), site["url"], site["article"]
    log_in(page, base)
    expect(page.locator("#content")).to_be_visible()  # the dashboard

    # The list: actions.js counts the ticked rows.
    go(page, f"{base}/admin/articles/article/")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("2")

    # The form: autocomplete (select2 over fetch), a new byline row (inlines.js), the calendar (DateTimeShortcuts).
    go(page, f"{base}/admin/articles/article/{article.pk}/change/")
    page.locator(".field-regions .select2-search__field").click()
    page.locator(".field-regions .select2-search__field").fill("万州")
    expect(page.locator(".select2-results__option").filter(has_text="万州区").first).to_be_visible()
    page.keyboard.press("Escape")
    bylines = page.locator(".inline-group").filter(has=page.locator("select[name$='-role']"))
    rows = bylines.locator("tr.form-row:not(.empty-form)")
    before = rows.count()
    bylines.locator(".add-row a").click()
    expect(rows).to_have_count(before + 1)
    page.locator(".field-published_at .date-icon").first.click()
    expect(page.locator(".calendarbox:visible")).to_have_count(1)
    expect(page.locator(".field-raw_source_display pre.desk-raw-source, .field-lead_image_preview img")
           .first).to_be_attached()

    # The figure desk: its list and a figure's form with the sentence it was read from.
    go(page, f"{base}/admin/articles/statisticfigure/")
    figure = site["seed"].figures.order_by("pk").first()  # extracted from its body: the quote is found there
    go(page, f"{base}/admin/articles/statisticfigure/{figure.pk}/change/")
    expect(page.locator("div.desk-quote").first).to_be_visible()
    assert page.locator("div.desk-quote").first.evaluate("div => getComputedStyle(div).maxWidth") != "none"

    # Revisions: the list, a comparison (styled by desk.css, no <style> left).
    go(page, f"{base}/admin/articles/article/{article.pk}/revisions/")
    numbers = sorted(article.revisions.values_list("number", flat=True))[:2]
    go(page, f"{base}/admin/articles/article/{article.pk}/revisions/compare/?a={numbers[0]}&b={numbers[1]}")
    expect(page.locator(".revision-diff").first).to_be_visible()
    assert page.locator(".revision-diff").first.evaluate("table => getComputedStyle(table).width") != "auto"
    assert_clean(page)


def test_the_lockout_page_under_the_policy(site, watched, settings):
    page, base = watched(), site["url"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{base}/admin/login/")
        page.locator("input[name=username]").fill("laoli")
        page.locator("input[name=password]").fill("wrong")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state("load")
    expect(page.locator("#content")).to_contain_text("登录已暂停")
    expect(page.locator("#site-name")).to_contain_text("Newsroom 编辑台")
    assert_clean(page)


# --- the wall ----------------------------------------------------------------------------------------------


def test_injected_code_is_refused_and_reported(site, watched):
    """What the sanitizer is there to stop, put straight into a live page: none of it runs."""
    page = watched()
    go(page, f"{site['url']}{site['article'].get_absolute_url()}")
    page.evaluate("""() => {
        window.ran = [];
        document.body.insertAdjacentHTML("beforeend",
            '<img id="x1" src="/static/articles/site.css?no-image" onerror="window.ran.push(\\'onerror\\')">' +
            '<a id="x2" href="javascript:window.ran.push(\\'javascript-url\\')">x</a>' +
            '<p id="x3" style="color: rgb(255, 0, 0)">styled</p>');
        const script = document.createElement("script");
        script.textContent = "window.ran.push('inline script')";
        document.body.append(script);
        const style = document.createElement("style");
        style.textContent = "body { background: rgb(1, 2, 3) }";
        document.head.append(style);
    }""")
    page.locator("#x2").click()
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.ran") == []
    assert page.locator("#x3").evaluate("p => getComputedStyle(p).color") != "rgb(255, 0, 0)"
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") != "rgb(1, 2, 3)"
    directives = sorted({v["directive"] for v in page.csp_violations})
    assert directives == ["script-src-attr", "script-src-elem", "style-src-attr", "style-src-elem"], page.csp_violations
    assert page.csp_console  # Chromium names the policy in the console too
