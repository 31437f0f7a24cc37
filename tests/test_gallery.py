"""The editor's gallery: uploads through the importer's Pillow checks, renditions, ordering, the lead image, the inline."""

import io

import pytest
from django import forms
from django.contrib import admin
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict
from PIL import Image as PILImage

from articles.admin.gallery import GalleryInline
from articles.forms import ArticleGalleryFormMixin, MultipleImageField
from articles.gallery import add_images, reorder, set_lead_image
from articles.images import ImageRejected, fetch_image, make_renditions, rendition_widths, store_uploaded_image
from articles.models import Article, ArticleImage, Image

from .factories import make_article
from .test_images import GPS_IFD, JPEG_EXIF, ORIENTATION, bomb_png, encode, server  # noqa: F401  (server: fixture)

pytestmark = pytest.mark.django_db

NOT_A_PICTURE = "不是图片：文件内容不是 JPEG、PNG、GIF 或 WebP（可能是文本、网页，或改了扩展名的其他文件）"


def exif_jpeg(size) -> bytes:
    """A JPEG of ``size`` carrying JPEG_EXIF's tags: Orientation=6 (rotate 90° clockwise) and GPS."""
    with PILImage.open(io.BytesIO(JPEG_EXIF)) as source:
        return encode("JPEG", size=size, exif=source.getexif())


def upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def png(size=(30, 10)):
    return upload("chart.png", encode("PNG", size=size), "image/png")


def text_file(name="notes.txt"):
    return upload(name, b"just some notes, not a picture", "text/plain")


def open_rendition(rendition):
    with default_storage.open(rendition["file"], "rb") as fh:
        img = PILImage.open(io.BytesIO(fh.read()))
        img.load()
    return img


def stored_names(folder):
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


# --- store_uploaded_image and make_renditions ---------------------------------------------------------------


def test_store_uploaded_image_is_upright_without_gps_and_has_renditions():
    image = store_uploaded_image(upload("江北嘴.jpg", exif_jpeg((1400, 700))), caption="江北嘴", credit="何超 摄")
    image.refresh_from_db()
    assert image.fetch_status == Image.FetchStatus.FETCHED and image.fetch_error == ""
    assert (image.caption, image.credit) == ("江北嘴", "何超 摄")
    assert (image.width, image.height) == (700, 1400)
    assert image.file.name.startswith("images/") and image.file.name.endswith(".jpg")
    with image.file.open("rb") as fh, PILImage.open(fh) as stored:
        exif = stored.getexif()
        assert stored.size == (700, 1400) and ORIENTATION not in exif and not exif.get_ifd(GPS_IFD)
    assert [(r["width"], r["height"], r["format"]) for r in image.renditions] == [
        (320, 640, "webp"), (320, 640, "jpeg"), (640, 1280, "webp"), (640, 1280, "jpeg"),
    ]
    for rendition in image.renditions:
        extension = {"webp": "webp", "jpeg": "jpg"}[rendition["format"]]
        assert rendition["file"].startswith("renditions/") and rendition["file"].endswith(f"_{rendition['width']}.{extension}")
        decoded = open_rendition(rendition)
        assert decoded.format == rendition["format"].upper() and decoded.size == (rendition["width"], rendition["height"])
        assert "exif" not in decoded.info and len(decoded.getexif()) == 0


def test_small_upload_gets_one_rendition_at_its_own_size():
    image = store_uploaded_image(upload("photo.jpg", JPEG_EXIF))
    assert [(r["width"], r["height"], r["format"]) for r in image.renditions] == [(20, 40, "webp"), (20, 40, "jpeg")]
    assert [open_rendition(r).size for r in image.renditions] == [(20, 40), (20, 40)]


def test_text_file_is_refused_with_its_name():
    with pytest.raises(ImageRejected) as info:
        store_uploaded_image(text_file())
    assert str(info.value) == "「notes.txt」不能用作图片：" + NOT_A_PICTURE
    assert not Image.objects.exists() and stored_names("images") == []


