"""Consent rates: the one definition behind both statistics pages.

**What counts.** The citizens' decisions in the consent log: entries with the action
`grant` (a first choice) or `update` (a changed choice). A withdrawal is not a decision to
allow anything and is not counted. A rate is the share of those decisions that allowed a
category (functional, statistics), or that had one of the three shapes: accept all, only
necessary, custom.

**Which site.** One site at a time: the rates of uppsala.se never mix with a sister site's.

**Which calendar.** The site's calendar days in its time zone, from midnight to midnight
local time — `CONSENT_ANALYTICS_TIMEZONE`, Europe/Stockholm by default, the same days the
visitor statistics are counted in. A decision at 23:30 UTC on 9 June is one of 10 June's in
summer (UTC+2). Weeks start on Monday (ISO weeks); months are calendar months.

The database groups the decisions per local day; weeks and months are summed from the days
in Python. SQLite knows no time zones, so the SQL adds the zone's UTC offset to each
timestamp, with one offset per stretch between two clock changes inside the range
(`local_day`, the one dialect-aware expression here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    SQLColumnExpression,
    and_,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from consent_service.audit.models import ConsentEntry
from consent_service.sites.services import UnknownSite, default_site, site_config

DECISIONS = ("grant", "update")
GRANULARITIES = ("day", "week", "month")
# How far back a chart reaches by default, and at most, per granularity (in buckets).
DEFAULT_BUCKETS = {"day": 30, "week": 12, "month": 12}
MAX_BUCKETS = {"day": 366, "week": 260, "month": 120}


def site_zone(site: str) -> ZoneInfo:
    """The time zone whose calendar days `site`'s figures are counted in: the site's own
    (CONSENT_ANALYTICS_TIMEZONE for the default site, or a site that is no longer served)."""
    try:
        return site_config(site).time_zone
    except UnknownSite:
        return default_site().time_zone


def day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _offset_minutes(zone: ZoneInfo, at: dt.datetime) -> int:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def offsets(zone: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, int]]:
    """(from, UTC offset in minutes) for each stretch of [start, end) between clock changes.

    Clock changes are found day by day and then to the second by halving, so a range of
    ten years costs a few thousand offset look-ups.
    """
    stretches = [(start, _offset_minutes(zone, start))]
    cursor = start
    while cursor < end:
        step = min(cursor + dt.timedelta(days=1), end)
        if _offset_minutes(zone, step) != stretches[-1][1]:
            low, high = cursor, step  # the offset changes in (low, high]
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset_minutes(zone, middle) == stretches[-1][1]:
                    low = middle
                else:
                    high = middle
            changed = high.replace(microsecond=0)
            stretches.append((changed, _offset_minutes(zone, changed)))
        cursor = step
    return stretches


def local_day(
    column: SQLColumnExpression[dt.datetime],
    dialect: str,
    zone: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> ColumnElement[str]:
    """The calendar day in `zone` of a UTC timestamp in [start, end), as 'YYYY-MM-DD'."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(zone.key, column), "YYYY-MM-DD")
    # SQLite keeps UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text; date() shifts it.
    stretches = offsets(zone, start, end)

    def modifier(minutes: int) -> str:
        return f"{minutes:+d} minutes"

    if len(stretches) == 1:
        return func.date(column, modifier(stretches[0][1]))
    # The newest stretch first: each WHEN needs only its lower bound.
    whens = [(column >= since, modifier(m)) for since, m in reversed(stretches[1:])]
    shift = case(*whens, else_=literal(modifier(stretches[0][1])))
    return func.date(column, shift)


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
        """`count` as a percentage of the decisions, one decimal; None without decisions."""
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
    *,
    site: str,
    zone: ZoneInfo,
) -> list[Bucket]:
    """`site`'s grant and update decisions per bucket of its calendar days in `zone`.

    Every bucket from `date_from` to `date_to` (both included) is returned, empty ones too:
    how many decisions allowed each category, and how many had each of the three shapes.
    """
    e = ConsentEntry
    start, end = day_start(date_from, zone), day_start(date_to + dt.timedelta(days=1), zone)
    day = local_day(e.occurred_at, session.get_bind().dialect.name, zone, start, end).label("day")

    def count_if(condition: SQLColumnExpression[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0), type_=Integer)

    stmt = (
        select(
            day,
            func.count(),
            count_if(e.functional),
            count_if(e.statistics),
            count_if(and_(e.functional, e.statistics)),
            count_if(and_(~e.functional, ~e.statistics)),
        )
        .where(
            e.site == site,
            e.action.in_(DECISIONS),
            e.occurred_at >= start,
            e.occurred_at < end,
        )
        .group_by(day)
        .order_by(day)
    )
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


def logged_sites(session: Session) -> list[str]:
    """The sites that have entries in the consent log, in alphabetical order."""
    return list(session.scalars(select(ConsentEntry.site).distinct().order_by(ConsentEntry.site)))


def busiest_site(
    session: Session, date_from: dt.date, date_to: dt.date, zone: ZoneInfo
) -> str | None:
    """The site with the most decisions in the period (roughly: in `zone`), or None."""
    e = ConsentEntry
    start, end = day_start(date_from, zone), day_start(date_to + dt.timedelta(days=1), zone)
    count = func.count()
    return session.scalar(
        select(e.site)
        .where(e.action.in_(DECISIONS), e.occurred_at >= start, e.occurred_at < end)
        .group_by(e.site)
        .order_by(count.desc(), e.site)
        .limit(1)
    )
