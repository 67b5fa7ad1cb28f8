"""Line charts drawn on the server as SVG: no script, no third party, a data table beside them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 260
LEFT = 56  # room for the y-axis labels
RIGHT = 12
TOP = 12
BOTTOM = 36  # room for the x-axis labels
MIN_LABEL_GAP = 110  # between two date labels, in viewBox units


@dataclass(frozen=True)
class Line:
    label: str
    css_class: str  # colour and dash pattern come from site.css
    points: str  # "x,y x,y ..." for <polyline>
    dots: tuple[tuple[float, float], ...]  # drawn when a line has a single point


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    lines: tuple[Line, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    plot_left: int
    plot_right: int
    plot_bottom: int


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times 10^n that is at least `value` (for the top of the y axis)."""
    if value <= 0:
        return 1
    magnitude = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    raise AssertionError("unreachable")


def _number(n: float) -> str:
    return f"{round(n):,}".replace(",", "\u00a0")


def line_chart(days: list[dt.date], series: list[tuple[str, str, list[int]]]) -> LineChart:
    """Plot each (label, css class, values per day) against the same days and y scale."""
    highest = max((max(values, default=0) for _, _, values in series), default=0)
    # Four steps of 1, 2 or 5 times a power of ten, so that every tick is a whole number.
    top_value = 4 * nice_ceiling(math.ceil(highest / 4))
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    count = max(len(days), 1)

    def x(i: int) -> float:
        return LEFT + (plot_width * i / (count - 1) if count > 1 else plot_width / 2)

    def y(value: float) -> float:
        return TOP + plot_height * (1 - value / top_value)

    lines = []
    for label, css_class, values in series:
        coords = [(round(x(i), 1), round(y(v), 1)) for i, v in enumerate(values)]
        lines.append(
            Line(
                label,
                css_class,
                " ".join(f"{a},{b}" for a, b in coords),
                tuple(coords) if len(coords) == 1 else (),
            )
        )
    y_ticks = tuple(Tick(round(y(top_value * k / 4), 1), _number(top_value * k / 4))
                    for k in range(5))  # fmt: skip
    # At most about seven date labels, always the first and the last day.
    step = max(1, math.ceil(count / 7))
    # Leave room for the last day's label, which ends at the right edge.
    marks = [i for i in range(0, count, step) if x(count - 1) - x(i) >= MIN_LABEL_GAP]
    marks.append(count - 1)
    x_ticks = tuple(Tick(round(x(i), 1), days[i].isoformat()) for i in marks if i < len(days))
    return LineChart(WIDTH, HEIGHT, tuple(lines), y_ticks, x_ticks, LEFT, WIDTH - RIGHT,
                     HEIGHT - BOTTOM)  # fmt: skip