def test_decompression_bomb_is_refused():
    with pytest.raises(ImageRejected) as info:
        store_uploaded_image(upload("bomb.png", bomb_png(10_000, 10_000), "image/png"))
    assert str(info.value).startswith("「bomb.png」不能用作图片：图片太大：") and "解压炸弹" in str(info.value)
    assert not Image.objects.exists()


def test_upload_over_the_byte_limit_is_refused_naming_size_and_limit(settings):
    settings.NEWSROOM_IMAGE_MAX_BYTES = 1000
    data = exif_jpeg((400, 300))
    with pytest.raises(ImageRejected) as info:
        store_uploaded_image(upload("big.jpg", data))
    assert str(info.value).startswith("「big.jpg」太大：")
    assert f"（{len(data)} 字节）" in str(info.value) and "（1000 字节）" in str(info.value)
    assert not Image.objects.exists()


@pytest.mark.parametrize(
    "width, expected",
    [(1, [1]), (200, [200]), (320, [320]), (321, [320]), (640, [320]), (1280, [320, 640]), (4000, [320, 640, 1280])],
)
def test_rendition_widths_never_upscale(width, expected):
    assert rendition_widths(width) == expected


def test_make_renditions_never_upscales_a_narrow_image():
    image = store_uploaded_image(png(size=(200, 100)))
    assert make_renditions(image) == image.renditions
    assert [(r["width"], r["height"], r["format"]) for r in image.renditions] == [(200, 100, "webp"), (200, 100, "jpeg")]
    image.refresh_from_db()
    assert [(r["width"], r["height"], r["format"]) for r in image.renditions] == [(200, 100, "webp"), (200, 100, "jpeg")]


def test_make_renditions_replaces_old_files():
    image = store_uploaded_image(png(size=(700, 70)))
    old = default_storage.save("renditions/zz/old_999.webp", io.BytesIO(b"stale"))
    image.renditions = [*image.renditions, {"width": 999, "height": 1, "format": "webp", "file": old}]
    renditions = make_renditions(image)
    assert [(r["width"], r["format"]) for r in renditions] == [(320, "webp"), (320, "jpeg"), (640, "webp"), (640, "jpeg")]
    assert not default_storage.exists(old)
    assert all(default_storage.exists(r["file"]) for r in renditions)
    folder = renditions[0]["file"].rsplit("/", 1)[0]
    assert sorted(stored_names(folder)) == sorted(r["file"].rsplit("/", 1)[1] for r in renditions)  # nothing stale


def test_make_renditions_uses_the_first_frame_of_an_animated_gif():
    red, blue = PILImage.new("RGB", (400, 40), (255, 0, 0)), PILImage.new("RGB", (400, 40), (0, 0, 255))
    out = io.BytesIO()
    red.save(out, format="GIF", save_all=True, append_images=[blue], duration=100, loop=0)
    image = store_uploaded_image(upload("anim.gif", out.getvalue(), "image/gif"))
    assert image.file.name.endswith(".gif")
    assert [(r["width"], r["height"], r["format"]) for r in image.renditions] == [(320, 32, "webp"), (320, 32, "jpeg")]
    for rendition in image.renditions:
        r, g, b = open_rendition(rendition).convert("RGB").getpixel((160, 16))
        assert r > 200 and b < 60


def test_make_renditions_keeps_transparency():
    image = store_uploaded_image(upload("logo.png", encode("PNG", size=(50, 50), mode="RGBA"), "image/png"))
    webp, jpeg = image.renditions
    assert open_rendition(webp).mode == "RGBA" and open_rendition(webp).getpixel((25, 25))[3] == 0
    # JPEG has no alpha: the fully transparent picture is flattened onto white, not black.
    assert (webp["format"], jpeg["format"]) == ("webp", "jpeg") and open_rendition(jpeg).mode == "RGB"
    assert min(open_rendition(jpeg).getpixel((25, 25))) > 240


