"""Hostile files through every way they enter: images (gallery upload, the image's "replace file", the importer's
download), zip archives and over-limit import files (the admin upload and the ``import_articles`` command).

Every hostile file is generated here with Pillow or plain bytes. An image is either refused with a reason an editor
reads (in Chinese), storing nothing, or stored as Pillow's own re-encoding of it: upright, sRGB, without EXIF/GPS/XMP/
comments, shrunk to ``NEWSROOM_IMAGE_MAX_STORED_PIXELS``, under a content-hash name whose extension (and so the
content type it is served with) is the format its bytes really are. ``HOSTILE_IMAGES`` x ``IMAGE_ENTRY_POINTS`` and
``ARCHIVE_VECTORS`` are the counts the security section reports.
"""

import io
import mimetypes
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.views.static import serve
from PIL import Image as PILImage
from PIL import ImageSequence, PngImagePlugin

from articles.images import FORMATS, store_uploaded_image, validate_image_bytes
from articles.importer import uploads
from articles.models import Article, Image, ImportRun

from .adminform import form_data
from .factories import image_bytes, make_article, make_markdown, write_markdown
from .test_images import GPS_IFD, ORIENTATION, bomb_png, serving

pytestmark = [
    pytest.mark.django_db,
    # Pillow warns when it opens a header past its own threshold (the 12000 x 8000 photo); our budget decides.
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]

# --- the hostile images ---------------------------------------------------------------------------------------


