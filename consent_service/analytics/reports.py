"""The dashboard's figures, read from the daily rollups (never from the raw events).

Visitors are counted per day, because the key that makes a visitor recognisable lives
for one day only: a figure for several days is the sum of each day's distinct visitors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from consent_service.analytics.estimates import Estimate
from consent_service.analytics.models import DailyAggregate, DroppedCount
from consent_service.analytics.rollup import FUNNEL, SITE_WIDE
from consent_service.analytics.visits import Figures
from consent_service.audit import stats
from consent_service.db import db

A = DailyAggregate
# Dimensions counted for the whole site only: a page filter does not narrow them.
SITE_ONLY = ("page", "host")
TABLE_DIMENSIONS = ("page", "referrer", "language", "device", "browser", "os", "screen",
                    "host", "event", "prop")  # fmt: skip
MAX_PERIOD_DAYS = 800
# Visit breakdowns on the dashboard (figures.py), site-wide whatever the page filter.
VISIT_DIMENSIONS = ("source_kind", "source", "entry_page", "exit_page", "utm_source",
                    "utm_medium", "utm_campaign", "goal")  # fmt: skip


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def year_before(self) -> Period:
        """As many days from the same date a year earlier (29 February: from the 28th)."""
        day = 28 if (self.start.month, self.start.day) == (2, 29) else self.start.day
        start = self.start.replace(year=self.start.year - 1, day=day)
        return Period(start, start + dt.timedelta(days=self.days - 1))


COMPARE_MODES = ("previous", "year")


@dataclass(frozen=True)
class Filters:
    period: Period
    page: str | None = None
    # What to compare with: "previous" (the period just before), "year" (a year earlier).
    compare: str | None = None

    def before(self) -> Period:
        """The period compared with (the one just before when no comparison is asked)."""
        return self.period.year_before() if self.compare == "year" else self.period.previous()


@dataclass(frozen=True)
class DayPoint:
    day: dt.date
    pageviews: int
    visitors: int


@dataclass(frozen=True)
class Row:
    value: str
    events: int
    visitors: int


@dataclass(frozen=True)
class Totals:
    pageviews: int
    visitors: int
    events: int


@dataclass(frozen=True)
class FunnelStep:
    name: str
    events: int
    visitors: int  # reached this step after every earlier one, the same day


@dataclass(frozen=True)
class ConsentRate:
    """Grant and update decisions in the consent log, and how many included statistics."""

    decisions: int
    with_statistics: int

    @property
    def share(self) -> float | None:
        return self.with_statistics / self.decisions if self.decisions else None


@dataclass
class Report:
    filters: Filters
    series: list[DayPoint]
    totals: Totals
    tables: dict[str, list[Row]]
    funnel: list[FunnelStep]
    consent: ConsentRate
    dropped: list[Row]
    previous_series: list[DayPoint] | None = None
    previous_totals: Totals | None = None
    previous_consent: ConsentRate | None = None
    notes: list[str] = field(default_factory=list)
    # Visits: the statistics API's figures (figures.py), for the whole site.
    visits: Figures | None = None
    previous_visits: Figures | None = None
    visit_tables: dict[str, list[tuple[str, Figures]]] = field(default_factory=dict)
    # Counted figure → its consent-corrected estimate (estimates.py), by figure name.
    estimates: dict[str, tuple[int, Estimate | None]] = field(default_factory=dict)
    # The page views the rollups count in the period: what the tables' shares are of.
    table_pageviews: int = 0


def _path(dimension: str, page: str | None) -> str:
    return SITE_WIDE if page is None or dimension in SITE_ONLY else page


def series(site: str, period: Period, page: str | None) -> list[DayPoint]:
    """Page views and visitors per day, every day of the period (zero when none)."""
    stmt = select(A.day, A.events, A.visitors).where(
        A.site == site,
        A.dimension == "total",
        A.path == _path("total", page),
        A.day >= period.start,
        A.day <= period.end,
    )
    found = {day: (events, visitors) for day, events, visitors in db.session.execute(stmt)}
    return [DayPoint(day, *found.get(day, (0, 0))) for day in period.dates()]


def top(
    site: str, dimension: str, period: Period, page: str | None, limit: int | None = None
) -> list[Row]:
    """The values of one dimension over the period, most events first."""
    events = func.sum(A.events)
    where = [
        A.site == site,
        A.dimension == dimension,
        A.path == _path(dimension, page),
        A.day >= period.start,
        A.day <= period.end,
    ]
    if dimension == "page" and page is not None:
        where.append(A.value == page)
    stmt = (
        select(A.value, events, func.sum(A.visitors))
        .where(*where)
        .group_by(A.value)
        .order_by(events.desc(), A.value)
        .limit(limit)
    )
    return [Row(value, int(n), int(v)) for value, n, v in db.session.execute(stmt)]


def funnel(site: str, period: Period, page: str | None) -> list[FunnelStep]:
    found = {row.value: row for row in top(site, "funnel", period, page)}
    return [
        FunnelStep(name, found[name].events if name in found else 0,
                   found[name].visitors if name in found else 0)
        for name in FUNNEL
    ]  # fmt: skip


def totals(site: str, period: Period, page: str | None, points: list[DayPoint]) -> Totals:
    events = sum(row.events for row in top(site, "event", period, page))
    return Totals(sum(p.pageviews for p in points), sum(p.visitors for p in points), events)


def consent_rate(site: str, period: Period) -> ConsentRate:
    """Statistics consent among the site's grant and update decisions in the period.

    The consent log's own definition (`audit.stats.consent_rates`): the same site, the same
    calendar days as the privacy officer's consent charts.
    """
    buckets = stats.consent_rates(
        db.session, period.start, period.end, "day", site=site, zone=stats.site_zone(site)
    )
    total = stats.totals(buckets)
    return ConsentRate(total.decisions, total.statistics)


def dropped(site: str, period: Period) -> list[Row]:
    total = func.sum(DroppedCount.count)
    stmt = (
        select(DroppedCount.reason, total)
        .where(
            DroppedCount.site == site,
            DroppedCount.day >= period.start,
            DroppedCount.day <= period.end,
        )
        .group_by(DroppedCount.reason)
        .order_by(total.desc())
    )
    return [Row(reason, int(n), 0) for reason, n in db.session.execute(stmt)]


# Daily points with open days read live: (site, period, page, the rollups' points) → points.
LivePoints = Callable[[str, Period, str | None, list[DayPoint]], list[DayPoint]]


def build_report(
    site: str,
    filters: Filters,
    table_limit: int | None = 10,
    live: LivePoints | None = None,
) -> Report:
    """The dashboard's report from the rollups; with `live` (the views pass
    `figures.daily_points`), the daily series and its totals read open days live."""
    period, page = filters.period, filters.page
    rolled = series(site, period, page)
    points = live(site, period, page, rolled) if live is not None else rolled
    report = Report(
        filters=filters,
        series=points,
        totals=totals(site, period, page, points),
        tables={
            d: top(site, d, period, page, 20 if d == "page" and table_limit else table_limit)
            for d in TABLE_DIMENSIONS
        },
        funnel=funnel(site, period, page),
        consent=consent_rate(site, period),
        dropped=dropped(site, period),
    )
    # The tables come from the rollups, so their shares are of the rollups' page views.
    report.table_pageviews = sum(p.pageviews for p in rolled)
    if filters.compare:
        before = filters.before()
        earlier = series(site, before, page)
        report.previous_series = live(site, before, page, earlier) if live is not None else earlier
        report.previous_totals = totals(site, before, page, report.previous_series)
        report.previous_consent = consent_rate(site, before)
    return report
