"""Reading pages the way a browser does, and what hostile content must never achieve in them.

Shared by tests/test_hostile_content.py (every entry point and surface, test client) and
tests/browser/test_hostile_browser.py (Chromium). Pages are parsed with html5lib, the WHATWG parsing
algorithm in Python, so that a mutation (markup that a lenient parser reads one way and a browser
another) is seen as the browser sees it; substring searches are used for nothing but JSON-LD's raw
script text.

Three kinds of checks:

- ``content_problems(element)``: a container whose *whole* inside comes from content (the article body,
  a body_html, a feed's HTML) holds only the sanitizer's allow-list, as a browser parsed it: the tags and
  attributes below, and links and pictures with http(s) (links also mailto) or relative URLs.
- ``page_problems(root, baseline)``: anywhere in a page, no ``on*`` attribute, no URL with a scheme other
  than http, https or mailto (after the URL parser's own clean-up of whitespace and control characters),
  nothing loaded from the corpus's attacker host, no ``expression()`` or dangerous ``url()`` in CSS, the
  secret key nowhere; and no active element (script, iframe, meta, base, form, svg...) that the same page
  for a harmless article does not have (``signatures()`` of the baseline pages).
- ``text_of(element)`` and ``is_text_only(element, expected)``: a text field shows as that text, never as
  markup.

``data:`` URLs are refused everywhere, pictures included: the site shows pictures from http(s) (stored or
hotlinked), a ``data:`` URL cannot be size-checked or validated with Pillow, and top-level ``data:``
documents were a script vector for years. So the policy is the sanitizer's: http, https and mailto only.
"""

import html
import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

import html5lib
import yaml
from django.conf import settings

EVIL_HOST = "evil.example"
SEARCH_TERM = "XSSMARK"  # ends the paragraph before every vector: search snippets show the vector's text
REPORTER = "王小明"

# What a sanitized body may contain (articles/sanitize.py's allow-list, written out again on purpose: widening
# the sanitizer must make these tests fail), plus <mark>, which the page document adds around figure quotes.
CONTENT_TAGS = frozenset(
    {
        "p", "br", "a", "img", "figure", "figcaption", "blockquote", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "strong", "em", "b", "i", "sub", "sup",
        "small", "mark",
    }
)
CONTENT_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "loading", "decoding", "referrerpolicy"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "mark": {"id", "class"},
}
SAFE_SCHEMES = {"http", "https", "mailto"}

# Attributes holding one URL, a list of them, or something that loads one.
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "data", "poster", "background", "cite", "longdesc", "codebase", "classid",
    "manifest", "dynsrc", "lowsrc", "icon", "profile", "archive", "ping", "srcset", "imagesrcset", "xmlns",
}
# Of those, the ones a browser fetches without a click.
LOADING_ATTRIBUTES = {"src", "srcset", "imagesrcset", "data", "poster", "background", "dynsrc", "lowsrc", "codebase",
                      "archive", "manifest", "icon"}
# Elements that run, load, submit or redirect: whatever the site's own templates have of them is allowed (the
# baseline page has it too); content must never add one.
ACTIVE_ELEMENTS = frozenset(
    {
        "script", "style", "link", "meta", "base", "iframe", "frame", "frameset", "object", "embed", "applet", "param",
        "form", "input", "button", "textarea", "select", "isindex", "keygen", "svg", "math", "template", "noscript",
        "xmp", "noembed", "noframes", "plaintext", "video", "audio", "source", "track", "picture", "portal", "marquee",
        "details", "dialog", "map", "area", "use", "animate", "set", "foreignobject", "title",
    }
)
# In an active element's signature these keep their value (digits folded, so "gallery-3-caption" matches any
# row); URLs keep only where they point; every other attribute keeps its name.
SIGNATURE_VALUES = {"type", "rel", "name", "property", "http-equiv", "charset", "method", "media"}
# A form control's state, there or not depending on the data it shows (an empty field has no value=).
SIGNATURE_IGNORED = {"value", "checked", "selected"}

_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.I | re.S)
_CSS_ACTIVE = re.compile(r"expression\s*\(|behavior\s*:|-moz-binding|@import", re.I)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.S)
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"]*)", re.I)


# --- the corpus in articles -----------------------------------------------------------------------------------


def marker(index, where):
    """The paragraphs around vector ``index``: ``where`` is 前 (before) or 后 (after)."""
    return f"标记{index:03d}{where}"


def body_with(index, vector):
    """``vector`` between two paragraphs that must survive. The first holds a statistic (a figure candidate on
    import, whose sentence the page marks once verified) and ends with SEARCH_TERM."""
    return (
        f"<p>{marker(index, '前')}：重庆市2021年地区生产总值达2.79万亿元，这一段在样本之前。{SEARCH_TERM}</p>\n"
        f"{vector}\n<p>{marker(index, '后')}：重庆的这一段文字在样本之后，也必须原样保留。</p>"
    )


