"""Repair the syndicated HTML of a ZAKER / Sina / NBD page into clean, structured parts.

Owns everything that is specific to how these pages were scraped: lazy images
(``data-original``), the CORS proxy in front of image URLs, ZAKER's "open in app" links
whose base64 ``b=`` parameter holds the original article URL, WeChat cards, Sina's QR-code
and stock-ticker widgets, empty placeholder divs, page counters, and credit lines in the
prose. The result is repaired HTML (still to be sanitized by ``articles.sanitize``) plus
the images and credit lines found on the way. Pure: no database.

What happens to credit lines: reporters, editors, photographer and data-source lines are
*moved* out of the body into structured fields (bylines, image credit, data sources);
the verbatim file stays in ``Article.raw_source``. Captions stay visible in the body as the
``<figcaption>`` of their image and are also stored on the image.
"""

import base64
import binascii
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, CData, Comment, NavigableString, Tag

from articles.extraction.credits import parse_credit_line

PROXY_PREFIXES = ("https://cors.zfour.workers.dev/?", "http://cors.zfour.workers.dev/?")
APP_LINK_HOSTS = ("iphone.myzaker.com", "app.myzaker.com")
PLACEHOLDER_HOSTS = ("picsum.photos",)
# Site furniture that is not an article picture (Sina's "download our app" QR logo).
BOILERPLATE_IMAGES = ("n.sinaimg.cn/finance/cece9e13/20200514/343233024.png",)

# Site furniture, removed with its content: elements of these tags, ids or classes, and links of these ids or
# classes. (Told apart in one walk over the tree: a CSS selector for each walked it eleven times.)
DROP_TAGS = {"script", "style", "noscript", "head"}
DROP_IDS = {"recommend_bottom", "article_bottom"}
DROP_CLASSES = {"appendQr_wrap", "video-2017", "img_descr"}
DROP_LINK_IDS = {"copyright_info"}
DROP_LINK_CLASSES = {"original_primary_card"}
BLOCK_TAGS = {"p", "div", "section", "article", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
              "header", "footer", "center", "figure", "body", "html", "main"}
KEEP_WHOLE = {"table", "ul", "ol"}
CAPTION_MARK = re.compile(r"^(?:底图|上图|下图|左图|右图|中图|题图|图为|图片|图)\s*[：:]")
COUNTER = re.compile(r"^\d{1,4}$")
VIDEO_REMNANT = re.compile(r"^[，,]?\s*时长\s*\d{1,2}:\d{2}$")
TRAILING_CREDIT = re.compile(r"[（(][^（）()]{0,12}记者[^（）()]{2,60}[）)]\s*$")
BRACKET_EDITOR = re.compile(r"【\s*责任编辑\s*[:：]\s*([^】]+)】")
FILE_NAME = re.compile(r"^[\w.\-]+\.(?:jpe?g|png|gif|webp|bmp)$", re.IGNORECASE)
STUB_MARKERS = ("此为临时链接，仅用于预览",)
STOCK_TICKER = re.compile(r"^stock_")


@dataclass
class ImageRef:
    url: str
    width: int | None = None
    height: int | None = None
    caption: str = ""
    credits: list = field(default_factory=list)  # CreditLine objects (photo, data_source)


@dataclass
class RepairedBody:
    html: str
    images: list = field(default_factory=list)  # ImageRef, in order of first appearance
    credits: list = field(default_factory=list)  # article-level CreditLine objects, in order
    paragraphs: list = field(default_factory=list)  # the HTML of each block of text of ``html``, in order (no figures)
    linked_urls: list = field(default_factory=list)  # original URLs decoded from app links
    app_item_ids: list = field(default_factory=list)  # ZAKER item ids (pk=) of app links
    removed: list = field(default_factory=list)  # short notes on what was dropped and why
    text_length: int = 0
    is_stub: bool = False


def unwrap_proxy(url: str) -> str:
    """https://cors.zfour.workers.dev/?http://x/1.jpg -> http://x/1.jpg; other URLs unchanged."""
    url = (url or "").strip()
    for prefix in PROXY_PREFIXES:
        if url.startswith(prefix):
            inner = url[len(prefix):]
            return unquote(inner) if inner.startswith(("http%3A", "https%3A")) else inner
    if url.startswith("//"):
        return "https:" + url
    return url


def decode_app_link(href: str) -> tuple[str, str]:
    """Return (original_url, item_id) from a ZAKER link.php URL, or ("", "").

    The ``b`` parameter is base64 of the real URL, sometimes with ``javascript:;`` or
    ``javascript:void(0);`` glued on the end (the generator's bug), which we drop.
    """
    parts = urlsplit(href or "")
    if parts.hostname not in APP_LINK_HOSTS:
        return "", ""
    query = parse_qs(parts.query)
    item_id = (query.get("pk") or [""])[0]
    encoded = (query.get("b") or [""])[0].replace(" ", "+")
    try:
        url = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return "", item_id
    url = re.sub(r"/?javascript:.*$", "", url.strip(), flags=re.IGNORECASE)
    if not url.startswith(("http://", "https://")):
        return "", item_id
    return url, item_id


