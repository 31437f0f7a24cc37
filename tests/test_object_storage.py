"""Media on S3-compatible object storage: a real S3 API (moto's server mode) on a loopback port.

The storage settings come from running newsroom/settings.py with the NEWSROOM_S3_* variables set, so
these tests check the settings block too. Each test gets its own bucket, readable by anyone (a bucket
policy, as a public media bucket has), and checks what is in it with boto3, not with Django.
"""

import io
import itertools
import json
import logging
import re
import runpy
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models.fields.files import FieldFile
from moto import server as moto_server
from PIL import Image as PILImage

from articles.gallery import add_images
from articles.images import make_renditions
from articles.models import Article, Image
from newsroom.storage import S3MediaStorage

from .adminform import form_data
from .factories import make_article, write_markdown
from .test_gallery import exif_jpeg, png, upload
from .test_images import JPEG_EXIF, server  # noqa: F401  (server: the local HTTP server fixture)
from .test_import_images import BOX

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "newsroom" / "settings.py"
KEYS = {"aws_access_key_id": "newsroom-test", "aws_secret_access_key": "newsroom-test-secret"}
REGION = "us-east-1"
S3_VARIABLES = (
    "NEWSROOM_S3_BUCKET", "AWS_STORAGE_BUCKET_NAME", "NEWSROOM_S3_ENDPOINT_URL", "AWS_S3_ENDPOINT_URL",
    "NEWSROOM_S3_REGION", "AWS_S3_REGION_NAME", "NEWSROOM_S3_ACCESS_KEY_ID", "NEWSROOM_S3_SECRET_ACCESS_KEY",
    "NEWSROOM_S3_PREFIX", "NEWSROOM_S3_CUSTOM_DOMAIN", "NEWSROOM_S3_ACL", "NEWSROOM_S3_SIGNED_URLS",
    "NEWSROOM_S3_SIGNED_URL_SECONDS", "NEWSROOM_S3_ADDRESSING_STYLE", "NEWSROOM_S3_CACHE_CONTROL",
)
_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on a free loopback port for the whole session: ``http://127.0.0.1:<port>``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    s3 = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3.start()
    host, port = s3.get_host_and_port()
    yield f"http://{host}:{port}"
    s3.stop()


@pytest.fixture
def s3(s3_endpoint):
    """A boto3 client of the server, independent of Django."""
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **KEYS)


@pytest.fixture
def bucket(s3):
    """A new bucket whose objects anyone may read, as a public media bucket's policy allows."""
    name = f"newsroom-media-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}
        ],
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return name


def settings_module(monkeypatch, **variables) -> dict:
    """newsroom/settings.py's values with only these object-storage variables set."""
    for name in S3_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEBUG", "1")
    return runpy.run_path(str(SETTINGS_FILE))


@pytest.fixture
def use_s3(settings, monkeypatch, s3_endpoint, bucket):
    """Make the bucket Django's default storage, with STORAGES as settings.py builds it from the variables.

    pytest-django's ``settings`` fixture sends ``setting_changed``, on which Django forgets the cached
    ``default_storage`` backend: set here, and again when the test ends and the setting is restored.
    """

    media_root = Path(settings.MEDIA_ROOT)

    def configure(**extra):
        variables = {
            "NEWSROOM_S3_BUCKET": bucket,
            "NEWSROOM_S3_ENDPOINT_URL": s3_endpoint,
            "NEWSROOM_S3_REGION": REGION,
            "NEWSROOM_S3_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
            "NEWSROOM_S3_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
            **extra,
        }
        settings.STORAGES = settings_module(monkeypatch, **variables)["STORAGES"]
        default_storage.exists("x")  # set up the new backend
        assert isinstance(default_storage._wrapped, S3MediaStorage)
        return f"{s3_endpoint}/{bucket}/"  # the public URL of the bucket's objects (path-style)

    yield configure
    assert not media_root.exists(), "something was written to MEDIA_ROOT instead of the bucket"


@pytest.fixture
def no_paths(monkeypatch):
    """Any use of ``FieldFile.path`` fails the test: an object storage has no file-system path."""

    def no_path(self):
        raise AssertionError("FieldFile.path used: S3-compatible storages have no filesystem path")

    monkeypatch.setattr(FieldFile, "path", property(no_path))


