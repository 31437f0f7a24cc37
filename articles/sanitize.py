"""THE HTML policy for article bodies: one allow-list, one function, sanitized on save.

Nothing else in Newsroom imports bleach. Replacing bleach (unmaintained upstream since
6.4.0) with another sanitizer is a change to this file only.

Why each step:
- Elements whose *content* is code or foreign markup (script, style, template, svg, math,
  iframe...) are removed with their content first: bleach with ``strip=True`` keeps the
  text of a stripped element, so ``<script>alert(1)</script>`` would become ``alert(1)``.
- ``strip=True``: disallowed tags disappear instead of being escaped into visible text.
- ``strip_comments=True``: syndicated comments hold complete markup
  (``<!--article_adlist[<p>…</p>]-->``) that must never come back to life.
- Only http(s) and mailto links survive (pictures: http(s) only); ``javascript:``, ``data:`` and friends are dropped.
- Cleaning is idempotent and its output parse-stable (what a browser builds from it is the tree it is the
  serialization of), both proven by tests/test_properties.py (Hypothesis). Four details keep it so: C0 control
  characters are removed (also those written as &#12;), BeautifulSoup writes every attribute value in double
  quotes for bleach, bleach's output is cleaned again until it no longer changes when html5lib had to recover from
  an error while parsing (its error recovery can build a tree that its serialization does not parse back to; a
  parse without error, the usual case, is cleaned once), and blank runs between tags are written the way
  BeautifulSoup reads them back.
- Every ``<img>`` gets ``loading="lazy"``, ``decoding="async"`` and ``referrerpolicy="no-referrer"``
  (body images are the imported remote URLs, and Chinese image hosts refuse foreign referrers). bleach
  keeps these three attributes only with exactly these values (``IMG_FIXED_ATTRIBUTES``), and a filter
  run right after it adds them where missing, keeping the attributes in alphabetical order (the order
  BeautifulSoup writes them in), so cleaning stays idempotent. This happens on save, never on a page view.
"""

import re
import threading
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter
from bs4 import BeautifulSoup, Comment, Tag
from bs4.dammit import EntitySubstitution
from bs4.formatter import HTMLFormatter

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "a", "img", "figure", "figcaption", "blockquote",
        "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
        "strong", "em", "b", "i", "sub", "sup", "small",
    }
)
# Attributes every body <img> carries, with the only value each may have.
IMG_FIXED_ATTRIBUTES = {"loading": "lazy", "decoding": "async", "referrerpolicy": "no-referrer"}
IMG_ATTRIBUTES = frozenset({"src", "alt", "width", "height"})


# What bleach removes from a URL before reading its scheme (after decoding character references).
_URL_NOISE_RE = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")


def _img_attribute_allowed(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter for <img>: the plain attributes, and the fixed ones with their fixed value only.
    A picture's ``src`` is never a ``mailto:`` address: bleach's protocols are the same for every URL attribute."""
    if name == "src":
        return not _URL_NOISE_RE.sub("", unescape(value)).lower().startswith("mailto:")
    return name in IMG_ATTRIBUTES or IMG_FIXED_ATTRIBUTES.get(name, None) == value


ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "img": _img_attribute_allowed,
    "th": ["colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Removed together with everything inside them (see module docstring).
DROP_WITH_CONTENT = (
    "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed",
    "applet", "svg", "math", "title", "textarea", "select", "xmp", "noembed", "noframes", "head",
)


class _ImgDefaults(Filter):
    """After sanitizing: give every <img> the IMG_FIXED_ATTRIBUTES, attributes in alphabetical order."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "img":
                attrs = dict(token["data"])
                attrs.update({(None, name): value for name, value in IMG_FIXED_ATTRIBUTES.items()})
                token["data"] = dict(sorted(attrs.items(), key=lambda item: (item[0][1], item[0][0] or "")))
            yield token


_cleaners = threading.local()  # a bleach Cleaner holds its parser's state: one per thread (runserver, gthread)


def _cleaner() -> bleach.Cleaner:
    if (cleaner := getattr(_cleaners, "cleaner", None)) is None:
        cleaner = _cleaners.cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_ImgDefaults],
        )
    return cleaner

# A tag as a browser's tokenizer reads one: "<", a letter, "!", "/" or "?", and everything up to the next ">"
# (a "<" in between belongs to it: "<a<b>" is one tag, so removing tags cannot leave a new one behind).
_TAG_RE = re.compile(r"<[a-zA-Z!/?][^>]*>")

BLOCK_TAGS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "figcaption", "blockquote", "tr", "caption", "br")


# C0 controls but tab, line feed and carriage return (and DEL): never text. bleach turns them into "?", but only
# inside some text tokens (a form feed on its own is left alone), so cleaning twice gave different output. Removed
# from the input, and from what character references (&#12;) decode to.
_CONTROLS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A text node of ASCII whitespace only, between two tags of bleach's output (which escapes every ">" and "<" that
# is not a tag's: in text and in attribute values). BeautifulSoup reads such a node as one "\n" (or " "), while
# bleach writes one "\n" per block element it strips: written the way BeautifulSoup reads it, the output of
# clean_body_html() is a fixed point (clean_body_html(clean_body_html(x)) == clean_body_html(x)).
_BLANK_BETWEEN_TAGS_RE = re.compile(r"(?<=>)[ \t\n\r\f]+(?=<)")


