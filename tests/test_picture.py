"""Pictures on the public pages: the {% picture %} tag, the gallery include, renditions and the lightbox assets."""

import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders
from django.core.files.storage import InMemoryStorage, default_storage
from django.db.models.fields.files import FieldFile
from django.template import Context, Template
from django.template.loader import render_to_string
from PIL import Image as PILImage

from articles.images import RENDITION_JPEG_QUALITY, make_renditions, rendition_widths, store_uploaded_image
from articles.models import Image

from .test_gallery import upload
from .test_images import encode

pytestmark = pytest.mark.django_db

PROXY = "https://cors.zfour.workers.dev/?"
REMOTE = "http://zkres1.myzaker.com/202204/a_1.jpg"
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def render(image, **options):
    args = " ".join(f'{name}="{value}"' for name, value in options.items())
    return Template("{% load articles_tags %}{% picture image " + args + " %}").render(Context({"image": image}))


def parse(html):
    return BeautifulSoup(html, "html.parser")


def stored(size=(1400, 700), name="photo.jpg", **fields):
    return store_uploaded_image(upload(name, encode("JPEG", size=size)), **fields)


def url(rendition):
    return default_storage.url(rendition["file"])


def srcset_of(renditions):
    return ", ".join(f"{url(r)} {r['width']}w" for r in renditions)


def by_format(image, fmt):
    return [r for r in image.renditions if r["format"] == fmt]


# --- {% picture %} ------------------------------------------------------------------------------------------


def test_stored_image_with_renditions_is_a_picture_with_webp_and_jpeg_sources():
    image = stored(alt_text="两江新区夜景", caption="图说")
    html = render(image, sizes="(min-width: 46rem) 44rem, 100vw")
    soup = parse(html)
    picture = soup.find("picture")
    assert picture is not None and [c.name for c in picture.children] == ["source", "img"]
    source, img = picture.find("source"), picture.find("img")
    webp, jpeg = by_format(image, "webp"), by_format(image, "jpeg")
    assert [r["width"] for r in webp] == [r["width"] for r in jpeg] == [320, 640, 1280]
    assert source["type"] == "image/webp" and source["srcset"] == srcset_of(webp)
    assert source["sizes"] == img["sizes"] == "(min-width: 46rem) 44rem, 100vw"
    assert img["srcset"] == srcset_of(jpeg) and all(f" {w}w" in img["srcset"] for w in (320, 640, 1280))
    assert img["src"] == url(jpeg[1]) and img["src"].endswith("_640.jpg")
    assert (img["width"], img["height"]) == ("1400", "700")
    assert img["alt"] == "两江新区夜景"
    assert (img["loading"], img["decoding"]) == ("lazy", "async")
    assert "referrerpolicy" not in img.attrs and "class" not in img.attrs
    assert "style" not in html


def test_picture_options():
    image = stored()
    img = parse(render(image, loading="eager", css_class="lead-image", sizes="50vw")).find("img")
    assert (img["loading"], img["class"], img["sizes"]) == ("eager", ["lead-image"], "50vw")
    assert parse(render(image, loading="onload=alert(1)")).find("img")["loading"] == "lazy"
    assert parse(render(image)).find("img")["sizes"] == "100vw"


def test_small_image_src_is_its_largest_jpeg():
    image = stored(size=(500, 250))
    img = parse(render(image)).find("img")
    assert [r["width"] for r in by_format(image, "jpeg")] == [320]
    assert img["src"] == url(by_format(image, "jpeg")[-1]) and img["srcset"] == srcset_of(by_format(image, "jpeg"))
    assert (img["width"], img["height"]) == ("500", "250")


def test_stored_image_without_renditions_is_a_plain_img_of_the_file():
    image = stored(size=(400, 300), caption="图说")
    image.renditions = []
    html = render(image)
    soup = parse(html)
    img = soup.find("img")
    assert soup.find("picture") is None and soup.find("source") is None
    assert img["src"] == image.file.url and img["src"].startswith("/media/images/")
    assert "srcset" not in img.attrs and "sizes" not in img.attrs
    assert (img["width"], img["height"], img["alt"], img["loading"], img["decoding"]) == ("400", "300", "图说", "lazy", "async")


@pytest.mark.parametrize("remote_url", [REMOTE, PROXY + REMOTE, PROXY + "http%3A%2F%2Fzkres1.myzaker.com%2F202204%2Fa_1.jpg"])
def test_remote_image_is_shown_from_its_host_without_referrer_and_never_through_the_proxy(remote_url):
    image = Image.objects.create(remote_url=remote_url, width=520, height=659, caption="在成都西郊")
    html = render(image)
    img = parse(html).find("img")
    assert img["src"] == REMOTE and "cors.zfour" not in html
    assert img["referrerpolicy"] == "no-referrer"
    assert (img["width"], img["height"], img["alt"], img["loading"]) == ("520", "659", "在成都西郊", "lazy")
    assert parse(html).find("picture") is None and "srcset" not in img.attrs


