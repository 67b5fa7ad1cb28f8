"""The server-drawn charts: whole-number ticks, labels that do not collide, gaps, bars."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest

from consent_service.web.charts import (
    MIN_LABEL_GAP,
    Bar,
    Series,
    bar_chart,
    chart_markers,
    format_percent,
    line_chart,
    stacked_bar,
)

DAYS = [(dt.date(2026, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(30)]


@pytest.mark.parametrize("highest", [0, 3, 8, 10, 37, 1234, 99_999])
def test_y_ticks_are_whole_numbers_above_the_highest_value(highest: int) -> None:
    chart = line_chart(DAYS, [Series("Sidvisningar", "stats-pageviews", [0] * 29 + [highest])])
    values = [int(t.label.replace("\u00a0", "")) for t in chart.y_ticks]
    assert values[0] == 0 and values[-1] >= highest
    assert len({b - a for a, b in itertools.pairwise(values)}) == 1


@pytest.mark.parametrize("days", [1, 2, 7, 14, 30, 365])
def test_x_labels_keep_their_distance(days: int) -> None:
    chart = line_chart(DAYS[:1] * days, [Series("Besökare", "stats-visitors", [1] * days)])
    positions = [t.position for t in chart.x_ticks]
    assert positions == sorted(positions)
    # A date label is about 70 units wide; the last one ends at the edge instead of centring.
    # The first label starts at its point, so the next must be a whole label further.
    assert all(b - a >= MIN_LABEL_GAP for a, b in itertools.pairwise(positions))
    assert len(positions) < 2 or positions[-1] - positions[-2] >= MIN_LABEL_GAP
    assert chart.lines[0].points.count(",") == days


def test_a_missing_value_is_a_gap_and_markers_carry_their_figure() -> None:
    chart = line_chart(
        ["2026 v23", "2026 v24", "2026 v25"],
        [Series("Statistikkakor", "series-statistics", [50.0, None, 66.7])],
        y_top=100,
        y_format=format_percent,
        markers=True,
    )
    line = chart.lines[0]
    assert line.points.count(",") == 2
    assert [d.text for d in line.dots] == ["2026 v23: 50\u00a0%", "2026 v25: 66,7\u00a0%"]
    assert [t.label for t in chart.y_ticks] == [f"{p}\u00a0%" for p in (0, 25, 50, 75, 100)]
    # Only a lone point gets a dot without markers (a line of one point would not show).
    plain = line_chart(["a", "b"], [Series("x", "x", [None, 3])])
    assert len(plain.lines[0].dots) == 1


def test_every_coordinate_is_a_finite_number_inside_the_plot() -> None:
    chart = line_chart(DAYS[:3], [Series("x", "x", [math.nan, math.inf, -5])], y_top=10)
    for dot in chart.lines[0].dots:
        assert chart.plot_top <= dot.y <= chart.plot_bottom
    assert "nan" not in chart.lines[0].points and "inf" not in chart.lines[0].points


def test_bars_scale_to_the_largest_value() -> None:
    chart = bar_chart([Bar("Jan", 10, "10"), Bar("Feb", 5, "5"), Bar("Mar", 0, "0"),
                       Bar("Apr", 0.001, "0")], width=640, label_width=170)  # fmt: skip
    widths = [r.width for r in chart.rows]
    assert widths[0] == 640 - 170 - 70 and widths[1] == widths[0] / 2
    assert widths[2] == 0 and widths[3] == 1  # a value above zero stays visible
    assert chart.height == 4 + 4 * (26 + 8)
    assert [r.label for r in chart.rows] == ["Jan", "Feb", "Mar", "Apr"]


def test_a_stacked_bar_fills_its_width_in_proportion() -> None:
    bar = stacked_bar([("Godkänn alla", "share-all", 2), ("Endast nödvändiga", "n", 1),
                       ("Anpassat", "c", 1)], width=720)  # fmt: skip
    assert [s.width for s in bar.segments] == [360, 180, 180]
    assert [s.x for s in bar.segments] == [0, 360, 540]
    assert all(s.width == 0 for s in stacked_bar([("a", "a", 0)]).segments)


def test_notes_are_marked_at_their_day_and_numbered_as_listed() -> None:
    chart = line_chart(DAYS[:3], [Series("Besökare", "stats-visitors", [1, 2, 3])])
    marks = [(1, "2026-01-02: Ny startsida"), (5, "utanför"), (1, "2026-01-02: Kampanj"),
             (0, "2026-01-01: Nyår")]  # fmt: skip
    markers = chart_markers(chart, 3, marks)
    # 56 + 652 / 2 for the middle of three days; the note outside the chart is left out.
    assert [(m.x, m.number, m.text) for m in markers] == [
        (56.0, "4", "2026-01-01: Nyår"),
        (382.0, "1, 3", "2026-01-02: Ny startsida; 2026-01-02: Kampanj"),
    ]
