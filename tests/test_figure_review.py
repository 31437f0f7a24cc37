"""Figures from extraction to review (articles.figure_review): the importer, re-extraction, the
editor's steps and their records, the extract_figures command and the indicator vocabulary."""

import importlib
import io
import shutil
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from articles import figure_review
from articles.figure_review import ExtractionContext, extract_candidates
from articles.importer.run import import_markdown_file
from articles.models import Article, FigureChange, Indicator, Region, Source, StatisticFigure

from .factories import SEED, make_article

pytestmark = pytest.mark.django_db

Status = StatisticFigure.Status
DEMO_SEED = SEED.parent.parent.parent / "demo" / "000_557d8bcde4ad9185.md"
seed_indicators = importlib.import_module("articles.migrations.0011_seed_indicators")


@pytest.fixture
def seed():
    result = import_markdown_file(SEED)
    assert result.status == "created", result.reason
    return Article.objects.get(slug=result.slug)


def figure_at(article, value_text, **filters):
    return StatisticFigure.objects.get(article=article, value_text=value_text, **filters)


def snapshot(figure):
    figure.refresh_from_db()
    return {f.attname: getattr(figure, f.attname) for f in StatisticFigure._meta.fields if f.name != "updated_at"}


# --- extraction at import -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SEED, DEMO_SEED], ids=["tests-data", "demo"])
def test_importing_the_seed_article_yields_typed_candidates(path):
    article = Article.objects.get(slug=import_markdown_file(path).slug)
    figures = list(article.figures.all())
    assert len(figures) >= 25
    assert {f.status for f in figures} == {Status.CANDIDATE}
    assert all(article.body_text[f.start_offset : f.end_offset] == f.quote for f in figures)

    total = figure_at(article, "7.4 万亿元")
    assert total.value == Decimal("7400000000000") and total.unit == "yuan" and total.direction == "level"
    assert total.period == "2021" and total.region.name == "成渝地区双城经济圈"
    assert total.standard.name == "地区生产总值" and total.indicator == "地区生产总值"
    growth = figure_at(article, "8.5%")
    assert (growth.direction, growth.standard, growth.region) == ("increase", total.standard, total.region)
    assert figure_at(article, "3200 多亩").region.name == "万州区"  # a number about 万州区 belongs to 万州区
    assert figure_at(article, "3200 多亩").is_approximate


def test_dry_run_import_stores_no_figures(tmp_path):
    result = import_markdown_file(SEED, dry_run=True)
    assert result.status == "created"
    assert not StatisticFigure.objects.exists()


def test_source_and_region_are_linked_when_the_sentence_names_them():
    article = make_article(body="<p>据重庆市统计局数据，2021 年万州区地区生产总值 1087 亿元。</p>")
    article.regions.add(Region.objects.get(name="重庆市"))
    bureau, _ = Source.objects.get_or_create(name="重庆市统计局", defaults={"kind": Source.Kind.DATA})
    article.data_sources.add(bureau)
    extract_candidates(article)
    figure = article.figures.get()
    assert (figure.region.name, figure.source, figure.standard.name) == ("万州区", bureau, "地区生产总值")
    assert figure.value == Decimal("108700000000")


# --- re-extraction ------------------------------------------------------------------------------------------


def test_re_extraction_is_idempotent_and_keeps_candidate_ids(seed):
    before = {f.pk: snapshot(f) for f in seed.figures.all()}
    result = extract_candidates(seed)
    assert (result.created, result.updated, result.removed) == (0, 0, 0)
    assert result.unchanged == result.found == len(before)
    assert {f.pk: snapshot(f) for f in seed.figures.all()} == before


def test_re_extraction_updates_unreviewed_candidates_in_place(seed):
    figure = figure_at(seed, "3400 万")
    figure.period = "1999"
    figure.save()
    result = extract_candidates(seed)
    assert result.updated == 1
    assert figure_at(seed, "3400 万").pk == figure.pk and figure_at(seed, "3400 万").period == "2022"


def test_re_extraction_never_overwrites_or_recreates_reviewed_figures(seed, editor):
    verified, corrected, rejected = (figure_at(seed, t) for t in ("7.4 万亿元", "8.5%", "3400 万"))
    figure_review.verify([verified], user=editor)
    figure_review.correct(corrected, user=editor, value=Decimal("8.6"), indicator="GDP 增速")
    figure_review.reject([rejected], user=editor)
    reviewed = {f.pk: snapshot(f) for f in (verified, corrected, rejected)}
    count = seed.figures.count()

    result = extract_candidates(seed)

    assert result.kept == 3 and result.created == 0
    assert seed.figures.count() == count  # the rejected one is not offered again
    assert {pk: snapshot(StatisticFigure.objects.get(pk=pk)) for pk in reviewed} == reviewed
    assert StatisticFigure.objects.get(pk=corrected.pk).value == Decimal("8.6")


