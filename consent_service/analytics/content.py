"""The dashboard's content reports: funnels, missing pages, downloads, outbound links, site
search, and the visitors of the last 30 minutes.

All but the last read the daily figures (`analytics_daily`, `analytics_daily_visits` through
figures.py), never the raw events, so they cost the days and values shown. The conventions
are Plausible's, sent with `Consent.track(name, props)` (README, docs/analytics.md):

- `Consent.track("404", {path})` on a page that answers 404 → the missing pages;
- `"File Download"` with `url` → downloads;
- `"Outbound Link: Click"` with `url`, and the tracker's own `outbound` with `host` →
  outbound links;
- the site search's term comes from the page's query parameter named in
  `CONSENT_ANALYTICS_SEARCH_PARAMS`, kept at ingest (dimension "search").

Real time is the one figure read from the raw events: distinct visitors and page views of
the last REALTIME_MINUTES, one range scan of the (day, site) index over today (and
yesterday, just after midnight).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import case, distinct, func, select

from consent_service.analytics import figures, funnels
from consent_service.analytics.goals import GoalSpec
from consent_service.analytics.models import AnalyticsEvent, DailyAggregate
from consent_service.analytics.reports import Period, Row, top
from consent_service.analytics.rollup import PROP_SEPARATOR, SITE_WIDE
from consent_service.analytics.visitors import local_day
from consent_service.analytics.visits import Figures
from consent_service.db import db

A = DailyAggregate
E = AnalyticsEvent
REALTIME_MINUTES = 30
NOT_FOUND = ("404", "path")
DOWNLOAD = ("File Download", "url")
OUTBOUND = ("Outbound Link: Click", "url")
TRACKER_OUTBOUND = ("outbound", "host")  # sent by the tracker itself on a click off the site
# What the dashboard shows of each content table; the CSV has every row.
TABLES = ("not_found", "downloads", "outbound", "search")


@dataclass(frozen=True)
class FunnelStep:
    label: str
    kind: str
    value: str
    visits: int
    visitors: int
    # Shares of the funnel's first step and of all visits; the drop from the step before.
    of_first: float | None
    of_all: float | None
    dropped: int
    dropped_share: float | None


@dataclass(frozen=True)
class FunnelReport:
    id: int
    name: str
    steps: list[FunnelStep]

    @property
    def conversion(self) -> float | None:
        """Visits that took every step, of those that took the first."""
        return self.steps[-1].of_first if self.steps else None


@dataclass(frozen=True)
class Realtime:
    visitors: int
    pageviews: int
    since: dt.datetime


@dataclass
class ContentReport:
    funnels: list[FunnelReport] = field(default_factory=list)
    tables: dict[str, list[Row]] = field(default_factory=dict)
    realtime: Realtime | None = None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def funnel_reports(site: str, period: Period, step_label: dict[str, str]) -> list[FunnelReport]:
    """Every funnel of the site over the period: visits per step, conversion and drop-off."""
    found = figures.period_figures(site, "funnel", period)
    all_visits = figures.aggregate(site, period).visits
    result = []
    for funnel in funnels.list_funnels(site):
        specs = funnels.parse_steps(funnel.steps)
        keys = funnels.step_keys(specs)
        counts = [found.get(key, Figures()) for key in keys]
        first = counts[0].visits if counts else 0
        steps = []
        for index, (spec, count) in enumerate(zip(specs, counts, strict=True)):
            before = counts[index - 1].visits if index else count.visits
            lost = before - count.visits
            steps.append(FunnelStep(
                _label(spec, step_label), spec.kind, spec.value, count.visits, count.visitors,
                _share(count.visits, first), _share(count.visits, all_visits), lost,
                _share(lost, before),
            ))  # fmt: skip
        result.append(FunnelReport(funnel.id, funnel.name, steps))
    return result


def _label(spec: GoalSpec, step_label: dict[str, str]) -> str:
    if spec.kind == "page":
        return f"Besök {spec.value}"
    return step_label.get(spec.value, spec.value)


def prop_values(
    site: str, period: Period, event: str, prop: str, limit: int | None = None
) -> list[Row]:
    """The values of one property of one custom event, most events first."""
    prefix = PROP_SEPARATOR.join((event, prop, ""))
    events = func.sum(A.events)
    stmt = (
        select(A.value, events, func.sum(A.visitors))
        .where(
            A.site == site,
            A.dimension == "prop",
            A.path == SITE_WIDE,
            A.day >= period.start,
            A.day <= period.end,
            A.value.startswith(prefix, autoescape=True),
        )
        .group_by(A.value)
        .order_by(events.desc(), A.value)
        .limit(limit)
    )
    return [Row(value[len(prefix) :], int(n), int(v)) for value, n, v in db.session.execute(stmt)]


def outbound_links(site: str, period: Period, limit: int | None = None) -> list[Row]:
    """Clicks on links off the site: `Outbound Link: Click` by url, the tracker's by host."""
    rows = prop_values(site, period, *OUTBOUND, limit) + prop_values(
        site, period, *TRACKER_OUTBOUND, limit
    )
    rows.sort(key=lambda r: (-r.events, r.value))
    return rows[:limit]


def content_tables(site: str, period: Period, limit: int | None = 10) -> dict[str, list[Row]]:
    return {
        "not_found": prop_values(site, period, *NOT_FOUND, limit),
        "downloads": prop_values(site, period, *DOWNLOAD, limit),
        "outbound": outbound_links(site, period, limit),
        "search": top(site, "search", period, None, limit),
    }


def realtime(site: str, now: dt.datetime) -> Realtime:
    """Distinct visitors and page views of the last REALTIME_MINUTES, from the raw events.

    A visitor whose visit crosses midnight counts twice: the day's key makes a new hash.
    """
    since = now - dt.timedelta(minutes=REALTIME_MINUTES)
    days = sorted({local_day(since), local_day(now)})
    visitors, pageviews = db.session.execute(
        select(
            func.count(distinct(E.visitor)),
            func.coalesce(func.sum(case((E.type == "pageview", 1), else_=0)), 0),
        ).where(E.day.in_(days), E.site == site, E.occurred_at >= since.replace(microsecond=0))
    ).one()
    db.session.rollback()
    return Realtime(int(visitors), int(pageviews), since)


def build(site: str, period: Period, now: dt.datetime, step_label: dict[str, str]) -> ContentReport:
    report = ContentReport(
        funnels=funnel_reports(site, period, step_label),
        tables=content_tables(site, period),
        realtime=realtime(site, now),
    )
    db.session.rollback()
    return report
