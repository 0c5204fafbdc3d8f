"""Geometry of the reports page's charts, computed here so the templates only place what they get.

The charts are inline SVG without a viewBox: lengths along the chart are percentages of its
width and heights are pixels, so the chart fills any width from a phone to a desktop while its
text stays at the page's own size (a scaled viewBox would shrink the labels to a few pixels on a
phone). Every number is printed beside its bar and every bar is labelled, so nothing depends on
colour. Attributes are SVG presentation attributes and classes: the Content-Security-Policy
allows no inline `style`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Horizontal bars: one row per item, the label above its bar, the count at the bar's end.
ROW_HEIGHT = 40
LABEL_BASELINE = 14
BAR_TOP, BAR_HEIGHT = 20, 14
COUNT_BASELINE = "31.5"  # a string: templates would localise a float's decimal point
# A bar at least this long carries its count inside, at its end; a shorter one beside it.
COUNT_INSIDE_FROM = 75.0
# Long names (a company may be 120 characters) are cut; the full name is in the bar's <title>.
LABEL_CHARS = 40  # fits a phone's chart width at the labels' 13 px

# Columns: counts above, the plot, then month and year labels below.
PLOT_TOP, PLOT_HEIGHT = 22, 150
MONTH_BASELINE, YEAR_BASELINE = 16, 31
COLUMN_SHARE = 0.62  # of each column's slot; the rest is the gap


@dataclass(frozen=True)
class ChartItem:
    """What a bar shows: its label, its number, where it leads ("" = nowhere) and a CSS variant."""

    label: str
    count: int
    url: str = ""
    variant: str = ""
    short_label: str = ""  # columns: the label under the column (the full one is in its title)
    year: str = ""  # columns: a year to print under this column ("" = none)


@dataclass(frozen=True)
class Bar:
    label: str  # as shown, maybe cut short
    full_label: str
    count: int
    url: str
    variant: str
    spoken: str  # the link's accessible name: "Initech: 12 contacts"
    top: int  # of its row, px
    length: str  # of the bar, "62.50%"
    count_inside: bool


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    label_baseline: int = LABEL_BASELINE
    bar_top: int = BAR_TOP
    bar_height: int = BAR_HEIGHT
    count_baseline: str = COUNT_BASELINE
    row_height: int = ROW_HEIGHT


@dataclass(frozen=True)
class Column:
    label: str  # under the column ("Mar")
    full_label: str  # "March 2025"
    year: str
    count: int
    url: str
    spoken: str
    slot_x: str  # the column's slot (the link's area): left edge and width, "%"
    slot_width: str
    x: str  # the bar: left edge and width, "%"
    width: str
    center: str  # where its count and labels are centred, "%"
    top: str  # of the bar, px
    height: str


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    height: int
    plot_top: int = PLOT_TOP
    baseline: int = PLOT_TOP + PLOT_HEIGHT
    month_baseline: int = PLOT_TOP + PLOT_HEIGHT + MONTH_BASELINE
    year_baseline: int = PLOT_TOP + PLOT_HEIGHT + YEAR_BASELINE


def spoken(label: str, count: int) -> str:
    return f"{label}: {count} contact{'' if count == 1 else 's'}"


def cut(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _percent(value: float) -> str:
    return f"{value:.2f}%"


def _share(count: int, largest: int) -> float:
    """A bar's length in % of the largest; a non-zero count always shows at least a sliver."""
    if count <= 0 or largest <= 0:
        return 0.0
    return max(100.0 * count / largest, 0.75)


def bar_chart(items: list[ChartItem]) -> BarChart:
    """Horizontal bars, longest = the largest count, in the order given."""
    largest = max((item.count for item in items), default=0)
    bars = []
    for row, item in enumerate(items):
        share = _share(item.count, largest)
        bars.append(
            Bar(
                label=cut(item.label),
                full_label=item.label,
                count=item.count,
                url=item.url,
                variant=item.variant,
                spoken=spoken(item.label, item.count),
                top=row * ROW_HEIGHT,
                length=_percent(share),
                count_inside=share >= COUNT_INSIDE_FROM,
            )
        )
    return BarChart(bars=bars, height=max(len(items), 1) * ROW_HEIGHT)


def column_chart(items: list[ChartItem]) -> ColumnChart:
    """Vertical bars side by side, tallest = the largest count, in the order given."""
    largest = max((item.count for item in items), default=0)
    slot = 100.0 / max(len(items), 1)
    columns = []
    for index, item in enumerate(items):
        height = PLOT_HEIGHT * _share(item.count, largest) / 100.0
        columns.append(
            Column(
                label=item.short_label or item.label,
                full_label=item.label,
                year=item.year,
                count=item.count,
                url=item.url,
                spoken=spoken(item.label, item.count),
                slot_x=_percent(index * slot),
                slot_width=_percent(slot),
                x=_percent((index + (1 - COLUMN_SHARE) / 2) * slot),
                width=_percent(COLUMN_SHARE * slot),
                center=_percent((index + 0.5) * slot),
                top=f"{PLOT_TOP + PLOT_HEIGHT - height:.2f}",
                height=f"{height:.2f}",
            )
        )
    return ColumnChart(columns=columns, height=PLOT_TOP + PLOT_HEIGHT + YEAR_BASELINE + 6)