def test_reimport_keeps_reviewed_figures_and_follows_their_sentence(seed, editor, tmp_path):
    verified = figure_at(seed, "7.4 万亿元")
    figure_review.verify([verified], user=editor)
    candidate_ids = set(seed.figures.filter(status=Status.CANDIDATE).values_list("pk", flat=True))
    changed = tmp_path / SEED.name
    shutil.copy(SEED, changed)
    text = changed.read_text(encoding="utf-8")
    lead = "<p>新加的一段导语，让后面的文字整体后移。</p>"
    changed.write_text(text.replace("<p>智能车间，生产线上", lead + "<p>智能车间，生产线上"), encoding="utf-8")

    assert import_markdown_file(changed).status == "updated"

    seed.refresh_from_db()
    verified.refresh_from_db()
    assert verified.status == Status.VERIFIED and verified.reviewed_by == editor
    assert seed.body_text[verified.start_offset : verified.end_offset] == verified.quote == "总量达 7.4 万亿元"
    moved = verified.changes.get(action=FigureChange.Action.EDITED)
    assert moved.user is None and set(moved.changes) == {"start_offset", "end_offset"}
    assert seed.figures.filter(value_text="7.4 万亿元").count() == 1
    # Unreviewed candidates were replaced in place where the text only moved: none is left pointing elsewhere.
    assert all(seed.body_text[f.start_offset : f.end_offset] == f.quote for f in seed.figures.all())
    assert seed.figures.filter(status=Status.CANDIDATE).count() == len(candidate_ids)


def test_reviewed_figure_whose_sentence_is_gone_is_kept(seed, editor):
    verified = figure_at(seed, "7.4 万亿元")
    figure_review.verify([verified], user=editor)
    seed.body = seed.body.replace("总量达 7.4 万亿元", "总量创新高")
    seed.save()
    result = extract_candidates(seed)
    assert result.stale == 1
    assert StatisticFigure.objects.get(pk=verified.pk).status == Status.VERIFIED


# --- review ----------------------------------------------------------------------------------------------


def test_every_step_is_recorded_with_user_time_and_fields(seed, editor, clock):
    figure = figure_at(seed, "7.4 万亿元")
    chongqing = Region.objects.get(name="重庆市")

    [verified] = figure_review.verify(StatisticFigure.objects.filter(pk=figure.pk), user=editor)
    verified_at = clock.now
    corrected_at = clock.advance(minutes=5)
    change = figure_review.correct(verified, user=editor, value=Decimal("7.5E12"), region=chongqing, unit="yuan")
    figure_review.reject([verified], user=editor)
    reopened_at = clock.advance(minutes=5)
    figure_review.reopen([verified], user=editor)

    records = list(figure.changes.order_by("created_at", "pk").values_list("action", "user", "created_at", "changes"))
    assert records == [
        ("verified", editor.pk, verified_at, {"status": ["candidate", "verified"]}),
        ("corrected", editor.pk, corrected_at,
         {"value": ["7400000000000", "7500000000000"], "region": ["成渝地区双城经济圈", "重庆市"]}),
        ("rejected", editor.pk, corrected_at, {"status": ["verified", "rejected"]}),
        ("reopened", editor.pk, reopened_at, {"status": ["rejected", "candidate"]}),
    ]
    assert change.action == "corrected"
    figure.refresh_from_db()
    assert (figure.status, figure.corrected, figure.reviewed_by, figure.reviewed_at) == (
        Status.CANDIDATE, True, editor, clock.now)
    assert (figure.value, figure.region) == (Decimal("7500000000000"), chongqing)


def test_a_step_that_changes_nothing_records_nothing(seed, editor):
    figure = figure_at(seed, "7.4 万亿元")
    assert figure_review.correct(figure, user=editor, value=Decimal("7400000000000.000000"), unit="yuan") is None
    assert figure_review.reopen([figure], user=editor) == []
    figure_review.verify([figure], user=editor)
    assert figure_review.verify([figure], user=editor) == []
    assert figure.changes.count() == 1
    assert not StatisticFigure.objects.get(pk=figure.pk).corrected


