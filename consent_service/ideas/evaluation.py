"""Evaluation of the innovation work: what came in, how far ideas got, how long each stage took.

Computed in Python from plain rows so that it runs the same on SQLite and PostgreSQL. Months
and days are UTC. Spam never counts.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from consent_service.db import db, utcnow
from consent_service.ideas.board import stage_name
from consent_service.ideas.catalog import CLOSED, INBOX, LOOP_STAGES, SPAM, current_catalog
from consent_service.ideas.models import Idea, IdeaEvent
from consent_service.web.charts import Bar, BarChart, bar_chart
from consent_service.web.formatting import format_number, format_percent

MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
# Stages an idea passes through in order; "reaching" one means getting there or further.
FUNNEL = (INBOX, *LOOP_STAGES)


@dataclass(frozen=True)
class Period:
    first: dt.date  # first day of the first month
    months: tuple[str, ...]  # "2026-01", …

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.first.year, self.first.month, 1, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        year, month = map(int, self.months[-1].split("-"))
        month += 1
        if month == 13:
            year, month = year + 1, 1
        return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def parse_month(value: str | None) -> tuple[int, int] | None:
    """(year, month) from exactly YYYY-MM; None for anything else."""
    match = MONTH.fullmatch(value or "")
    if match is None:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return year, month


def period(from_month: str | None, to_month: str | None, now: dt.datetime | None = None) -> Period:
    """The months from `from_month` to `to_month` (YYYY-MM); the last 12 months by default."""
    now = now or utcnow()
    last = parse_month(to_month) or (now.year, now.month)
    first = parse_month(from_month)
    if first is None or first > last:
        year, month = last[0], last[1] - 11
        while month < 1:
            year, month = year - 1, month + 12
        first = (year, month)
    months: list[str] = []
    year, month = first
    while (year, month) <= last and len(months) < 120:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return Period(dt.date(first[0], first[1], 1), tuple(months))


@dataclass(frozen=True)
class StageTime:
    stage: str
    count: int
    median_days: float | None
    mean_days: float | None


@dataclass(frozen=True)
class Evaluation:
    period: Period
    areas: tuple[tuple[str, str], ...]  # (id, label)
    per_month: dict[str, dict[str, int]]  # month -> area -> count
    total: int
    reached: dict[str, int]  # stage -> ideas that got there or further
    stage_times: tuple[StageTime, ...]
    closed_by_reason: dict[str, int]

    def month_total(self, month: str) -> int:
        return sum(self.per_month[month].values())

    def area_total(self, area: str) -> int:
        return sum(row[area] for row in self.per_month.values())

    def share(self, stage: str) -> float:
        return self.reached[stage] / self.total if self.total else 0.0


def _visits(
    received_at: dt.datetime, events: Sequence[IdeaEvent], now: dt.datetime
) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    """(stage, entered, left) for each stay, from the history; `left` is None while there."""
    visits: list[tuple[str, dt.datetime, dt.datetime | None]] = []
    stage, entered = INBOX, received_at
    for event in events:
        if event.kind == "received":
            stage = event.to_stage or INBOX
            continue
        if event.to_stage is None:
            continue
        visits.append((stage, entered, event.occurred_at))
        stage, entered = event.to_stage, event.occurred_at
    visits.append((stage, entered, None))
    return visits


def evaluate(
    the_period: Period, now: dt.datetime | None = None, *, challenge_id: int | None = None
) -> Evaluation:
    """The period's figures; only the ideas sent to one challenge when `challenge_id` is given."""
    now = now or utcnow()
    catalog = current_catalog()
    query = (
        select(
            Idea.id, Idea.received_at, Idea.area, Idea.stage, Idea.close_reason, Idea.spam_reason
        )
        .where(Idea.received_at >= the_period.start, Idea.received_at < the_period.end)
        .order_by(Idea.id)
    )
    if challenge_id is not None:
        query = query.where(Idea.challenge_id == challenge_id)
    ideas = db.session.execute(query).all()
    counted = [row for row in ideas if row.stage != SPAM]
    ids = [row.id for row in counted]
    events: dict[int, list[IdeaEvent]] = defaultdict(list)
    # In chunks: a long period must not build one enormous IN list.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for event in db.session.scalars(
            select(IdeaEvent)
            .where(IdeaEvent.idea_id.in_(chunk), IdeaEvent.to_stage.is_not(None))
            .order_by(IdeaEvent.occurred_at, IdeaEvent.id)
        ):
            events[event.idea_id].append(event)

    area_ids = [a.id for a in catalog.areas]
    for row in counted:
        if row.area not in area_ids:
            area_ids.append(row.area)
    per_month = {m: dict.fromkeys(area_ids, 0) for m in the_period.months}
    reached = dict.fromkeys(FUNNEL, 0)
    durations: dict[str, list[float]] = {s: [] for s in FUNNEL}
    closed_by_reason: Counter[str] = Counter()
    for row in counted:
        per_month[row.received_at.strftime("%Y-%m")][row.area] += 1
        visits = _visits(row.received_at, events[row.id], now)
        furthest = max(
            (FUNNEL.index(stage) for stage, _, _ in visits if stage in FUNNEL), default=0
        )
        for stage in FUNNEL[: furthest + 1]:
            reached[stage] += 1
        for stage, entered, left in visits:
            if left is not None and stage in durations:
                durations[stage].append((left - entered).total_seconds() / 86400)
        if row.stage == CLOSED and row.close_reason:
            closed_by_reason[row.close_reason] += 1
    stage_times = tuple(
        StageTime(
            stage,
            len(values),
            statistics.median(values) if values else None,
            statistics.fmean(values) if values else None,
        )
        for stage, values in durations.items()
    )
    return Evaluation(
        period=the_period,
        areas=tuple((a, catalog.area_label(a, "sv")) for a in area_ids),
        per_month=per_month,
        total=len(counted),
        reached=reached,
        stage_times=stage_times,
        closed_by_reason=dict(closed_by_reason),
    )


# --- charts: plain SVG drawn on the server by web/charts.py, no scripts ----------------------


def charts(result: Evaluation) -> dict[str, BarChart]:
    """The evaluation page's four charts: per month, per area, the funnel, time per stage."""
    months = result.period.months
    return {
        "month_chart": bar_chart(
            [Bar(m, result.month_total(m), str(result.month_total(m))) for m in months],
            label_width=90,
        ),
        "area_chart": bar_chart(
            [
                Bar(label, result.area_total(a), str(result.area_total(a)))
                for a, label in result.areas
            ],
            label_width=220,  # room for the longest area label ("Uppsala.se och e-tjänster")
        ),
        "funnel_chart": bar_chart(
            [Bar(stage_name(s), result.share(s), format_share(result.share(s))) for s in FUNNEL]
        ),
        "time_chart": bar_chart(
            [
                Bar(stage_name(t.stage), t.median_days or 0, format_days(t.median_days))
                for t in result.stage_times
            ]
        ),
    }


def format_days(value: float | None) -> str:
    """Days with one decimal, as Swedish writes them: '2,5 d'."""
    if value is None:
        return "–"
    return format_number(value, 1) + "\u00a0d"


def format_share(value: float) -> str:
    """A share as a whole percentage, as Swedish writes it: '75 %' (no-break space)."""
    return format_percent(value)
