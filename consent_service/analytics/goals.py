"""Goals: the conversions editors follow per site — a custom event, or views of a page pattern.

A page goal's pattern is a path where `*` stands for any characters (`/bo-och-leva/*`); it
is named as Plausible names one, "Visit /bo-och-leva/*". A visit converts on a goal when it
has the event, or a page view whose path matches. Until a site has goals, every custom event
name counts as one (visits.py).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.analytics.models import Goal
from consent_service.analytics.services import NAME
from consent_service.db import db

KINDS = ("event", "page")
PAGE_PATTERN = re.compile(r"/[A-Za-z0-9_.~!$&'()*+,;=:@%/-]{0,255}")


class GoalError(ValueError):
    """The goal cannot be added as given; the message says why (in Swedish, for editors)."""


@dataclass(frozen=True)
class GoalSpec:
    kind: str
    value: str

    @property
    def label(self) -> str:
        return f"Visit {self.value}" if self.kind == "page" else self.value

    @cached_property
    def _regex(self) -> re.Pattern[str]:
        return re.compile(".*".join(re.escape(part) for part in self.value.split("*")))

    def matches_page(self, path: str) -> bool:
        return self.kind == "page" and self._regex.fullmatch(path.split("?", 1)[0]) is not None


def site_goals(session: Session, site: str) -> tuple[GoalSpec, ...]:
    rows = session.execute(
        select(Goal.kind, Goal.value).where(Goal.site == site).order_by(Goal.kind, Goal.value)
    )
    return tuple(GoalSpec(kind, value) for kind, value in rows)


def list_goals(site: str) -> list[Goal]:
    goals = list(db.session.scalars(select(Goal).where(Goal.site == site).order_by(Goal.id)))
    db.session.rollback()
    return goals


def add_goal(site: str, kind: str, value: str, *, by: str, now: dt.datetime) -> Goal:
    value = value.strip()
    if kind == "event":
        if not NAME.fullmatch(value):
            raise GoalError(
                "En händelse heter 1 till 64 tecken: bokstäver a-z, siffror, mellanslag inuti "
                "och _ . : -."
            )
    elif kind == "page":
        if not PAGE_PATTERN.fullmatch(value):
            raise GoalError(
                "Ett sidmål är en sökväg som börjar med /, till exempel /bo-och-leva/* "
                "(* står för vilka tecken som helst)."
            )
    else:
        raise GoalError("Välj om målet är en händelse eller en sida.")
    try:
        with db.writing() as session:
            goal = Goal(site=site, kind=kind, value=value, created_by=by, created_at=now)
            session.add(goal)
            session.flush()
            session.expunge(goal)
    except IntegrityError:
        raise GoalError("Målet finns redan.") from None
    return goal


def remove_goal(site: str, goal_id: int) -> bool:
    with db.writing() as session:
        result = session.execute(delete(Goal).where(Goal.site == site, Goal.id == goal_id))
        return bool(getattr(result, "rowcount", 0))
