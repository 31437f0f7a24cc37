"""Image bytes: the one place that downloads, validates and stores picture files with Pillow.

It owns three steps, each refusing bad input with ``ImageRejected`` (a readable reason):

- ``download_image_bytes``: fetch an http(s) URL with the standard library, a timeout and a size cap;
- ``validate_image_bytes``: accept only real JPEG/PNG/GIF/WEBP within a pixel budget (decompression bombs
  are refused before pixels are decoded), apply EXIF orientation and re-encode to drop EXIF/GPS metadata;
- ``fetch_image``: run both for an ``Image`` row, store the file through Django storage and record the
  outcome in ``fetch_status``/``fetch_error``; a bad or unreachable picture never raises.
"""

import hashlib
import http.client
import io
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image as PILImage
from PIL import ImageOps

from articles.models import Image

USER_AGENT = "NewsroomImageFetcher/1.0 (+https://github.com/newsroom)"
ALLOWED_SCHEMES = ("http", "https")
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
CHUNK = 64 * 1024


class ImageRejected(Exception):
    """The bytes or URL cannot become a stored picture; ``str()`` says why."""


@dataclass(frozen=True)
class ValidatedImage:
    content: bytes  # what to store: re-encoded without metadata (GIF: the original bytes)
    format: str  # Pillow format name: JPEG, PNG, GIF or WEBP
    extension: str  # without the dot
    width: int  # visual size, after EXIF orientation
    height: int


def _open(data: bytes) -> PILImage.Image:
    try:
        return PILImage.open(io.BytesIO(data))
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
        raise ImageRejected(f"image too large (possible decompression bomb): {exc}") from exc
    except PILImage.UnidentifiedImageError as exc:
        raise ImageRejected("not an image (could not identify image file)") from exc
    except Exception as exc:  # a recognised but broken header: OSError, SyntaxError, struct.error...
        raise ImageRejected(f"not a valid image: {exc.__class__.__name__}: {exc}") from exc


def validate_image_bytes(data: bytes, *, max_pixels: int | None = None) -> ValidatedImage:
    """Check ``data`` is a safe JPEG/PNG/GIF/WEBP and return it ready to store, metadata stripped."""
    if not data:
        raise ImageRejected("empty file")
    max_pixels = settings.NEWSROOM_IMAGE_MAX_PIXELS if max_pixels is None else max_pixels
    with warnings.catch_warnings():  # our own limit, checked next, speaks first; Pillow's hard limit still raises
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        with _open(data) as probe:  # Image.open reads only the header: size and format, no pixels yet
            fmt, (width, height) = probe.format, probe.size
            frames = getattr(probe, "n_frames", 1) if fmt in ("PNG", "WEBP") else 1
    if fmt not in FORMATS:
        raise ImageRejected(f"unsupported format {fmt}: only JPEG, PNG, GIF and WEBP are accepted")
    if width * height * frames > max_pixels:
        raise ImageRejected(
            f"image too large: {width * height * frames} pixels > limit {max_pixels} (possible decompression bomb)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with _open(data) as checked:
                checked.verify()
            img = _open(data)
            img.load()
            return _reencode(data, img, fmt)
        except ImageRejected:
            raise
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            raise ImageRejected(f"image too large (possible decompression bomb): {exc}") from exc
        except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ValueError...) for broken files
            raise ImageRejected(f"not a valid {fmt} image: {exc}") from exc


def _reencode(data: bytes, img: PILImage.Image, fmt: str) -> ValidatedImage:
    """Return the picture upright and without EXIF/XMP/GPS (GIF carries none: its bytes are kept)."""
    if fmt == "GIF":
        return ValidatedImage(data, fmt, FORMATS[fmt], img.width, img.height)
    animated = getattr(img, "is_animated", False)
    if not animated:
        img = ImageOps.exif_transpose(img)
    keep = ("transparency", "icc_profile", "duration", "loop", "background", "disposal", "blend")
    img.info = {key: img.info[key] for key in keep if key in img.info}
    options = {"icc_profile": img.info.get("icc_profile")} if img.info.get("icc_profile") else {}
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L", "CMYK"):
            img = img.convert("RGB")
        options.update(quality=90)
    elif fmt == "WEBP":
        options.update(quality=90)
    if animated:
        options.update(save_all=True)
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return ValidatedImage(out.getvalue(), fmt, FORMATS[fmt], img.width, img.height)


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s): urllib alone would also follow one to ftp://."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme.lower() not in ALLOWED_SCHEMES:
            raise ImageRejected(f"redirect to a non-http(s) URL refused: {newurl[:200]}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_SafeRedirects)


def download_image_bytes(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> bytes:
    """Download ``url`` (http/https only) and return its body, refusing more than ``max_bytes``."""
    timeout = settings.NEWSROOM_IMAGE_TIMEOUT if timeout is None else timeout
    max_bytes = settings.NEWSROOM_IMAGE_MAX_BYTES if max_bytes is None else max_bytes
    too_large = f"file too large: > {max_bytes / 1024 / 1024:g} MB ({max_bytes} bytes) from {url}"
    if urlsplit(url).scheme.lower() not in ALLOWED_SCHEMES:
        raise ImageRejected(f"only http and https URLs can be downloaded, not {url[:200]}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ImageRejected(too_large)
            chunks, total = [], 0
            while chunk := response.read(CHUNK):
                total += len(chunk)
                if total > max_bytes:
                    raise ImageRejected(too_large)
                chunks.append(chunk)
            return b"".join(chunks)
    except urllib.error.HTTPError as exc:
        raise ImageRejected(f"HTTP {exc.code} from {url}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise ImageRejected(f"timed out after {timeout}s fetching {url}") from exc
        raise ImageRejected(f"cannot reach {url}: {exc.reason}") from exc
    except TimeoutError as exc:
        raise ImageRejected(f"timed out after {timeout}s fetching {url}") from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise ImageRejected(f"network error from {url}: {exc.__class__.__name__}: {exc}") from exc


def fetch_image(image: Image, *, timeout: float | None = None, max_bytes: int | None = None) -> bool:
    """Download, check and store ``image.remote_url``; record the outcome on the row. True if stored."""
    if not image.remote_url:
        return False
    if image.fetch_status == Image.FetchStatus.FETCHED and image.file:
        return True
    try:
        data = download_image_bytes(image.remote_url, timeout=timeout, max_bytes=max_bytes)
        picture = validate_image_bytes(data)
    except ImageRejected as exc:
        image.fetch_status = Image.FetchStatus.FAILED
        image.fetch_error = str(exc)[:300]
        image.save()
        return False
    name = f"{hashlib.sha256(picture.content).hexdigest()[:32]}.{picture.extension}"
    image.file.save(name, ContentFile(picture.content), save=False)
    image.width, image.height = picture.width, picture.height
    image.fetch_status = Image.FetchStatus.FETCHED
    image.fetch_error = ""
    image.save()
    return True
