"""The verified figures readers see, lined up for the region and indicator pages.

``public_figures()`` is the one queryset of public figures: verified, of an article in
``Article.objects.published()`` (the rule of the figures API and the article page);
``public_figures_shown()`` loads what the pages show of them. The rest is
pure Python over rows already loaded, so a page costs the same few queries however many figures
it shows:

* ``Vocabulary`` files a figure under its indicator: the vocabulary entry (``Indicator``) set as its
  ``standard``, else the entry whose name or alias its indicator text is, else that text itself.
* ``group_figures()`` builds ``IndicatorGroup`` -> ``Measure`` -> ``Row`` (a region) -> ``Cell`` (a
  period) -> ``Reading`` (one value and the figures stating it). A measure is a unit and a direction:
  a growth rate and a total of the same indicator are never compared. A cell with two readings is a
  conflict: articles disagree about one region's value for one period.

Charts are drawn by ``articles.charts``, CSV rows by the figures API (``articles.api.figures``).
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from articles.extraction.figures import UNITS
from articles.figure_marks import anchor
from articles.models import Article, Indicator, StatisticFigure

# Figures carry their article for its title, date and link; its bodies and documents stay on disk.
ARTICLE_DEFERRED = tuple(
    f"article__{name}" for name in (
        "summary", "body", "body_html", "body_text", "search_text", "raw_source", "quality_warnings",
        "page_document", "related_ids",
    )
)
# Short unit names where the vocabulary of articles.extraction.figures.UNITS reads long.
UNIT_LABELS = {"percent": "%", "permille": "‰", "yuan": "元", "percentage_point": "个百分点", "unit": "个"}
NO_INDICATOR = "未注明指标"
NO_REGION = "未注明地区"
_PERIOD_PART = re.compile(r"(\d{4})(?:Q([1-4])|H([12])|-(\d{1,2})(?:-(\d{1,2}))?)?")
_EPOCH = datetime.min.replace(tzinfo=UTC)


def public_figures():
    """Verified figures of published articles: the only figures any public page shows."""
    return StatisticFigure.objects.filter(
        status=StatisticFigure.Status.VERIFIED, article__in=Article.objects.published()
    ).order_by("pk")


def public_figures_shown():
    """``public_figures()`` with their article (title, date, address), region and source, in one query."""
    return public_figures().select_related("article", "region", "source").defer(*ARTICLE_DEFERRED)


def unit_label(unit: str) -> str:
    """A unit's short Chinese name: "%", "元", "亩"... (the canonical code itself when unknown)."""
    if unit in UNIT_LABELS:
        return UNIT_LABELS[unit]
    return UNITS[unit].split("（")[0] if unit in UNITS else unit


def period_key(period: str):
    """Chronological sort key of a period (``2021``, ``2021Q1``, ``2022H1``, ``2021-07``,
    ``2021-01/2021-07``, ``2021/2025``): by where it ends, then where it starts, so cumulative
    periods of one year line up (H1, 1-7 月, the year). Unknown forms follow by text, empty last."""
    bounds = [_bounds(part) for part in period.split("/")] if period else [None]
    if None in bounds:
        return (1 if period else 2, (), (), period)
    return (0, bounds[-1][1], bounds[0][0], period)


def _bounds(text):
    match = _PERIOD_PART.fullmatch(text.strip())
    if match is None:
        return None
    year, quarter, half, month, day = match.groups()
    year = int(year)
    if quarter:
        return (year, 3 * int(quarter) - 2, 1), (year, 3 * int(quarter), 31)
    if half:
        return (year, 6 * int(half) - 5, 1), (year, 6 * int(half), 31)
    if month:
        return (year, int(month), int(day or 1)), (year, int(month), int(day or 31))
    return (year, 1, 1), (year, 12, 31)


# --- which indicator ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorRef:
    """What a figure is filed under: a vocabulary ``entry``, or a ``name`` no entry knows."""

    name: str
    entry: Indicator | None = field(default=None, compare=False, hash=False)
    key: tuple = ()

    @property
    def has_page(self) -> bool:
        """Whether ``?indicator=`` can name it (figures with no indicator text share no page)."""
        return self.key != ("text", "")

    @property
    def query(self) -> str:
        """The ``?indicator=`` value of its page: the entry's slug, or the text."""
        return self.entry.slug if self.entry else self.name

    @property
    def url(self) -> str:
        return f"{reverse('articles:figures')}?{urlencode({'indicator': self.query})}"


