"""Where a verified figure's sentence is in the article body: ``<mark id="figure-<pk>">`` around it.

The article page's figures panel links to these marks and ``site.css`` highlights the one that is
the ``:target``: no JavaScript. ``mark_quotes()`` runs when the page document is built
(``articles.page_document``), never on a page view, and leaves ``Article.body_html`` itself alone
(the API and the feeds serve it as stored).

The input is sanitized HTML (``articles.sanitize``). This module only inserts ``<mark>`` tags, with
an id made from an integer, inside a single text node: no tag is split, no text is added, so the
result is as safe as its input. A quote that runs across elements (a ``<strong>`` inside it) or
paragraphs is not marked; its link falls back to a text fragment (``text_fragment()``), which
browsers that support it resolve across elements too.
"""

import re
from html import unescape
from urllib.parse import quote as percent_encode

# A tag of serialized HTML: attribute values are quoted and may hold ">" (html5lib leaves it as is).
_TAG = re.compile(r"""<(?:"[^"]*"|'[^']*'|[^'">])*>""")
# One character of a text node as written: a character reference, or any single character.
_CHARACTER = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|.", re.S)


def anchor(pk) -> str:
    """The id of figure ``pk``'s mark in the body (or, when unmarked, of its row in the panel)."""
    return f"figure-{pk}"


def text_fragment(quote: str) -> str:
    """``#:~:text=...``: a link that scrolls to and highlights ``quote`` where browsers support it.

    The text directive reserves "-", "," and "&", so everything but letters and digits is percent-encoded.
    """
    return "#:~:text=" + percent_encode(" ".join(quote.split()), safe="").replace("-", "%2D")


def mark_quotes(body_html: str, body_text: str, figures) -> tuple[str, set[int]]:
    """``body_html`` with each figure's quote wrapped in ``<mark id="figure-<pk>" class="figure-quote">``.

    ``figures``: objects with ``pk``, ``quote`` and ``start_offset`` (into ``body_text``, which tells
    which occurrence of a repeated quote is meant). Whitespace differences between the quote and the
    HTML are ignored. Two figures of the same clause get nested marks; a quote that overlaps another
    one's only in part is left unmarked. Returns (the marked HTML, the pks of the figures marked).
    """
    figures = [figure for figure in figures if figure.quote and figure.quote.strip()]
    if not figures:
        return body_html, set()
    nodes = [_TextNode(body_html, start, end) for start, end in _text_spans(body_html)]
    spans = []  # (raw start, raw end, pk), accepted so far; nested or disjoint, never crossing
    for figure in sorted(figures, key=lambda f: (f.start_offset, f.pk)):
        span = _find(nodes, figure, body_text)
        if span is None or any(_crosses(span, (start, end)) for start, end, _ in spans):
            continue
        spans.append((*span, figure.pk))
    return _insert_marks(body_html, spans), {pk for _, _, pk in spans}


def _text_spans(html):
    """(start, end) of every run of text between two tags."""
    position = 0
    for tag in _TAG.finditer(html):
        if tag.start() > position:
            yield position, tag.start()
        position = tag.end()
    if position < len(html):
        yield position, len(html)


class _TextNode:
    """A text node's text, with character references decoded and whitespace runs read as one space,
    and for each of its characters the span of ``html`` it was written as."""

    def __init__(self, html, start, end):
        characters, self.raw = [], []
        for written in _CHARACTER.finditer(html, start, end):
            decoded = unescape(written.group()) if written.group().startswith("&") else written.group()
            for character in decoded:
                if character.isspace():
                    if characters and characters[-1] == " ":
                        self.raw[-1] = (self.raw[-1][0], written.end())
                        continue
                    character = " "
                characters.append(character)
                self.raw.append((written.start(), written.end()))
        self.text = "".join(characters)

    def occurrences(self, quote):
        """Raw (start, end) of each non-overlapping occurrence of ``quote``."""
        found, index = [], self.text.find(quote)
        while index >= 0:
            found.append((self.raw[index][0], self.raw[index + len(quote) - 1][1]))
            index = self.text.find(quote, index + len(quote))
        return found


def _find(nodes, figure, body_text):
    """The raw span of ``figure``'s quote in the body, or None when no single text node holds it."""
    quote = " ".join(figure.quote.split())
    if not quote:
        return None
    found = [span for node in nodes for span in node.occurrences(quote)]
    if not found:
        return None
    # The quote's nth occurrence in the plain text is taken to be its nth in the HTML.
    nth = body_text.count(figure.quote, 0, figure.start_offset) if body_text else 0
    return found[min(nth, len(found) - 1)]


def _crosses(a, b):
    """Whether spans ``a`` and ``b`` overlap without one holding the other (marks could not nest)."""
    overlap = a[0] < b[1] and b[0] < a[1]
    nested = (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])
    return overlap and not nested


def _insert_marks(html, spans):
    # At one position closing tags come first; the inner mark closes first and the outer one opens first.
    tags = []
    for start, end, pk in spans:
        tags.append((start, 1, -end, pk, f'<mark id="{anchor(int(pk))}" class="figure-quote">'))
        tags.append((end, 0, -start, -pk, "</mark>"))
    tags.sort()
    parts, position = [], 0
    for at, *_, tag in tags:
        parts += [html[position:at], tag]
        position = at
    parts.append(html[position:])
    return "".join(parts)
