"""Visit figures over a period: the one definition the statistics API and the dashboard share.

Days that are over and finally rolled up are read from `analytics_daily_visits`; open days
(today, or a day not yet finalised) are computed from their raw events when asked, so an
event counts as soon as it is stored. A day's computation is kept in the process until the
day's events change (their count or highest id), which costs one index range scan to check.
A figure over several days is the sum of the days' figures: a visitor is one per day.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, select

from consent_service.analytics.funnels import site_funnels
from consent_service.analytics.goals import site_goals
from consent_service.analytics.models import DailyVisits, RollupDay
from consent_service.analytics.reports import MAX_PERIOD_DAYS, DayPoint, Period, series
from consent_service.analytics.visits import (
    PROPERTIES,
    TOTAL,
    DayFigures,
    Figures,
    day_version,
    day_visits,
)
from consent_service.db import db

V = DailyVisits
METRICS = ("visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration")
PERIODS = ("day", "7d", "30d", "custom")
# Days kept computed per process: today and yesterday of a few sites.
LIVE_CACHE_SIZE = 8
# A day whose computation takes longer is recomputed at most every REUSE_SECONDS.
SLOW_SECONDS = 0.25
REUSE_SECONDS = 5.0


@dataclass(frozen=True)
class _Live:
    version: Any
    figures: DayFigures
    at: float  # time.monotonic() when the computation began
    cost: float  # seconds it took


class BadQuery(ValueError):
    """A parameter cannot be used; the message says which and why."""


def parse_period(period: str, date: str | None, today: dt.date) -> Period:
    """`day` (of `date`, default today), `7d`/`30d` (ending with `date`), `custom` (`date=A,B`)."""
    if period not in PERIODS:
        raise BadQuery(f"period must be one of: {', '.join(PERIODS)}.")

    def day(raw: str) -> dt.date:
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            raise BadQuery(f"date must be a date as YYYY-MM-DD, not {raw[:40]!r}.") from None

    if period == "custom":
        parts = (date or "").split(",")
        if len(parts) != 2:
            raise BadQuery("period=custom needs date=FIRST,LAST (YYYY-MM-DD,YYYY-MM-DD).")
        start, end = day(parts[0]), day(parts[1])
        if start > end:
            raise BadQuery("The first date of date=FIRST,LAST is after the last.")
    else:
        if date and "," in date:
            raise BadQuery(f"period={period} takes one date; two are for period=custom.")
        end = day(date) if date else today
        start = end - dt.timedelta(days={"day": 0, "7d": 6, "30d": 29}[period])
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise BadQuery(f"A period is at most {MAX_PERIOD_DAYS} days.")
    return Period(start, end)


def parse_metrics(raw: str | None, default: Sequence[str] = ("visitors",)) -> list[str]:
    if not raw:
        return list(default)
    wanted = [m.strip() for m in raw.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in METRICS]
    if unknown or not wanted:
        raise BadQuery(
            f"Unknown metric(s) {', '.join(unknown)[:100]}; metrics are: {', '.join(METRICS)}."
        )
    return list(dict.fromkeys(wanted))


def metric_values(figures: Figures, metrics: Sequence[str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "visitors": figures.visitors,
        "visits": figures.visits,
        "pageviews": figures.pageviews,
        "views_per_visit": figures.views_per_visit,
        "bounce_rate": figures.bounce_rate,
        "visit_duration": figures.visit_duration,
    }
    return {name: values[name] for name in metrics}


def live_day(site: str, day: dt.date) -> DayFigures:
    """One open day's figures computed from its raw events.

    Kept while the day's events and the site's goals stay the same. On a busy day, whose
    computation takes longer than SLOW_SECONDS, a result younger than REUSE_SECONDS is
    reused although events arrived since: an event still counts within REUSE_SECONDS plus
    one computation (2.6 s for 200,000 events of 25,000 visitors on the 2-core test
    machine), and a busy site does not pay a whole pass over its day on every request.
    """
    cache: dict[tuple[str, dt.date], _Live] = current_app.extensions.setdefault(
        "analytics_live_days", {}
    )
    goals = (site_goals(db.session, site), site_funnels(db.session, site))
    version = (day_version(db.session, site, day), goals)
    cached = cache.get((site, day))
    started = time.monotonic()
    if cached is not None and (
        cached.version == version
        or (cached.cost > SLOW_SECONDS and started - cached.at < REUSE_SECONDS
            and cached.version[1] == goals)
    ):  # fmt: skip
        return cached.figures
    figures = day_visits(db.session, site, day, *goals) if version[0][0] else {}
    if len(cache) >= LIVE_CACHE_SIZE:
        cache.clear()
    cache[(site, day)] = _Live(version, figures, started, time.monotonic() - started)
    return figures


def period_figures(site: str, prop: str, period: Period) -> dict[str, Figures]:
    """The figures of every value of `prop` ("" for the whole site) summed over the period."""
    if prop != TOTAL and prop not in PROPERTIES:
        raise BadQuery(f"Unknown property {prop[:40]!r}.")
    in_period = (RollupDay.site == site, RollupDay.day >= period.start,
                 RollupDay.day <= period.end)  # fmt: skip
    open_days = list(
        db.session.scalars(select(RollupDay.day).where(*in_period, RollupDay.final.is_(False)))
    )
    sums = [func.sum(c) for c in (V.visitors, V.visits, V.pageviews, V.bounces, V.duration,
                                  V.events)]  # fmt: skip
    stmt = (
        select(V.value, *sums)
        .join(RollupDay, and_(RollupDay.site == V.site, RollupDay.day == V.day))
        .where(
            V.site == site,
            V.property == prop,
            V.day >= period.start,
            V.day <= period.end,
            RollupDay.final.is_(True),
        )
        .group_by(V.value)
    )
    result = {
        value: Figures(*(int(n or 0) for n in counts))
        for value, *counts in db.session.execute(stmt)
    }
    for day in open_days:
        for value, figures in live_day(site, day).get(prop, {}).items():
            result[value] = result.get(value, Figures()) + figures
    # End the read transaction: on SQLite it would otherwise keep showing the old rows.
    db.session.rollback()
    return result


def daily_points(
    site: str, period: Period, page: str | None = None, rolled: list[DayPoint] | None = None
) -> list[DayPoint]:
    """Page views and visitors per day, as the cards count them.

    Days that are over come from the rollups (`reports.series`); an open day's point is
    its live figures, so today's bar and row agree with the cards and the top pages instead
    of lagging by up to `ANALYTICS_ROLLUP_SECONDS`. With a page: that page's views and the
    visitors who viewed it (the visits' "page" property, the rollups' page total).
    `rolled`: the rollups' points of the same period and page, when the caller has them.
    """
    points = rolled if rolled is not None else series(site, period, page)
    open_days = set(
        db.session.scalars(
            select(RollupDay.day).where(
                RollupDay.site == site,
                RollupDay.day >= period.start,
                RollupDay.day <= period.end,
                RollupDay.final.is_(False),
            )
        )
    )
    if not open_days:
        return points
    prop, value = (TOTAL, TOTAL) if page is None else ("page", page)
    live = {day: live_day(site, day).get(prop, {}).get(value, Figures()) for day in open_days}
    # End the read transaction: on SQLite it would otherwise keep showing the old rows.
    db.session.rollback()
    return [
        DayPoint(p.day, live[p.day].pageviews, live[p.day].visitors) if p.day in live else p
        for p in points
    ]


def aggregate(site: str, period: Period) -> Figures:
    """The whole site's figures over the period."""
    return period_figures(site, TOTAL, period).get(TOTAL, Figures())


def breakdown(
    site: str, prop: str, period: Period, *, limit: int | None = None, offset: int = 0
) -> list[tuple[str, Figures]]:
    """The values of `prop` over the period, most visitors first (then visits, then by name)."""
    found = period_figures(site, prop, period)
    ordered = sorted(found.items(), key=lambda item: (-item[1].visitors, -item[1].visits,
                                                      item[0]))  # fmt: skip
    end = None if limit is None else offset + limit
    return ordered[offset:end]


def breakdown_rows(
    name: str, rows: Sequence[tuple[str, Figures]], metrics: Sequence[str]
) -> list[Mapping[str, Any]]:
    """The API's result rows: the value under the property's name, then the metrics."""
    return [{name: value, **metric_values(figures, metrics)} for value, figures in rows]