def is_placeholder_image(url: str) -> bool:
    return (urlsplit(url or "").hostname or "") in PLACEHOLDER_HOSTS


def is_boilerplate_image(url: str) -> bool:
    return any(marker in (url or "") for marker in BOILERPLATE_IMAGES)


def repair_body(html: str, *, base_url: str = "") -> RepairedBody:
    """Repair a syndicated body. Returns RepairedBody (html still needs sanitizing)."""
    soup = BeautifulSoup(html or "", "html.parser")
    result = RepairedBody(html="")
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    _handle_app_links(soup, result)
    _handle_videos(soup, result)
    for element in soup.find_all(_is_furniture):
        if not element.decomposed:  # else inside furniture removed before it
            element.decompose()
    for span in soup.find_all("span", id=STOCK_TICKER):  # Sina's stock quotes: their text stays
        span.unwrap()
    for anchor in soup.find_all("a"):
        if anchor.parent is not None and "finance.sina.com.cn/realstock" in (anchor.get("href") or ""):
            anchor.unwrap()
    blocks = _flatten(soup, base_url)
    _assemble(blocks, result)
    text = "".join(b["text"] for b in blocks if b["kind"] == "text")
    result.is_stub = any(marker in text for marker in STUB_MARKERS)
    return result


def _is_furniture(element: Tag) -> bool:
    """Site furniture (``DROP_*``), removed with its content."""
    ids, classes = {element.get("id")}, element.get("class") or ()
    if element.name in DROP_TAGS or not DROP_IDS.isdisjoint(ids) or not DROP_CLASSES.isdisjoint(classes):
        return True
    return element.name == "a" and not (DROP_LINK_IDS.isdisjoint(ids) and DROP_LINK_CLASSES.isdisjoint(classes))


def _handle_app_links(soup, result):
    for anchor in soup.find_all("a", href=True):
        if not _attached(anchor, soup):  # inside an app link removed before it
            continue
        url, item_id = decode_app_link(anchor["href"])
        if not (url or item_id):
            continue
        if url and url not in result.linked_urls:
            result.linked_urls.append(url)
        if item_id and item_id not in result.app_item_ids:
            result.app_item_ids.append(item_id)
        result.removed.append(f"app link {anchor.get_text(' ', strip=True)!r}")
        anchor.decompose()


def _handle_videos(soup, result):
    for frame in soup.find_all(["iframe", "video", "embed"]):
        if not _attached(frame, soup):  # inside a frame removed or replaced before it (<video><iframe>)
            continue
        src = unwrap_proxy(frame.get("src") or frame.get("data-src") or "")
        if src.startswith(("http://", "https://")):
            link = soup.new_tag("a", href=src)
            link.string = "视频"
            paragraph = soup.new_tag("p")
            paragraph.append(link)
            frame.replace_with(paragraph)
            result.removed.append(f"embedded video replaced by a link: {src}")
        else:
            frame.decompose()


def _attached(element: Tag, soup) -> bool:
    """Whether ``element`` is still in the document: not removed, nor inside something removed or replaced."""
    return not element.decomposed and any(parent is soup for parent in element.parents)


def _image_block(img: Tag, base_url: str):
    url = img.get("data-original") or img.get("data-src") or img.get("src") or ""
    url = unwrap_proxy(url)
    if base_url and url and not url.startswith(("http://", "https://")):
        url = urljoin(base_url, url)
    if not url.startswith(("http://", "https://")) or is_boilerplate_image(url):
        return None

    def number(*names):
        for name in names:
            value = (img.get(name) or "").strip()
            if value.isdigit() and int(value) > 0:
                return int(value)
        return None

    alt = (img.get("alt") or "").strip()
    if FILE_NAME.match(alt):  # Sina and NBD put the file name in alt: not a description
        alt = ""
    return {"kind": "image", "url": url, "width": number("data-width", "width"),
            "height": number("data-height", "height"), "alt": alt}


def _text_of(node) -> str:
    """A node's text as ``get_text("")`` gives it: a tag's strings, a plain text node itself; nothing for a
    doctype, declaration or processing instruction."""
    if isinstance(node, Tag):
        return node.get_text("")
    return str(node) if type(node) in (NavigableString, CData) else ""


