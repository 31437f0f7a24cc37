"""Image bytes: the one place that downloads, validates and stores picture files with Pillow.

It owns these steps, each refusing bad input with ``ImageRejected`` (a readable reason):

- ``download_image_bytes``: fetch an http(s) URL with the standard library, a timeout and a size cap, from public
  addresses only (server-side request forgery: see "downloads" below);
- ``validate_image_bytes``: accept only real JPEG/PNG/GIF/WEBP within a pixel budget (decompression bombs
  are refused before pixels are decoded; SVG, HEIC and other formats are refused by name) and return Pillow's
  own re-encoding: upright per EXIF, sRGB, shrunk to ``NEWSROOM_IMAGE_MAX_STORED_PIXELS``, with no metadata
  (EXIF, GPS, XMP, comments, ICC) and nothing of the original file but its pixels (a GIF/JavaScript polyglot's
  script is gone), in the format its bytes really are (a JPEG named ``.png`` is stored as ``.jpg``);
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
import ipaddress
import math
import socket
import ssl
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.encoding import iri_to_uri
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps, ImageSequence

from articles.models import Image

USER_AGENT = "NewsroomImageFetcher/1.0 (+https://github.com/newsroom)"
ALLOWED_SCHEMES = ("http", "https")
# Pillow format -> stored extension. MPO (a camera's JPEG holding a second picture) is stored as a plain JPEG.
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
OPEN_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")  # the only Pillow decoders an upload or download ever reaches
ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")  # every frame kept; MPO keeps only its first picture
STORED_QUALITY = 90  # JPEG and WEBP re-encoding
CHUNK = 64 * 1024
RENDITION_WIDTHS = (320, 640, 1280)
RENDITION_QUALITY = 80  # WEBP
RENDITION_JPEG_QUALITY = 82
# (format recorded in ``Image.renditions``, file extension): the modern format first, then the fallback.
RENDITION_FORMATS = (("webp", "webp"), ("jpeg", "jpg"))
JPEG_BACKGROUND = (255, 255, 255)  # JPEG has no alpha: transparent areas become white, not black
ACCEPTED_TEXT = "只接受 JPEG、PNG、GIF 和 WebP 图片"
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageRejected(Exception):
    """The bytes or URL cannot become a stored picture; ``str()`` says why, in words an editor understands."""


@dataclass(frozen=True)
class ValidatedImage:
    content: bytes  # what to store: Pillow's own re-encoding (never the uploaded bytes), upright, sRGB, no metadata
    format: str  # Pillow format name: JPEG, PNG, GIF or WEBP
    extension: str  # without the dot
    width: int  # visual size, after EXIF orientation and any downscaling
    height: int


def _pixel_limit(max_pixels: int | None) -> int:
    """Our budget, never above Pillow's own decompression-bomb threshold."""
    limit = settings.NEWSROOM_IMAGE_MAX_PIXELS if max_pixels is None else max_pixels
    return min(limit, PILImage.MAX_IMAGE_PIXELS) if PILImage.MAX_IMAGE_PIXELS else limit


def _check_pixel_budget(size: tuple[int, int], frames: int = 1, max_pixels: int | None = None) -> None:
    limit = _pixel_limit(max_pixels)
    pixels = size[0] * size[1] * frames
    if pixels > limit:
        what = f"{size[0]}×{size[1]} 像素" + (f"，{frames} 帧" if frames > 1 else "")
        raise ImageRejected(f"图片太大：{what}，共 {pixels} 像素，上限 {limit} 像素（可能是“解压炸弹”）")