def test_make_renditions_respects_the_pixel_budget(settings):
    image = store_uploaded_image(png(size=(400, 100)))
    settings.NEWSROOM_IMAGE_MAX_PIXELS = 1000
    with pytest.raises(ImageRejected, match="400×100 像素，共 40000 像素，上限 1000 像素"):
        make_renditions(image)


def test_fetch_image_makes_renditions(server):  # noqa: F811
    image = Image.objects.create(remote_url=f"{server}/photo.jpg")
    assert fetch_image(image) is True
    image.refresh_from_db()
    assert [(r["width"], r["height"], r["format"]) for r in image.renditions] == [(20, 40, "webp"), (20, 40, "jpeg")]
    decoded = [open_rendition(r) for r in image.renditions]
    assert [(d.format, d.size) for d in decoded] == [("WEBP", (20, 40)), ("JPEG", (20, 40))]


# --- articles.gallery ---------------------------------------------------------------------------------------


def placed(article):
    return list(article.gallery.order_by("order", "pk").values_list("image_id", "order"))


def test_add_images_keeps_the_good_files_and_reports_the_bad_one():
    article = make_article()
    images, errors = add_images(article, [upload("a.jpg", JPEG_EXIF), text_file("readme.txt"), png()])
    assert len(images) == 2 and errors == ["「readme.txt」不能用作图片：" + NOT_A_PICTURE]
    assert placed(article) == [(images[0].pk, 0), (images[1].pk, 1)]
    assert Image.objects.count() == 2
    article.refresh_from_db()
    assert article.lead_image == images[0]


def test_add_images_appends_after_the_last_and_keeps_the_lead():
    article = make_article()
    first, _ = add_images(article, [png()])
    ArticleImage.objects.filter(article=article).update(order=7)
    more, errors = add_images(article, [upload("b.jpg", JPEG_EXIF), png()])
    assert errors == []
    assert placed(article) == [(first[0].pk, 7), (more[0].pk, 8), (more[1].pk, 9)]
    article.refresh_from_db()
    assert article.lead_image == first[0]


def test_add_images_with_only_bad_files_changes_nothing():
    article = make_article()
    assert add_images(article, [text_file()]) == ([], ["「notes.txt」不能用作图片：" + NOT_A_PICTURE])
    article.refresh_from_db()
    assert placed(article) == [] and article.lead_image is None


def test_reorder():
    article = make_article()
    a, b, c = add_images(article, [png(), png(), png()])[0]
    reorder(article, [c.pk, str(a.pk)])  # ids as a form would post them; b is not listed and goes last
    assert placed(article) == [(c.pk, 0), (a.pk, 1), (b.pk, 2)]
    with pytest.raises(ValueError, match="不在这篇文章的图集中"):
        reorder(article, [a.pk, Image.objects.create().pk])
    with pytest.raises(ValueError, match="重复"):
        reorder(article, [a.pk, a.pk])
    assert placed(article) == [(c.pk, 0), (a.pk, 1), (b.pk, 2)]


def test_set_lead_image():
    article = make_article()
    a, b = add_images(article, [png(), png()])[0]
    set_lead_image(article, b)
    article.refresh_from_db()
    assert article.lead_image == b
    elsewhere = Image.objects.create(caption="另一篇的图")
    with pytest.raises(ValueError, match="不在这篇文章的图集中"):
        set_lead_image(article, elsewhere)
    article.refresh_from_db()
    assert article.lead_image == b
    set_lead_image(article, None)
    article.refresh_from_db()
    assert article.lead_image is None


# --- forms --------------------------------------------------------------------------------------------------


class UploadForm(forms.Form):
    images = MultipleImageField(required=False)


