"""The daily chart of the dashboard and the shared view: page views and visitors per day,
the compared period dashed, and the editors' notes as numbered markers (web/charts.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from consent_service.analytics.editor_models import Annotation
from consent_service.analytics.reports import DayPoint, Period
from consent_service.web.charts import LineChart, Marker, Series, chart_markers, line_chart

# The legend's words per language: page views, visitors, and "<figure>, <compared period>".
WORDS = {
    "sv": {"pageviews": "Sidvisningar", "visitors": "Besökare"},
    "en": {"pageviews": "Page views", "visitors": "Visitors"},
}


def daily_chart(
    points: Sequence[DayPoint],
    previous: Sequence[DayPoint] | None,
    compared_with: str,
    language: str = "sv",
) -> LineChart:
    words: Mapping[str, str] = WORDS[language]
    series = [
        Series(words["pageviews"], "stats-pageviews", [p.pageviews for p in points]),
        Series(words["visitors"], "stats-visitors", [p.visitors for p in points]),
    ]
    if previous is not None:
        series += [
            Series(f"{words['pageviews']}, {compared_with}", "stats-pageviews stats-previous",
                   [p.pageviews for p in previous]),
            Series(f"{words['visitors']}, {compared_with}", "stats-visitors stats-previous",
                   [p.visitors for p in previous]),
        ]  # fmt: skip
    return line_chart([p.day.isoformat() for p in points], series)


def note_markers(
    chart: LineChart, period: Period, notes: Sequence[Annotation]
) -> tuple[Marker, ...]:
    """The notes of `period` on the chart, numbered in the order they are listed."""
    marks = [((note.day - period.start).days, f"{note.day.isoformat()}: {note.text}")
             for note in notes]  # fmt: skip
    return chart_markers(chart, period.days, marks)