def _refuse_known_non_images(data: bytes) -> None:
    """Name the files editors most often mistake for pictures, before Pillow sees them."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and (head.startswith(b"<?xml") or b"<svg" in head):
        raise ImageRejected("不接受 SVG 矢量图（SVG 里可以带脚本）：请导出为 PNG 或 JPEG 后再上传")
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        raise ImageRejected(f"不支持 HEIC 格式（手机照片）：请导出为 JPEG 后再上传；{ACCEPTED_TEXT}")


def _open(data: bytes) -> PILImage.Image:
    """Open with the four accepted decoders only (the caller silences Pillow's DecompressionBombWarning)."""
    try:
        return PILImage.open(io.BytesIO(data), formats=OPEN_FORMATS)
    except PILImage.DecompressionBombError as exc:
        raise ImageRejected(f"图片太大（可能是“解压炸弹”）：{exc}") from exc
    except PILImage.UnidentifiedImageError as exc:
        raise ImageRejected(_unidentified(data)) from exc
    except Exception as exc:  # a recognised but broken header: OSError, SyntaxError, struct.error...
        raise ImageRejected(f"图片文件已损坏，无法读取（{exc.__class__.__name__}: {exc}）") from exc


def _unidentified(data: bytes) -> str:
    """The reason for bytes none of the accepted decoders recognises: their format's name if Pillow knows it."""
    try:
        with PILImage.open(io.BytesIO(data)) as other:  # header only, just to name the format
            name = other.format
    except Exception:  # not a picture at all
        name = None
    if name:
        return f"不支持 {name} 格式：{ACCEPTED_TEXT}，请另存为其中一种后再上传"
    return "不是图片：文件内容不是 JPEG、PNG、GIF 或 WebP（可能是文本、网页，或改了扩展名的其他文件）"


def _probe(data: bytes) -> tuple[str, tuple[int, int], int]:
    """(format, size, frames) from the headers alone: no pixels are decoded."""
    with warnings.catch_warnings():  # our own budget, checked next, speaks first; Pillow's hard limit still raises
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        with _open(data) as probe:
            try:
                frames = probe.n_frames if probe.format in ANIMATED_FORMATS else 1
            except Exception as exc:
                raise ImageRejected(f"图片文件已损坏或不完整，无法读取（{probe.format}：{exc}）") from exc
            return probe.format, probe.size, frames


def _fit(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """``size`` shrunk, proportions kept, to at most ``max_pixels`` pixels (never enlarged)."""
    width, height = size
    if width * height <= max_pixels:
        return size
    scale = math.sqrt(max_pixels / (width * height))
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def validate_image_bytes(data: bytes, *, max_pixels: int | None = None, max_stored_pixels: int | None = None) -> ValidatedImage:
    """Check ``data`` is a JPEG/PNG/GIF/WEBP within the pixel budget and return Pillow's re-encoding of it.

    The result is upright (EXIF orientation applied), in sRGB (CMYK and colour profiles converted), shrunk to at
    most ``NEWSROOM_IMAGE_MAX_STORED_PIXELS`` (a large JPEG is decoded at 1/2, 1/4 or 1/8 scale directly), and
    carries nothing of the original file but its pixels: no EXIF, GPS, XMP, comments, text chunks, ICC profile or
    trailing bytes. Animated GIF/PNG/WEBP keep their frames and timing. Raises ImageRejected (in Chinese) otherwise.
    """
    if not data:
        raise ImageRejected("文件是空的")
    _refuse_known_non_images(data)
    fmt, size, frames = _probe(data)
    max_stored = settings.NEWSROOM_IMAGE_MAX_STORED_PIXELS if max_stored_pixels is None else max_stored_pixels
    stored_format = "JPEG" if fmt == "MPO" else fmt
    if stored_format != "JPEG":  # a JPEG's budget is checked below, on the scale it is decoded at
        _check_pixel_budget(size, frames, max_pixels)
    with warnings.catch_warnings():
        # Pillow warns past its own threshold on the declared size; our budget counts the pixels really decoded.
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            with _open(data) as checked:
                checked.verify()  # PNG: every chunk's CRC
            with _open(data) as img:
                if stored_format == "JPEG":
                    img.draft(None, _fit(img.size, max_stored))  # decode a big photo at a reduced scale
                    _check_pixel_budget(img.size, 1, max_pixels)
                if frames > 1:
                    content, stored_size = _encode_animation(img, stored_format, _fit(img.size, max_stored))
                else:
                    content, stored_size = _encode_still(img, stored_format, max_stored)
        except ImageRejected:
            raise
        except PILImage.DecompressionBombError as exc:
            raise ImageRejected(f"图片太大（可能是“解压炸弹”）：{exc}") from exc
        except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ValueError...) for broken files
            raise ImageRejected(f"图片文件已损坏或不完整，无法解码（{fmt}：{exc}）") from exc
    return ValidatedImage(content, stored_format, FORMATS[stored_format], *stored_size)


def _encode_still(img: PILImage.Image, fmt: str, max_stored: int) -> tuple[bytes, tuple[int, int]]:
    img.load()
    try:
        img = ImageOps.exif_transpose(img)  # a copy, upright
    except Exception:  # an unreadable EXIF block: the picture stays as it is stored
        img = img.copy()
    img = _to_srgb(img)
    target = _fit(img.size, max_stored)
    if img.size != target:
        if img.mode not in ("RGB", "RGBA", "L", "LA"):
            img = img.convert("RGBA" if img.has_transparency_data else "RGB")
        img = img.resize(target, PILImage.Resampling.LANCZOS, reducing_gap=3.0)
    transparency = img.info.get("transparency")
    img.info = {}  # nothing of the original but its pixels: no EXIF, XMP, comments, text chunks
    options = {}
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        options = {"quality": STORED_QUALITY}
    elif fmt == "WEBP":
        options = {"quality": STORED_QUALITY}
    elif fmt == "PNG" and img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):  # e.g. 32-bit "I": unwritable
        img = img.convert("RGBA" if transparency is not None else "RGB")
    elif transparency is not None and img.mode in ("P", "L", "RGB", "1"):
        options = {"transparency": transparency}  # PNG/GIF: the palette index or colour that is transparent
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue(), img.size


