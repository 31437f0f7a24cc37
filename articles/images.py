"""Image bytes: the one place that downloads, validates and stores picture files with Pillow.

It owns these steps, each refusing bad input with ``ImageRejected`` (a readable reason):

- ``download_image_bytes``: fetch an http(s) URL with the standard library, a timeout and a size cap;
- ``validate_image_bytes``: accept only real JPEG/PNG/GIF/WEBP within a pixel budget (decompression bombs
  are refused before pixels are decoded), apply EXIF orientation and re-encode to drop EXIF/GPS metadata;
- ``fetch_image``: run both for an ``Image`` row, store the file through Django storage and record the
  outcome in ``fetch_status``/``fetch_error``; a bad or unreachable picture never raises;
- ``read_uploaded_image`` / ``store_uploaded_image`` / ``replace_uploaded_image``: the same checks for a file an
  editor uploads (to the gallery, or in the image's own admin form);
- ``make_renditions``: the sizes pages show, each in WEBP with a JPEG fallback, written through Django's
  storage API when a file is stored (upload or download), never when a page is first viewed.

Placing images in an article's gallery is ``articles.gallery``'s job.
"""

import hashlib
import http.client
import io
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageOps

from articles.models import Image

USER_AGENT = "NewsroomImageFetcher/1.0 (+https://github.com/newsroom)"
ALLOWED_SCHEMES = ("http", "https")
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
CHUNK = 64 * 1024
RENDITION_WIDTHS = (320, 640, 1280)
RENDITION_QUALITY = 80  # WEBP
RENDITION_JPEG_QUALITY = 82
# (format recorded in ``Image.renditions``, file extension): the modern format first, then the fallback.
RENDITION_FORMATS = (("webp", "webp"), ("jpeg", "jpg"))
JPEG_BACKGROUND = (255, 255, 255)  # JPEG has no alpha: transparent areas become white, not black


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


def _probe(data: bytes) -> tuple[str, int, int, int]:
    """Return (format, width, height, frames) from the header alone: no pixels are decoded."""
    with warnings.catch_warnings():  # our own limit, checked next, speaks first; Pillow's hard limit still raises
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        with _open(data) as probe:
            fmt, (width, height) = probe.format, probe.size
            frames = getattr(probe, "n_frames", 1) if fmt in ("PNG", "WEBP") else 1
    return fmt, width, height, frames


def _check_pixel_budget(pixels: int, max_pixels: int | None) -> None:
    max_pixels = settings.NEWSROOM_IMAGE_MAX_PIXELS if max_pixels is None else max_pixels
    if pixels > max_pixels:
        raise ImageRejected(f"image too large: {pixels} pixels > limit {max_pixels} (possible decompression bomb)")


def validate_image_bytes(data: bytes, *, max_pixels: int | None = None) -> ValidatedImage:
    """Check ``data`` is a safe JPEG/PNG/GIF/WEBP and return it ready to store, metadata stripped."""
    if not data:
        raise ImageRejected("empty file")
    fmt, width, height, frames = _probe(data)
    if fmt not in FORMATS:
        raise ImageRejected(f"unsupported format {fmt}: only JPEG, PNG, GIF and WEBP are accepted")
    _check_pixel_budget(width * height * frames, max_pixels)
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
    _store_picture(image, picture)
    image.save()
    try:
        make_renditions(image)
    except ImageRejected as exc:  # the stored file itself is fine; keep it and say what went wrong
        image.fetch_error = f"renditions: {exc}"[:300]
        image.save(update_fields=["fetch_error"])
    return True


def _store_picture(image: Image, picture: ValidatedImage) -> None:
    """Put the checked bytes into ``image.file`` (named by content hash) without saving the row."""
    name = f"{hashlib.sha256(picture.content).hexdigest()[:32]}.{picture.extension}"
    image.file.save(name, ContentFile(picture.content), save=False)
    image.width, image.height = picture.width, picture.height
    image.fetch_status = Image.FetchStatus.FETCHED
    image.fetch_error = ""


# --- uploads --------------------------------------------------------------------------------------------------


def read_uploaded_image(uploaded_file, *, max_bytes: int | None = None) -> ValidatedImage:
    """Read and check one uploaded file (left rewound); ImageRejected reasons start with the file's name."""
    name = getattr(uploaded_file, "name", None) or "未命名文件"
    max_bytes = settings.NEWSROOM_IMAGE_MAX_BYTES if max_bytes is None else max_bytes
    size = getattr(uploaded_file, "size", None)
    data = b""
    if size is None or size <= max_bytes:  # don't read what is already known to be too big
        uploaded_file.seek(0)
        data = uploaded_file.read(max_bytes + 1)
        uploaded_file.seek(0)
        size = max(size or 0, len(data))
    if size > max_bytes:
        raise ImageRejected(
            f"「{name}」太大：{size / 1024 / 1024:.1f} MB（{size} 字节），"
            f"上限 {max_bytes / 1024 / 1024:g} MB（{max_bytes} 字节）"
        )
    try:
        return validate_image_bytes(data)
    except ImageRejected as exc:
        raise ImageRejected(f"「{name}」不是图片：{exc}") from exc


