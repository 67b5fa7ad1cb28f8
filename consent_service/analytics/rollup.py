"""Daily rollups of the raw events, and the retention rules for both.

Each site and day gets a set of `analytics_daily` rows: totals, pages, referrers,
languages, device classes, custom events, event properties and the idea-widget funnel;
and `analytics_daily_visits` rows: visits, bounces and durations (visits.py).
The dashboard reads only these rows, so its queries touch a few hundred rows per day
whatever the number of events. A day is rolled up again while it is open (at most every
`ANALYTICS_ROLLUP_SECONDS` when someone looks) and once more, finally, after it is over.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from consent_service.analytics.models import (
    AnalyticsEvent,
    DailyAggregate,
    DailyVisits,
    DroppedCount,
    RollupDay,
)
from consent_service.analytics.visitors import day_start, destroy_expired_keys, local_day
from consent_service.analytics.visits import DayFigures, day_visits
from consent_service.db import db

E = AnalyticsEvent

# Page-view breakdowns, each counted for the whole site and for every page.
BREAKDOWNS = ("referrer", "language", "device", "browser", "os", "screen")
# The idea widget sends these events, in this order: shown when it is drawn, opened on the
# first interaction with the form, started on the first input, submitted.
FUNNEL = ("idea_shown", "idea_opened", "idea_started", "idea_submitted")
PROP_SEPARATOR = "\t"  # event name, property and value; none of them may hold a tab
SITE_WIDE = ""  # the `path` of the rows that count every page
# A request that began just before midnight may commit just after it.
CLOSING_GRACE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Count:
    dimension: str
    path: str
    value: str
    events: int
    visitors: int


class _Tally:
    """Events and distinct visitors per (dimension, page, value)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str, str], tuple[list[int], set[str]]] = {}
        # page → step → visitor → events, for the funnel
        self.steps: dict[str, dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int))
        )

    def add(self, dimension: str, path: str, value: str, visitor: str) -> None:
        cell = self.cells.get((dimension, path, value))
        if cell is None:
            cell = self.cells[dimension, path, value] = ([0], set())
        cell[0][0] += 1
        cell[1].add(visitor)

    def counts(self) -> Iterator[Count]:
        for (dimension, path, value), (events, visitors) in self.cells.items():
            yield Count(dimension, path, value, events[0], len(visitors))
        for path, by_step in self.steps.items():
            # Visitors who took a step and every earlier step on the same day.
            reached: set[str] | None = None
            for name in FUNNEL:
                took = by_step.get(name, {})
                if not took and name == FUNNEL[0]:
                    # Days before the widget sent `idea_shown`: the funnel starts at opening.
                    continue
                reached = set(took) if reached is None else reached & set(took)
                if took:
                    yield Count("funnel", path, name, sum(took.values()), len(reached))


def _prop_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def day_counts(session: Session, site: str, day: dt.date) -> list[Count]:
    """Count one day's raw events along every dimension, site-wide and per page, in one pass."""
    stmt = select(
        E.type, E.path, E.host, E.name, E.props, E.visitor,
        E.referrer_host, E.language, E.device, E.browser, E.os, E.screen, E.search_term,
    ).where(E.day == day, E.site == site)  # fmt: skip
    tally = _Tally()
    add = tally.add
    cells = tally.cells
    for row in session.execute(stmt.execution_options(yield_per=10_000)):
        kind, path, host, name, props, visitor = row[:6]
        if kind == "pageview":
            # The hot loop: every page view lands in 16 cells, so the adding is inlined.
            values = [v or "" for v in row[6:12]]
            if row[12]:
                # The site search's term (site-wide only, like the host).
                add("search", SITE_WIDE, row[12], visitor)
            keys = [("page", SITE_WIDE, path), ("host", SITE_WIDE, host),
                    ("total", SITE_WIDE, ""), ("total", path, "")]  # fmt: skip
            for dimension, value in zip(BREAKDOWNS, values, strict=True):
                keys.append((dimension, SITE_WIDE, value))
                keys.append((dimension, path, value))
            for key in keys:
                cell = cells.get(key)
                if cell is None:
                    cell = cells[key] = ([0], set())
                cell[0][0] += 1
                cell[1].add(visitor)
            continue
        name = name or ""
        labels = [
            PROP_SEPARATOR.join((name, key, _prop_text(value)))[:1024]
            for key, value in (json.loads(props).items() if props else ())
        ]
        for page in (SITE_WIDE, path):
            add("event", page, name, visitor)
            for label in labels:
                add("prop", page, label, visitor)
            if name in FUNNEL:
                tally.steps[page][name][visitor] += 1
    return list(tally.counts())


