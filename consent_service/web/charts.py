"""Charts drawn on the server as SVG: no script, no third party, the same figures in a table.

Pure functions from figures to geometry. Every number they return is a finite coordinate
rounded to 0.1 viewBox units and every text is plain text, so a template can put them in
SVG attributes and elements as they are (Jinja escapes the text). Colours and dash patterns
come from CSS classes; the pages keep a data table beside each chart for screen readers and
for anyone who wants the exact figures.

- `line_chart`: one or more series over the same labelled x positions (days, weeks,
  months) and one y scale, with gaps where a value is missing.
- `bar_chart`: horizontal bars with a label on the left and the value printed after the bar.
- `stacked_bar`: one bar split into the shares of a whole.
- `chart_markers`: dated notes on a line chart (vertical lines, numbered as listed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from consent_service.web import formatting

# Line charts: the viewBox and the room kept around the plot for the axis labels.
WIDTH = 720
HEIGHT = 260
LEFT = 56  # room for the y-axis labels
RIGHT = 12
TOP = 12
BOTTOM = 36  # room for the x-axis labels
MIN_LABEL_GAP = 110  # between two x labels, in viewBox units (a date is about 70 wide)
MAX_X_LABELS = 7


def format_number(value: float) -> str:
    """1234567 → '1 234 567' (Swedish digit grouping with a no-break space)."""
    return formatting.format_number(round(value))


def format_percent(value: float) -> str:
    """25 → '25 %', 66.7 → '66,7 %' (a value already in percent; one decimal at most)."""
    digits = 0 if round(value, 1) == round(value) else 1
    return formatting.format_percent(value / 100, digits).replace("-", "\u2212")


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 times 10^n that is at least `value` (for the top of an axis)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Series:
    """What to plot: a label for the legend, a CSS class, one value per x position."""

    label: str
    css_class: str
    values: Sequence[float | None]  # None: no value there (no point, the line skips it)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    text: str  # "<x label>: <value>", e.g. for a <title> on a marker


@dataclass(frozen=True)
class Line:
    label: str
    css_class: str
    points: str  # "x,y x,y ..." for <polyline>; empty when the series has no value at all
    dots: tuple[Point, ...]  # every point with markers=True, else only a line's lone point


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    lines: tuple[Line, ...]
    y_ticks: tuple[Tick, ...]  # bottom (0) to top
    x_ticks: tuple[Tick, ...]  # the first and the last x position always have a label
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    y_top: float | None = None,
    y_format: Callable[[float], str] = format_number,
    markers: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
    bottom: int = BOTTOM,
) -> LineChart:
    """Plot each series against the same x positions and y scale, from 0 to `y_top`.

    Without `y_top` the axis ends at four equal steps of 1, 2 or 5 times a power of ten
    above the highest value, so that every tick is a whole number.
    """
    if y_top is None:
        finite = [v for s in series for raw in s.values if (v := _finite(raw)) is not None]
        y_top = 4 * nice_ceiling(math.ceil(max(finite, default=0) / 4))
    plot_width = width - LEFT - RIGHT
    plot_height = height - TOP - bottom
    count = max(len(x_labels), 1)

    def x(i: int) -> float:
        return round(LEFT + (plot_width * i / (count - 1) if count > 1 else plot_width / 2), 1)

    def y(value: float) -> float:
        return round(TOP + plot_height * (1 - min(max(value, 0), y_top) / y_top), 1)

    lines = []
    for s in series:
        points = [
            Point(x(i), y(v), f"{x_labels[i]}: {y_format(v)}")
            for i, raw in enumerate(s.values[: len(x_labels)])
            if (v := _finite(raw)) is not None
        ]
        dots = tuple(points) if markers or len(points) == 1 else ()
        lines.append(Line(s.label, s.css_class, " ".join(f"{p.x},{p.y}" for p in points), dots))
    y_ticks = tuple(Tick(y(y_top * k / 4), y_format(y_top * k / 4)) for k in range(5))
    # At most about seven labels, always the first and the last; room for the last one,
    # which ends at the right edge.
    # Two labels never closer than MIN_LABEL_GAP (with 14 days, every second one would touch).
    spacing = plot_width / (count - 1) if count > 1 else plot_width
    step = max(1, math.ceil(count / MAX_X_LABELS), math.ceil(MIN_LABEL_GAP / spacing))
    marks = [i for i in range(0, count, step) if x(count - 1) - x(i) >= MIN_LABEL_GAP]
    marks.append(count - 1)
    x_ticks = tuple(Tick(x(i), x_labels[i]) for i in marks if i < len(x_labels))
    return LineChart(width, height, tuple(lines), y_ticks, x_ticks, LEFT, width - RIGHT, TOP,
                     height - bottom)  # fmt: skip


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as printed beside the bar


@dataclass(frozen=True)
class BarRow:
    label: str
    text: str
    y: float
    text_y: float
    width: float
    value_x: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    row: int  # the height of one bar
    rows: tuple[BarRow, ...]


def bar_chart(bars: Sequence[Bar], *, width: int = 640, label_width: int = 170) -> BarChart:
    """Horizontal bars scaled to the largest value; a value above 0 is at least 1 unit long."""
    row, gap, top = 26, 8, 4
    plot = width - label_width - 70  # room for the printed value after the longest bar
    values = [max(_finite(b.value) or 0, 0) for b in bars]
    largest = max(values, default=0) or 1
    rows = []
    for i, (bar, value) in enumerate(zip(bars, values, strict=True)):
        y = top + i * (row + gap)
        length = round(plot * value / largest, 1)
        rows.append(
            BarRow(
                label=bar.label,
                text=bar.text,
                y=y,
                text_y=round(y + row * 0.7, 1),
                width=max(length, 1) if value > 0 else 0,
                value_x=round(label_width + length + 6, 1),
            )
        )
    height = top + len(bars) * (row + gap)
    return BarChart(width, height, label_width, row, tuple(rows))


@dataclass(frozen=True)
class Segment:
    label: str
    css_class: str
    value: float
    x: float
    width: float


@dataclass(frozen=True)
class StackedBar:
    width: int
    height: int
    segments: tuple[Segment, ...]


def stacked_bar(
    parts: Sequence[tuple[str, str, float]], *, width: int = 720, height: int = 40
) -> StackedBar:
    """One bar split into (label, css class, value) parts in proportion to their sum."""
    values = [max(_finite(value) or 0, 0) for _, _, value in parts]
    whole = sum(values)
    segments, left = [], 0.0
    for (label, css_class, _), value in zip(parts, values, strict=True):
        share = width * value / whole if whole else 0
        segments.append(Segment(label, css_class, value, round(left, 1), round(share, 1)))
        left += share
    return StackedBar(width, height, tuple(segments))


@dataclass(frozen=True)
class Marker:
    """A dated note on a line chart: a vertical line at its day, numbered as in the list."""

    x: float
    number: str  # "1", or "2, 3" for several notes on one day
    text: str  # the notes' plain text, for a <title>


def chart_markers(
    chart: LineChart, count: int, marks: Sequence[tuple[int, str]]
) -> tuple[Marker, ...]:
    """Place notes at x positions 0..count-1 of `chart`; positions outside it are left out.

    Notes are numbered 1, 2, ... in the order given, so a list under the chart in the same
    order names each marker.
    """
    plot_width = chart.plot_width
    by_position: dict[int, list[tuple[int, str]]] = {}
    for number, (index, text) in enumerate(marks, start=1):
        if 0 <= index < count:
            by_position.setdefault(index, []).append((number, text))
    markers = []
    for index, notes in sorted(by_position.items()):
        x = chart.plot_left + (plot_width * index / (count - 1) if count > 1 else plot_width / 2)
        markers.append(Marker(round(x, 1), ", ".join(str(n) for n, _ in notes),
                              "; ".join(text for _, text in notes)))  # fmt: skip
    return tuple(markers)