def markdown_for(index, vector, image_origin) -> str:
    """A syndicated Markdown file carrying ``vector`` in every field the importer reads (see factories.FRONT_MATTER):
    title, categories, the syndicator (``author``), ``headimg``, the body, and a body picture's alt and caption."""
    meta = {
        "title": f"标题{index:03d} {vector}",
        "categories": [vector, "新媒体"],
        "author": vector,
        "date": "Mon, 01 Aug 2022 02:00:00 GMT",
        # A valid URL (no whitespace) that carries the vector into every attribute showing the lead picture.
        "headimg": f"{image_origin}/lead-{index:03d}.jpg?v=" + "".join(vector.split()),
    }
    body = (
        body_with(index, vector)
        + f"\n<p>（记者{REPORTER}）</p>\n"
        + f'<figure><img src="{image_origin}/caption-{index:03d}.jpg" alt="{html.escape(vector)}"></figure>\n'
        + f"<p>图：{vector}</p>"
    )
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n\n<div>\n{body}\n</div>\n"


# --- parsing -----------------------------------------------------------------------------------------------


def parse_page(html: str):
    """The document as a browser's parser builds it (an ElementTree root; HTML tags without namespace)."""
    return html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)


def parse_fragment(html: str):
    """An HTML fragment (a body_html, a feed item's HTML) as a browser parses it inside a <div>."""
    return html5lib.parseFragment(html, container="div", treebuilder="etree", namespaceHTMLElements=False)


def local(name) -> str:
    """``{namespace}tag`` -> ``tag``, lower-cased; "" for comments and other non-element nodes."""
    return name.rsplit("}", 1)[-1].lower() if isinstance(name, str) else ""


def elements(root):
    """Every element under and including ``root`` (comments and the like left out)."""
    return [element for element in root.iter() if isinstance(element.tag, str)]


def find_all(root, tag, **attributes):
    """Elements called ``tag`` whose attributes have these values (``class_`` matches one class)."""
    found = []
    for element in elements(root):
        if local(element.tag) != tag:
            continue
        ok = True
        for name, value in attributes.items():
            if name == "class_":
                ok = ok and value in (element.get("class") or "").split()
            else:
                ok = ok and element.get(name.replace("_", "-")) == value
        if ok:
            found.append(element)
    return found


def find(root, tag, **attributes):
    found = find_all(root, tag, **attributes)
    return found[0] if found else None


def text_of(element) -> str:
    return "".join(element.itertext()) if element is not None else ""


def textarea_text(element) -> str:
    """A <textarea>'s value. html5lib 1.1 keeps the newline that follows the start tag when the textarea is in a
    table cell (the admin's inlines); browsers drop it everywhere, as html5lib does elsewhere."""
    text = text_of(element)
    return text[1:] if text.startswith("\n") and element is not None and not elements(element)[1:] else text