def halves(size, left, right, mode="RGB"):
    """A picture whose left half is ``left`` and right half ``right``: orientation and colour are checkable."""
    img = PILImage.new(mode, size, right)
    img.paste(left, (0, 0, size[0] // 2, size[1]))
    return img


def exif_gps_jpeg() -> bytes:
    """Orientation 6 (turn 90° clockwise), GPS, a camera make, a comment with a script and XMP with GPS."""
    exif = PILImage.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "HostileCam"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (29.0, 33.0, 0.0), 3: "E", 4: (106.0, 33.0, 0.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>29,33N</exif:GPSLatitude></x:xmpmeta>'
    return image_bytes(halves((80, 40), (255, 0, 0), (0, 0, 255)), "JPEG", exif=exif, quality=95,
                       comment=b"<script>alert(1)</script>", xmp=xmp)


def truncated_jpeg() -> bytes:
    data = image_bytes(PILImage.effect_noise((256, 256), 80).convert("RGB"), "JPEG", quality=90)
    return data[: len(data) * 6 // 10]


def polyglot_gif() -> bytes:
    """A real GIF that is also JavaScript: the width 10799 is written ``/*``, the script follows the GIF trailer."""
    data = image_bytes(PILImage.new("P", (10799, 1), 0), "GIF")
    assert data.startswith(b"GIF87a/*") and b"*/" not in data  # GIF87a = identifier, then one long comment
    return data + b"*/=alert(document.domain);//"


def animated_gif() -> bytes:
    frames = [PILImage.new("RGB", (120, 80), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0,
                       comment=b"<script>alert(1)</script>")


def png_with_script() -> bytes:
    """Text chunks with markup and bytes after IEND: a PNG/HTML polyglot."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    return image_bytes(PILImage.new("RGBA", (50, 50), (0, 128, 0, 255)), "PNG", pnginfo=info) + b"<script>alert(2)</script>"


@cache
def huge_jpeg() -> bytes:
    return image_bytes(halves((12000, 8000), (255, 0, 0), (0, 0, 255)), "JPEG", quality=85)  # ~1.5 MB: solid colours


def mpo() -> bytes:
    """A camera's JPEG holding a second picture (stereo pair, depth map): only the first is kept."""
    first, second = PILImage.new("RGB", (64, 48), (255, 0, 0)), PILImage.new("RGB", (64, 48), (0, 0, 255))
    return image_bytes(first, "MPO", save_all=True, append_images=[second])


def gif_frame_bomb() -> bytes:
    """Few bytes, 60 frames of 1000 x 1000: 60 M pixels to decode, over the 40 M budget."""
    frames = [PILImage.new("P", (1000, 1000), n % 2) for n in range(60)]
    return image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)


def red(pixel) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def blue(pixel) -> bool:
    return pixel[2] > 200 and pixel[0] < 60 and pixel[1] < 60


def check_upright(stored):
    """Turned 90° clockwise: the red left half is now on top, the blue right half at the bottom."""
    rgb = stored.convert("RGB")
    assert red(rgb.getpixel((20, 10))) and blue(rgb.getpixel((20, 70)))


def check_cmyk(stored):
    assert stored.mode == "RGB" and red(stored.getpixel((10, 10)))  # CMYK (0, 255, 255, 0) is red on screen


def check_animation(stored):
    assert stored.n_frames == 3 and stored.info.get("loop") == 0
    durations, colours = [], []
    for frame in ImageSequence.Iterator(stored):
        durations.append(frame.info["duration"])
        colours.append(frame.convert("RGB").getpixel((60, 40)))
    assert durations == [100, 200, 300]
    assert red(colours[0]) and colours[1][1] > 200 and blue(colours[2])


def check_huge(stored):
    assert stored.width * stored.height <= 4096 * 4096
    rgb = stored.convert("RGB")
    assert red(rgb.getpixel((100, 100))) and blue(rgb.getpixel((stored.width - 100, 100)))


def check_first_picture(stored):
    assert getattr(stored, "n_frames", 1) == 1 and red(stored.convert("RGB").getpixel((10, 10)))


@dataclass(frozen=True)
class Hostile:
    key: str
    name: str  # what the uploader called it
    make: object  # () -> bytes
    refused: str = ""  # part of the reason, when refused
    format: str = ""  # else: what is stored
    size: tuple = ()
    check: object = None  # (stored PIL image) -> None, extra checks
    content_type: str = "image/jpeg"  # what the remote server claims
    extra: dict = field(default_factory=dict)

    def data(self) -> bytes:
        return self.make()


HOSTILE_IMAGES = [
    Hostile("bomb", "炸弹.png", lambda: bomb_png(10_000, 10_000), refused="图片太大：10000×10000 像素",
            content_type="image/png"),
    Hostile("frame-bomb", "frames.gif", gif_frame_bomb, refused="1000×1000 像素，60 帧", content_type="image/gif"),
    Hostile("truncated", "truncated.jpg", truncated_jpeg, refused="图片文件已损坏或不完整"),
    Hostile("text", "notes.jpg", lambda: b"Meeting notes, 2022: not a picture at all.\n" * 20, refused="不是图片"),
    Hostile("html", "page.gif", lambda: b"<html><body><script>alert(1)</script></body></html>", refused="不是图片",
            content_type="image/gif"),
    Hostile("svg", "logo.svg", lambda: (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
                                        b'height="10"><script>alert(document.domain)</script></svg>'),
            refused="不接受 SVG 矢量图", content_type="image/svg+xml"),
    Hostile("heic", "IMG_0001.HEIC", lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
            refused="不支持 HEIC 格式", content_type="image/heic"),
    Hostile("polyglot", "polyglot.gif", polyglot_gif, format="GIF", size=(10799, 1), content_type="image/gif"),
    Hostile("png-script", "chart.png", png_with_script, format="PNG", size=(50, 50), content_type="image/png"),
    Hostile("cmyk", "print.jpg", lambda: image_bytes(PILImage.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG"),
            format="JPEG", size=(40, 30), check=check_cmyk),
    Hostile("animated", "anim.gif", animated_gif, format="GIF", size=(120, 80), check=check_animation,
            content_type="image/gif"),
    Hostile("exif-gps", "IMG_1234.jpg", exif_gps_jpeg, format="JPEG", size=(40, 80), check=check_upright),
    Hostile("pixel", "pixel.gif", lambda: image_bytes(PILImage.new("P", (1, 1), 0), "GIF", transparency=0), format="GIF",
            size=(1, 1), content_type="image/gif"),
    Hostile("huge", "DSC_12000x8000.jpg", huge_jpeg, format="JPEG", size=(5016, 3344), check=check_huge),
    Hostile("webp", "photo.webp", lambda: image_bytes(halves((64, 48), (255, 0, 0), (0, 0, 255)), "WEBP"), format="WEBP",
            size=(64, 48), content_type="image/webp"),
    Hostile("jpeg-as-png", "photo.png", lambda: image_bytes(PILImage.new("RGB", (64, 48), (255, 0, 0)), "JPEG"),
            format="JPEG", size=(64, 48), content_type="image/png"),
    Hostile("mpo", "stereo.jpg", mpo, format="JPEG", size=(64, 48), check=check_first_picture),
]
BY_KEY = {vector.key: vector for vector in HOSTILE_IMAGES}
REFUSED = [v for v in HOSTILE_IMAGES if v.refused]
STORED = [v for v in HOSTILE_IMAGES if not v.refused]
IMAGE_ENTRY_POINTS = ("admin gallery upload", "admin image replace file", "import_articles --download-images")
# Never in a stored file: metadata markers, the camera, the scripts.
FORBIDDEN = (b"Exif\x00\x00", b"HostileCam", b"xmpmeta", b"<script", b"alert(", b"GPSLatitude")


def media_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_stored(image: Image, vector: Hostile, rf, settings):
    """The stored file is exactly Pillow's re-encoding of the upload, named by its hash, typed by its real format."""
    image.refresh_from_db()
    original = vector.data()
    assert image.fetch_status == Image.FetchStatus.FETCHED and image.fetch_error == ""
    with image.file.open("rb") as fh:
        data = fh.read()
    assert data != original and data == validate_image_bytes(original).content
    assert re.fullmatch(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|gif|webp)", image.file.name), image.file.name
    assert Path(vector.name).stem not in image.file.name
    for marker in FORBIDDEN:
        assert marker not in data, marker
    with PILImage.open(io.BytesIO(data)) as stored:
        assert stored.format == vector.format
        assert image.file.name.endswith("." + FORMATS[stored.format])
        assert mimetypes.guess_type(image.file.name)[0] == PILImage.MIME[stored.format]
        assert stored.size == vector.size == (image.width, image.height)
        assert len(stored.getexif()) == 0
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "icc_profile"} & set(stored.info)
        stored.load()
        if vector.check:
            vector.check(stored)
    served = serve(rf.get(f"/media/{image.file.name}"), image.file.name, document_root=settings.MEDIA_ROOT)
    assert served["Content-Type"] == PILImage.MIME[vector.format]  # never image/svg+xml, text/html or the claimed type
    assert image.renditions and all(default_storage.exists(r["file"]) for r in image.renditions)


def test_the_vectors_are_what_they_claim(tmp_path):
    """The hostile files really are hostile: the bomb's header, the polyglot runs as JavaScript (with node)."""
    with PILImage.open(io.BytesIO(BY_KEY["exif-gps"].data())) as exif:
        assert exif.getexif()[ORIENTATION] == 6 and exif.getexif().get_ifd(GPS_IFD) and b"GPSLatitude" in exif.info["xmp"]
    with PILImage.open(io.BytesIO(BY_KEY["huge"].data())) as huge, PILImage.open(io.BytesIO(BY_KEY["mpo"].data())) as two:
        assert huge.size == (12000, 8000) and two.format == "MPO" and two.n_frames == 2
    with PILImage.open(io.BytesIO(BY_KEY["animated"].data())) as anim:
        assert anim.n_frames == 3 and b"<script>" in anim.info["comment"]
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the polyglot's JavaScript half is not run")
    script = tmp_path / "polyglot.gif"
    script.write_bytes(BY_KEY["polyglot"].data())
    runner = ("globalThis.alert = (x) => console.log('RAN ' + x); globalThis.document = {domain: 'victim'};"
              "require('vm').runInThisContext(require('fs').readFileSync(process.argv[1], 'latin1'));")
    ran = subprocess.run([node, "-e", runner, str(script)], capture_output=True, text=True, timeout=30)
    assert ran.stdout.strip() == "RAN victim", ran.stderr
    clean = tmp_path / "stored.gif"
    clean.write_bytes(validate_image_bytes(script.read_bytes()).content)
    ran = subprocess.run([node, "-e", runner, str(clean)], capture_output=True, text=True, timeout=30)
    assert "RAN" not in ran.stdout and ran.returncode != 0


# --- entry point 1: the gallery upload on the article's admin page ------------------------------------------------


def upload(vector: Hostile):
    return SimpleUploadedFile(vector.name, vector.data(), content_type=vector.content_type)


@pytest.mark.parametrize("vector", HOSTILE_IMAGES, ids=lambda v: v.key)
def test_gallery_upload(admin_client, vector, rf, settings):
    article = make_article()
    url = reverse("admin:articles_article_change", args=[article.pk])
    data = form_data(admin_client.get(url))
    response = admin_client.post(url, {**data, "new_images": [upload(vector)]})
    if vector.refused:
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["new_images"]
        assert len(errors) == 1 and errors[0].startswith(f"「{vector.name}」不能用作图片：") and vector.refused in errors[0]
        assert errors[0] in response.content.decode()
        assert not Image.objects.exists() and media_files(settings) == []
        return
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    (placement,) = article.gallery.select_related("image")
    assert_stored(placement.image, vector, rf, settings)
    article.refresh_from_db()
    assert article.lead_image == placement.image


# --- entry point 2: "replace file" on the image's own admin page ---------------------------------------------------


@pytest.mark.parametrize("vector", HOSTILE_IMAGES, ids=lambda v: v.key)
def test_image_replace_file(admin_client, vector, rf, settings):
    image = store_uploaded_image(SimpleUploadedFile("before.png", image_bytes(PILImage.new("RGB", (30, 20)), "PNG")),
                                 caption="江北嘴")
    before = (image.file.name, media_files(settings))
    url = reverse("admin:articles_image_change", args=[image.pk])
    data = form_data(admin_client.get(url))
    response = admin_client.post(url, {**data, "file": upload(vector)})
    if vector.refused:
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["file"]
        assert len(errors) == 1 and errors[0].startswith(f"「{vector.name}」不能用作图片：") and vector.refused in errors[0]
        image.refresh_from_db()
        assert (image.file.name, media_files(settings)) == before
        return
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    image.refresh_from_db()
    assert image.file.name != before[0] and image.caption == "江北嘴"
    assert_stored(image, vector, rf, settings)


# --- entry point 3: the importer downloading the article's images ---------------------------------------------------


class HostileHandler(BaseHTTPRequestHandler):
    """``/<key>/<name>``: the vector's bytes, with the content type a hostile server would claim."""

    def do_GET(self):
        key = unquote(self.path).strip("/").split("/", 1)[0]
        vector = BY_KEY.get(key)
        body = vector.data() if vector else b"missing"
        self.send_response(200 if vector else 404)
        self.send_header("Content-Type", vector.content_type if vector else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def hostile_server():
    with serving(HostileHandler) as url:
        yield url


BOX = ('<div class="img_box"><img class="lazy" data-original="{url}" data-width="9" data-height="9" src="{url}"></div>'
       "<p>重庆两江新区的智能工厂</p>")


@pytest.mark.parametrize("vector", HOSTILE_IMAGES, ids=lambda v: v.key)
def test_import_download(hostile_server, vector, tmp_path, rf, settings):
    url = f"{hostile_server}/{vector.key}/{vector.name}"
    body = BOX.format(url=url) + "<p>重庆的制造业正在加快智能化改造，一批数字化车间和智能工厂相继建成投产，带动产业链升级。</p>"
    path = write_markdown(tmp_path, "article.md", body=body)
    out = io.StringIO()
    call_command("import_articles", str(path), "--download-images", stdout=out, no_color=True)
    printed = out.getvalue()
    assert "created" in printed
    (placement,) = Article.objects.get().gallery.select_related("image")
    image = placement.image
    assert image.remote_url == url
    if vector.refused:
        assert image.fetch_status == Image.FetchStatus.FAILED and vector.refused in image.fetch_error
        assert f"warning: image {url}: {image.fetch_error}" in printed
        assert not image.file and media_files(settings) == []
        return
    assert_stored(image, vector, rf, settings)


# --- zip archives through the admin upload ------------------------------------------------------------------------


ARCHIVE_VECTORS = (
    "path traversal", "absolute and drive paths", "zip bomb (one member)", "zip bomb (many members)",
    "zip bomb (header understates)",
    "oversized Markdown member", "thousands of entries", "entry count before parsing", "cp437 names",
    "UTF-8 flag on non-UTF-8 names", "control characters in names", "overlong names",
)


def make_zip(members, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def post_upload(client, name, data, *, follow=False):
    response = client.post(reverse("admin:articles_importrun_add"), {"files": [SimpleUploadedFile(name, data)]},
                           follow=follow)
    assert response.status_code == (200 if follow else 302)
    return ImportRun.objects.latest("pk"), response


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    """Uploads are unpacked under ``tmp_path/tmp``, so a test can see everything written around it."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_zip_traversal_writes_nothing_outside_the_temporary_folder(admin_client, temp_root, tmp_path):
    # The archive is unpacked in tmp/newsroom-upload-*/1/archive.zip/: four levels up is tmp_path itself.
    archive = make_zip({
        "../../../../escaped.md": make_markdown(title="越界一"),
        "ok/../../../../../escaped2.md": make_markdown(title="越界二"),
        "..\\..\\..\\..\\escaped3.md": make_markdown(title="越界三"),
        "C:/Windows/escaped4.md": make_markdown(title="盘符路径"),
        "//server/share/escaped5.md": make_markdown(title="网络路径"),
        "good.md": make_markdown(title="正常文章"),
    })
    run, _ = post_upload(admin_client, "archive.zip", archive)
    assert list(Article.objects.values_list("title", flat=True)) == ["正常文章"]
    assert run.failed_count == 5
    assert all("unsafe path in archive (absolute or '..'): not extracted" in line for line in run.lines[:5])
    assert run.lines[5].startswith("[6/6] created   archive.zip/good.md ")
    assert files_under(tmp_path) == []  # nothing escaped, and the temporary folder is gone


def test_zip_bomb_member_is_refused_unread_and_the_rest_imported(admin_client, temp_root):
    bomb = make_zip({"a.md": make_markdown(title="炸弹旁边的文章"), "dump.ndjson": b"\n" * (60 * 1024 * 1024)})
    assert len(bomb) < 200_000  # 60 MB from a small upload
    run, _ = post_upload(admin_client, "bomb.zip", bomb)
    assert run.lines[0] == ("[1/2] failed    bomb.zip/dump.ndjson: file is 62,914,560 bytes, over the limit of "
                            "52,428,800 bytes; not extracted")
    assert run.lines[1].startswith("[2/2] created   bomb.zip/a.md ")
    assert list(Article.objects.values_list("title", flat=True)) == ["炸弹旁边的文章"] and files_under(temp_root) == []


def test_zip_bomb_of_many_members_is_refused_whole(admin_client, temp_root):
    """27 members of 2,000,000 bytes each: every one under the Markdown limit, together over 50 MB (52,428,800)."""
    members = {f"chapter-{n:02d}.md": b" " * 2_000_000 for n in range(27)}
    bomb = make_zip({"a.md": make_markdown(title="炸弹旁边的文章"), **members})
    assert len(bomb) < 200_000
    run, response = post_upload(admin_client, "bomb.zip", bomb, follow=True)
    assert run.lines == ["[1/1] failed    bomb.zip: archive too large: over 50 MB uncompressed; nothing imported from it"]
    assert not Article.objects.exists() and files_under(temp_root) == []
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["1 file(s): 1 failed；1 项未能导入（这些项什么也没有保存），原因见下方“逐个文件”。"]


def test_zip_bomb_whose_header_understates_is_refused(admin_client, temp_root):
    """The header says 100 bytes, the data inflates to 60 MB: reading stops at 100 and the archive is refused."""
    honest = make_zip({"bomb.md": b"\0" * (60 * 1024 * 1024)})
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        info = archive.getinfo("bomb.md")
    local = 0
    central = honest.rindex(b"PK\x01\x02")
    lying = bytearray(honest)
    lying[local + 22 : local + 26] = (100).to_bytes(4, "little")  # local header: uncompressed size
    lying[central + 24 : central + 28] = (100).to_bytes(4, "little")  # central directory: uncompressed size
    with zipfile.ZipFile(io.BytesIO(bytes(lying))) as archive:
        assert archive.getinfo("bomb.md").file_size == 100 and info.file_size == 60 * 1024 * 1024
    run, _ = post_upload(admin_client, "liar.zip", bytes(lying))
    assert run.lines == ["[1/1] failed    liar.zip: not a readable zip archive: Bad CRC-32 for file 'bomb.md'"]
    assert not Article.objects.exists() and files_under(temp_root) == []


def test_oversized_markdown_member_is_refused_and_the_rest_imported(admin_client, settings):
    limit = settings.NEWSROOM_MAX_SOURCE_BYTES
    big = make_markdown(title="太大的文章", body="<p>" + "重" * (limit // 3) + "</p>").encode()
    assert len(big) > limit
    run, _ = post_upload(admin_client, "mixed.zip", make_zip({"big.md": big, "small.md": make_markdown(title="小文章")}))
    assert run.lines[0] == (f"[1/2] failed    mixed.zip/big.md: file is {len(big):,} bytes, over the limit of {limit:,} "
                            "bytes; not extracted")
    assert run.lines[1].startswith("[2/2] created   mixed.zip/small.md ")
    assert list(Article.objects.values_list("title", flat=True)) == ["小文章"]


def test_thousands_of_entries_are_refused_from_the_end_record(admin_client, temp_root):
    many = make_zip({f"{n}.md": b"" for n in range(uploads.MAX_ARCHIVE_MEMBERS + 1)}, zipfile.ZIP_STORED)
    run, _ = post_upload(admin_client, "many.zip", many)
    assert run.lines == ["[1/1] failed    many.zip: too many files in archive: 2001 files and folders, the limit is 2000; "
                         "nothing imported from it"]
    # The count comes from the end record, before the member list is parsed: a list cut short still says so.
    end = many.rindex(b"PK\x05\x06")
    cut = many[: len(many) // 2] + many[end:]
    run, _ = post_upload(admin_client, "cut.zip", cut)
    assert run.lines[0].startswith("[1/1] failed    cut.zip: too many files in archive: 2001 files and folders")
    assert not Article.objects.exists() and files_under(temp_root) == []


def flagless(members: dict[str, bytes], names: dict[str, bytes]) -> bytes:
    """A zip whose member names are the raw bytes given (no UTF-8 flag), as Windows tools write them."""
    placeholders = {}
    for n, (name, raw) in enumerate(names.items()):
        placeholders[name] = f"{n:0{len(raw) - 3}d}.md"
    data = make_zip({placeholders.get(name, name): body for name, body in members.items()})
    for name, placeholder in placeholders.items():
        data = data.replace(placeholder.encode(), names[name])
    return data


def test_cp437_names_without_the_utf8_flag_are_read(admin_client):
    data = flagless({"café": make_markdown(title="西文文件名")}, {"café": "café.md".encode("cp437")})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not archive.infolist()[0].flag_bits & 0x800
    run, _ = post_upload(admin_client, "西文.zip", data)
    assert run.lines[0].startswith("[1/1] created   西文.zip/café.md ")


def test_utf8_flag_on_a_name_that_is_not_utf8_refuses_the_archive(admin_client, temp_root):
    data = make_zip({"重庆.md": make_markdown(title="标记不实")})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.infolist()[0].flag_bits & 0x800
    lying = data.replace("重庆".encode(), "重庆市".encode("gbk"))  # the same length, GBK under the UTF-8 flag
    run, _ = post_upload(admin_client, "flag.zip", lying)
    assert run.lines == ["[1/1] failed    flag.zip: not a readable zip archive: a file name is marked as UTF-8 but is "
                         "not; nothing imported from it"]
    assert not Article.objects.exists() and files_under(temp_root) == []


def test_control_characters_and_overlong_names_are_refused_per_member(admin_client, temp_root):
    archive = make_zip({
        "fake\n[2/2] created   ok.md.md": make_markdown(title="换行伪造"),
        "right-to-left\u202egpj.md": make_markdown(title="反向字符"),
        "长" * 100 + ".md": make_markdown(title="名字太长"),
        "good.md": make_markdown(title="正常文章"),
    })
    run, _ = post_upload(admin_client, "names.zip", archive)
    assert len(run.lines) == 4 and run.failed_count == 3
    assert run.lines[0] == ("[1/4] failed    names.zip/fake\\n[2/2] created   ok.md.md: control character in the file "
                            "name: not extracted")
    assert run.lines[1] == ("[2/4] failed    names.zip/right-to-left\\u202egpj.md: control character in the file name: "
                            "not extracted")
    assert run.lines[2].endswith("…: file or folder name over 200 bytes: not extracted")
    assert run.lines[3].startswith("[4/4] created   names.zip/good.md ")
    assert list(Article.objects.values_list("title", flat=True)) == ["正常文章"]
    assert files_under(temp_root) == []


# --- files over the documented limits: the command and the admin upload --------------------------------------------


def oversized_markdown(settings) -> bytes:
    data = make_markdown(title="超过上限", body="<p>" + "重庆" * (settings.NEWSROOM_MAX_SOURCE_BYTES // 6 + 1) + "</p>")
    return data.encode()


def test_command_refuses_markdown_over_the_limit(tmp_path, settings):
    data = oversized_markdown(settings)
    assert len(data) > settings.NEWSROOM_MAX_SOURCE_BYTES == 2 * 1024 * 1024  # the documented default
    (tmp_path / "big.md").write_bytes(data)
    write_markdown(tmp_path, "small.md", title="正常文章")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 file\(s\) failed"):
        call_command("import_articles", str(tmp_path), stdout=out, no_color=True)
    assert f"big.md: file is {len(data):,} bytes, over the limit of 2,097,152 bytes" in out.getvalue()
    assert list(Article.objects.values_list("title", flat=True)) == ["正常文章"]


def test_admin_upload_refuses_markdown_over_the_limit(admin_client, settings, temp_root):
    data = oversized_markdown(settings)
    run, _ = post_upload(admin_client, "big.md", data)
    assert run.lines == [f"[1/1] failed    big.md: file is {len(data):,} bytes, over the limit of 2,097,152 bytes"]
    assert run.failed_count == 1 and not Article.objects.exists() and files_under(temp_root) == []

