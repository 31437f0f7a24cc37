"""The XSS corpus in Chromium: one article holds every vector of tests/data/xss_vectors.py, and nothing on the
site runs, navigates away or talks to another origin.

``window.alert``, ``confirm``, ``prompt`` and ``print`` are wrapped by an init script that records each call
(in every frame), and ``page.on("dialog")`` records any dialog that opens anyway. Every request is recorded:
all must go to the live server. The corpus's harmless pictures point at the live server (``{img}``), so a
request anywhere else can only come from something hostile surviving (a ``srcset``, ``<link>``, ``<base>``,
CSS ``url()``, ``<object>``...). After loading, the test scrolls through the page (lazy pictures), hovers,
focuses and clicks every element of the content (clicks cannot follow links: a capturing listener cancels
them, while an inline ``onclick`` would still run), waits for a ``<meta refresh>`` that would fire, and checks
that the page is still the one it opened, with no frame but its own.

The test-client suite (tests/test_hostile_content.py) feeds the same vectors through every entry point and
surface; this test proves on one real browser that what those checks allow cannot act.
"""

from urllib.parse import quote, urlsplit

import pytest
import yaml
from playwright.sync_api import expect

from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleImage, Image

from ..data.xss_vectors import VECTORS, vector_html
from ..factories import make_article
from ..hostile import SEARCH_TERM, as_parsed, body_with, marker

pytestmark = pytest.mark.urls("tests.browser.urls")

RECORD_CALLS = """
(() => {
  if (window === window.top) window.__xssCalls = [];
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    const original = window[name];
    window[name] = function (...args) {
      try { window.top.__xssCalls.push(name + ": " + String(args[0])); } catch (error) { /* an opaque frame */ }
      return original.apply(this, args);
    };
  }
})();
"""
# Every element of the content gets the events its hostile handlers would wait for; clicks are cancelled
# before they reach a link's default action (navigation), not before inline handlers run.
POKE = """
(selector) => {
  window.addEventListener("click", (event) => event.preventDefault(), true);
  window.addEventListener("submit", (event) => event.preventDefault(), true);
  const events = ["mouseover", "mouseenter", "mousemove", "focus", "focusin", "click", "dblclick", "pointerdown",
                  "animationstart", "toggle", "load", "error"];
  let poked = 0;
  for (const element of document.querySelectorAll(selector)) {
    for (const type of events) element.dispatchEvent(new Event(type, {bubbles: true}));
    if (typeof element.focus === "function") element.focus();
    poked += 1;
  }
  return poked;
}
"""
HOSTILE_QUERIES = ['"><script>alert(1)</script>', "<img src=x onerror=alert(1)>", "javascript:alert(1)//",
                   "{{ settings.SECRET_KEY }}", "</title><svg onload=alert(1)>"]


def corpus_body(origin) -> str:
    """Every vector, each between its two marker paragraphs."""
    return "\n".join(body_with(number, vector_html(vector, origin)) for number, (_, vector) in enumerate(VECTORS, 1))


def corpus_markdown(origin) -> str:
    body = corpus_body(origin)
    meta = {
        "title": "XSS 语料 " + VECTORS[0][1],
        "categories": ["新媒体", VECTORS[1][1]],
        "author": "<img src=x onerror=alert(1)>平台",
        "date": "Mon, 01 Aug 2022 02:00:00 GMT",
        "headimg": f"{origin}/lead.jpg?v=\"><img/src/onerror=alert(1)>",
    }
    return f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n\n<div>\n{body}\n</div>\n"


@pytest.fixture
def hostile(live_site, tmp_path):
    """The imported corpus article, and an article saved with raw hostile text fields and a hostile gallery."""
    path = tmp_path / "corpus.md"
    path.write_text(corpus_markdown(live_site), encoding="utf-8")
    imported = Article.objects.get(slug=import_markdown_file(path, publish=True).slug)
    if not imported.is_published():
        imported.status = Article.Status.PUBLISHED
        imported.save()
    # As the admin stores them (the admin path itself is tests/test_hostile_content.py's): title and summary raw.
    edited = make_article(
        title='"><img src=x onerror=alert(1)><script>alert(2)</script>',
        summary="</title><svg onload=alert(3)>" + SEARCH_TERM,
        body=corpus_body(live_site),  # sanitized on save only: no import repair step in between
    )
    for order, (_, vector) in enumerate(VECTORS):
        vector = vector_html(vector, live_site)
        image = Image.objects.create(remote_url=f"{live_site}/gallery-{order}.jpg", width=64, height=48,
                                     caption=vector, alt_text=vector[:300], credit=vector[:200])
        ArticleImage.objects.create(article=edited, image=image, order=order)
    edited.refresh_from_db()
    return {"url": live_site, "imported": imported, "edited": edited}