def _flatten(soup, base_url):
    """Document order -> list of blocks: images, and text paragraphs (HTML + plain text)."""
    blocks, buffer = [], []

    def flush(bare):
        if not buffer:
            return
        # A text node's str() is its *unescaped* text: output_ready() keeps "&lt;script&gt;" as text.
        html = "".join(node.output_ready() if isinstance(node, NavigableString) else str(node)
                       for node in buffer).strip()
        # The text a parse of that HTML would give, read off the nodes themselves (no parse per paragraph).
        text = "".join(_text_of(node) for node in buffer).strip()
        buffer.clear()
        if text:
            blocks.append({"kind": "text", "html": html, "text": text, "bare": bare})

    def walk(node, bare):
        for child in list(node.children):
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                buffer.append(child)
                continue
            if not isinstance(child, Tag):
                continue
            if child.name == "img":
                flush(bare)
                block = _image_block(child, base_url)
                if block:
                    blocks.append(block)
            elif child.name in KEEP_WHOLE and not child.find("img"):
                flush(bare)
                text = child.get_text("").strip()
                if text:
                    blocks.append({"kind": "raw", "html": str(child), "text": text, "bare": False})
            elif child.name == "br":
                buffer.append(child)
            elif child.name in BLOCK_TAGS or child.name in KEEP_WHOLE or child.find(["img", "p", "div"]):
                flush(bare)
                walk(child, bare=child.name not in {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
                flush(bare=child.name not in {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
            else:
                buffer.append(child)
        flush(bare)

    walk(soup, bare=True)
    return blocks


def _split_trailing_credits(block):
    """Split a '（记者田晓航、宋晨）' or '【责任编辑 : 邱丽芳】' tail off a prose paragraph."""
    found = []
    text = block["text"]
    for match in BRACKET_EDITOR.finditer(text):
        credit = parse_credit_line(f"责任编辑：{match.group(1).strip()}")
        if credit:
            found.append(credit)
    if found:
        text = BRACKET_EDITOR.sub("", text).strip()
    match = TRAILING_CREDIT.search(text)
    if match and match.start() > 0:
        credit = parse_credit_line(match.group(0).strip())
        if credit:
            found.insert(0, credit)
            text = text[: match.start()].rstrip()
    if found:
        block = {**block, "text": text, "html": _escape(text)}
    return block, found


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _assemble(blocks, result):
    """Turn blocks into the final HTML, moving credits and captions where they belong."""
    out, images_by_url, current = [], {}, None  # current: the image whose caption/credits may follow
    since_image = 0
    for block in blocks:
        if block["kind"] == "image":
            ref = images_by_url.get(block["url"])
            if ref is None:
                ref = ImageRef(url=block["url"], width=block["width"], height=block["height"], caption=block["alt"])
                images_by_url[block["url"]] = ref
                result.images.append(ref)
            current, since_image = {"ref": ref, "out_index": len(out), "captioned": False}, 0
            out.append(("image", ref))
            continue
        text = block["text"]
        if COUNTER.match(text) or VIDEO_REMNANT.match(text):
            result.removed.append(f"stray line {text!r}")
            continue
        credit = parse_credit_line(text)
        if credit is not None:
            if current and since_image <= 3 and credit.kind in ("photo", "data_source"):
                current["ref"].credits.append(credit)
            else:
                result.credits.append(credit)
            result.removed.append(f"credit line {text!r} -> structured {credit.kind}")
            continue
        if block["kind"] == "text":
            block, tail_credits = _split_trailing_credits(block)
            for tail in tail_credits:
                result.credits.append(tail)
                result.removed.append(f"credit {tail.kind} split from paragraph end")
            text = block["text"]
        if current and not current["captioned"] and since_image <= 2 and _is_caption(block):
            current["ref"].caption = text
            current["captioned"] = True
            out.append(("caption", current["ref"], text))
            continue
        since_image += 1
        if since_image > 3:
            current = None
        out.append(("html", block["html"] if block["kind"] == "raw" else f"<p>{block['html']}</p>"))
    rendered = [(item[0], _render(item)) for item in _attach_captions(out)]
    result.html = "\n".join(html for _, html in rendered)
    result.paragraphs = [html for kind, html in rendered if kind == "html"]
    result.text_length = sum(len(b["text"]) for b in blocks if b["kind"] != "image")


def _is_caption(block):
    text = block["text"]
    if CAPTION_MARK.match(text):
        return True
    return block.get("bare") and block["kind"] == "text" and len(text) <= 80


def _attach_captions(out):
    merged = []
    for item in out:
        if item[0] == "caption":
            for index in range(len(merged) - 1, -1, -1):
                if merged[index][0] == "image" and merged[index][1] is item[1]:
                    merged[index] = ("figure", item[1], item[2])
                    break
        else:
            merged.append(item)
    return merged


def _render(item):
    kind, *rest = item
    if kind == "html":
        return rest[0]
    ref = rest[0]
    size = "".join(f' {name}="{value}"' for name, value in (("width", ref.width), ("height", ref.height)) if value)
    alt = _escape(ref.caption).replace('"', "&quot;")
    img = f'<img src="{_escape(ref.url)}" alt="{alt}"{size}>'
    if kind == "figure":
        return f"<figure>{img}<figcaption>{_escape(rest[1])}</figcaption></figure>"
    return f"<figure>{img}</figure>"
