"""Daily rollups of the raw events, and the retention rules for both.

Each site and day gets a set of `analytics_daily` rows: totals, pages, referrers,
languages, device classes, custom events, event properties and the idea-widget funnel.
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
from sqlalchemy import ColumnElement, delete, distinct, func, insert, literal_column, select
from sqlalchemy.orm import Session

from consent_service.analytics.models import (
    AnalyticsEvent,
    DailyAggregate,
    DroppedCount,
    RollupDay,
)
from consent_service.analytics.visitors import day_start, destroy_expired_keys, local_day
from consent_service.db import db

E = AnalyticsEvent

# Page-view breakdowns: dimension name → column. An empty value means unknown or none.
BREAKDOWNS: dict[str, Any] = {
    "referrer": E.referrer_host,
    "language": E.language,
    "device": E.device,
    "browser": E.browser,
    "os": E.os,
    "screen": E.screen,
    "host": E.host,
}
# The idea widget sends these events, in this order.
FUNNEL = ("idea_opened", "idea_started", "idea_submitted")
DIMENSIONS = ("total", "page", *BREAKDOWNS, "event", "prop", "funnel")
PROP_SEPARATOR = "\t"  # event name, property and value; none of them may hold a tab
# A request that began just before midnight may commit just after it.
CLOSING_GRACE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Count:
    day: dt.date
    value: str
    events: int
    visitors: int


def _where(site: str, start: dt.date, end: dt.date, path: str | None) -> list[ColumnElement[bool]]:
    where = [E.site == site, E.day >= start, E.day <= end]
    if path is not None:
        where.append(E.path == path)
    return where


def _grouped(
    session: Session, where: list[ColumnElement[bool]], value: Any | None
) -> Iterator[Count]:
    """Events and distinct visitors per day and value (per day only when `value` is None)."""
    columns = [E.day] if value is None else [E.day, value]
    stmt = (
        select(E.day, literal_column("''") if value is None else value)
        .add_columns(func.count(), func.count(distinct(E.visitor)))
        .where(*where)
        .group_by(*columns)
    )
    for day, val, events, visitors in session.execute(stmt):
        yield Count(day, val or "", events, visitors)


def _prop_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _props(session: Session, where: list[ColumnElement[bool]]) -> Iterator[Count]:
    stmt = select(E.day, E.name, E.props, E.visitor).where(
        *where, E.type == "event", E.props.is_not(None)
    )
    events: dict[tuple[dt.date, str], int] = defaultdict(int)
    visitors: dict[tuple[dt.date, str], set[str]] = defaultdict(set)
    for day, name, props, visitor in session.execute(stmt):
        for key, value in json.loads(props or "{}").items():
            label = PROP_SEPARATOR.join((name or "", key, _prop_text(value)))[:1024]
            events[day, label] += 1
            visitors[day, label].add(visitor)
    for (day, label), n in events.items():
        yield Count(day, label, n, len(visitors[day, label]))


def _funnel(session: Session, where: list[ColumnElement[bool]]) -> Iterator[Count]:
    """Per day: each step's events, and the visitors who also took every earlier step that day."""
    stmt = (
        select(E.day, E.name, E.visitor, func.count())
        .where(*where, E.type == "event", E.name.in_(FUNNEL))
        .group_by(E.day, E.name, E.visitor)
    )
    steps: dict[dt.date, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for day, name, visitor, n in session.execute(stmt):
        steps[day][name or ""][visitor] = n
    for day, by_step in steps.items():
        reached: set[str] | None = None
        for name in FUNNEL:
            took = by_step.get(name, {})
            reached = set(took) if reached is None else reached & set(took)
            if took:
                yield Count(day, name, sum(took.values()), len(reached))


def counts(
    session: Session,
    dimension: str,
    site: str,
    start: dt.date,
    end: dt.date,
    path: str | None = None,
) -> list[Count]:
    """The raw events of [start, end] counted along `dimension`, one row per day and value."""
    where = _where(site, start, end, path)
    views = [*where, E.type == "pageview"]
    if dimension == "total":
        return list(_grouped(session, views, None))
    if dimension == "page":
        return list(_grouped(session, views, E.path))
    if dimension in BREAKDOWNS:
        return list(_grouped(session, views, BREAKDOWNS[dimension]))
    if dimension == "event":
        return list(_grouped(session, [*where, E.type == "event"], E.name))
    if dimension == "prop":
        return list(_props(session, where))
    if dimension == "funnel":
        return list(_funnel(session, where))
    raise ValueError(f"unknown dimension {dimension!r}")


def rollup_day(site: str, day: dt.date, now: dt.datetime, *, final: bool) -> bool:
    """Recompute one day's rows; False when another worker finalised it meanwhile."""
    with db.writing() as session:
        marker = session.get(RollupDay, (site, day), with_for_update=True)
        if marker is None:
            marker = RollupDay(site=site, day=day, final=False, rolled_up_at=None)
            session.add(marker)
        elif marker.final:
            return False
        rows = [
            {
                "site": site,
                "dimension": dimension,
                "day": c.day,
                "value": c.value,
                "events": c.events,
                "visitors": c.visitors,
            }
            for dimension in DIMENSIONS
            # Counted inside the writing transaction: the rows replaced are the rows counted.
            for c in counts(session, dimension, site, day, day)
        ]
        session.execute(
            delete(DailyAggregate).where(DailyAggregate.site == site, DailyAggregate.day == day)
        )
        if rows:
            session.execute(insert(DailyAggregate), rows)
        marker.final = final
        marker.rolled_up_at = now
    return True


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
    days = list(db.session.scalars(select(distinct(model.day)).where(model.day < cutoff)))
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
    _delete_days(RollupDay, aggregate_cutoff)
    _delete_days(DroppedCount, aggregate_cutoff)
    with db.writing() as session:
        keys = destroy_expired_keys(session, today)
    return (
        f"{finalized} day(s) rolled up; {raw} raw event(s) before {raw_cutoff} and "
        f"{daily} daily figure(s) before {aggregate_cutoff} removed; "
        f"{keys} visitor key(s) destroyed"
    )
