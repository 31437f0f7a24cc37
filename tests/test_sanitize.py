"""The one HTML policy: what survives, what never does, and that it lives in one module."""

import subprocess
from pathlib import Path

import pytest

from articles.sanitize import clean_body_html, clean_text, html_to_text

ROOT = Path(__file__).resolve().parent.parent
# What every body <img> carries after cleaning (alphabetical, like all attributes).
IMG_DEFAULTS = 'decoding="async" loading="lazy" referrerpolicy="no-referrer"'


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("<p>重庆</p>", "<p>重庆</p>"),
        ('<p class="x" id="y" style="color:red" data-v="1" onclick="go()">段落</p>', "<p>段落</p>"),
        ("<script>alert(1)</script><p>正文</p>", "<p>正文</p>"),
        ("<style>p&#123;color:red&#125;</style><p>正文</p>", "<p>正文</p>"),
        ("<!--article_adlist[<p>广告</p>]article_adlist--><p>正文</p>", "<p>正文</p>"),
        ('<a href="javascript:alert(1)">链接</a>', "<a>链接</a>"),
        ('<a href="https://www.news.cn/a.htm" target="_blank">新华网</a>', '<a href="https://www.news.cn/a.htm">新华网</a>'),
        (
            '<img src="https://a.cn/1.jpg" onerror="alert(1)" alt="图">',
            f'<img alt="图" {IMG_DEFAULTS} src="https://a.cn/1.jpg">',
        ),
        ('<img src="data:image/png;base64,xx">', f"<img {IMG_DEFAULTS}>"),
        (
            '<img src="https://a.cn/1.jpg" loading="eager" decoding="sync" referrerpolicy="unsafe-url" width="520">',
            f'<img {IMG_DEFAULTS} src="https://a.cn/1.jpg" width="520">',
        ),
        (
            '<img src="https://a.cn/1.jpg" loading="lazy" decoding="async" referrerpolicy="no-referrer" fetchpriority="high">',
            f'<img {IMG_DEFAULTS} src="https://a.cn/1.jpg">',
        ),
        (
            "<figure><IMG SRC='https://a.cn/1.jpg' Loading='javascript:x'><figcaption>图说</figcaption></figure>",
            f'<figure><img {IMG_DEFAULTS} src="https://a.cn/1.jpg"><figcaption>图说</figcaption></figure>',
        ),
        ("<div><span>文字</span></div>", "文字"),
        ('<iframe src="https://evil.example"></iframe><p>后文</p>', "<p>后文</p>"),
        ("<svg><script>alert(1)</script></svg><p>后文</p>", "<p>后文</p>"),
        ("<table><tr><td colspan=2>数</td></tr></table>", '<table><tbody><tr><td colspan="2">数</td></tr></tbody></table>'),
        ("<p>&lt;script&gt;不是标签&lt;/script&gt;</p>", "<p>&lt;script&gt;不是标签&lt;/script&gt;</p>"),
        ("", ""),
    ],
)
def test_clean_body_html(dirty, clean):
    assert clean_body_html(dirty) == clean


@pytest.mark.parametrize(
    "html",
    [
        "<p>正文</p><figure><img src='https://a.cn/1.jpg' alt='a'><figcaption>图说</figcaption></figure>",
        "<p title='\"><img src=x onerror=alert(1)>'>x</p>",
        "<ul><li>一</li><li>二</li></ul>",
        '<p><img alt="a&quot;b" width="3" src="https://a.cn/1.jpg" loading="eager" decoding="sync"></p>',
        '<p><img src="https://a.cn/1.jpg" referrerpolicy="no-referrer" loading="lazy" decoding="async"></p>',
        "<img src=x><img src=y alt='&lt;script&gt;'><br><table><tr><td><img src=z></td></tr></table>",
        "<a href='https://a.cn/'><img src='https://a.cn/1.jpg' onload='x()'></a>",
    ],
)
def test_cleaning_is_idempotent(html):
    once = clean_body_html(html)
    assert clean_body_html(once) == once
    assert clean_body_html(clean_body_html(once)) == once
    assert "onerror" not in once and "onload" not in once


def test_every_body_img_gets_lazy_async_no_referrer_once():
    html = clean_body_html(
        '<p>一</p><img src="https://a.cn/1.jpg"><figure><img src="https://a.cn/2.jpg" alt="图" loading="eager">'
        "<figcaption>图说</figcaption></figure><p><a href='https://a.cn'><img src='https://a.cn/3.jpg'></a></p>"
    )
    assert html.count("<img ") == 3
    for name, value in (("loading", "lazy"), ("decoding", "async"), ("referrerpolicy", "no-referrer")):
        assert html.count(f'{name}="{value}"') == 3 and html.count(f"{name}=") == 3
    assert "eager" not in html
    assert clean_body_html('<p loading="lazy" referrerpolicy="no-referrer">x</p>') == "<p>x</p>"  # img only