def store_uploaded_image(uploaded_file, **fields) -> Image:
    """Check an uploaded file, store it as a new ``Image`` (``fields`` set on the row) and make its renditions.

    Raises ImageRejected, naming the file, and stores nothing if the upload is not a usable picture.
    """
    picture = read_uploaded_image(uploaded_file)
    image = Image(**fields)
    _store_picture(image, picture)
    with transaction.atomic():
        image.save()
        make_renditions(image)
    return image


def replace_uploaded_image(image: Image, uploaded_file) -> Image:
    """Put an uploaded file into ``image`` (new or existing, other fields as set), checked and named as
    ``store_uploaded_image`` does; save it and remake its renditions. The old file is left in place.

    Raises ImageRejected, naming the file, and changes nothing if the upload is not a usable picture.
    """
    picture = read_uploaded_image(uploaded_file)
    _store_picture(image, picture)
    with transaction.atomic():
        image.save()
        make_renditions(image)
    return image


# --- renditions -----------------------------------------------------------------------------------------------


def rendition_widths(width: int) -> list[int]:
    """Every standard width below ``width``; a picture narrower than the smallest gets one at its own width."""
    return [w for w in RENDITION_WIDTHS if w < width] or [min(width, RENDITION_WIDTHS[0])]


def make_renditions(image: Image) -> list[dict]:
    """Write WEBP and JPEG copies of ``image.file`` at ``rendition_widths()``; record them in ``image.renditions``.

    Every width gets a WEBP (quality 80, alpha kept) and a JPEG fallback (quality 82, progressive, RGB with
    transparency flattened onto white), in that order. Files go through ``default_storage`` only (no
    filesystem paths), so an S3-compatible storage works too. Old rendition files are deleted first; only
    the ``renditions`` column is saved. Animated pictures use their first frame. Returns the new list of
    ``{"width", "height", "format", "file"}`` (format ``"webp"`` or ``"jpeg"``); raises ImageRejected if the
    stored file cannot be decoded within the pixel budget.
    """
    picture = _decode_first_frame(image.file) if image.file else None
    for old in image.renditions or []:
        if old.get("file"):
            default_storage.delete(old["file"])
    renditions = []
    if picture is not None:
        folder = f"renditions/{hashlib.sha256(image.file.name.encode()).hexdigest()[:2]}"
        stem = PurePosixPath(image.file.name).stem
        for width in rendition_widths(picture.width):
            height = max(1, round(picture.height * width / picture.width))
            resized = picture if width == picture.width else picture.resize((width, height), PILImage.Resampling.LANCZOS)
            for fmt, extension in RENDITION_FORMATS:
                name = default_storage.save(f"{folder}/{stem}_{width}.{extension}", ContentFile(_encode(resized, fmt)))
                renditions.append({"width": width, "height": height, "format": fmt, "file": name})
    image.renditions = renditions
    image.save(update_fields=["renditions"])
    return renditions


def _encode(picture: PILImage.Image, fmt: str) -> bytes:
    """One rendition's bytes: ``fmt`` is ``"webp"`` or ``"jpeg"`` (see RENDITION_FORMATS)."""
    out = io.BytesIO()
    if fmt == "webp":
        picture.save(out, format="WEBP", quality=RENDITION_QUALITY)
    else:
        if picture.mode == "RGBA":
            flat = PILImage.new("RGB", picture.size, JPEG_BACKGROUND)
            flat.paste(picture, mask=picture.getchannel("A"))
            picture = flat
        elif picture.mode != "RGB":
            picture = picture.convert("RGB")
        picture.save(out, format="JPEG", quality=RENDITION_JPEG_QUALITY, progressive=True, optimize=True)
    return out.getvalue()


def _decode_first_frame(field_file) -> PILImage.Image:
    """Decode the stored picture's first frame, upright and in RGB/RGBA, refusing anything over the pixel budget."""
    with field_file.open("rb") as fh:
        data = fh.read()
    _, width, height, _ = _probe(data)
    _check_pixel_budget(width * height, None)  # only one frame is decoded
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with _open(data) as img:
                img.load()
                upright = ImageOps.exif_transpose(img)  # a no-op for our own files, which are stored upright
            has_alpha = upright.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in upright.info
            return upright.convert("RGBA" if has_alpha else "RGB")
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            raise ImageRejected(f"image too large (possible decompression bomb): {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected(f"cannot decode stored image {field_file.name}: {exc}") from exc
