"""Retention (gallring) of whole ideas per state, applied by `consent-service purge`.

`CONSENT_IDEAS_RETENTION="closed=1095,spam=30"`: an idea is removed once it has been that
many days in the state (closed ideas counted from closing, the others from their last change
of stage). Without rules nothing is removed: the idea is a public record, and erasing it is
the municipality's decision (gallringsbeslut), which these rules write down.

Removing an idea removes everything that hangs on it (contact, tags, notes, messages,
history, queued mail, the team's assessments) through the tables' ON DELETE CASCADE. What
stays is one `idea_purges` row per idea: its reference, its state and the rule, and when;
never its title, text or anything the citizen wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from consent_service.config import ConfigError
from consent_service.db import db, utcnow
from consent_service.ideas.catalog import CLOSED, INBOX, LOOP_STAGES, SPAM
from consent_service.ideas.models import Idea
from consent_service.ideas.records import IdeaPurge

STATES = (INBOX, *LOOP_STAGES, CLOSED, SPAM)


def check_rules(rules: Mapping[str, int]) -> None:
    """Refuse to start with a rule for a state that does not exist."""
    unknown = sorted(set(rules) - set(STATES))
    if unknown:
        raise ConfigError(
            f"CONSENT_IDEAS_RETENTION: no state {', '.join(unknown)}; states: {', '.join(STATES)}"
        )


def rules() -> dict[str, int]:
    from flask import current_app

    return dict(current_app.config.get("IDEAS_RETENTION") or {})


@dataclass(frozen=True)
class Purged:
    by_rule: dict[str, int]

    def summary(self) -> str:
        if not self.by_rule:
            return (
                "0 idea(s) removed (no retention rule for ideas)"
                if not rules()
                else ("0 idea(s) removed")
            )
        parts = ", ".join(f"{n} under {rule}" for rule, n in sorted(self.by_rule.items()))
        return f"{sum(self.by_rule.values())} idea(s) removed: {parts}"


def due(now: dt.datetime) -> list[tuple[int, str, str, str]]:
    """(id, reference, state, rule) of every idea past its state's retention period."""
    found = []
    for state, days in rules().items():
        cutoff = now - dt.timedelta(days=days)
        clock = Idea.closed_at if state == CLOSED else Idea.stage_changed_at
        rows = db.session.execute(
            select(Idea.id, Idea.reference).where(Idea.stage == state, clock < cutoff)
        ).all()
        found += [(row.id, row.reference, state, f"{state}={days}") for row in rows]
    return found


def purge_ideas(now: dt.datetime | None = None) -> Purged:
    """Remove the ideas past their state's period and record each removal."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    candidates = due(now)
    db.session.rollback()
    if not candidates:
        return Purged(counts)
    with db.writing() as session:
        ids = [c[0] for c in candidates]
        # A duplicate merged into a removed idea keeps its own record; it only loses the
        # pointer (its status page then says it was merged, without naming the idea).
        session.execute(
            update(Idea).where(Idea.merged_into_id.in_(ids)).values(merged_into_id=None)
        )
        for idea_id, reference, state, rule in candidates:
            # Checked again under the write lock: the idea may have moved since.
            still = session.scalar(select(Idea.stage).where(Idea.id == idea_id))
            if still != state:
                continue
            session.execute(delete(Idea).where(Idea.id == idea_id))
            session.add(IdeaPurge(purged_at=now, reference=reference, stage=state, rule=rule))
            counts[rule] = counts.get(rule, 0) + 1
    return Purged(counts)
