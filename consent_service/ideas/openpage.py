"""The open idea page (/ideas): the ideas the team published, masked, and what happened to
every idea, per quarter.

Citizen-facing and read-only; works without HTTP like services.py. Only counts leave this
module for ideas the team did not publish, never their text. Quarters are UTC, like the
evaluation's months; spam never counts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from consent_service.db import db, utcnow
from consent_service.ideas import challenges, masking
from consent_service.ideas.catalog import (
    CLOSE_REASONS,
    CLOSED,
    INBOX,
    LOOP_STAGES,
    SPAM,
    current_catalog,
)
from consent_service.ideas.models import Idea, IdeaChallenge
from consent_service.ideas.services import public_view
from consent_service.web.charts import Bar, BarChart, bar_chart
from consent_service.web.formatting import format_number

PUBLISHED_SHOWN = 100
QUARTERS_SHOWN = 8
# Where an idea that is still being worked on can be, in the loop's order.
OPEN_STAGES = (INBOX, *LOOP_STAGES)
# Why ideas were closed, besides being realised (shown in a column of its own).
OTHER_CLOSE_REASONS = tuple(r for r in CLOSE_REASONS if r != "realised")


def replacements(language: str) -> dict[str, str]:
    """The masking texts of a language ("[personnummer borttaget]")."""
    texts = current_catalog().open_texts(language)
    return {kind: texts[f"mask_{kind}"] for kind in masking.KINDS}


def _masked(text: str, words: Mapping[str, str], found: list[str]) -> str:
    result = masking.mask_personal_data(text, words)
    found.extend(result.found)
    return result.text


def open_view(idea: Idea, language: str) -> dict[str, Any]:
    """The citizen's view of a published idea, with personal data masked in every text."""
    view = public_view(idea, language)
    words = replacements(language)
    found: list[str] = []
    messages = [{**m, "body": _masked(m["body"], words, found)} for m in reversed(view["messages"])]
    return {
        "reference": view["reference"],
        "title": _masked(view["title"], words, found),
        "body": _masked(view["body"], words, found),
        "area": view["area"],
        "received_at": view["received_at"],
        "stage": view["stage"],
        "closed": view["closed"],
        "merged_into": view["merged_into"],
        "messages": messages,
        "masked": bool(found),
    }


def published_ideas(site: str, language: str, limit: int = PUBLISHED_SHOWN) -> list[dict[str, Any]]:
    """The site's published ideas, most recently published first, masked."""
    ideas = db.session.scalars(
        select(Idea)
        .where(Idea.site == site, Idea.published, Idea.stage != SPAM)
        .order_by(Idea.published_at.desc(), Idea.id.desc())
        .limit(limit)
    ).unique()
    return [open_view(idea, language) for idea in ideas]


@dataclass(frozen=True)
class QuarterFigures:
    """The ideas received in one quarter and where they are now."""

    year: int
    quarter: int
    received: int = 0
    by_stage: Counter[str] = field(default_factory=Counter)
    closed_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def key(self) -> str:
        return f"{self.year}-Q{self.quarter}"

    @property
    def realised(self) -> int:
        return self.closed_by_reason["realised"]

    @property
    def closed_other(self) -> int:
        return sum(self.closed_by_reason[r] for r in OTHER_CLOSE_REASONS)


def quarter_of(moment: dt.datetime) -> tuple[int, int]:
    return moment.year, (moment.month - 1) // 3 + 1


def _previous(year: int, quarter: int) -> tuple[int, int]:
    return (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def quarterly_figures(
    site: str,
    *,
    now: dt.datetime | None = None,
    quarters: int = QUARTERS_SHOWN,
) -> list[QuarterFigures]:
    """Per quarter of receipt, newest first: received, in each stage now, closed and why.

    From the quarter of the first idea to the current one, at most `quarters` of them.
    """
    now = now or utcnow()
    keys: list[tuple[int, int]] = [quarter_of(now)]
    while len(keys) < quarters:
        keys.append(_previous(*keys[-1]))
    first_year, first_quarter = keys[-1]
    start = dt.datetime(first_year, 3 * first_quarter - 2, 1, tzinfo=dt.UTC)
    query = select(Idea.received_at, Idea.stage, Idea.close_reason).where(
        Idea.site == site, Idea.stage != SPAM, Idea.received_at >= start
    )
    rows = db.session.execute(query).all()
    figures = {key: QuarterFigures(*key) for key in keys}
    counted: dict[tuple[int, int], int] = Counter()
    for row in rows:
        key = quarter_of(row.received_at)
        if key not in figures:
            continue  # received "in the future" by a skewed clock: not a quarter shown
        counted[key] += 1
        if row.stage == CLOSED:
            figures[key].closed_by_reason[row.close_reason or "not_pursued"] += 1
        else:
            figures[key].by_stage[row.stage] += 1
    shown = [
        QuarterFigures(k[0], k[1], counted[k], figures[k].by_stage, figures[k].closed_by_reason)
        for k in keys
    ]
    # Nothing before the first idea: drop the empty quarters at the old end.
    while len(shown) > 1 and shown[-1].received == 0:
        shown.pop()
    return shown if any(q.received for q in shown) else []


@dataclass(frozen=True)
class ChallengeFigures:
    """The ideas sent to one challenge (None: to no challenge) and where they are now."""

    challenge: IdeaChallenge | None
    view: dict[str, Any] | None
    received: int = 0
    by_stage: Counter[str] = field(default_factory=Counter)
    closed_by_reason: Counter[str] = field(default_factory=Counter)

    @property
    def realised(self) -> int:
        return self.closed_by_reason["realised"]

    @property
    def closed_other(self) -> int:
        return sum(self.closed_by_reason[r] for r in OTHER_CLOSE_REASONS)


def challenge_figures(
    site: str, language: str, now: dt.datetime | None = None
) -> list[ChallengeFigures]:
    """Per challenge of the site (latest to open first), then ideas without one: received,
    in each stage now, closed and why. Empty when the site has no challenges."""
    listed = challenges.challenges_of(site)
    if not listed:
        return []
    rows = db.session.execute(
        select(Idea.challenge_id, Idea.stage, Idea.close_reason).where(
            Idea.site == site, Idea.stage != SPAM
        )
    ).all()
    figures = [ChallengeFigures(c, challenges.public_view(c, language, now)) for c in listed]
    figures.append(ChallengeFigures(None, None))
    by_id = {f.challenge.id if f.challenge else None: f for f in figures}
    received: Counter[int | None] = Counter()
    for row in rows:
        tally = by_id.get(row.challenge_id)
        if tally is None:
            continue
        received[row.challenge_id] += 1
        if row.stage == CLOSED:
            tally.closed_by_reason[row.close_reason or "not_pursued"] += 1
        else:
            tally.by_stage[row.stage] += 1
    return [
        ChallengeFigures(
            f.challenge,
            f.view,
            received[f.challenge.id if f.challenge else None],
            f.by_stage,
            f.closed_by_reason,
        )
        for f in figures
    ]


def received_chart(quarters: list[QuarterFigures], language: str) -> BarChart:
    """Ideas received per quarter as bars (the table beside it has the same figures)."""
    label = current_catalog().open_texts(language)["quarter_label"]
    return bar_chart(
        [
            Bar(
                label.format(year=q.year, quarter=q.quarter),
                q.received,
                format_number(q.received, language=language),
            )
            for q in quarters
        ]
    )
