"""Server-rendered SVG charts of a measure's figures (``articles.figure_tables.Measure``).

``line_chart()``: one line per region across two or more periods. ``bar_chart()``: regions side by
side in one period. Both return a ``Chart``, plain numbers and labels that
``articles/includes/_chart.html`` draws as inline SVG with ``<title>``, ``<desc>`` and the page's
table as the text alternative; the template escapes every label. No script, no library: a few
dozen lines of geometry do not earn a dependency. Colours are presentation attributes (the site
allows no inline styles) from the Okabe-Ito palette, which colour-blind readers can tell apart.
"""

import math
from dataclasses import dataclass, field

from articles.figure_tables import NO_REGION

WIDTH = 640
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 80, 20, 28, 40
LINE_HEIGHT = 300
BAR_BAND = 28  # height of one bar's band in a bar chart
MAX_SERIES = 7  # lines drawn (the regions with the most values); the table has them all
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")


@dataclass
class Point:
    x: float
    y: float
    label: str  # 重庆市 · 2021：7.4 万亿元
    conflict: bool = False


@dataclass
class Series:
    label: str
    color: str
    points: list = field(default_factory=list)
    path: str = ""  # the line through each period's first reading


@dataclass
class Bar:
    label: str
    value_label: str
    color: str
    x: float
    y: float
    width: float
    height: float
    conflict: bool = False

    @property
    def text_y(self):
        return round(self.y + self.height / 2, 1)

    @property
    def value_x(self):
        return round(self.x + self.width + 6, 1)


@dataclass
class Chart:
    id: str
    kind: str  # "line" or "bar"
    title: str
    description: str
    width: int
    height: int
    plot: dict  # left, top, right, bottom of the plotting area; see _plot()
    y_ticks: list = field(default_factory=list)  # [(y, label)] for a line chart
    value_ticks: list = field(default_factory=list)  # [(x, label)] for a bar chart
    x_labels: list = field(default_factory=list)  # [(x, label)]
    series: list = field(default_factory=list)
    bars: list = field(default_factory=list)
    unit: str = ""


def line_chart(measure, *, chart_id: str, title: str):
    """Lines of ``measure``'s regions across its dated periods; None with fewer than two periods."""
    periods = measure.dated_periods
    if len(periods) < 2:
        return None
    rows = sorted(measure.rows, key=lambda row: -sum(1 for cell in row.cells if cell and cell.period))[:MAX_SERIES]
    values = [float(r.value) for row in rows for cell in row.cells if cell and cell.period for r in cell.readings]
    low, high, ticks = _scale(values)
    plot = _plot(MARGIN_LEFT, LINE_HEIGHT)
    step = (plot["right"] - plot["left"]) / len(periods)
    x_of = {period: plot["left"] + step * (i + 0.5) for i, period in enumerate(periods)}

    def y_of(value):
        return plot["bottom"] - (value - low) / (high - low) * (plot["bottom"] - plot["top"])

    series = []
    for n, row in enumerate(rows):
        line = Series(_region_name(row.region), PALETTE[n % len(PALETTE)])
        for cell in row.cells:
            if cell is None or not cell.period:
                continue
            for i, reading in enumerate(cell.readings):
                line.points.append(Point(
                    round(x_of[cell.period], 1), round(y_of(float(reading.value)), 1),
                    f"{line.label} · {cell.period}：{reading.figure.value_text}", cell.conflict,
                ))
                if i == 0:
                    line.path += f"{'M' if not line.path else ' L'}{line.points[-1].x} {line.points[-1].y}"
        series.append(line)
    omitted = len(measure.rows) - len(rows)
    description = (
        f"折线图：{title}，{measure.label}，{periods[0]} 至 {periods[-1]}，"
        f"{'、'.join(line.label for line in series)}。"
        + (f"另有 {omitted} 个地区未画出。" if omitted else "")
        + "数值见图下的表格。"
    )
    return Chart(
        chart_id, "line", title, description, WIDTH, LINE_HEIGHT, plot,
        y_ticks=[(round(y_of(tick), 1), format_number(tick)) for tick in ticks],
        x_labels=[(round(x_of[period], 1), period) for period in periods],
        series=series, unit=measure.unit_label,
    )


def bar_chart(measure, period: str, *, chart_id: str, title: str):
    """Bars of ``measure``'s regions in ``period`` (every reading of a conflicting cell gets its own
    bar); None with fewer than two bars."""
    index = measure.periods.index(period)
    readings = [
        (row.region, cell, reading)
        for row in measure.rows if (cell := row.cells[index]) is not None
        for reading in cell.readings
    ]
    if len(readings) < 2:
        return None
    low, high, ticks = _scale([float(reading.value) for _, _, reading in readings])
    height = MARGIN_TOP + BAR_BAND * len(readings) + MARGIN_BOTTOM
    plot = _plot(MARGIN_LEFT + 70, height, right_margin=100)  # region names left of the bars, values right

    def x_of(value):
        return plot["left"] + (value - low) / (high - low) * (plot["right"] - plot["left"])

    zero = x_of(max(low, 0))
    bars = []
    for n, (region, cell, reading) in enumerate(readings):
        end = x_of(float(reading.value))
        bars.append(Bar(
            _region_name(region), reading.figure.value_text, PALETTE[0] if not cell.conflict else PALETTE[1],
            round(min(zero, end), 1), plot["top"] + BAR_BAND * n + 4, max(round(abs(end - zero), 1), 1), BAR_BAND - 8,
            cell.conflict,
        ))
    description = (
        f"条形图：{title}，{measure.label}，{period}，"
        + "；".join(f"{bar.label} {bar.value_label}" for bar in bars)
        + "。数值见图下的表格。"
    )
    return Chart(
        chart_id, "bar", title, description, WIDTH, height, plot,
        value_ticks=[(round(x_of(tick), 1), format_number(tick)) for tick in ticks], bars=bars, unit=measure.unit_label,
    )


def _plot(left, height, right_margin=MARGIN_RIGHT):
    """The plotting area, and where the labels around it go (templates cannot add)."""
    bottom = height - MARGIN_BOTTOM
    return {
        "left": left, "top": MARGIN_TOP, "right": WIDTH - right_margin, "bottom": bottom,
        "label_x": left - 8, "label_y": bottom + 20, "unit_y": MARGIN_TOP - 12,
    }


def _region_name(region):
    return region.name if region is not None else NO_REGION


def _scale(values):
    """(low, high, ticks): a range from zero (or below it) to the largest value, on round numbers."""
    low, high = min(0.0, *values), max(0.0, *values)
    if low == high:
        high = low + 1
    raw_step = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    ticks = [low + i * step for i in range(round((high - low) / step) + 1)]
    return low, high, ticks


def format_number(value: float) -> str:
    """A tick label: 7.4万亿, 2500亿, 36万, 8.5."""
    for size, word in ((1e12, "万亿"), (1e8, "亿"), (1e4, "万")):
        if abs(value) >= size:
            return f"{value / size:.4g}{word}"
    return f"{value:.4g}"
