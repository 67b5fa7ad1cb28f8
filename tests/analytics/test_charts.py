"""The server-drawn line chart: whole-number ticks, date labels that do not collide."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from consent_service.analytics.charts import MIN_LABEL_GAP, line_chart

DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(30)]


@pytest.mark.parametrize("highest", [0, 3, 8, 10, 37, 1234, 99_999])
def test_y_ticks_are_whole_numbers_above_the_highest_value(highest: int) -> None:
    chart = line_chart(DAYS, [("Sidvisningar", "stats-pageviews", [0] * 29 + [highest])])
    values = [int(t.label.replace("\u00a0", "")) for t in chart.y_ticks]
    assert values[0] == 0 and values[-1] >= highest
    assert len({b - a for a, b in itertools.pairwise(values)}) == 1


@pytest.mark.parametrize("days", [1, 2, 7, 30, 365])
def test_date_labels_keep_their_distance(days: int) -> None:
    chart = line_chart(DAYS[:1] * days, [("Besökare", "stats-visitors", [1] * days)])
    positions = [t.position for t in chart.x_ticks]
    assert positions == sorted(positions)
    # A date label is about 70 units wide; the last one ends at the edge instead of centring.
    assert all(b - a >= 80 for a, b in itertools.pairwise(positions))
    assert len(positions) < 2 or positions[-1] - positions[-2] >= MIN_LABEL_GAP
    assert chart.lines[0].points.count(",") == days