class Vocabulary:
    """The indicator vocabulary, loaded once (one query), and the rule that files a figure under it."""

    def __init__(self):
        self.entries = list(Indicator.objects.all())
        self._by_pk = {entry.pk: entry for entry in self.entries}
        self._by_slug = {entry.slug: entry for entry in self.entries}
        self._by_name = {}
        for entry in self.entries:
            for name in [entry.name, *(entry.aliases or [])]:
                self._by_name.setdefault(_name_key(name), entry)
        self._by_name.pop("", None)

    def ref(self, entry: Indicator) -> IndicatorRef:
        return IndicatorRef(entry.name, entry, ("entry", entry.pk))

    def file(self, standard_id, indicator: str) -> IndicatorRef:
        """The indicator of a figure with ``standard_id`` and indicator text ``indicator``."""
        entry = self._by_pk.get(standard_id) if standard_id else self._by_name.get(_name_key(indicator))
        if entry is not None:
            return self.ref(entry)
        name = " ".join((indicator or "").split())
        return IndicatorRef(name or NO_INDICATOR, None, ("text", name))

    def find(self, query: str) -> IndicatorRef | None:
        """What ``?indicator=query`` names: an entry by slug, by name or alias, else the text (None if blank)."""
        query = " ".join((query or "").split())
        if not query:
            return None
        entry = self._by_slug.get(query) or self._by_name.get(_name_key(query))
        return self.ref(entry) if entry else IndicatorRef(query, None, ("text", query))

    def figures_of(self, ref: IndicatorRef, figures) -> list:
        """The rows of ``figures`` (a ``public_figures_shown()`` queryset) that ``file()`` puts under ``ref``.

        SQL narrows to a superset (the entry's figures, and unfiled ones whose text holds a word of
        one of its names), Python decides, so that the indicator page and ``group_figures()`` agree.
        """
        names = [ref.entry.name, *(ref.entry.aliases or [])] if ref.entry else [ref.name]
        mentions = Q()
        for name in names:
            if name.split():
                mentions |= Q(indicator__icontains=max(name.split(), key=len))
        unfiled = Q(standard__isnull=True) & mentions if mentions else Q(pk__in=[])
        candidates = figures.filter(Q(standard=ref.entry) | unfiled) if ref.entry else figures.filter(unfiled)
        return [figure for figure in candidates if self.file(figure.standard_id, figure.indicator) == ref]


def _name_key(text: str) -> str:
    return " ".join((text or "").split()).casefold()


# --- the tables --------------------------------------------------------------------------------------------


@dataclass
class Reading:
    """One value stated for a region and period, and the figures (articles) stating it, newest first."""

    figures: list

    @property
    def figure(self):
        return self.figures[0]

    @property
    def value(self) -> Decimal:
        return self.figure.value

    @property
    def links(self):
        """[(figure, the address of its sentence)], for templates."""
        return [(figure, figure_link(figure)) for figure in self.figures]

    @property
    def sources(self) -> list:
        """The names of the data sources the figures cite, each once."""
        return list(dict.fromkeys(figure.source.name for figure in self.figures if figure.source))


@dataclass
class Cell:
    region: object  # a Region, or None
    period: str
    readings: list

    @property
    def conflict(self) -> bool:
        return len(self.readings) > 1


@dataclass
class Row:
    region: object
    cells: list  # one per period of the measure: a Cell or None


@dataclass
class Measure:
    unit: str
    direction: str
    periods: list
    rows: list
    figure_count: int
    chart: object = None  # an articles.charts.Chart, set by the view

    @property
    def label(self) -> str:
        """水平/总量（元）, 增长（%）..."""
        direction = dict(StatisticFigure.Direction.choices).get(self.direction, self.direction)
        return f"{direction}（{unit_label(self.unit) if self.unit else '无单位'}）"

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)

    @property
    def dated_periods(self) -> list:
        return [period for period in self.periods if period]

    @property
    def conflicts(self) -> int:
        return sum(1 for row in self.rows for cell in row.cells if cell and cell.conflict)

    def by_period(self):
        """[(period, [cells of that period, one per region that has one])], in period order."""
        return [
            (period, [row.cells[i] for row in self.rows if row.cells[i] is not None])
            for i, period in enumerate(self.periods)
        ]


