"""Import the Chongqing seed article and check everything the curation must yield."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleAuthor

pytestmark = pytest.mark.django_db

SEED = Path(__file__).parent / "data" / "seed_chongqing.md"
IMAGE_URL = "http://zkres2.myzaker.com/202208/62e71e708e9f0940445ab815_1024.jpg"


@pytest.fixture
def seed():
    result = import_markdown_file(SEED, publish=True)
    assert result.status == "created", result.reason
    return Article.objects.get(slug=result.slug)


def test_front_matter_fields(seed):
    assert seed.title == "推动高质量发展 创造高品质生活"
    assert seed.slug == "tui-dong-gao-zhi-liang-fa-zhan-chuang-zao-gao-pin-zhi-sheng-huo"
    assert seed.published_at == dt.datetime(2022, 7, 31, 22, 26, 46, tzinfo=dt.UTC)
    assert seed.categories == ["新媒体", "ZAKER", "source"]
    assert seed.status == Article.Status.PUBLISHED
    assert seed.raw_source == SEED.read_text(encoding="utf-8")
    assert seed.quality_warnings == []


def test_provenance(seed):
    assert seed.syndicator.name == "ZAKER"
    assert seed.original_url == "https://wap.peopleapp.com/article/6821807"
    assert seed.publisher.name == "人民日报"
    assert sorted(s.name for s in seed.data_sources.all()) == sorted(
        ["中共重庆市委组织部", "重庆市统计局", "重庆市生态环境局", "重庆市林业局"]
    )


def test_bylines(seed):
    reporters = [b.author.name for b in seed.bylines.filter(role=ArticleAuthor.Role.REPORTER).order_by("order")]
    assert reporters == ["王斌来", "崔佳", "蒋云龙", "刘新吾", "常碧罗", "王欣悦"]
    photographers = [b.author.name for b in seed.bylines.filter(role=ArticleAuthor.Role.PHOTOGRAPHER)]
    assert photographers == ["何超"]


def test_image_and_lead_image(seed):
    images = [placement.image for placement in seed.gallery.all()]
    assert len(images) == 1
    image = images[0]
    assert image.remote_url == IMAGE_URL
    assert (image.width, image.height) == (520, 659)
    assert image.caption == "底图：重庆渝中半岛，城市风貌日新月异。"
    assert image.photographer.name == "何超"
    assert "何超" in image.credit
    assert image.data_source_line.startswith("数据来源：")
    assert seed.lead_image == image


def test_regions_and_tags(seed):
    names = {r.name for r in seed.regions.all()}
    assert {"重庆市", "成渝地区双城经济圈"} <= names
    assert "重庆" in seed.tags.names()
    assert seed.tags.get(name="重庆").slug


def test_body_is_clean_and_complete(seed):
    html = seed.body_html
    for forbidden in ("onclick", "class=", "id=", "data-", "cors.zfour", "link.php", "打开 APP", "<p></p>", "<p>31</p>",
                      "<div", "何 超摄", "本报记者", "数据来源"):
        assert forbidden not in html, forbidden
    assert IMAGE_URL in html
    raw_paragraphs = [
        "智能车间，生产线上的机器手臂有序挥舞",
        "党的十八大以来，习近平总书记多次对重庆工作作出重要指示批示",
        "生产效率提升 33%，不良率下降 44.74%",
        "近年来，重庆在发展中保护绿水青山",
    ]
    positions = [seed.body_text.index(p) for p in raw_paragraphs]
    assert positions == sorted(positions)
    assert seed.summary.startswith("智能车间")


def test_reimport_changes_nothing(seed):
    before = (seed.updated_at, Article.objects.count())
    result = import_markdown_file(SEED)
    seed.refresh_from_db()
    assert result.status == "unchanged"
    assert (seed.updated_at, Article.objects.count()) == before


def test_second_copy_with_another_title_is_duplicate(seed, tmp_path):
    copy = tmp_path / "copy.md"
    copy.write_text(SEED.read_text(encoding="utf-8").replace("推动高质量发展 创造高品质生活", "重庆：两高之路"), encoding="utf-8")
    result = import_markdown_file(copy)
    assert result.status == "duplicate"
    assert Article.objects.count() == 1


def test_editor_changes_are_not_overwritten(seed, tmp_path):
    seed.title = "编辑改过的标题"
    seed.save()
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text(encoding="utf-8").replace("智能车间", "智能化车间"), encoding="utf-8")
    result = import_markdown_file(changed)
    assert result.status == "skipped"
    seed.refresh_from_db()
    assert seed.title == "编辑改过的标题"
    forced = import_markdown_file(changed, force=True)
    assert forced.status == "updated"
    seed.refresh_from_db()
    assert "智能化车间" in seed.body_text


def test_command_output_and_dry_run(tmp_path, capsys):
    call_command("import_articles", str(SEED), "--dry-run")
    out = capsys.readouterr().out
    assert "created" in out and "Dry run, nothing saved" in out
    assert Article.objects.count() == 0
    call_command("import_articles", str(SEED))
    assert Article.objects.get().status == Article.Status.DRAFT


def test_same_original_url_from_another_zaker_item_is_duplicate(seed, tmp_path):
    copy = tmp_path / "other_item.md"
    copy.write_text(SEED.read_text(encoding="utf-8").replace("pk=62e71e708e9f0940445ab814", "pk=000000000000000000000001"),
                    encoding="utf-8")
    assert import_markdown_file(copy).status == "duplicate"
    assert Article.objects.count() == 1
