"""The figure desk and the indicator vocabulary through the real admin, and the article desk's figure parts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles import figure_review
from articles.figure_review import extract_candidates
from articles.importer.run import import_markdown_file
from articles.models import Article, FigureChange, Indicator, Region, StatisticFigure

from .adminform import form_data
from .factories import SEED, client_for, make_article

pytestmark = pytest.mark.django_db

DESK = "admin:articles_statisticfigure_changelist"
Status = StatisticFigure.Status


def change_url(figure):
    return reverse("admin:articles_statisticfigure_change", args=[figure.pk])


@pytest.fixture
def seed():
    return Article.objects.get(slug=import_markdown_file(SEED).slug)


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the desk: list --------------------------------------------------------------------------------------------


def test_desk_lists_figures_with_filters_and_search(editor, seed):
    client = client_for(editor)
    response = client.get(reverse(DESK))
    html = response.content.decode()
    assert response.status_code == 200
    assert "7.4 万亿元" in html and "成渝地区双城经济圈" in html and seed.title in html and "待核实" in html
    gdp = Indicator.objects.get(name="地区生产总值")
    region = Region.objects.get(name="万州区")
    for query in ("status__exact=candidate", "unit=percent", "direction__exact=increase",
                  f"region__id__exact={region.pk}", f"standard__id__exact={gdp.pk}", "article_publication=live",
                  "article_publication=hidden", "corrected__exact=0", f"article__id__exact={seed.pk}"):
        assert client.get(reverse(DESK) + "?" + query).status_code == 200, query
    found = client.get(reverse(DESK), {"q": "地区生产总值"}).context["cl"].result_list
    assert sorted(f.value_text for f in found) == ["7.4 万亿元", "8.5%"]
    by_indicator = client.get(reverse(DESK), {"standard__id__exact": gdp.pk}).context["cl"].result_list
    assert sorted(f.value_text for f in by_indicator) == ["7.4 万亿元", "8.5%"]
    live = client.get(reverse(DESK), {"article_publication": "live"}).context["cl"].result_list
    assert list(live) == []  # the seed is imported as a draft


def test_desk_query_count_does_not_grow_with_figures(editor, seed):
    client = client_for(editor)
    few = queries(client, reverse(DESK))
    for n in range(5):
        article = make_article(body=f"<p>2021 年，万州区地区生产总值增长 {n}.5%，总量 {n + 1}000 亿元。</p>")
        article.regions.add(Region.objects.get(name="重庆市"))
        extract_candidates(article)
    assert queries(client, reverse(DESK)) == few


# --- the desk: change form -------------------------------------------------------------------------------------


def test_change_form_shows_the_quote_highlighted_in_its_context_escaped(editor):
    article = make_article(body="<p>导语。</p><p>2021 年，重庆市地区生产总值 2.79 万亿元，&lt;script&gt;alert(1)&lt;/script&gt;"
                                "比上年增长 8.3%。</p>")
    article.regions.add(Region.objects.get(name="重庆市"))
    extract_candidates(article)
    figure = article.figures.get(value_text="2.79 万亿元")
    html = client_for(editor).get(change_url(figure)).content.decode()
    assert "2021 年，<mark>重庆市地区生产总值 <strong>2.79 万亿元</strong></mark>，&lt;script&gt;alert(1)" in html
    assert "<script>alert(1)" not in html
    assert "导语" not in html.split("<mark>")[1].split("</div>")[0]  # the paragraph only


def test_change_form_correction_and_verification_are_recorded(editor, seed):
    figure = StatisticFigure.objects.get(article=seed, value_text="7.4 万亿元")
    chongqing = Region.objects.get(name="重庆市")
    client = client_for(editor)
    data = form_data(client.get(change_url(figure)))
    data.update({"value": "7500000000000", "region": str(chongqing.pk), "status": "verified"})
    response = client.post(change_url(figure), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""

    figure.refresh_from_db()
    assert (figure.value, figure.region, figure.status, figure.corrected) == (
        Decimal("7500000000000"), chongqing, Status.VERIFIED, True)
    assert figure.reviewed_by == editor and figure.reviewed_at is not None
    records = list(figure.changes.order_by("pk").values_list("action", "user", "changes"))
    assert records == [
        ("corrected", editor.pk, {"value": ["7400000000000", "7500000000000"], "region": ["成渝地区双城经济圈", "重庆市"]}),
        ("verified", editor.pk, {"status": ["candidate", "verified"]}),
    ]
    html = client.get(change_url(figure)).content.decode()
    assert "数值：7400000000000 → 7500000000000" in html and "状态：待核实 → 已核实" in html
    assert "ed · 更正" in html and "ed · 核实" in html

    # Saving the form again unchanged records nothing more.
    assert client.post(change_url(figure), form_data(client.get(change_url(figure)))).status_code == 302
    assert figure.changes.count() == 2


def test_change_form_autocompletes_region_source_and_standard(editor, seed):
    client = client_for(editor)
    html = client.get(change_url(seed.figures.first())).content.decode()
    for field in ("region", "source", "standard"):
        assert f'name="{field}"' in html and "admin-autocomplete" in html
    response = client.get("/admin/autocomplete/", {"app_label": "articles", "model_name": "statisticfigure",
                                                   "field_name": "standard", "term": "GDP"})
    assert response.status_code == 200
    assert "地区生产总值" in [item["text"] for item in response.json()["results"]]


def test_editor_adds_a_missed_figure_by_hand(editor, seed):
    client = client_for(editor)
    add_url = reverse("admin:articles_statisticfigure_add")
    text = seed.body_text
    start = text.index("长江干流重庆段水质保持为Ⅱ类")
    data = form_data(client.get(add_url))
    data.update({"article": str(seed.pk), "quote": "长江干流重庆段水质保持为Ⅱ类", "start_offset": str(start),
                 "end_offset": str(start + 14), "value_text": "Ⅱ类", "value": "2", "unit": "", "indicator": "水质类别"})
    response = client.post(add_url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    figure = StatisticFigure.objects.get(value_text="Ⅱ类")
    assert figure.corrected and figure.reviewed_by == editor
    assert figure.changes.get().action == FigureChange.Action.EDITED
    extract_candidates(seed)
    assert StatisticFigure.objects.filter(value_text="Ⅱ类").get() == figure  # extraction leaves it alone


# --- the desk: bulk actions and permissions ---------------------------------------------------------------------


def test_bulk_verify_reject_reopen_report_counts(editor, seed):
    client = client_for(editor)
    ids = list(seed.figures.order_by("pk").values_list("pk", flat=True)[:3])

    def act(action, pks):
        response = client.post(reverse(DESK), {"action": action, "_selected_action": pks}, follow=True)
        return messages_of(response)

    assert act("verify_selected", ids) == ["已核实 3 个数字。"]
    assert act("verify_selected", ids[:2]) == ["已核实 0 个数字。2 个本来就是这个状态，未改变。"]
    assert act("reject_selected", ids[:1]) == ["已否决 1 个数字。"]
    assert act("reopen_selected", ids) == ["已退回 3 个数字。"]
    assert set(StatisticFigure.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Status.CANDIDATE}
    actions = list(FigureChange.objects.filter(figure_id=ids[0]).order_by("pk").values_list("action", "user"))
    assert actions == [("verified", editor.pk), ("rejected", editor.pk), ("reopened", editor.pk)]


def test_contributors_see_the_desk_but_may_not_verify(contributor, seed):
    client = client_for(contributor)
    figure = seed.figures.first()
    response = client.get(reverse(DESK))
    assert response.status_code == 200
    assert "verify_selected" not in response.content.decode()
    client.post(reverse(DESK), {"action": "verify_selected", "_selected_action": [figure.pk]})
    page = client.get(change_url(figure))
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()  # read-only
    data = {"status": "verified", "value": "1", "value_text": figure.value_text}
    assert client.post(change_url(figure), data).status_code == 403
    assert client.get(reverse("admin:articles_statisticfigure_add")).status_code == 403
    figure.refresh_from_db()
    assert figure.status == Status.CANDIDATE and not FigureChange.objects.exists()


# --- the article desk ------------------------------------------------------------------------------------------


def test_article_form_shows_figures_with_status_and_a_link_to_the_desk(editor, seed):
    figure = StatisticFigure.objects.get(article=seed, value_text="7.4 万亿元")
    figure_review.verify([figure], user=editor)
    html = client_for(editor).get(reverse("admin:articles_article_change", args=[seed.pk])).content.decode()
    assert "已核实" in html and "待核实" in html and change_url(figure) in html
    assert 'name="figures-0-value"' not in html  # corrections happen at the desk, where they are recorded


def test_article_form_query_count_does_not_grow_with_figures(editor, seed):
    client = client_for(editor)
    url = reverse("admin:articles_article_change", args=[seed.pk])
    many = queries(client, url)
    seed.figures.filter(pk__in=list(seed.figures.values_list("pk", flat=True)[:25])).delete()
    assert queries(client, url) == many


def test_article_action_extracts_figures_and_the_list_links_to_the_desk(editor, seed):
    seed.figures.all().delete()
    client = client_for(editor)
    response = client.post(reverse("admin:articles_article_changelist"),
                           {"action": "extract_figures_selected", "_selected_action": [seed.pk]}, follow=True)
    count = seed.figures.count()
    assert count >= 25
    # Queued (articles/tasks.py); the tests' immediate task backend has run it by now.
    assert messages_of(response) == ["已将 1 篇文章的统计数字抽取加入后台队列，完成后新数字会出现在待核实列表中。"]
    html = client.get(reverse("admin:articles_article_changelist")).content.decode()
    assert f'?article__id__exact={seed.pk}">{count}</a>' in html


def test_contributor_extracts_figures_of_own_drafts_only(contributor, editor):
    body = "<p>2021 年，重庆市地区生产总值 2.79 万亿元。</p>"
    mine = make_article(body=body, status=Article.Status.DRAFT, created_by=contributor)
    theirs = make_article(body=body, status=Article.Status.DRAFT, created_by=editor)
    response = client_for(contributor).post(reverse("admin:articles_article_changelist"),
                                            {"action": "extract_figures_selected", "_selected_action": [mine.pk, theirs.pk]},
                                            follow=True)
    assert "1 篇无权操作" in messages_of(response)[0]
    assert (mine.figures.count(), theirs.figures.count()) == (1, 0)


# --- the vocabulary ---------------------------------------------------------------------------------------------


def test_indicator_admin_lists_counts_and_finds_aliases(editor, seed):
    client = client_for(editor)
    url = reverse("admin:articles_indicator_changelist")
    response = client.get(url, {"q": "GDP"})
    assert {str(row) for row in response.context["cl"].result_list} == {
        "地区生产总值", "人均地区生产总值", "单位地区生产总值能耗", "经济密度"}  # GDP, 人均GDP, 单位GDP能耗, 地均GDP
    gdp = next(row for row in response.context["cl"].result_list if row.name == "地区生产总值")
    assert gdp.figure_total == 2
    assert "GDP、生产总值、经济总量" in response.content.decode()
    assert client.get(reverse("admin:articles_indicator_change", args=[gdp.pk])).status_code == 200


def test_indicator_form_takes_aliases_as_text_and_refuses_a_name_taken(editor):
    client = client_for(editor)
    add_url = reverse("admin:articles_indicator_add")
    data = form_data(client.get(add_url))
    data.update({"name": "研发经费", "alias_text": "R&D经费、研发经费投入\n研究与试验发展经费", "unit": "yuan"})
    assert client.post(add_url, data).status_code == 302
    entry = Indicator.objects.get(name="研发经费")
    assert entry.aliases == ["R&D经费", "研发经费投入", "研究与试验发展经费"] and entry.slug == "yan-fa-jing-fei"
    data.update({"name": "经济", "alias_text": "GDP"})
    response = client.post(add_url, data)
    assert response.status_code == 200 and "「GDP」已是指标「地区生产总值」的名称或别名" in response.content.decode()