def _encode_animation(img: PILImage.Image, fmt: str, target: tuple[int, int]) -> tuple[bytes, tuple[int, int]]:
    """Every frame, composited by Pillow, shrunk to ``target`` and saved again with its duration and the loop count."""
    loop = img.info.get("loop")
    frames, durations = [], []
    for frame in ImageSequence.Iterator(img):
        durations.append(int(frame.info.get("duration") or 0))
        still = frame.convert("RGBA")
        if still.size != target:
            still = still.resize(target, PILImage.Resampling.LANCZOS, reducing_gap=3.0)
        still.info = {}
        frames.append(still)
    options = {"save_all": True, "append_images": frames[1:], "duration": durations}
    if loop is not None:
        options["loop"] = loop
    if fmt == "WEBP":
        options["quality"] = STORED_QUALITY
    out = io.BytesIO()
    frames[0].save(out, format=fmt, **options)
    return out.getvalue(), target


def _to_srgb(img: PILImage.Image) -> PILImage.Image:
    """Colour in sRGB without a profile: CMYK (print) and profiled RGB converted, any other profile dropped."""
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB" if img.mode == "CMYK" else img.mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # a broken profile: convert naively below
            pass
    if img.mode == "CMYK":
        return img.convert("RGB")
    return img


# --- downloads ------------------------------------------------------------------------------------------------
#
# Server-side request forgery: an imported article names its pictures' URLs, so whoever writes the Markdown
# chooses what the server fetches. Every hop (the URL and each redirect, at most MAX_REDIRECTS) is checked: http
# or https only, any port; the host name is resolved once and every address it resolves to must be public (not
# loopback, private, link-local such as the cloud metadata service 169.254.169.254, shared/CGNAT, multicast,
# reserved or unspecified, IPv4 inside IPv6 included) unless it is in NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS; the
# connection then goes to those checked addresses, never to a second resolution (DNS rebinding). No proxy is used.

MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)
DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA), as sent in the Host header and the TLS server name
    port: int
    path: str  # path and query, percent-encoded
    addresses: tuple[str, ...]  # every address the host resolved to, each checked


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries: IPv4-mapped (::ffff:a.b.c.d), 6to4 (2002::/16) or NAT64 (64:ff9b::/96)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address ``address`` is, in words, or None for a public one."""
    checks = (
        ("is_unspecified", "未指定地址"),
        ("is_loopback", "本机回环地址"),
        ("is_link_local", "链路本地地址（含云服务器元数据服务 169.254.169.254）"),
        ("is_multicast", "组播地址"),
        ("is_private", "内网（私有）地址"),
        ("is_reserved", "保留地址"),
    )
    for attribute, words in checks:
        if getattr(address, attribute):
            return words
    if not address.is_global:
        return "非公网地址"
    return None


def _allowed_private(address) -> bool:
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS]
    return any(address.version == network.version and address in network for network in networks)


def refused_address(address: str) -> str | None:
    """Why the downloader may not connect to the IP ``address`` (in words), or None if it may."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.scope_id:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    inner = _embedded_ipv4(ip) if ip.version == 6 else None
    candidates = [ip] if inner is None else [inner, ip]
    if any(_allowed_private(candidate) for candidate in candidates):
        return None
    for candidate in candidates:
        words = _non_public(candidate)
        if words:
            return words if candidate is ip else f"{words}（IPv6 地址 {ip} 里的 IPv4 地址 {candidate}）"
    return None


