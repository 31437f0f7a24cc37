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
- Only http(s) and mailto links survive; ``javascript:``, ``data:`` and friends are dropped.
"""

import re

import bleach
from bs4 import BeautifulSoup, Comment

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "a", "img", "figure", "figcaption", "blockquote",
        "h2", "h3", "h4", "h5", "h6",
        "ul", "ol", "li",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
        "strong", "em", "b", "i", "sub", "sup", "small",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title"],
    "img": ["src", "alt", "width", "height"],
    "th": ["colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Removed together with everything inside them (see module docstring).
DROP_WITH_CONTENT = (
    "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object", "embed",
    "applet", "svg", "math", "title", "textarea", "select", "xmp", "noembed", "noframes", "head",
)

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)

_TAG_RE = re.compile(r"<(?:[a-zA-Z!/?][^<>]*)>")

BLOCK_TAGS = ("p", "li", "h2", "h3", "h4", "h5", "h6", "figcaption", "blockquote", "tr", "caption", "br")


def clean_body_html(html: str) -> str:
    """Return ``html`` reduced to the allow-list. Safe to print with ``|safe``."""
    if not html:
        return ""
    soup = BeautifulSoup(html, "html.parser")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for element in soup.find_all(DROP_WITH_CONTENT):
        element.decompose()
    return _cleaner.clean(str(soup)).strip()


def html_to_text(html: str) -> str:
    """Plain text of sanitized HTML: one line per block (paragraph, caption, list item)."""
    if not html:
        return ""
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(BLOCK_TAGS):
        element.append("\n")
    text = soup.get_text("")
    lines = (re.sub(r"[ \t\u3000\xa0]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def clean_text(value: str) -> str:
    """A plain-text field (title, caption, name): no tags, no control characters, one line."""
    if not value:
        return ""
    # Markup-looking runs are dropped; a lone "<" or "&" stays, and templates escape it.
    text = _TAG_RE.sub(" ", value)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return re.sub(r"\s+", " ", text).strip()