_SETTLE_ROUNDS = 4


class _BleachInput(HTMLFormatter):
    """BeautifulSoup's default output ("minimal": &, < and > escaped), without control characters in text and
    attribute values, and with every attribute value double-quoted (its '"' written &quot;). bleach's serializer
    keeps character references as written only in a double-quoted value; in the single-quoted one BeautifulSoup
    writes for a value holding '"', every cleaning doubled "&amp;"."""

    def substitute(self, ns: str) -> str:
        return _CONTROLS_RE.sub("", super().substitute(ns))

    def attribute_value(self, value: str) -> str:
        return super().attribute_value(value).replace('"', "&quot;")


_BLEACH_INPUT = _BleachInput(entity_substitution=EntitySubstitution.substitute_xml)


def clean_body_html(html: str) -> str:
    """Return ``html`` reduced to the allow-list. Safe to print with ``|safe``."""
    if not html:
        return ""
    soup = BeautifulSoup(_CONTROLS_RE.sub("", html), "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for element in soup.find_all(DROP_WITH_CONTENT):
        element.decompose()
    _foster_parent(soup)
    cleaner = _cleaner()
    cleaned = cleaner.clean(soup.decode(formatter=_BLEACH_INPUT))
    # bleach serializes the tree html5lib built, and error recovery can build one that its own serialization does
    # not parse back to (an <h2> fostered out of a table into another <h2>, which a browser reads as two headings).
    # Cleaning the output again parses it as a browser will, until nothing moves (one more round for those). Only
    # after a parse that needed recovery: bleach drops disallowed tags as it tokenizes, so a parse without error
    # built the tree the allowed tags spell out, and its serialization parses back to it.
    if cleaner.parser.errors:
        for _ in range(_SETTLE_ROUNDS):
            again = cleaner.clean(cleaned)
            if again == cleaned:
                break
            cleaned = again
    return _BLANK_BETWEEN_TAGS_RE.sub(lambda m: "\n" if "\n" in m.group() else " ", cleaned).strip()


# What a table, its row groups and its rows may hold directly (anything else is "fostered" out of the table).
_TABLE_HOLDS = {
    "table": {"caption", "colgroup", "thead", "tbody", "tfoot", "tr"},
    "thead": {"tr"}, "tbody": {"tr"}, "tfoot": {"tr"},
    "tr": {"td", "th"},
}


def _foster_parent(soup) -> None:
    """Move what a table holds where it may not (text or a paragraph straight inside ``<table>`` or ``<tr>``) to
    just before the table, as a browser does. html5lib's fragment parser, under bleach, drops some of it
    instead (``<p>a<table><p>b</p></table>`` lost "b"): curating loses no text."""

    def move_misplaced(part, table):  # in document order, so that what moves keeps its order
        for child in list(part.children):
            if isinstance(child, Tag) and child.name in _TABLE_HOLDS[part.name]:
                if child.name in _TABLE_HOLDS:
                    move_misplaced(child, table)
            elif isinstance(child, Tag) or str(child).strip():
                table.insert_before(child.extract())

    for table in soup.find_all("table"):
        move_misplaced(table, table)


def html_to_text(html: str) -> str:
    """Plain text of HTML: one line per block (paragraph, caption, list item)."""
    if not html:
        return ""
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(BLOCK_TAGS):
        element.append("\n")
    return _lines(soup.get_text(""))


def sanitized_html_to_text(html: str) -> str:
    """``html_to_text()`` of ``clean_body_html()``'s output, four times faster: markup whose every element is
    closed where it ends, read as it streams by, without building a tree (an article's ``body_text``). The same
    text, for every output of the sanitizer (tests/test_properties.py); other markup may read differently."""
    if not html:
        return ""
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return _lines("".join(reader.parts))


class _TextReader(HTMLParser):
    """The text of sanitized markup, with a line break where a block ends and at each <br>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag in _BLOCKS_ENDED:
            self.parts.append("\n")


_BLOCKS_ENDED = frozenset(BLOCK_TAGS) - {"br"}
_BLANKS_RE = re.compile(r"[ \t\u3000\xa0]+")


def _lines(text: str) -> str:
    lines = (_BLANKS_RE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def clean_text(value: str) -> str:
    """A plain-text field (title, caption, name): no tags, no control characters, one line."""
    if not value:
        return ""
    # Controls first: "<\x01b>" must not turn into a tag once they are gone.
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", value)
    # Markup-looking runs are dropped; a lone "<" or "&" stays, and templates escape it. Searched only up to the
    # last ">" (every "<" before it has a ">" after it), which keeps the search linear on "<a<a<a...".
    end = text.rfind(">") + 1
    text = _TAG_RE.sub(" ", text[:end]) + text[end:]
    return re.sub(r"\s+", " ", text).strip()


def web_url(url: str) -> str:
    """``url`` if a browser would fetch it over http(s), else "": the policy for addresses shown outside a body
    (a picture's original address in the admin and the API). Python's URL parser drops the leading controls,
    tabs and newlines that browsers drop, so ``" java\tscript:alert(1)"`` is read as javascript: and refused."""
    try:
        return url if url and urlsplit(url).scheme.lower() in ("http", "https") else ""
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