def test_remote_image_of_unknown_size_has_no_made_up_dimensions():
    img = parse(render(Image.objects.create(remote_url=REMOTE))).find("img")
    assert "width" not in img.attrs and "height" not in img.attrs and img["alt"] == ""


@pytest.mark.parametrize("remote_url", ["javascript:alert(1)", "data:image/png;base64,xx", ""])
def test_image_with_nothing_safe_to_show_renders_nothing(remote_url):
    assert render(Image.objects.create(remote_url=remote_url)).strip() == ""


def test_placeholder_and_none_render_nothing():
    assert render(stored(is_placeholder=True)).strip() == ""
    assert render(Image.objects.create(remote_url=REMOTE, is_placeholder=True)).strip() == ""
    assert render(None).strip() == ""
    assert Template("{% load articles_tags %}{% picture missing %}").render(Context({})).strip() == ""


@pytest.mark.parametrize(
    "fields, alt",
    [
        ({"alt_text": "替代文字", "caption": "图说"}, "替代文字"),
        ({"caption": "图说"}, "图说"),
        ({}, ""),
    ],
)
def test_alt_is_always_present(fields, alt):
    for image in (stored(size=(100, 50), **fields), Image.objects.create(remote_url=REMOTE, **fields)):
        html = render(image)
        assert parse(html).find("img")["alt"] == alt
        assert f'alt="{alt}"' in html


def test_hostile_alt_and_caption_are_escaped():
    for image in (stored(size=(100, 50), alt_text=HOSTILE), Image.objects.create(remote_url=REMOTE, caption=HOSTILE)):
        html = render(image)
        assert "<script>" not in html and "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")
        soup = parse(html)
        assert len(soup.find_all("img")) == 1 and soup.find("script") is None
        assert soup.find("img")["alt"] == HOSTILE


def test_renditions_from_before_the_jpeg_fallback_still_render():
    image = stored()
    image.renditions = by_format(image, "webp")
    for rendition in image.renditions:
        del rendition["format"]  # the oldest rows had no format: they were WEBP
    soup = parse(render(image))
    assert soup.find("source")["srcset"] == srcset_of(image.renditions)
    img = soup.find("img")
    assert img["src"] == image.file.url and "srcset" not in img.attrs
    assert (img["width"], img["height"]) == ("1400", "700")


def test_rendering_pictures_runs_no_queries(django_assert_num_queries):
    images = [stored(), Image.objects.create(remote_url=REMOTE, credit="何超 摄")]
    images = list(Image.objects.filter(pk__in=[i.pk for i in images]))
    with django_assert_num_queries(0):
        for image in images:
            render(image)
        render_to_string("articles/includes/_gallery.html", {"images": images})


# --- the gallery include ------------------------------------------------------------------------------------


def gallery(images, **context):
    template = Template('{% include "articles/includes/_gallery.html" with images=gallery_images %}')
    return template.render(Context({"gallery_images": images, **context}))


def test_gallery_shows_figures_with_captions_and_credits_in_order():
    first = stored(caption="江北嘴金融城", credit="何超 摄")
    placeholder = Image.objects.create(remote_url=REMOTE + "?placeholder", is_placeholder=True, caption="占位")
    second = Image.objects.create(remote_url=PROXY + REMOTE, width=520, height=659, caption="在成都西郊", credit="新华社")
    third = stored(size=(300, 200), caption="", credit="", data_source_line="数据来源：重庆市统计局")
    third.renditions = []
    html = gallery([first, placeholder, second, third])
    soup = parse(html)
    section = soup.find("section")
    assert section["class"] == ["gallery"] and section["aria-label"] == "图集"
    figures = section.find_all("figure", recursive=False)
    assert len(figures) == 3 and "占位" not in html and "cors.zfour" not in html
    captions = [f.find("figcaption").get_text(" ", strip=True) for f in figures]
    assert captions == ["江北嘴金融城 何超 摄", "在成都西郊 新华社", "数据来源：重庆市统计局"]
    assert [f.find(class_="gallery-credit").get_text() for f in figures[:2]] == ["何超 摄", "新华社"]

    links = [f.find("a") for f in figures]
    assert all(link["data-lightbox"] == "gallery" and link.find("img") for link in links)
    assert links[0]["href"] == url(by_format(first, "jpeg")[-1]) and links[0]["href"].endswith("_1280.jpg")
    assert links[1]["href"] == REMOTE and links[1]["referrerpolicy"] == "no-referrer" and links[1]["data-remote"] == "1"
    assert "noreferrer" in links[1]["rel"]
    assert links[2]["href"] == third.file.url
    assert [(link["data-caption"], link["data-credit"]) for link in links] == [
        ("江北嘴金融城", "何超 摄"), ("在成都西郊", "新华社"), ("", ""),
    ]
    assert (links[0]["data-width"], links[0]["data-height"]) == ("1400", "700")
    assert "data-remote" not in links[0].attrs and "referrerpolicy" not in links[0].attrs
    assert "aria-label" not in links[0].attrs and links[2]["aria-label"] == "查看大图（第 3 张，共 3 张）"

    imgs = [link.find("img") for link in links]
    assert all(img["loading"] == "lazy" and img["class"] == ["gallery-image"] for img in imgs)
    assert figures[0].find("picture") is not None and imgs[1]["referrerpolicy"] == "no-referrer"
    assert imgs[0]["sizes"] == "(min-width: 46rem) 44rem, 100vw"
    assert "style=" not in html and "<script" not in html