@dataclass
class IndicatorGroup:
    indicator: IndicatorRef
    measures: list
    figure_count: int

    @property
    def name(self) -> str:
        return self.indicator.name


def group_figures(figures, vocabulary: Vocabulary) -> list[IndicatorGroup]:
    """Public figures (``public_figures_shown()`` rows) lined up by indicator, measure, region and period.

    Indicators come by figure count (most first), then name; regions by administrative code then
    name, "no region" last; periods as ``period_key()`` orders them.
    """
    by_indicator = defaultdict(list)
    for figure in figures:
        by_indicator[vocabulary.file(figure.standard_id, figure.indicator)].append(figure)
    groups = [
        IndicatorGroup(ref, _measures(members), len(members)) for ref, members in by_indicator.items()
    ]
    return sorted(groups, key=lambda group: (-group.figure_count, group.name))


def _measures(figures):
    by_measure = defaultdict(list)
    for figure in figures:
        by_measure[(figure.unit, figure.direction)].append(figure)
    measures = [_measure(unit, direction, members) for (unit, direction), members in by_measure.items()]
    return sorted(measures, key=lambda measure: (-measure.figure_count, measure.label))


def _measure(unit, direction, figures):
    periods = sorted({figure.period for figure in figures}, key=period_key)
    regions = {figure.region_id: figure.region for figure in figures}
    ordered = sorted(regions.values(), key=region_key)
    cells = defaultdict(list)
    for figure in figures:
        cells[(figure.region_id, figure.period)].append(figure)
    rows = [
        Row(region, [
            Cell(region, period, _readings(cells[key])) if (key := (_pk(region), period)) in cells else None
            for period in periods
        ])
        for region in ordered
    ]
    return Measure(unit, direction, periods, rows, len(figures))


def _readings(figures):
    """The distinct values among ``figures``: the most stated first, then the newest article's."""
    by_value = defaultdict(list)
    for figure in sorted(figures, key=lambda f: (f.article.published_at or _EPOCH, f.pk), reverse=True):
        by_value[(figure.value, figure.value_end)].append(figure)
    return sorted((Reading(members) for members in by_value.values()), key=lambda r: -len(r.figures))


def region_key(region):
    """Regions by administrative code, then name; "no region" (None) last."""
    if region is None:
        return (1, "", "")
    return (0, region.code or "~", region.name)


def _pk(region):
    return region.pk if region is not None else None


def figure_link(figure) -> str:
    """Where a figure's sentence is: its mark in the article body, or its row in the figures panel
    when the sentence could not be marked (see ``articles.figure_marks``); the same id either way."""
    return f"{figure.article.get_absolute_url()}#{anchor(figure.pk)}"


# --- the list of indicators --------------------------------------------------------------------------------


@dataclass
class IndicatorSummary:
    indicator: IndicatorRef
    figure_count: int
    region_count: int
    periods: list  # dated periods, in order

    @property
    def name(self) -> str:
        return self.indicator.name


def summarize_indicators(vocabulary: Vocabulary) -> list[IndicatorSummary]:
    """Every indicator with a page (``IndicatorRef.has_page``) and public figures, most figures first (one query)."""
    figures, regions, periods = defaultdict(int), defaultdict(set), defaultdict(set)
    rows = public_figures().values_list("standard_id", "indicator", "region_id", "period")
    for standard_id, indicator, region_id, period in rows:
        ref = vocabulary.file(standard_id, indicator)
        figures[ref] += 1
        if region_id is not None:
            regions[ref].add(region_id)
        if period:
            periods[ref].add(period)
    summaries = [
        IndicatorSummary(ref, count, len(regions[ref]), sorted(periods[ref], key=period_key))
        for ref, count in figures.items() if ref.has_page
    ]
    return sorted(summaries, key=lambda summary: (-summary.figure_count, summary.name))