def rollup_day(site: str, day: dt.date, now: dt.datetime, *, final: bool) -> bool:
    """Recompute one day's rows; False when another worker finalised it meanwhile."""
    # Visits are read before the write lock, which on SQLite holds back every ingest: events
    # only ever arrive, and a day is final only after its grace minutes, so a visit stored
    # meanwhile is counted by the next rollup of the open day.
    visits = day_visits(db.session, site, day)
    db.session.rollback()
    with db.writing() as session:
        marker = session.get(RollupDay, (site, day), with_for_update=True)
        if marker is None:
            marker = RollupDay(site=site, day=day, final=False, rolled_up_at=None)
            session.add(marker)
        elif marker.final:
            return False
        # Counted inside the writing transaction: the rows replaced are the rows counted.
        rows = [
            {
                "site": site,
                "dimension": c.dimension,
                "path": c.path,
                "day": day,
                "value": c.value,
                "events": c.events,
                "visitors": c.visitors,
            }
            for c in day_counts(session, site, day)
        ]
        session.execute(
            delete(DailyAggregate).where(DailyAggregate.site == site, DailyAggregate.day == day)
        )
        if rows:
            session.execute(insert(DailyAggregate), rows)
        _replace_visits(session, site, day, visits)
        marker.final = final
        marker.rolled_up_at = now
    return True


def recount_visits(site: str, start: dt.date, end: dt.date) -> int:
    """Recompute the stored visit figures of final days in [start, end] from their raw events.

    For days finalised before visit figures existed, and to apply goals changed since. Only
    days whose raw events are still kept (purge removes whole days), and only
    `analytics_daily_visits`: the other daily figures stay as they are. Returns the days done.
    """
    days = list(
        db.session.scalars(
            select(RollupDay.day).where(
                RollupDay.site == site,
                RollupDay.day >= start,
                RollupDay.day <= end,
                RollupDay.final.is_(True),
                select(E.id).where(E.site == site, E.day == RollupDay.day).exists(),
            )
        )
    )
    db.session.rollback()
    for day in days:
        visits = day_visits(db.session, site, day)
        db.session.rollback()
        with db.writing() as session:
            _replace_visits(session, site, day, visits)
    return len(days)


def _replace_visits(session: Session, site: str, day: dt.date, visits: DayFigures) -> None:
    rows = [
        {"site": site, "property": prop, "day": day, "value": value[:1024],
         "visitors": f.visitors, "visits": f.visits, "pageviews": f.pageviews,
         "bounces": f.bounces, "duration": f.duration, "events": f.events}
        for prop, values in visits.items()
        for value, f in values.items()
    ]  # fmt: skip
    session.execute(delete(DailyVisits).where(DailyVisits.site == site, DailyVisits.day == day))
    if rows:
        session.execute(insert(DailyVisits), rows)


def is_closed(day: dt.date, now: dt.datetime) -> bool:
    return now >= day_start(day + dt.timedelta(days=1)) + CLOSING_GRACE


def refresh(site: str, start: dt.date, end: dt.date, now: dt.datetime) -> int:
    """Bring the rollups of [start, end] up to date; return the number of days rolled up."""
    max_age = dt.timedelta(seconds=current_app.config["ANALYTICS_ROLLUP_SECONDS"])
    pending = list(
        db.session.execute(
            select(RollupDay.day, RollupDay.rolled_up_at).where(
                RollupDay.site == site,
                RollupDay.day >= start,
                RollupDay.day <= end,
                RollupDay.final.is_(False),
            )
        )
    )
    # End the read transaction: on SQLite it would otherwise keep showing the old rows.
    db.session.rollback()
    done = 0
    for day, rolled_up_at in pending:
        closed = is_closed(day, now)
        if closed or rolled_up_at is None or now - rolled_up_at >= max_age:
            done += rollup_day(site, day, now, final=closed)
    return done


def finalize_closed_days(now: dt.datetime) -> int:
    """Roll up, finally, every day that is over (all sites); run before raw events are purged."""
    pending = list(
        db.session.execute(select(RollupDay.site, RollupDay.day).where(RollupDay.final.is_(False)))
    )
    db.session.rollback()
    return sum(
        rollup_day(site, day, now, final=True) for site, day in pending if is_closed(day, now)
    )


def _delete_days(model: Any, cutoff: dt.date) -> int:
    """Delete a table's rows older than `cutoff`, one day per transaction."""
    days = list(db.session.scalars(select(model.day).where(model.day < cutoff).distinct()))
    db.session.rollback()
    removed = 0
    for day in days:
        with db.writing() as session:
            result = session.execute(delete(model).where(model.day == day))
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def purge(now: dt.datetime) -> str:
    """Apply the retention rules; the line `consent-service purge` prints."""
    config = current_app.config
    today = local_day(now)
    finalized = finalize_closed_days(now)
    raw_cutoff = today - dt.timedelta(days=config["ANALYTICS_RAW_DAYS"])
    aggregate_cutoff = today - dt.timedelta(days=config["ANALYTICS_AGGREGATE_DAYS"])
    raw = _delete_days(AnalyticsEvent, raw_cutoff)
    daily = _delete_days(DailyAggregate, aggregate_cutoff)
    _delete_days(DailyVisits, aggregate_cutoff)
    _delete_days(RollupDay, aggregate_cutoff)
    _delete_days(DroppedCount, aggregate_cutoff)
    with db.writing() as session:
        keys = destroy_expired_keys(session, today)
    return (
        f"{finalized} day(s) rolled up; {raw} raw event(s) before {raw_cutoff} and "
        f"{daily} daily figure(s) before {aggregate_cutoff} removed; "
        f"{keys} visitor key(s) destroyed"
    )