def test_bulk_steps_change_only_figures_in_another_state(seed, editor):
    figures = seed.figures.all()
    total = figures.count()
    assert len(figure_review.verify(figures, user=editor)) == total
    assert len(figure_review.reject(figures.filter(unit="percent"), user=editor)) == figures.filter(unit="percent").count()
    assert figure_review.verify(figures, user=editor)  # the rejected ones, verified again
    assert set(figures.values_list("status", flat=True)) == {Status.VERIFIED}
    assert FigureChange.objects.filter(action="verified").count() == total + figures.filter(unit="percent").count()


def test_corrections_are_validated_and_limited_to_correctable_fields(seed, editor):
    figure = figure_at(seed, "7.4 万亿元")
    with pytest.raises(ValueError, match="quote"):
        figure_review.correct(figure, user=editor, quote="别的句子")
    with pytest.raises(ValidationError):
        figure_review.correct(figure, user=editor, value=Decimal("1E30"))
    assert not figure.changes.exists()


def test_contributors_may_not_review(seed, contributor):
    figure = figure_at(seed, "7.4 万亿元")
    assert not figure_review.can_review(contributor)
    for step in (figure_review.verify, figure_review.reject, figure_review.reopen):
        with pytest.raises(PermissionError):
            step([figure], user=contributor)
    with pytest.raises(PermissionError):
        figure_review.correct(figure, user=contributor, value=Decimal(1))
    assert StatisticFigure.objects.get(pk=figure.pk).status == Status.CANDIDATE
    assert not FigureChange.objects.exists()


# --- the command -----------------------------------------------------------------------------------------


def test_extract_figures_command_reports_progress_and_a_summary(seed, editor):
    other = make_article(body="<p>2021 年，浙江省生产总值 7.35 万亿元，GDP 增长 8.5%。</p>")
    figure_review.verify([figure_at(seed, "7.4 万亿元")], user=editor)
    seed.figures.filter(status=Status.CANDIDATE).delete()

    out = io.StringIO()
    call_command("extract_figures", "--all", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"[1/2] {seed.slug}: ") and "1 reviewed kept" in lines[0]
    assert lines[1].startswith(f"[2/2] {other.slug}: 2 found, 2 new")
    assert lines[2].startswith("2 article(s): ") and "1 reviewed figure(s) kept" in lines[2]

    out = io.StringIO()
    call_command("extract_figures", "--article", other.slug, stdout=out)
    assert out.getvalue().splitlines()[0] == f"[1/1] {other.slug}: 2 found, 0 new, 0 updated, 0 removed, 0 reviewed kept"