def test_html_to_text_keeps_blocks_on_their_own_lines():
    html = "<p>第一段<strong>加粗</strong>。</p><figure><img src='x'><figcaption>图说</figcaption></figure><p>第二段</p>"
    assert html_to_text(html) == "第一段加粗。\n图说\n第二段"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("  推动高质量发展\n创造高品质生活 ", "推动高质量发展 创造高品质生活"),
        ("<b>重庆</b>", "重庆"),
        ("GDP < 5% & 增速 > 3%", "GDP < 5% & 增速 > 3%"),
        ("a\x00b\x07c", "abc"),
    ],
)
def test_clean_text(value, expected):
    assert clean_text(value) == expected


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("<p>a<table><p>b</p></table>", "<p>a</p><p>b</p><table></table><p></p>"),  # html5lib alone lost "b"
        ("<table>x<tr><td>1</td></tr></table>", "x<table><tbody><tr><td>1</td></tr></tbody></table>"),
        ("<table><tr>c<td>1</td></tr><p>d</p></table>", "c<p>d</p><table><tbody><tr><td>1</td></tr></tbody></table>"),
        ("<table><tr><td>1<table><tr>e<td>2</td></tr></table></td></tr></table>",
         "<table><tbody><tr><td>1e<table><tbody><tr><td>2</td></tr></tbody></table></td></tr></tbody></table>"),
    ],
)
def test_what_a_table_may_not_hold_moves_before_it_and_is_kept(dirty, clean):
    """As a browser does (foster parenting): nothing written in the wrong place of a table is lost."""
    assert clean_body_html(dirty) == clean
    assert clean_body_html(clean) == clean


def test_bleach_is_imported_in_one_module_only():
    found = subprocess.run(
        ["grep", "-rlE", r"^\s*(import bleach|from bleach)", "articles", "newsroom"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.split()
    assert found == ["articles/sanitize.py"]


@pytest.fixture
def bleach_parses(monkeypatch):
    """The markup each bleach parse is given, in order (the real Cleaner, watched)."""
    import bleach

    seen, clean = [], bleach.Cleaner.clean

    def watched(cleaner, text):
        seen.append(text)
        return clean(cleaner, text)

    monkeypatch.setattr(bleach.Cleaner, "clean", watched)
    return seen


def test_markup_parsed_without_recovery_is_cleaned_in_one_pass(bleach_parses):
    """The seed article's body, as an import gives it: one bleach pass (a second one is another 1.7 ms a file)."""
    from articles.importer.frontmatter import read_source_file
    from articles.importer.syndicated import repair_body

    seed = read_source_file((ROOT / "demo" / "000_557d8bcde4ad9185.md").read_bytes(), max_bytes=10**7)
    body = repair_body(seed.body).html
    cleaned = clean_body_html(body)
    assert len(bleach_parses) == 1
    assert "<h2>" in cleaned or "<p>" in cleaned
    assert clean_body_html(cleaned) == cleaned


@pytest.mark.parametrize(
    "dirty, clean",
    [
        # html5lib fosters the inner <h2> out of the table into the outer one; a browser reads that back as two.
        ("重庆<h2><table><h2>重庆</h2></h2>", "重庆<h2></h2><h2>重庆</h2><table></table>"),
        # The <div> is stripped as the markup is read: the parser meets <h2><h3> and closes the <h2> first.
        ("<h2><div><h3>重庆</h3></div></h2>", "<h2>\n</h2><h3>重庆</h3>"),
    ],
)
def test_markup_the_parser_had_to_recover_from_is_cleaned_until_it_settles(bleach_parses, dirty, clean):
    assert clean_body_html(dirty) == clean
    assert len(bleach_parses) >= 2
    assert clean_body_html(clean) == clean


def test_each_thread_cleans_with_its_own_parser():
    """A bleach Cleaner keeps its parser's state between calls: two threads (runserver, gunicorn's gthread) must not
    share one."""
    import threading

    from articles import sanitize

    both, found = threading.Barrier(2), []

    def clean():
        both.wait()  # both threads alive at once
        found.append((sanitize._cleaner(), sanitize._cleaner()))

    threads = [threading.Thread(target=clean) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (first, again), (second, _) = found
    assert first is again
    assert first is not second
