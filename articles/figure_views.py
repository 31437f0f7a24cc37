"""The public figure pages: verified figures of published articles, as tables, charts and CSV.

* ``/regions/<slug>/figures/``: a region's figures (its own, its subregions', an area's members':
  ``Region.objects.in_scope_of``, the region page's rule), by indicator, measure and period, with
  a line chart for each measure that has two or more periods.
* ``/figures/``: the indicators that have public figures; ``/figures/?indicator=<slug or name>``:
  one indicator across regions, regions × periods, with values that articles disagree on flagged,
  and a chart (lines over periods, or bars when there is one period).
* ``?format=csv`` on either page: its figures as the figures API's CSV rows (``articles.api.figures``:
  the same columns, UTF-8 with a BOM), with their provenance.

What the pages show is put together by ``articles.figure_tables`` and drawn by ``articles.charts``;
the views choose the figures and the metadata. Each page costs the same few queries whatever it shows.
"""

import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from articles.api.figures import CSV_COLUMNS, flatten_figure
from articles.charts import bar_chart, line_chart
from articles.export import serialize_figure
from articles.figure_tables import Vocabulary, group_figures, public_figures_shown, summarize_indicators
from articles.models import Region
from articles.seo import page_meta

INDEX_DESCRIPTION = "Newsroom 文章中经编辑核实的统计数字，按指标排列：各地同一时期的数值并列比较，附图表、原文句子和 CSV 下载。"


def region_figures(request, slug):
    """A region's verified figures by indicator and period, with charts; ``?format=csv`` for the rows."""
    region = get_object_or_404(Region.objects.select_related("parent"), slug=slug)
    figures = public_figures_shown().filter(region__in=Region.objects.in_scope_of(region))
    if request.GET.get("format") == "csv":
        return csv_response(request, figures, f"{region.slug}-figures.csv")
    groups = group_figures(figures, Vocabulary())
    for number, group in enumerate(groups, start=1):
        for index, measure in enumerate(group.measures, start=1):
            measure.chart = line_chart(measure, chart_id=f"chart-{number}-{index}", title=f"{region.name} · {group.name}")
    names = "、".join(group.name for group in groups[:5])
    description = (
        f"{region.name}经编辑核实的统计数字{'：' + names + ('等' if len(groups) > 5 else '') if names else ''}，"
        "按指标和时期排列，附图表、原文句子和 CSV 下载。"
    )
    context = {
        "region": region,
        "groups": groups,
        "figure_count": sum(group.figure_count for group in groups),
        "page_meta": page_meta(request, title=f"{region.name} · 统计数字", description=description),
    }
    return render(request, "articles/region_figures.html", context)


def figures(request):
    """``?indicator=``: one indicator across regions (404 when it has no public figures); else the list."""
    vocabulary = Vocabulary()
    if not (request.GET.get("indicator") or "").strip():
        context = {
            "indicators": summarize_indicators(vocabulary),
            "page_meta": page_meta(request, title="统计数字", description=INDEX_DESCRIPTION),
        }
        return render(request, "articles/figure_list.html", context)
    indicator = vocabulary.find(request.GET["indicator"])
    shown = vocabulary.figures_of(indicator, public_figures_shown())
    if not shown:
        raise Http404("没有这个指标的核实数字")
    if request.GET.get("format") == "csv":
        return csv_response(request, shown, f"{slugify(indicator.query, allow_unicode=True) or 'indicator'}-figures.csv")
    (group,) = group_figures(shown, vocabulary)
    for index, measure in enumerate(group.measures, start=1):
        chart_id, title = f"chart-{index}", indicator.name
        measure.chart = line_chart(measure, chart_id=chart_id, title=title) or (
            bar_chart(measure, measure.periods[0], chart_id=chart_id, title=title) if len(measure.periods) == 1 else None
        )
    entry = indicator.entry
    description = (entry.description if entry and entry.description else "") or (
        f"{indicator.name}：各地区经编辑核实的数值，同一时期并列比较，标出文章之间不一致的数值，附图表和原文句子。"
    )
    context = {
        "indicator": indicator,
        "group": group,
        "aliases": [alias for alias in (entry.aliases or []) if alias] if entry else [],
        "page_meta": page_meta(
            request, title=f"{indicator.name} · 各地比较", description=description, path=indicator.url,
        ),
    }
    return render(request, "articles/indicator_detail.html", context)


def csv_response(request, figures, filename) -> HttpResponse:
    """``figures`` as the figures API writes them (its columns and rows), BOM first so Excel reads UTF-8.

    A whole response rather than a stream: a region's or an indicator's figures are few, and the page
    cache keeps only complete responses.
    """
    site = request.build_absolute_uri("/")
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for figure in figures:
        writer.writerow(flatten_figure(serialize_figure(figure, site)))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