def test_multiple_image_field_lists_every_bad_file():
    files = MultiValueDict({"images": [png(), text_file("a.txt"), upload("bomb.png", bomb_png(10_000, 10_000))]})
    form = UploadForm(data={}, files=files)
    assert not form.is_valid()
    messages = form.errors["images"]
    assert len(messages) == 2
    assert messages[0] == "「a.txt」不能用作图片：" + NOT_A_PICTURE
    assert messages[1].startswith("「bomb.png」不能用作图片：图片太大") and "解压炸弹" in messages[1]


def test_multiple_image_field_returns_the_files_rewound():
    good = [png(), upload("b.jpg", JPEG_EXIF)]
    form = UploadForm(data={}, files=MultiValueDict({"images": good}))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["images"] == good
    assert all(f.tell() == 0 for f in good)
    assert 'accept="image/*"' in str(form["images"]) and "multiple" in str(form["images"])


def test_multiple_image_field_empty_and_required():
    form = UploadForm(data={}, files=MultiValueDict())
    assert form.is_valid() and form.cleaned_data["images"] == [] and not form.has_changed()
    required = MultipleImageField(required=True)
    with pytest.raises(forms.ValidationError):
        required.clean([])


def test_article_form_mixin_adds_new_images():
    class ArticleForm(ArticleGalleryFormMixin, forms.ModelForm):
        class Meta:
            model = Article
            fields = ["title"]

    form = ArticleForm(data={"title": "图集"}, files=MultiValueDict({"new_images": [png(), text_file()]}))
    assert list(form.fields) == ["title", "new_images"] and form.is_multipart()
    assert not form.is_valid() and list(form.errors) == ["new_images"]
    form = ArticleForm(data={"title": "图集"}, files=MultiValueDict({"new_images": [png()]}))
    assert form.is_valid() and len(form.cleaned_data["new_images"]) == 1


# --- GalleryInline ------------------------------------------------------------------------------------------


@pytest.fixture
def gallery(rf, admin_user):
    """An article with two uploaded images (the first is the lead) and a factory for its admin formset."""
    article = make_article()
    images, _ = add_images(article, [upload("a.jpg", JPEG_EXIF), png()])
    request = rf.get("/")
    request.user = admin_user
    inline = GalleryInline(Article, admin.site)

    def formset(data=None):
        FormSet = inline.get_formset(request, article)
        return FormSet(data, instance=article, queryset=inline.get_queryset(request))

    return article, images, inline, formset


def post_data(formset) -> dict:
    """What a browser submits for the unchanged formset."""
    data = {formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()}
    for form in formset.forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if isinstance(field, forms.BooleanField):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = value
    return data


def save(formset_factory, data):
    formset = formset_factory(data)
    assert formset.is_valid(), (formset.errors, formset.non_form_errors())
    formset.save()
    return formset


def test_gallery_inline_shows_the_image_fields_and_the_lead(gallery):
    article, (a, b), inline, formset_factory = gallery
    a.caption, a.credit, a.alt_text = "江北嘴", "何超 摄", "夜景"
    a.save()
    formset = formset_factory()
    assert [form.instance.image for form in formset.forms] == [a, b]
    first = formset.forms[0]
    assert [first[name].value() for name in ("caption", "credit", "alt_text", "is_lead")] == ["江北嘴", "何超 摄", "夜景", True]
    assert formset.forms[1]["is_lead"].value() is False
    assert list(formset.forms[0].fields)[:5] == ["order", "caption", "credit", "alt_text", "is_lead"]
    assert "articles/admin/gallery.js" in str(inline.media)
    assert not inline.has_add_permission(None, article)


def test_gallery_inline_saves_image_fields_order_and_lead(gallery):
    article, (a, b), _, formset_factory = gallery
    data = post_data(formset_factory())
    data.update({"gallery-1-caption": "两江新区", "gallery-1-credit": "王斌来 摄", "gallery-1-alt_text": "航拍"})
    data.update({"gallery-0-order": "5", "gallery-1-order": "2"})
    del data["gallery-0-is_lead"]
    data["gallery-1-is_lead"] = "on"
    save(formset_factory, data)
    b.refresh_from_db()
    article.refresh_from_db()
    assert (b.caption, b.credit, b.alt_text) == ("两江新区", "王斌来 摄", "航拍")
    assert article.lead_image == b
    assert placed(article) == [(b.pk, 2), (a.pk, 5)]


