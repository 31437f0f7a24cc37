"""articles.images: validation, download limits and fetch_image, against a real HTTP server on 127.0.0.1."""

import io
import struct
import threading
import time
import zlib
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image as PILImage

from articles.images import ImageRejected, ValidatedImage, download_image_bytes, fetch_image, validate_image_bytes
from articles.models import Image

from .factories import image_bytes

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def make_exif_jpeg() -> bytes:
    """40x20 JPEG, left half red and right half blue, tagged Orientation=6 (rotate 90° clockwise) and with GPS."""
    img = PILImage.new("RGB", (40, 20), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 20, 20))
    exif = PILImage.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "TestCam"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (29.0, 33.0, 0.0), 3: "E", 4: (106.0, 33.0, 0.0)})
    return image_bytes(img, "JPEG", exif=exif, quality=95)


def encode(fmt: str, size=(30, 10), mode="RGB", **options) -> bytes:
    """A plain grey ``size`` picture in ``mode``, written as ``fmt``."""
    return image_bytes(PILImage.new(mode, size, 128), fmt, **options)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int, height: int, *, full: bool = True) -> bytes:
    """A real 1-bit greyscale PNG of ``width`` x ``height`` that compresses to a few KB (or only its header)."""
    row = b"\0" * (1 + (width + 7) // 8)
    pixels = zlib.compress(row * height, 9) if full else zlib.compress(row)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")


JPEG_EXIF = make_exif_jpeg()
PNG = encode("PNG", mode="RGBA")
GIF = encode("GIF", mode="P")
WEBP = encode("WEBP")
BOMB_10K = bomb_png(10_000, 10_000)  # 100 M pixels, ~12 KB on the wire
MAX_BYTES = 50_000


class Handler(BaseHTTPRequestHandler):
    routes = {
        "/photo.jpg": ("image/jpeg", JPEG_EXIF),
        "/chart.png": ("image/png", PNG),
        "/anim.gif": ("image/gif", GIF),
        "/pic.webp": ("image/webp", WEBP),
        "/fake.jpg": ("image/jpeg", b"<html>not a picture</html>"),
        "/bomb.png": ("image/png", BOMB_10K),
        "/big.jpg": ("image/jpeg", b"\xff" * (MAX_BYTES + 1)),
    }

    def do_GET(self):
        if self.path == "/slow.jpg":
            time.sleep(2)
        if self.path == "/redirect-ok":
            return self._send(302, b"", [("Location", "/photo.jpg")])
        if self.path == "/redirect-ftp":
            return self._send(302, b"", [("Location", "ftp://127.0.0.1/x.jpg")])
        if self.path == "/big-unsized.jpg":  # no Content-Length: the body ends when the connection closes
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            for _ in range(MAX_BYTES // 1000 + 5):
                self.wfile.write(b"\xff" * 1000)
            return
        if self.path not in self.routes:
            return self._send(404, b"missing", [("Content-Type", "text/plain")])
        content_type, body = self.routes[self.path]
        self._send(200, body, [("Content-Type", content_type)])

    def _send(self, status, body, headers):
        try:
            self.send_response(status)
            for name, value in [*headers, ("Content-Length", str(len(body)))]:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, format, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@contextmanager
def serving(handler):
    """A local HTTP server for ``handler`` on a free loopback port, in a thread: yields its base URL."""
    httpd = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server():
    with serving(Handler) as url:
        yield url


# --- validate_image_bytes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, fmt, ext, size",
    [
        (JPEG_EXIF, "JPEG", "jpg", (20, 40)),
        (PNG, "PNG", "png", (30, 10)),
        (GIF, "GIF", "gif", (30, 10)),
        (WEBP, "WEBP", "webp", (30, 10)),
        (encode("JPEG", mode="CMYK"), "JPEG", "jpg", (30, 10)),
        (encode("PNG", mode="P", transparency=0), "PNG", "png", (30, 10)),
    ],
)
def test_validate_accepts(data, fmt, ext, size):
    result = validate_image_bytes(data)
    assert isinstance(result, ValidatedImage)
    assert (result.format, result.extension, (result.width, result.height)) == (fmt, ext, size)
    with PILImage.open(io.BytesIO(result.content)) as stored:
        assert stored.format == fmt and stored.size == size
        stored.load()


@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        (b"", {}, "文件是空的"),
        (b"just some text, definitely not pixels", {}, "不是图片：文件内容不是 JPEG、PNG、GIF 或 WebP"),
        (b"<html>not a picture</html>", {}, "不是图片"),
        (encode("BMP"), {}, "不支持 BMP 格式：只接受 JPEG、PNG、GIF 和 WebP 图片"),
        (encode("TIFF"), {}, "不支持 TIFF 格式"),
        (JPEG_EXIF[: len(JPEG_EXIF) // 2], {}, "图片文件已损坏"),
        (PNG[:-30], {}, "图片文件已损坏或不完整，无法解码（PNG："),
        (bomb_png(2_000, 2_000, full=False), {"max_pixels": 1_000_000}, "2000×2000 像素，共 4000000 像素，上限 1000000 像素"),
        (BOMB_10K, {}, "图片太大：10000×10000 像素，共 100000000 像素，上限 40000000 像素（可能是“解压炸弹”）"),
        # A limit above Pillow's own: Pillow's threshold (about 89 M pixels) and its hard error still refuse the file.
        (BOMB_10K, {"max_pixels": 10**12}, "解压炸弹"),
        (bomb_png(100_000, 100_000, full=False), {"max_pixels": 10**12}, "解压炸弹"),
    ],
)
def test_validate_rejects(data, kwargs, message):
    with pytest.raises(ImageRejected) as info:
        validate_image_bytes(data, **kwargs)
    assert message in str(info.value)


def test_validate_strips_exif_and_gps_and_applies_orientation():
    with PILImage.open(io.BytesIO(JPEG_EXIF)) as original:
        assert original.getexif()[ORIENTATION] == 6 and original.getexif().get_ifd(GPS_IFD)
    result = validate_image_bytes(JPEG_EXIF)
    with PILImage.open(io.BytesIO(result.content)) as stored:
        exif = stored.getexif()
        assert ORIENTATION not in exif and not exif.get_ifd(GPS_IFD) and len(exif) == 0
        assert "exif" not in stored.info
        rgb = stored.convert("RGB")
        # Rotated 90° clockwise: the red left half is now on top, the blue right half at the bottom.
        top, bottom = rgb.getpixel((10, 5)), rgb.getpixel((10, 35))
        assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_validate_strips_gps_from_png_and_webp(fmt):
    with PILImage.open(io.BytesIO(JPEG_EXIF)) as source:
        exif = source.getexif()
        data = encode(fmt, size=(40, 20), exif=exif)
    with PILImage.open(io.BytesIO(data)) as original:
        assert original.getexif().get_ifd(GPS_IFD)
    result = validate_image_bytes(data)
    assert (result.width, result.height) == (20, 40)
    with PILImage.open(io.BytesIO(result.content)) as stored:
        assert stored.size == (20, 40) and len(stored.getexif()) == 0 and not stored.getexif().get_ifd(GPS_IFD)


# --- download_image_bytes -------------------------------------------------------------------------------------


def test_download_ok_and_follows_http_redirect(server):
    assert download_image_bytes(f"{server}/photo.jpg") == JPEG_EXIF
    assert download_image_bytes(f"{server}/redirect-ok") == JPEG_EXIF


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.jpg", "javascript:alert(1)", "/relative/path.jpg", ""])
def test_download_refuses_non_http_urls(url):
    with pytest.raises(ImageRejected, match="只能下载 http 和 https 地址"):
        download_image_bytes(url)


@pytest.mark.parametrize(
    "path, kwargs, message",
    [
        ("/missing.jpg", {}, "下载失败：服务器返回 HTTP 404：http://127.0.0.1"),
        ("/slow.jpg", {"timeout": 0.5}, "下载超时（0.5 秒内没有响应）"),
        ("/big.jpg", {"max_bytes": MAX_BYTES}, f"文件太大：超过 {MAX_BYTES / 1024 / 1024:g} MB（{MAX_BYTES} 字节）"),
        ("/big-unsized.jpg", {"max_bytes": MAX_BYTES}, "文件太大"),
        ("/redirect-ftp", {}, "拒绝跳转到非 http(s) 地址：ftp://127.0.0.1/x.jpg"),
    ],
)
def test_download_failures(server, path, kwargs, message):
    with pytest.raises(ImageRejected) as info:
        download_image_bytes(f"{server}{path}", **kwargs)
    assert message in str(info.value)


def test_download_connection_refused():
    probe = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = probe.server_address[1]
    probe.server_close()  # nothing listens on this port any more
    with pytest.raises(ImageRejected, match=r"无法连接 127\.0\.0\.1（Connection refused）"):
        download_image_bytes(f"http://127.0.0.1:{port}/x.jpg", timeout=2)


# --- fetch_image ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_fetch_image_stores_upright_file_without_metadata(server, settings):
    image = Image.objects.create(remote_url=f"{server}/photo.jpg", caption="两江新区")
    assert fetch_image(image) is True
    image.refresh_from_db()
    assert image.fetch_status == Image.FetchStatus.FETCHED and image.fetch_error == ""
    assert (image.width, image.height) == (20, 40)
    assert image.file.name.startswith("images/") and image.file.name.endswith(".jpg")
    path = settings.MEDIA_ROOT / image.file.name
    assert path.is_file()
    with PILImage.open(path) as stored:
        assert stored.format == "JPEG" and stored.size == (20, 40)
        exif = stored.getexif()
        assert not exif.get_ifd(GPS_IFD) and ORIENTATION not in exif


@pytest.mark.django_db
@pytest.mark.parametrize("path, fmt", [("/chart.png", "PNG"), ("/anim.gif", "GIF"), ("/pic.webp", "WEBP")])
def test_fetch_image_other_formats(server, path, fmt):
    image = Image.objects.create(remote_url=f"{server}{path}")
    assert fetch_image(image) is True
    image.refresh_from_db()
    assert image.file.name.endswith("." + fmt.lower().replace("jpeg", "jpg"))
    with image.file.open("rb") as fh, PILImage.open(fh) as stored:
        assert stored.format == fmt and stored.size == (30, 10) == (image.width, image.height)


@pytest.mark.django_db
def test_fetch_image_does_not_download_twice(server):
    image = Image.objects.create(remote_url=f"{server}/photo.jpg")
    assert fetch_image(image) is True
    name = image.file.name
    image.remote_url = f"{server}/missing.jpg"  # would fail if it were downloaded again
    assert fetch_image(image) is True
    assert image.file.name == name and image.fetch_status == Image.FetchStatus.FETCHED


@pytest.mark.django_db
def test_fetch_image_without_url_changes_nothing():
    image = Image.objects.create(caption="no url")
    assert fetch_image(image) is False
    image.refresh_from_db()
    assert image.fetch_status == Image.FetchStatus.REMOTE and not image.file and image.fetch_error == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, kwargs, message",
    [
        ("{server}/fake.jpg", {}, "不是图片"),
        ("{server}/bomb.png", {}, "可能是“解压炸弹”"),
        ("{server}/missing.jpg", {}, "下载失败：服务器返回 HTTP 404：http://127.0.0.1"),
        ("{server}/slow.jpg", {"timeout": 0.5}, "下载超时（0.5 秒内没有响应）"),
        ("{server}/big.jpg", {"max_bytes": MAX_BYTES}, "文件太大"),
        ("{server}/big-unsized.jpg", {"max_bytes": MAX_BYTES}, "文件太大"),
        ("{server}/redirect-ftp", {}, "拒绝跳转到非 http(s) 地址"),
        ("file:///etc/passwd", {}, "只能下载 http 和 https 地址"),
        ("ftp://127.0.0.1/photo.jpg", {}, "只能下载 http 和 https 地址"),
    ],
)
def test_fetch_image_failures_are_recorded_not_raised(server, url, kwargs, message):
    image = Image.objects.create(remote_url=url.format(server=server))
    assert fetch_image(image, **kwargs) is False
    image.refresh_from_db()
    assert image.fetch_status == Image.FetchStatus.FAILED
    assert message in image.fetch_error and len(image.fetch_error) <= 300
    assert not image.file and image.width is None


@pytest.mark.django_db
def test_fetch_error_is_truncated_to_300_chars(server):
    image = Image.objects.create(remote_url=f"{server}/missing.jpg?" + "q" * 900)
    assert fetch_image(image) is False
    image.refresh_from_db()
    assert image.fetch_status == Image.FetchStatus.FAILED and len(image.fetch_error) == 300


@pytest.mark.django_db
def test_fetch_image_retries_after_failure(server):
    image = Image.objects.create(remote_url=f"{server}/missing.jpg")
    assert fetch_image(image) is False
    image.remote_url = f"{server}/chart.png"
    assert fetch_image(image) is True
    image.refresh_from_db()
    assert image.fetch_status == Image.FetchStatus.FETCHED and image.fetch_error == ""