def keys(s3, bucket) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def stored_names(image: Image) -> set[str]:
    return {image.file.name} | {r["file"] for r in image.renditions}


def decode(data: bytes) -> PILImage.Image:
    img = PILImage.open(io.BytesIO(data))
    img.load()
    return img


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # anonymous, as a reader's browser
        return response.read()


def srcset_urls(srcset: str) -> list[str]:
    return [candidate.strip().rsplit(" ", 1)[0] for candidate in srcset.split(",") if candidate.strip()]


# --- settings -----------------------------------------------------------------------------------------------


def test_without_a_bucket_media_stay_on_the_file_system(monkeypatch):
    values = settings_module(monkeypatch)
    default = values.get("STORAGES", {}).get("default", {"BACKEND": "django.core.files.storage.FileSystemStorage"})
    assert default["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_the_bucket_variables_build_an_s3_default_storage_and_keep_staticfiles(monkeypatch):
    plain = settings_module(monkeypatch)
    values = settings_module(
        monkeypatch,
        AWS_STORAGE_BUCKET_NAME="news-media",  # django-storages' own name works too
        AWS_S3_ENDPOINT_URL="https://oss-cn-hangzhou.aliyuncs.com",
        NEWSROOM_S3_REGION="oss-cn-hangzhou",
        NEWSROOM_S3_PREFIX="/media/",
        NEWSROOM_S3_CUSTOM_DOMAIN="img.example.com/",
        NEWSROOM_S3_ACL="public-read",
        NEWSROOM_S3_ADDRESSING_STYLE="virtual",
    )
    default = values["STORAGES"]["default"]
    assert default["BACKEND"] == "newsroom.storage.S3MediaStorage"
    options = default["OPTIONS"]
    assert options["bucket_name"] == "news-media" and options["endpoint_url"] == "https://oss-cn-hangzhou.aliyuncs.com"
    assert (options["region_name"], options["location"], options["custom_domain"]) == (
        "oss-cn-hangzhou", "media", "img.example.com",
    )
    assert options["default_acl"] == "public-read" and options["addressing_style"] == "virtual"
    assert options["querystring_auth"] is False  # public pictures: plain URLs unless asked
    assert options["file_overwrite"] is False  # as on the file system: a taken name is never replaced
    assert "access_key" not in options  # boto3's own credential chain (AWS_ACCESS_KEY_ID, roles...)
    staticfiles = plain.get("STORAGES", {}).get("staticfiles")
    assert values["STORAGES"].get("staticfiles") == (
        staticfiles or {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    )


# --- uploads and downloads go to the bucket -----------------------------------------------------------------


def test_gallery_upload_stores_the_original_and_every_rendition_in_the_bucket(use_s3, s3, bucket, no_paths):
    use_s3()
    article = make_article()
    images, errors = add_images(article, [upload("江北嘴 夜景 (编辑部).jpg", exif_jpeg((1400, 700)))])
    assert errors == []
    image = Image.objects.get(pk=images[0].pk)
    assert keys(s3, bucket) == stored_names(image)
    assert [(r["width"], r["format"]) for r in image.renditions] == [
        (320, "webp"), (320, "jpeg"), (640, "webp"), (640, "jpeg"),
    ]
    # The stored name is the content hash, never the uploader's file name.
    assert re.fullmatch(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", image.file.name), image.file.name
    assert all("江北嘴" not in key and "编辑部" not in key for key in keys(s3, bucket))

    original = s3.get_object(Bucket=bucket, Key=image.file.name)
    assert original["ContentType"] == "image/jpeg" and original["CacheControl"] == "public, max-age=86400"
    picture = decode(original["Body"].read())
    assert picture.size == (700, 1400) and not picture.getexif()  # upright, EXIF and GPS gone
    for rendition in image.renditions:
        stored = s3.get_object(Bucket=bucket, Key=rendition["file"])
        assert stored["ContentType"] == {"webp": "image/webp", "jpeg": "image/jpeg"}[rendition["format"]]
        decoded = decode(stored["Body"].read())
        assert (decoded.format, decoded.size) == (rendition["format"].upper(), (rendition["width"], rendition["height"]))


def test_imported_pictures_are_downloaded_into_the_bucket(use_s3, s3, bucket, server, tmp_path, no_paths):  # noqa: F811
    use_s3()
    body = BOX.format(url=f"{server}/photo.jpg") + "重庆两江新区的智能工厂<p></p>" + (
        "<p>重庆的制造业正在加快智能化改造，一批数字化车间和智能工厂相继建成投产，带动产业链整体升级。</p>"
    ) + BOX.format(url=f"{server}/missing.jpg")
    call_command("import_articles", str(write_markdown(tmp_path, "images.md", body=body)), "--download-images")
    good, bad = [placement.image for placement in Article.objects.get().gallery.all()]
    assert good.fetch_status == Image.FetchStatus.FETCHED and bad.fetch_status == Image.FetchStatus.FAILED
    assert keys(s3, bucket) == stored_names(good) and len(good.renditions) == 2  # 20x40: one width, two formats
    assert "photo" not in good.file.name
    stored = decode(s3.get_object(Bucket=bucket, Key=good.file.name)["Body"].read())
    assert stored.size == (20, 40) and stored.getexif().get_ifd(0x8825) == {}


# --- pages and the API point at the bucket ------------------------------------------------------------------


def test_public_page_and_api_give_bucket_urls_that_serve_the_pictures(use_s3, client, no_paths):
    base = use_s3()
    article = make_article()
    (image,), _ = add_images(article, [png(size=(1400, 700))])
    page = client.get(article.get_absolute_url()).content.decode()

    webp = srcset_urls(re.search(r'<source type="image/webp" srcset="([^"]+)"', page).group(1))
    img = re.search(r'<img src="([^"]+)" srcset="([^"]+)"', page)
    jpeg = srcset_urls(img.group(2))
    by_format = {fmt: [base + r["file"] for r in image.renditions if r["format"] == fmt] for fmt in ("webp", "jpeg")}
    assert webp == by_format["webp"] and jpeg == by_format["jpeg"]
    assert img.group(1) == by_format["jpeg"][1]  # the 640 JPEG (of 320, 640, 1280)
    assert decode(fetch(webp[-1])).format == "WEBP" and decode(fetch(img.group(1))).size == (640, 320)

    document = client.get(f"/api/v1/articles/{article.slug}/").json()["result"]
    assert document["lead_image"]["url"] == base + image.file.name
    assert [r["url"] for r in document["lead_image"]["renditions"]] == [base + r["file"] for r in image.renditions]
    assert decode(fetch(document["lead_image"]["url"])).size == (1400, 700)


def test_custom_domain_and_signed_urls(use_s3, s3_endpoint):
    use_s3(NEWSROOM_S3_CUSTOM_DOMAIN="img.example.com", NEWSROOM_S3_PREFIX="media")
    name = default_storage.save("renditions/ab/x_320.webp", ContentFile(b"webp"))
    assert default_storage.url(name) == "https://img.example.com/media/renditions/ab/x_320.webp"  # CDN, unsigned

    use_s3(NEWSROOM_S3_SIGNED_URLS="1", NEWSROOM_S3_SIGNED_URL_SECONDS="600")
    name = default_storage.save("renditions/ab/y_320.webp", ContentFile(b"signed"))
    url = default_storage.url(name)
    assert url.startswith(s3_endpoint) and "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    assert fetch(url) == b"signed"


@pytest.mark.parametrize("location", ["", "media"])
@pytest.mark.parametrize(
    "name", ["images/2026/11/0123abcd.jpg", "renditions/0f/重庆 夜景+1_640.webp", "a/b~c/(x)!'*.png", "x y&z=1?.jpg"]
)
def test_plain_urls_are_what_django_storages_would_give(use_s3, name, location):
    use_s3(NEWSROOM_S3_PREFIX=location)
    fast = default_storage._wrapped
    reference = super(S3MediaStorage, fast).url(name)
    assert fast.url(name) == reference and urlsplit(reference).query == ""


# --- replacing and deleting: as on the file system ----------------------------------------------------------


def replace_and_delete_story(s3_keys=None) -> dict:
    """The same steps on either storage; returns what was observed, to compare the two."""
    seen = {}
    first = add_images(make_article(), [upload("a.jpg", JPEG_EXIF)])[0][0]
    second = add_images(make_article(), [upload("b.jpg", JPEG_EXIF)])[0][0]  # same bytes, same hash
    seen["same picture, two files"] = first.file.name != second.file.name
    seen["both kept"] = default_storage.exists(first.file.name) and default_storage.exists(second.file.name)
    seen["renditions apart"] = not (stored_names(first) & stored_names(second))

    stale = default_storage.save("renditions/zz/stale_999.webp", io.BytesIO(b"stale"))
    old = [r["file"] for r in second.renditions]
    second.renditions = [*second.renditions, {"width": 999, "height": 1, "format": "webp", "file": stale}]
    new = [r["file"] for r in make_renditions(second)]
    seen["re-rendered names"] = new == old
    seen["stale rendition deleted"] = not default_storage.exists(stale)
    seen["renditions exist"] = all(default_storage.exists(name) for name in new)

    gone = first.file.name
    first.file.delete(save=True)
    seen["deleted file gone"] = not default_storage.exists(gone) and Image.objects.get(pk=first.pk).file.name == ""
    seen["other file kept"] = default_storage.exists(second.file.name)
    row_files = stored_names(second)
    second.delete()  # deleting the row leaves its files, on either storage (Django never deletes them)
    seen["row delete keeps files"] = all(default_storage.exists(name) for name in row_files)
    if s3_keys is not None:
        seen["bucket holds exactly the remaining files"] = s3_keys() == row_files | (stored_names(first) - {"", None})
    return seen


def test_replacing_and_deleting_behave_as_on_the_file_system(use_s3, s3, bucket, settings, tmp_path, no_paths):
    settings.MEDIA_ROOT = tmp_path / "file-system-run"
    assert default_storage.__class__.__name__ and not isinstance(default_storage._wrapped, S3MediaStorage)
    on_disk = replace_and_delete_story()
    assert all(on_disk.values()), on_disk
    use_s3()
    in_bucket = replace_and_delete_story(lambda: keys(s3, bucket))
    assert in_bucket == {**on_disk, "bucket holds exactly the remaining files": True}


def test_replacing_the_file_in_the_image_admin_stores_it_as_an_upload(use_s3, s3, bucket, admin_client, settings, no_paths):
    """The image's own change form: the new file is checked, named by its hash and re-rendered."""
    use_s3()
    (image,), _ = add_images(make_article(), [png(size=(700, 70))])
    old = stored_names(image)
    url = f"/admin/articles/image/{image.pk}/change/"
    data = form_data(admin_client.get(url))

    for bad in (upload("notes.jpg", b"not a picture"), png(size=(8000, 8000))):  # not an image; over the budget
        settings.NEWSROOM_IMAGE_MAX_PIXELS = 1_000_000
        refused = admin_client.post(url, {**data, "file": bad})
        assert refused.status_code == 200 and 'class="errorlist' in refused.content.decode()
    settings.NEWSROOM_IMAGE_MAX_PIXELS = 40_000_000
    assert Image.objects.get(pk=image.pk).file.name == image.file.name

    response = admin_client.post(url, {**data, "file": upload("我的照片.jpg", exif_jpeg((1400, 700)))})
    assert response.status_code == 302, response.content.decode()[:2000]
    image.refresh_from_db()
    assert re.fullmatch(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", image.file.name) and (image.width, image.height) == (700, 1400)
    assert [(r["width"], r["format"]) for r in image.renditions] == [(320, "webp"), (320, "jpeg"), (640, "webp"), (640, "jpeg")]
    assert not decode(s3.get_object(Bucket=bucket, Key=image.file.name)["Body"].read()).getexif()
    # The old renditions are gone, the old original stays (as on the file system); nothing else is there.
    assert keys(s3, bucket) == stored_names(image) | (old - {r["file"] for r in old_renditions(old)})


def old_renditions(names):
    return [{"file": name} for name in names if name.startswith("renditions/")]