def test_gallery_inline_refuses_two_leads(gallery):
    article, (a, b), _, formset_factory = gallery
    data = post_data(formset_factory())
    data["gallery-1-is_lead"] = "on"
    formset = formset_factory(data)
    assert not formset.is_valid()
    assert formset.non_form_errors() == [f"只能勾选一张题图，现在勾选了 2 张：{a}、{b}"]
    article.refresh_from_db()
    assert article.lead_image == a


def test_gallery_inline_leaves_the_lead_alone_unless_a_box_changes(gallery):
    article, (a, b), _, formset_factory = gallery
    data = post_data(formset_factory())
    Article.objects.filter(pk=article.pk).update(lead_image=b)  # as the article form's own lead_image field would
    data["gallery-0-caption"] = "只改图说"
    save(formset_factory, data)
    article.refresh_from_db()
    assert article.lead_image == b


def test_gallery_inline_unchecking_the_lead_clears_it(gallery):
    article, _, _, formset_factory = gallery
    data = post_data(formset_factory())
    del data["gallery-0-is_lead"]
    save(formset_factory, data)
    article.refresh_from_db()
    assert article.lead_image is None


def test_gallery_inline_deleting_the_lead_row_clears_the_lead(gallery):
    article, (a, b), _, formset_factory = gallery
    data = post_data(formset_factory())
    data["gallery-0-DELETE"] = "on"
    save(formset_factory, data)
    article.refresh_from_db()
    assert placed(article) == [(b.pk, 1)] and article.lead_image is None
    assert Image.objects.filter(pk=a.pk).exists()  # out of the gallery, still in the library


def test_gallery_inline_thumbnail(gallery):
    article, (a, _), inline, _ = gallery
    placement = article.gallery.get(image=a)
    html = inline.thumbnail(placement)
    assert f'src="{default_storage.url(a.renditions[0]["file"])}"' in html and 'class="desk-thumbnail"' in html
    placement.image.renditions = []
    assert f'src="{a.file.url}"' in inline.thumbnail(placement)
    remote = Image.objects.create(remote_url="https://p.example.cn/a.jpg?x=1&y=<2>", alt_text='"夜景"')
    html = inline.thumbnail(ArticleImage(article=article, image=remote))
    assert 'src="https://p.example.cn/a.jpg?x=1&amp;y=&lt;2&gt;"' in html and 'alt="&quot;夜景&quot;"' in html
    assert inline.thumbnail(ArticleImage(article=article)) == "—"


def test_gallery_inline_in_the_article_admin(admin_client, monkeypatch):
    """Through the real change page: the rows render with their previews and the script, and a POST saves them."""
    from django.urls import reverse

    from .adminform import form_data

    monkeypatch.setattr(admin.site.get_model_admin(Article), "inlines", [GalleryInline])
    article = make_article()
    (a, b), _ = add_images(article, [upload("a.jpg", JPEG_EXIF), png()])
    url = reverse("admin:articles_article_change", args=[article.pk])
    response = admin_client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "articles/admin/gallery.js" in html and 'class="gallery-order"' in html
    assert html.count('class="desk-thumbnail"') == 2
    data = form_data(response)
    assert data["gallery-0-is_lead"] == "on" and "gallery-1-is_lead" not in data
    data.update({"gallery-1-caption": "两江新区", "gallery-1-is_lead": "on", "gallery-0-order": "3"})
    del data["gallery-0-is_lead"]
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    article.refresh_from_db()
    b.refresh_from_db()
    assert article.lead_image == b and b.caption == "两江新区"
    assert placed(article) == [(b.pk, 1), (a.pk, 3)]
