"""Template tags for the public pages: responsive pictures and the gallery.

``{% load articles_tags %}`` then:

- ``{% picture image sizes="100vw" loading="lazy" css_class="" %}`` renders one ``Image``, or a
  ``Picture`` already described (or its ``asdict()``, as page documents keep it)
  (``articles/includes/_picture.html``):

  * stored with renditions: ``<picture>`` with a WEBP ``<source>`` and a JPEG ``<img>`` (both with
    ``srcset`` listing every rendition width);
  * stored without renditions: a plain ``<img>`` of the file;
  * remote only: ``<img src="<original URL>" referrerpolicy="no-referrer">``, never through the CORS proxy;
  * a placeholder, ``None`` or an image with nothing to show: nothing.

  ``width``/``height`` come from the image (so nothing jumps while loading), ``alt`` is always present
  (alt text, else caption, else ``alt=""``), ``decoding="async"`` always.
- ``{% gallery_items images as items %}``: what ``articles/includes/_gallery.html`` shows, one
  ``GalleryItem`` per showable image, in the given order.

Everything here reads the ``Image`` rows only (``renditions`` is a JSON column): no queries.
Renditions are made when a file is stored (``articles.images.make_renditions``), never here.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django import template
from django.core.files.storage import default_storage

from articles.importer.syndicated import unwrap_proxy
from articles.models import Image

register = template.Library()

LOADING_VALUES = ("lazy", "eager")
PREFERRED_SRC_WIDTH = 640  # the <img src> for browsers without srcset: the first JPEG this wide, else the largest


@dataclass(frozen=True)
class Picture:
    src: str  # the <img src>
    srcset: str  # JPEG (or stored-format) srcset for the <img>; "" when there is none
    webp_srcset: str  # srcset of the WEBP <source>; "" means no <picture> wrapper
    width: int | None
    height: int | None
    alt: str
    full: str  # the largest version: the lightbox and the no-JS link open it
    remote: bool  # shown from its original host: needs referrerpolicy="no-referrer"


@dataclass(frozen=True)
class GalleryItem:
    image: Image
    picture: Picture
    number: int  # 1-based position among the shown items
    total: int


def remote_src(url: str) -> str:
    """The original address of a remote picture, never the CORS proxy; "" if it is not http(s)."""
    url = unwrap_proxy(url or "")
    return url if urlsplit(url).scheme.lower() in ("http", "https") else ""


def _renditions(image, fmt: str) -> list[dict]:
    """``image.renditions`` of one format, narrowest first. Rows from before the JPEG fallback carry WEBP only."""
    found = [r for r in image.renditions or [] if r.get("file") and r.get("width") and r.get("format", "webp") == fmt]
    return sorted(found, key=lambda r: r["width"])


def _srcset(renditions: list[dict]) -> str:
    return ", ".join(f"{default_storage.url(r['file'])} {int(r['width'])}w" for r in renditions)


def describe(image) -> Picture | None:
    """What to show for ``image``, or None for a placeholder, ``None`` (or a missing variable) or no source."""
    if not isinstance(image, Image) or image.is_placeholder:
        return None
    alt = image.alt_text or image.caption or ""
    width, height = image.width, image.height
    if image.file:
        webp, jpeg = _renditions(image, "webp"), _renditions(image, "jpeg")
        largest = (jpeg or webp or [None])[-1]
        if not (width and height) and largest:
            width, height = largest["width"], largest["height"]
        file_url = image.file.url
        src = file_url
        if jpeg:
            src_rendition = next((r for r in jpeg if r["width"] >= PREFERRED_SRC_WIDTH), jpeg[-1])
            src = default_storage.url(src_rendition["file"])
        return Picture(
            src=src,
            srcset=_srcset(jpeg),
            webp_srcset=_srcset(webp),
            width=width,
            height=height,
            alt=alt,
            full=default_storage.url(jpeg[-1]["file"]) if jpeg else file_url,
            remote=False,
        )
    url = remote_src(image.remote_url)
    if not url:
        return None
    return Picture(src=url, srcset="", webp_srcset="", width=width, height=height, alt=alt, full=url, remote=True)


@register.inclusion_tag("articles/includes/_picture.html")
def picture(image, sizes="100vw", loading="lazy", css_class=""):
    """``{% picture image sizes="100vw" loading="lazy" css_class="" %}``: see the module docstring."""
    if isinstance(image, dict):  # a Picture stored as a dict (articles.page_document)
        image = Picture(**image)
    return {
        "pic": image if isinstance(image, Picture) else describe(image),
        "sizes": sizes or "100vw",
        "loading": loading if loading in LOADING_VALUES else "lazy",
        "css_class": css_class,
    }


@register.simple_tag
def gallery_items(images) -> list[GalleryItem]:
    """``{% gallery_items images as items %}``: the showable images of a gallery, in order, with their pictures."""
    shown = [(image, pic) for image in images or [] if (pic := describe(image)) is not None]
    return [GalleryItem(image, pic, number, len(shown)) for number, (image, pic) in enumerate(shown, start=1)]