def as_parsed(text: str) -> str:
    """``text`` as an HTML parser hands it on: line breaks normalized to \\n (the input stream's preprocessing)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def is_text_only(element, expected) -> bool:
    """``element`` shows exactly ``expected`` and holds no element: a text field rendered as text."""
    return element is not None and not elements(element)[1:] and text_of(element) == as_parsed(expected)


# --- URLs and CSS ------------------------------------------------------------------------------------------


def url_scheme(value: str) -> str:
    """The scheme a browser's URL parser finds in ``value`` (entities are already decoded by the HTML parser):
    leading and trailing C0 controls and spaces are stripped, tabs and newlines anywhere removed. "" if relative."""
    value = re.sub(r"[\t\n\r]", "", value.strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                                                 "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", value)
    return match.group(1).lower() if match else ""


def url_host(value: str) -> str:
    value = re.sub(r"[\t\n\r]", "", value.strip())
    try:
        return (urlsplit(value).hostname or "").lower()
    except ValueError:
        return ""


def urls_in(name: str, value: str) -> list[str]:
    """The URLs in attribute ``name``: one, a srcset's candidates, a ping list, a refresh's target."""
    if name in ("srcset", "imagesrcset"):
        return [candidate.strip().split()[0] for candidate in value.split(",") if candidate.strip()]
    if name in ("ping", "archive"):
        return value.split()
    return [value]


def css_unescape(css: str) -> str:
    return _CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), css)


def css_problems(css: str, where: str) -> list[str]:
    problems = []
    css = css_unescape(css)
    if _CSS_ACTIVE.search(css):
        problems.append(f"{where}: active CSS {css[:80]!r}")
    for _, url in _CSS_URL.findall(css):
        if url_scheme(url) not in SAFE_SCHEMES | {""}:
            problems.append(f"{where}: CSS url({url[:60]!r})")
        if url_host(url) == EVIL_HOST:
            problems.append(f"{where}: CSS loads from {url[:60]!r}")
    return problems


def url_problems(tag: str, name: str, value: str) -> list[str]:
    problems = []
    for url in urls_in(name, value):
        scheme = url_scheme(url)
        if scheme not in SAFE_SCHEMES | {""}:
            problems.append(f"<{tag} {name}> has a {scheme}: URL {url[:80]!r}")
        loads = name in LOADING_ATTRIBUTES or (name == "href" and tag in ("link", "base", "use", "image"))
        if loads and url_host(url) == EVIL_HOST:
            problems.append(f"<{tag} {name}> loads from the attacker's host: {url[:80]!r}")
    return problems


# --- checks ------------------------------------------------------------------------------------------------


def content_problems(container, *, where="content") -> list[str]:
    """What in ``container`` (whose inside is all content) falls outside the allow-list."""
    problems = []
    for element in elements(container)[1:]:
        tag = local(element.tag)
        if tag not in CONTENT_TAGS:
            problems.append(f"{where}: <{tag}> element")
            continue
        allowed = CONTENT_ATTRIBUTES.get(tag, set())
        for raw_name, value in element.attrib.items():
            name = local(raw_name)
            if name not in allowed:
                problems.append(f"{where}: <{tag} {name}={value[:60]!r}> attribute")
            elif name in ("href", "src"):
                scheme = url_scheme(value)
                ok = {"", "http", "https", "mailto"} if tag == "a" else {"", "http", "https"}
                if scheme not in ok:
                    problems.append(f"{where}: <{tag} {name}> with a {scheme}: URL {value[:80]!r}")
                if tag == "img" and url_host(value) == EVIL_HOST:
                    problems.append(f"{where}: <img> loads from the attacker's host {value[:80]!r}")
    return problems


def signature(element) -> tuple:
    """What identifies an active element of the site's own templates, whatever article the page shows."""
    tag = local(element.tag)
    parts = []
    for raw_name, value in sorted(element.attrib.items(), key=lambda item: local(item[0])):
        name = local(raw_name)
        if name in SIGNATURE_IGNORED:
            continue
        if name in URL_ATTRIBUTES:
            scheme = url_scheme(value)
            parts.append((name, f"{scheme}://{url_host(value)}" if scheme else "relative"))
        elif name in SIGNATURE_VALUES:
            parts.append((name, re.sub(r"\d+", "N", value.strip().lower())))
        else:
            parts.append((name, "*"))
    return (tag, tuple(parts))


def signatures(root) -> Counter:
    return Counter(signature(element) for element in elements(root) if local(element.tag) in ACTIVE_ELEMENTS)


@dataclass(frozen=True)
class Baseline:
    """The active elements of harmless pages of one kind (their ``signature()``), and the most <script> one has."""

    signatures: frozenset
    most_scripts: int

    @classmethod
    def of(cls, pages):
        found = [signatures(root) for root in pages]
        assert found, "a baseline needs at least one harmless page"
        return cls(frozenset().union(*found), max(sum(n for sig, n in f.items() if sig[0] == "script") for f in found))


def page_problems(root, baseline: Baseline | None = None, *, where="page") -> list[str]:
    """What in a whole page could run, load, submit or redirect because of content (see the module docstring).

    ``baseline``: the same kind of page for harmless articles. An active element that none of them has is a
    problem, and so is one more <script> than any of them has. None: no active element may be there at all.
    """
    problems = []
    for element in elements(root):
        tag = local(element.tag)
        for raw_name, value in element.attrib.items():
            name = local(raw_name)
            if name.startswith("on"):
                problems.append(f"{where}: <{tag} {name}={value[:60]!r}> event handler")
            if name in URL_ATTRIBUTES:
                problems += [f"{where}: {problem}" for problem in url_problems(tag, name, value)]
            if name == "style":
                problems += css_problems(value, f"{where}: <{tag} style>")
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            for url in _REFRESH_URL.findall(element.get("content") or ""):
                problems.append(f"{where}: <meta refresh> to {url[:80]!r}")
        if tag == "style":
            problems += css_problems(text_of(element), f"{where}: <style>")
    found = signatures(root)
    allowed = baseline.signatures if baseline is not None else frozenset()
    problems += [f"{where}: active element not in the site's templates: {_describe(sig)}" for sig in found
                 if sig not in allowed]
    scripts = sum(n for sig, n in found.items() if sig[0] == "script")
    if baseline is not None and scripts > baseline.most_scripts:
        problems.append(f"{where}: {scripts} <script> elements, the site's own pages have at most {baseline.most_scripts}")
    secret = settings.SECRET_KEY
    if secret and any(secret in (element.text or "") + (element.tail or "") + "".join(element.attrib.values())
                      for element in elements(root)):
        problems.append(f"{where}: the SECRET_KEY is on the page")
    return problems


def _describe(sig) -> str:
    tag, attributes = sig
    return "<" + " ".join([tag, *(f"{name}={value}" for name, value in attributes)]) + ">"
