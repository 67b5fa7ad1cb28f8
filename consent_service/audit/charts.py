"""Consent rates over time, drawn server-side as SVG (no scripts, no third-party libraries).

The database groups decisions per UTC day (the one dialect-specific expression lives in
`utc_day`); weeks and months are rolled up from the days in Python, which keeps the SQL
portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Integer, SQLColumnExpression, and_, case, func, select
from sqlalchemy.orm import Session

from consent_service.audit.models import ConsentEntry

GRANULARITIES = ("day", "week", "month")
# How far back a chart reaches by default, and at most, per granularity (in buckets).
DEFAULT_BUCKETS = {"day": 30, "week": 12, "month": 12}
MAX_BUCKETS = {"day": 366, "week": 260, "month": 120}


# --- the only dialect-aware SQL in the audit views ----------------------------------------
def utc_day(column: SQLColumnExpression[dt.datetime], dialect: str) -> ColumnElement[str]:
    """The UTC calendar day of a timestamp as 'YYYY-MM-DD'."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    # SQLite keeps UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text.
    return func.substr(column, 1, 10)


@dataclass
class Bucket:
    label: str
    start: dt.date
    decisions: int = 0
    functional: int = 0
    statistics: int = 0
    accept_all: int = 0
    necessary_only: int = 0

    @property
    def custom(self) -> int:
        return self.decisions - self.accept_all - self.necessary_only

    def share(self, count: int) -> float | None:
        return round(100 * count / self.decisions, 1) if self.decisions else None


def bucket_start(day: dt.date, granularity: str) -> dt.date:
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def bucket_label(start: dt.date, granularity: str) -> str:
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year} v{week:02d}"
    if granularity == "month":
        return start.strftime("%Y-%m")
    return start.isoformat()


def default_range(granularity: str, today: dt.date) -> tuple[dt.date, dt.date]:
    end = today
    count = DEFAULT_BUCKETS[granularity]
    if granularity == "day":
        return end - dt.timedelta(days=count - 1), end
    if granularity == "week":
        return bucket_start(end, "week") - dt.timedelta(weeks=count - 1), end
    start = bucket_start(end, "month")
    for _ in range(count - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


def bucket_count(date_from: dt.date, date_to: dt.date, granularity: str) -> int:
    if granularity == "day":
        return (date_to - date_from).days + 1
    if granularity == "week":
        return (bucket_start(date_to, "week") - bucket_start(date_from, "week")).days // 7 + 1
    return (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1


def consent_rates(
    session: Session,
    date_from: dt.date,
    date_to: dt.date,
    granularity: str,
    site: str | None = None,
) -> list[Bucket]:
    """Grants and updates per bucket: how many allowed each category, and the three shapes."""
    e = ConsentEntry
    day = utc_day(e.occurred_at, session.get_bind().dialect.name).label("day")

    def count_if(condition: SQLColumnExpression[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0), type_=Integer)

    start = dt.datetime.combine(date_from, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    stmt = (
        select(
            day,
            func.count(),
            count_if(e.functional),
            count_if(e.statistics),
            count_if(and_(e.functional, e.statistics)),
            count_if(and_(~e.functional, ~e.statistics)),
        )
        .where(e.action.in_(("grant", "update")), e.occurred_at >= start, e.occurred_at < end)
        .group_by(day)
        .order_by(day)
    )
    if site is not None:
        stmt = stmt.where(e.site == site)
    buckets: dict[dt.date, Bucket] = {}
    cursor = date_from
    while cursor <= date_to:
        begin = bucket_start(cursor, granularity)
        buckets.setdefault(begin, Bucket(bucket_label(begin, granularity), begin))
        cursor += dt.timedelta(days=1)
    for day_text, decisions, functional, statistics, accept_all, necessary_only in session.execute(
        stmt
    ):
        bucket = buckets[bucket_start(dt.date.fromisoformat(day_text), granularity)]
        bucket.decisions += decisions
        bucket.functional += functional or 0
        bucket.statistics += statistics or 0
        bucket.accept_all += accept_all or 0
        bucket.necessary_only += necessary_only or 0
    return list(buckets.values())


def totals(buckets: Iterable[Bucket]) -> Bucket:
    total = Bucket("totalt", dt.date.min)
    for b in buckets:
        total.decisions += b.decisions
        total.functional += b.functional
        total.statistics += b.statistics
        total.accept_all += b.accept_all
        total.necessary_only += b.necessary_only
    return total


# --- SVG geometry -------------------------------------------------------------------------


@dataclass
class Series:
    label: str
    css_class: str
    points: str
    markers: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    series: list[Series]


def line_chart(buckets: list[Bucket], width: int = 720, height: int = 320) -> LineChart:
    """Coordinates for a percentage line chart (functional and statistics) over buckets."""
    left, right, top, bottom = 48, 16, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(buckets))
    step = plot_w / max(1, n - 1)

    def x(i: int) -> float:
        return round(left + (i * step if n > 1 else plot_w / 2), 1)

    def y(pct: float) -> float:
        return round(top + plot_h * (1 - pct / 100), 1)

    series = []
    for label, css_class, attr in (
        ("Funktionella kakor", "series-functional", "functional"),
        ("Statistikkakor", "series-statistics", "statistics"),
    ):
        coords: list[tuple[float, float, str]] = []
        for i, b in enumerate(buckets):
            pct = b.share(getattr(b, attr))
            if pct is not None:
                coords.append((x(i), y(pct), f"{b.label}: {pct} %"))
        points = " ".join(f"{cx},{cy}" for cx, cy, _ in coords)
        series.append(Series(label, css_class, points, coords))
    every = max(1, -(-n // 8))  # at most about eight labels on the x axis
    x_ticks = [(x(i), b.label) for i, b in enumerate(buckets) if i % every == 0]
    y_ticks = [(y(p), f"{p} %") for p in (0, 25, 50, 75, 100)]
    return LineChart(width, height, left, top, plot_w, plot_h, y_ticks, x_ticks, series)