def test_gallery_sizes_can_be_overridden():
    html = gallery([stored()], sizes="33vw")
    assert parse(html).find("img")["sizes"] == "33vw"


def test_gallery_escapes_hostile_captions_and_credits():
    html = gallery([stored(caption=HOSTILE, credit=HOSTILE), Image.objects.create(remote_url=REMOTE, caption=HOSTILE)])
    soup = parse(html)
    assert soup.find("script") is None and "<script>" not in html
    assert [f.find(class_="gallery-caption").get_text() for f in soup.find_all("figure")] == [HOSTILE, HOSTILE]
    assert soup.find("a")["data-credit"] == HOSTILE


@pytest.mark.parametrize("images", [[], None])
def test_empty_gallery_renders_nothing(images):
    assert gallery(images).strip() == ""
    assert gallery([Image.objects.create(remote_url=REMOTE, is_placeholder=True)]).strip() == ""


# --- renditions are real files ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1400, 700), (700, 1400), (500, 250), (100, 60)])
def test_renditions_are_decodable_webp_and_jpeg_of_the_recorded_sizes(size):
    image = stored(size=size)
    expected_widths = rendition_widths(size[0])
    assert [r["width"] for r in by_format(image, "webp")] == expected_widths
    assert [r["width"] for r in by_format(image, "jpeg")] == expected_widths
    assert [r["format"] for r in image.renditions] == ["webp", "jpeg"] * len(expected_widths)
    for rendition in image.renditions:
        assert rendition["height"] == max(1, round(size[1] * rendition["width"] / size[0]))
        with default_storage.open(rendition["file"], "rb") as fh:
            data = fh.read()
        with PILImage.open(io.BytesIO(data)) as decoded:
            decoded.load()
            assert decoded.format == rendition["format"].upper()
            assert decoded.size == (rendition["width"], rendition["height"])
            if rendition["format"] == "jpeg":
                assert decoded.mode == "RGB" and decoded.info.get("progressive") == 1


def test_jpeg_renditions_use_quality_82():
    assert RENDITION_JPEG_QUALITY == 82
    jpeg = by_format(stored(size=(640, 480)), "jpeg")[0]
    reference = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(reference, format="JPEG", quality=82)
    with default_storage.open(jpeg["file"], "rb") as fh, PILImage.open(fh) as decoded, PILImage.open(reference) as expected:
        assert decoded.quantization == expected.quantization  # the tables depend on the quality setting only


def test_renditions_go_through_the_storage_api_only(settings, monkeypatch):
    """No filesystem paths: upload, renditions and the picture tag work on a storage held in memory (as on S3)."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    default_storage.exists("x")  # set up the new backend
    assert isinstance(default_storage._wrapped, InMemoryStorage)

    def no_path(self):
        raise AssertionError("FieldFile.path used: S3-compatible storages have no filesystem path")

    monkeypatch.setattr(FieldFile, "path", property(no_path))
    image = stored(size=(700, 350))
    assert [(r["width"], r["format"]) for r in image.renditions] == [(320, "webp"), (320, "jpeg"), (640, "webp"), (640, "jpeg")]
    assert all(default_storage.exists(r["file"]) for r in image.renditions)
    with default_storage.open(image.renditions[-1]["file"], "rb") as fh, PILImage.open(fh) as decoded:
        assert (decoded.format, decoded.size) == ("JPEG", (640, 320))
    assert make_renditions(image) == image.renditions
    assert parse(render(image)).find("img")["src"] == url(image.renditions[-1])
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing was written to the disk


# --- lightbox assets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["articles/lightbox.js", "articles/lightbox.css"])
def test_lightbox_assets_are_found_by_the_staticfiles_finders(name):
    found = finders.find(name)
    assert found and Path(found).is_file() and Path(found).stat().st_size > 500


def test_lightbox_assets_include():
    html = render_to_string("articles/includes/_lightbox_assets.html")
    soup = parse(html)
    link, script = soup.find("link"), soup.find("script")
    assert link["rel"] == ["stylesheet"] and link["href"].endswith("articles/lightbox.css")
    assert script["src"].endswith("articles/lightbox.js") and "defer" in script.attrs
    assert script.get_text() == ""  # no inline code: CSP-friendly


def test_lightbox_script_is_plain_csp_friendly_and_does_what_the_gallery_needs():
    source = Path(finders.find("articles/lightbox.js")).read_text()
    for forbidden in ("innerHTML", "eval(", "new Function", "setAttribute(\"style\"", ".style.", "import "):
        assert forbidden not in source, forbidden
    for needed in ('createElement(tag)', "showModal", "aria-label", "referrerPolicy", '"ArrowLeft"', '"ArrowRight"',
                   '"Escape"', "pointerdown", "pointerup", "a[data-lightbox]", "focus()", '" / "'):
        assert needed in source, needed
