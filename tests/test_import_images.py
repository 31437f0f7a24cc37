"""import_articles --download-images against a local HTTP server: one bad image fails nothing."""

import pytest
from django.core.management import call_command
from PIL import Image as PillowImage

from articles.models import Article, Image

from .factories import write_markdown
from .test_images import server  # noqa: F401  (the local HTTP server fixture)

pytestmark = pytest.mark.django_db

BOX = ('<div class="img_box" onclick><div class="content_img_div"><img class="lazy" data-original="{url}" '
       'data-width="9" data-height="9" src="https://cors.zfour.workers.dev/?{url}"></div></div>')


def test_download_images_stores_good_ones_and_records_failures(tmp_path, server, capsys):  # noqa: F811
    body = (
        BOX.format(url=f"{server}/photo.jpg") + "重庆两江新区的智能工厂<p></p>"
        "<p>重庆的制造业正在加快智能化改造，一批数字化车间和智能工厂相继建成投产，带动产业链整体升级。</p>"
        + BOX.format(url=f"{server}/missing.jpg") + "<p></p><p>港口码头，集装箱源源不断，西部陆海新通道越走越宽。</p>"
    )
    path = write_markdown(tmp_path, "images.md", body=body)
    call_command("import_articles", str(path), "--download-images")
    out = capsys.readouterr().out
    assert "created" in out and "missing.jpg" in out and "服务器返回 HTTP 404" in out

    article = Article.objects.get()
    good, bad = [placement.image for placement in article.gallery.all()]
    assert good.fetch_status == Image.FetchStatus.FETCHED
    assert (good.width, good.height) == (20, 40)  # EXIF orientation applied, not the 9x9 the page claimed
    with good.file.open("rb") as handle:
        assert PillowImage.open(handle).getexif().get_ifd(0x8825) == {}
    assert good.caption == "重庆两江新区的智能工厂"
    assert bad.fetch_status == Image.FetchStatus.FAILED and "404" in bad.fetch_error


def test_a_picture_many_files_show_is_saved_only_when_its_words_change(tmp_path):
    """A recurring logo or chart: each import places the known Image row, and saves it (rebuilding and touching
    every article that shows it) only when the file gives it other words."""
    from django.utils import timezone

    from articles.importer.run import import_markdown_file

    def file(n, caption):
        body = (BOX.format(url="https://img.example.cn/logo.jpg") + caption
                + f"<p></p><p>重庆第{n}篇报道，制造业加快智能化改造，一批数字化车间和智能工厂相继建成投产。</p>")
        return write_markdown(tmp_path, f"logo{n}.md", title=f"共用图片 {n}", body=body)

    first = Article.objects.get(slug=import_markdown_file(file(1, "重庆两江新区的智能工厂"), publish=True).slug)
    logo = Image.objects.get(remote_url="https://img.example.cn/logo.jpg")
    first_seen = first.updated_at
    for n in (2, 3):
        assert import_markdown_file(file(n, "重庆两江新区的智能工厂"), publish=True).status == "created"
    first.refresh_from_db()
    assert first.updated_at == first_seen  # nothing it shows changed
    assert Image.objects.filter(remote_url="https://img.example.cn/logo.jpg").count() == 1
    assert [[p.image_id for p in article.gallery.all()] for article in Article.objects.order_by("pk")] == [[logo.pk]] * 3

    before = timezone.now()
    import_markdown_file(file(4, "两江新区的智能工厂（新图说）"), publish=True)
    logo.refresh_from_db()
    first.refresh_from_db()
    assert logo.caption == "两江新区的智能工厂（新图说）"
    assert first.updated_at >= before  # its picture's words changed: it moves for API sync clients