def _target(url: str) -> _Target:
    """Check ``url``'s scheme, resolve its host and check every address; ImageRejected (in Chinese) otherwise."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise ImageRejected(f"只能下载 http 和 https 地址：{url[:200]}")
    try:
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or DEFAULT_PORTS[scheme]
        ascii_host = host.encode("idna").decode("ascii") if host else ""
    except (ValueError, UnicodeError) as exc:
        raise ImageRejected(f"地址无效（{exc}）：{url[:200]}") from exc
    if not ascii_host:
        raise ImageRejected(f"地址里没有主机名：{url[:200]}")
    try:
        infos = socket.getaddrinfo(ascii_host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ImageRejected(f"无法解析主机名 {host}（{getattr(exc, 'strerror', None) or exc}）：{url}") from exc
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ImageRejected(f"无法解析主机名 {host}：{url}")
    for address in addresses:
        words = refused_address(address)
        if words:
            raise ImageRejected(
                f"拒绝下载：{host} 指向{words} {address}，服务器不访问内网和本机地址（防止服务器端请求伪造 SSRF）：{url}"
            )
    # Chinese sites put Chinese in image paths (/图片/重庆.jpg): http.client sends ASCII only, so percent-encode them.
    path = iri_to_uri(parts.path or "/") + (f"?{iri_to_uri(parts.query)}" if parts.query else "")
    return _Target(scheme, ascii_host, port, path, addresses)


def _connect(target: _Target, timeout: float) -> socket.socket:
    """A TCP connection to one of the target's checked addresses (tried in the resolver's order)."""
    error = None
    for address in target.addresses:
        try:
            return socket.create_connection((address, target.port), timeout=timeout)  # a literal: no DNS lookup
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the addresses checked in ``_target``, whatever the host name resolves to by now."""

    def __init__(self, target: _Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self):
        self.sock = _connect(self.target, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked addresses; the certificate is verified for the host name (SNI too)."""

    def __init__(self, target: _Target, timeout: float):
        self.tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self.tls)
        self.target = target

    def connect(self):
        self.sock = self.tls.wrap_socket(_connect(self.target, self.timeout), server_hostname=self.target.host)


def download_image_bytes(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> bytes:
    """Download ``url`` (http/https, public addresses only, see above) and return its body, refusing more than
    ``max_bytes``. Redirects are followed by hand, each hop checked like the first. Raises ImageRejected."""
    timeout = settings.NEWSROOM_IMAGE_TIMEOUT if timeout is None else timeout
    max_bytes = settings.NEWSROOM_IMAGE_MAX_BYTES if max_bytes is None else max_bytes
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = _target(current)
        connection = (_PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection)(target, timeout)
        try:
            connection.request("GET", target.path, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
            response = connection.getresponse()
            if response.status in REDIRECT_CODES:
                location = response.getheader("Location")
                if not location:
                    raise ImageRejected(f"下载失败：HTTP {response.status} 跳转没有给出新地址：{current}")
                current = urljoin(current, location.strip())
                if urlsplit(current).scheme.lower() not in ALLOWED_SCHEMES:
                    raise ImageRejected(f"拒绝跳转到非 http(s) 地址：{current[:200]}")
                continue
            if not 200 <= response.status < 300:
                raise ImageRejected(f"下载失败：服务器返回 HTTP {response.status}：{current}")
            return _read_body(response, max_bytes, current)
        except TimeoutError as exc:
            raise ImageRejected(f"下载超时（{timeout:g} 秒内没有响应）：{current}") from exc
        except ssl.SSLError as exc:
            raise ImageRejected(f"HTTPS 连接失败（{exc.reason or exc}）：{current}") from exc
        except (http.client.HTTPException, ValueError) as exc:
            raise ImageRejected(f"网络错误（{exc.__class__.__name__}: {exc}）：{current}") from exc
        except OSError as exc:
            raise ImageRejected(f"无法连接 {target.host}（{exc.strerror or exc.__class__.__name__}）：{current}") from exc
        finally:
            connection.close()
    raise ImageRejected(f"跳转次数过多（超过 {MAX_REDIRECTS} 次）：{url}")


def _read_body(response: http.client.HTTPResponse, max_bytes: int, url: str) -> bytes:
    too_large = f"文件太大：超过 {max_bytes / 1024 / 1024:g} MB（{max_bytes} 字节）：{url}"
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise ImageRejected(too_large)
    chunks, total = [], 0
    while chunk := response.read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise ImageRejected(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


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
        image.fetch_error = f"缩略图生成失败：{exc}"[:300]
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
        raise ImageRejected(f"「{name[:100]}」不能用作图片：{exc}") from exc


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
    _, size, _ = _probe(data)
    _check_pixel_budget(size)  # only one frame is decoded
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        try:
            with _open(data) as img:
                img.load()
                upright = ImageOps.exif_transpose(img)  # a no-op for our own files, which are stored upright
            has_alpha = upright.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in upright.info
            return upright.convert("RGBA" if has_alpha else "RGB")
        except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as exc:
            raise ImageRejected(f"图片太大（可能是“解压炸弹”）：{exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected(f"无法解码已保存的图片 {field_file.name}：{exc}") from exc