class Watch:
    """What a page did: dialogs, recorded calls, requests, navigations of the main frame."""

    def __init__(self, page, base):
        self.page, self.origin = page, urlsplit(base).netloc
        self.dialogs, self.requests, self.navigations = [], [], []
        page.add_init_script(RECORD_CALLS)
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("framenavigated", lambda frame: self.navigations.append(frame.url) if frame == page.main_frame else None)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def visit(self, url):
        """Open ``url``, scroll through it (lazy pictures load) and return the address the browser shows for it."""
        self.navigations.clear()
        response = self.page.goto(url)
        assert response is not None and response.status == 200, (url, response and response.status)
        self.page.wait_for_load_state("load")
        for img in self.page.locator("img").all():
            img.scroll_into_view_if_needed()
        self.page.wait_for_load_state("networkidle")
        return self.page.url

    def poke(self, selector):
        """Every event a hostile handler could wait for, on every element matching ``selector``."""
        assert self.page.evaluate(POKE, selector) > 0, selector
        self.page.wait_for_timeout(1200)  # a <meta http-equiv=refresh content=0> or a timer would have fired
        self.page.wait_for_load_state("networkidle")

    def assert_nothing_happened(self, url):
        page = self.page
        calls = page.evaluate("() => window.__xssCalls")
        assert self.dialogs == [] and calls == [], (url, self.dialogs, calls)
        assert page.url == url, f"navigated from {url} to {page.url}"
        assert self.navigations == [url], self.navigations
        assert [frame.url for frame in page.frames] == [url], "a frame came from content"
        other = [request for request in self.requests if urlsplit(request).netloc != self.origin]
        assert other == [], f"requests to another origin: {other}"
        assert page.js_errors == [], page.js_errors


def assert_corpus_text(page):
    text = page.locator(".article-body").inner_text()
    positions = [text.find(marker(number, where)) for number in range(1, len(VECTORS) + 1) for where in "前后"]
    assert -1 not in positions and positions == sorted(positions), "a paragraph around a vector was swallowed"
    assert "{{ settings.SECRET_KEY }}" in text and "{% debug %}" in text  # template syntax stays text


def test_corpus_in_chromium(hostile, page):
    base, imported, edited = hostile["url"], hostile["imported"], hostile["edited"]
    watch = Watch(page, base)

    url = watch.visit(f"{base}{imported.get_absolute_url()}")
    assert_corpus_text(page)
    watch.poke(".article-body *, .article-header *, .provenance *")
    watch.assert_nothing_happened(url)

    url = watch.visit(f"{base}{edited.get_absolute_url()}")
    assert page.locator("h1.article-title").inner_text() == edited.title
    assert page.title() == edited.title + " · Newsroom · 区域发展观察"
    assert_corpus_text(page)
    # The lightbox shows every caption and credit as text (it sets textContent), one picture after another.
    pictures = [placement.image for placement in edited.gallery.select_related("image").order_by("order", "pk")]
    links = page.locator("section.gallery a.gallery-link")
    assert links.count() == len(pictures) == len(VECTORS)
    links.first.click()
    box = page.locator("dialog.lightbox")
    for number, image in enumerate(pictures, start=1):
        expect(box.locator(".lightbox-counter")).to_have_text(f"{number} / {len(pictures)}")
        assert box.locator(".lightbox-text").text_content() == as_parsed(image.caption), number
        assert box.locator(".lightbox-credit").text_content() == as_parsed(image.credit), number
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    watch.poke("main *")
    watch.assert_nothing_happened(url)

    for path in ["/", "/articles/", f"/search/?q={SEARCH_TERM}",
                 *(f"/search/?q={quote(query)}" for query in HOSTILE_QUERIES)]:
        url = watch.visit(f"{base}{path}")
        watch.poke("main *")
        watch.assert_nothing_happened(url)
