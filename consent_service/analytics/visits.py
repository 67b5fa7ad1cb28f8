"""Visits, with Plausible's definitions, derived from one day's stored events.

- A visitor is one visitor hash on one day (the key that makes it exists for a day only).
- A visit is a visitor's run of events with no gap longer than VISIT_GAP; visits never
  reach across days, because a visitor does not.
- A bounce is a visit with exactly one page view and no custom event (events in
  NON_INTERACTIVE, sent without the visitor doing anything, do not count).
- A visit's duration is the seconds between its first and last event; entry and exit
  pages are its first and last page view; its source and campaign are those of its first
  page view (of its first event when it has none).

The ingest stores events only; visits are computed here, in one pass over a day's events
ordered by (visitor, time, id): by the rollup for `analytics_daily_visits`, and for open
days when they are asked for (figures.py), so today's figures are live.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_service.analytics.funnels import FunnelSpec, reached, site_funnels
from consent_service.analytics.goals import GoalSpec, site_goals
from consent_service.analytics.models import AnalyticsEvent
from consent_service.analytics.services import UTM_FIELDS
from consent_service.analytics.sources import source_of

E = AnalyticsEvent
VISIT_GAP = dt.timedelta(minutes=30)
# Sent by the idea widget when it is drawn: no sign that the visitor did anything.
NON_INTERACTIVE = frozenset({"idea_shown"})
TOTAL = ""  # the property (and value) of the whole site's figures
# Breakdowns of visits by a property of the visit ("page": by each page it viewed).
# "funnel": the visits that took a funnel's steps in order up to each step (funnels.py).
PROPERTIES = ("page", "entry_page", "exit_page", "source", "source_kind", *UTM_FIELDS, "goal",
              "funnel")  # fmt: skip
COLUMNS = (E.visitor, E.occurred_at, E.type, E.path, E.name, E.referrer_host,
           *(getattr(E, name) for name in UTM_FIELDS))  # fmt: skip


@dataclass
class Cell:
    """Counts of the visits with one value of one property, on one day."""

    visitors: set[str] = field(default_factory=set)
    visits: int = 0
    pageviews: int = 0
    bounces: int = 0
    duration: int = 0
    events: int = 0


@dataclass(frozen=True)
class Figures:
    """Summable counts of one property value: one day's, or several days' sums."""

    visitors: int = 0
    visits: int = 0
    pageviews: int = 0
    bounces: int = 0
    duration: int = 0
    events: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.visitors + other.visitors,
            self.visits + other.visits,
            self.pageviews + other.pageviews,
            self.bounces + other.bounces,
            self.duration + other.duration,
            self.events + other.events,
        )

    @property
    def views_per_visit(self) -> float:
        return round(self.pageviews / self.visits, 2) if self.visits else 0.0

    @property
    def bounce_rate(self) -> int:
        """Bounces among visits in whole percent (0 without visits), as Plausible reports it."""
        return round(self.bounces * 100 / self.visits) if self.visits else 0

    @property
    def visit_duration(self) -> int:
        """The mean visit duration in whole seconds (0 without visits)."""
        return round(self.duration / self.visits) if self.visits else 0


# property → value → figures
DayFigures = dict[str, dict[str, Figures]]


class _Visit:
    __slots__ = ("entry_row", "events", "first", "last", "pages", "steps")

    def __init__(self, row: Sequence[Any]) -> None:
        self.first = self.last = row[1]
        self.pages: list[str] = []
        self.events: list[str] = []
        # Page views and events in time: (is a page view, path or name), for funnels.
        self.steps: list[tuple[bool, str]] = []
        self.entry_row: Sequence[Any] = row

    def add(self, row: Sequence[Any]) -> None:
        self.last = row[1]
        if row[2] == "pageview":
            if not self.pages:
                self.entry_row = row
            self.pages.append(row[3])
            self.steps.append((True, row[3]))
        else:
            self.events.append(row[4] or "")
            self.steps.append((False, row[4] or ""))


def _visits(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[str, _Visit]]:
    """Split rows ordered by (visitor, time) into visits."""
    visitor: str | None = None
    visit: _Visit | None = None
    for row in rows:
        if visit is not None and (row[0] != visitor or row[1] - visit.last > VISIT_GAP):
            assert visitor is not None
            yield visitor, visit
            visit = None
        if visit is None:
            visitor, visit = row[0], _Visit(row)
        visit.add(row)
    if visit is not None:
        assert visitor is not None
        yield visitor, visit


def count_visits(
    rows: Iterable[Sequence[Any]],
    goals: Sequence[GoalSpec] = (),
    funnels: Sequence[FunnelSpec] = (),
) -> DayFigures:
    """The figures of one day from its events as COLUMNS, ordered by (visitor, time, id).

    "goal": the visits that converted on each of `goals`; without goals, on each custom
    event name. "funnel": per step key of `funnels`, the visits that took the steps up to it
    in order.
    """
    event_goals = {g.value: g.label for g in goals if g.kind == "event"}
    page_goals = [g for g in goals if g.kind == "page"]
    cells: dict[tuple[str, str], Cell] = {}

    def add(prop: str, value: str, visitor: str, pageviews: int, events: int, *,
            bounce: bool, duration: int) -> None:  # fmt: skip
        cell = cells.get((prop, value))
        if cell is None:
            cell = cells[prop, value] = Cell()
        cell.visitors.add(visitor)
        cell.visits += 1
        cell.pageviews += pageviews
        cell.bounces += bounce
        cell.duration += duration
        cell.events += events

    for visitor, visit in _visits(rows):
        interactive = [name for name in visit.events if name not in NON_INTERACTIVE]
        bounce = len(visit.pages) == 1 and not interactive
        duration = int((visit.last - visit.first).total_seconds())
        views, events = len(visit.pages), len(visit.events)
        entry = visit.entry_row
        source, kind = source_of(entry[5], entry[6])
        keys = [(TOTAL, TOTAL), ("source", source), ("source_kind", kind)]
        keys += [(name, value) for name, value in zip(UTM_FIELDS, entry[6:], strict=True) if value]
        if visit.pages:
            keys += [("entry_page", visit.pages[0]), ("exit_page", visit.pages[-1])]
        for prop, value in keys:
            add(prop, value, visitor, views, events, bounce=bounce, duration=duration)
        for page in dict.fromkeys(visit.pages):
            add("page", page, visitor, visit.pages.count(page), events,
                bounce=bounce, duration=duration)  # fmt: skip
        if funnels:
            # Funnels that share their first steps share those steps' keys: count once.
            took = {key for f in funnels for key in f.keys[: reached(f.steps, visit.steps)]}
            for key in took:
                add("funnel", key, visitor, views, events, bounce=bounce, duration=duration)
        if not goals:
            for name in dict.fromkeys(visit.events):
                add("goal", name, visitor, views, visit.events.count(name),
                    bounce=bounce, duration=duration)  # fmt: skip
            continue
        for name in dict.fromkeys(visit.events):
            if name in event_goals:
                add("goal", event_goals[name], visitor, views, visit.events.count(name),
                    bounce=bounce, duration=duration)  # fmt: skip
        for goal in page_goals:
            hits = sum(1 for page in visit.pages if goal.matches_page(page))
            if hits:
                add("goal", goal.label, visitor, views, hits, bounce=bounce, duration=duration)
    result: DayFigures = {}
    for (prop, value), cell in cells.items():
        result.setdefault(prop, {})[value] = Figures(
            len(cell.visitors), cell.visits, cell.pageviews, cell.bounces, cell.duration,
            cell.events,
        )  # fmt: skip
    return result


def day_visits(
    session: Session,
    site: str,
    day: dt.date,
    goals: Sequence[GoalSpec] | None = None,
    funnels: Sequence[FunnelSpec] | None = None,
) -> DayFigures:
    """Compute one day's visit figures from its raw events (the site's goals and funnels of now)."""
    if goals is None:
        goals = site_goals(session, site)
    if funnels is None:
        funnels = site_funnels(session, site)
    stmt = (
        select(*COLUMNS)
        .where(E.day == day, E.site == site)
        .order_by(E.visitor, E.occurred_at, E.id)
        .execution_options(yield_per=10_000)
    )
    return count_visits(session.execute(stmt), goals, funnels)


def day_version(session: Session, site: str, day: dt.date) -> tuple[int, int]:
    """How many events the day has and its highest id: changes whenever an event is stored."""
    count, last = session.execute(
        select(func.count(), func.max(E.id)).where(E.day == day, E.site == site)
    ).one()
    return int(count), int(last or 0)