@pytest.mark.parametrize("args, message", [((), "--all"), (("--article", "no-such-article"), "no-such-article")])
def test_extract_figures_command_needs_articles(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("extract_figures", *args, stdout=io.StringIO())


# --- the vocabulary --------------------------------------------------------------------------------------


def test_vocabulary_lines_up_gdp_figures_from_different_articles():
    chongqing = Region.objects.get(name="重庆市")
    texts = ["<p>2021 年，重庆市地区生产总值 2.79 万亿元。</p>", "<p>2021 年，重庆 GDP 增长 8.3%。</p>",
             "<p>2021 年，重庆实现生产总值 27894 亿元。</p>"]
    for body in texts:
        article = make_article(body=body)
        article.regions.add(chongqing)
        extract_candidates(article)
    gdp = Indicator.objects.get(name="地区生产总值")
    figures = StatisticFigure.objects.order_by("pk")
    assert len(figures) == 3 and {f.standard for f in figures} == {gdp}
    assert {f.region for f in figures} == {chongqing}
    assert sorted(gdp.figures.values_list("unit", flat=True)) == ["percent", "yuan", "yuan"]


@pytest.mark.parametrize("phrase", ["GDP", " gdp ", "生产总值", "经济总量", "常住人口", "城镇居民人均可支配收入",
                                    "社会消费品零售总额", "外贸进出口", "空气质量优良天数比例", "不良率", ""])
def test_extraction_matches_the_vocabulary_as_indicator_matching_does(phrase):
    assert ExtractionContext.load().indicator(phrase) == Indicator.objects.matching(phrase)


def test_extraction_also_matches_a_phrase_the_extractor_left_a_verb_on():
    context = ExtractionContext.load()
    assert context.indicator("完成规模以上工业增加值") == Indicator.objects.get(name="规模以上工业增加值")
    assert context.indicator("GDP、") == Indicator.objects.get(name="地区生产总值")


def test_seeded_vocabulary_covers_common_regional_statistics():
    names = set(Indicator.objects.values_list("name", flat=True))
    assert {"地区生产总值", "常住人口", "居民人均可支配收入", "城镇居民人均可支配收入", "农村居民人均可支配收入",
            "社会消费品零售总额", "固定资产投资", "进出口总额", "规模以上工业增加值", "一般公共预算收入", "粮食产量",
            "耕地面积", "森林覆盖率", "空气质量优良天数比例", "城镇化率"} <= names
    gdp = Indicator.objects.get(name="地区生产总值")
    assert {"GDP", "生产总值", "经济总量"} <= set(gdp.aliases) and gdp.unit == "yuan"
    assert gdp.slug == "di-qu-sheng-chan-zong-zhi"
    assert Indicator.objects.matching("外贸进出口").name == "进出口总额"


def test_seed_migration_is_idempotent_keeps_editors_aliases_and_links_figures():
    gdp = Indicator.objects.get(name="地区生产总值")
    gdp.aliases = [*gdp.aliases, "GRP"]
    gdp.save()
    figure = StatisticFigure.objects.create(article=make_article(), indicator="GDP", value=1, value_text="1 亿元",
                                            quote="GDP 1 亿元", start_offset=0, end_offset=8)
    count = Indicator.objects.count()
    seed_indicators.seed(apps, None)
    assert Indicator.objects.count() == count
    assert "GRP" in Indicator.objects.get(pk=gdp.pk).aliases
    figure.refresh_from_db()
    assert figure.standard == gdp


def test_editors_may_keep_the_vocabulary_and_read_review_records():
    editor = Group.objects.get(name="Editor").permissions.values_list("codename", flat=True)
    assert {"add_indicator", "change_indicator", "delete_indicator", "view_indicator", "view_figurechange"} <= set(editor)
    contributor = Group.objects.get(name="Contributor").permissions.values_list("codename", flat=True)
    assert "view_indicator" in contributor and "change_indicator" not in contributor


def test_demo_figures_are_verified_as_the_demo_editor_and_recorded(seed):
    call_command("create_demo_users", "--password", "pw", stdout=io.StringIO())
    linked = StatisticFigure.objects.filter(article=seed, standard__isnull=False).count()
    unlinked = StatisticFigure.objects.filter(article=seed, standard__isnull=True).count()
    assert linked and unlinked  # the seed has both kinds

    out = io.StringIO()
    call_command("verify_demo_figures", stdout=out)
    assert f"Verified {linked} demo figure(s) as editor" in out.getvalue()
    verified = StatisticFigure.objects.filter(status=StatisticFigure.Status.VERIFIED)
    assert verified.count() == linked and not verified.filter(standard__isnull=True).exists()
    assert set(FigureChange.objects.values_list("user__username", "action").distinct()) == {("editor", "verified")}

    call_command("verify_demo_figures", stdout=out)  # again: nothing more
    assert "Verified 0 demo figure(s)" in out.getvalue()


def test_verify_demo_figures_needs_the_demo_editor():
    with pytest.raises(CommandError, match="create_demo_users"):
        call_command("verify_demo_figures", stdout=io.StringIO())


def test_restoring_a_revision_keeps_reviewed_figures_and_their_history(seed, editor):
    from articles.revisions import record_revision, restore_revision

    verified, corrected = figure_at(seed, "7.4 万亿元"), figure_at(seed, "8.5%")
    first = record_revision(seed, user=editor, message="导入")
    figure_review.verify([verified], user=editor)
    figure_review.correct(corrected, user=editor, value=Decimal("8.6"))
    reviewed = {f.pk: snapshot(f) for f in (verified, corrected)}
    history = FigureChange.objects.filter(figure__article=seed).count()

    seed.body = "<p>新增的一段开头。</p>" + seed.body  # an edit moves every sentence...
    seed.save()
    restore_revision(first, user=editor)  # ...and restoring the revision moves them back

    for pk, before in reviewed.items():
        after = snapshot(StatisticFigure.objects.get(pk=pk))
        assert after["status"] == before["status"] and after["value"] == before["value"]
        assert after["reviewed_by_id"] == editor.pk
        assert after["start_offset"] == before["start_offset"]  # its sentence, where the restored text has it
    assert FigureChange.objects.filter(figure__article=seed).count() >= history  # nothing of it lost
