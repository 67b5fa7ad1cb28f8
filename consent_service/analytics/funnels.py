"""Funnels: the paths editors follow per site, up to MAX_STEPS steps taken in order in one visit.

A step is a custom event by name, or page views of a path pattern (`*` for any characters),
as a goal is (goals.py). A visit reaches step k when its events hold steps 1..k in that
order (other events between them do not matter); conversion and drop-off are counted over
the visits of the period, from `analytics_daily_visits` (property "funnel") like every visit
figure, so final days are read and open days computed live (figures.py).

Each step's figures are stored under a key of the steps up to it (`step_keys`): editing a
funnel's later steps keeps its earlier figures, and days rolled up with another definition
never mix into the new one (they count after `consent-service analytics recount-visits`).

Every site starts with the idea widget's funnel (`DEFAULT`), once; editors may change or
remove it like any other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.analytics.goals import PAGE_PATTERN, GoalSpec
from consent_service.analytics.models import Funnel, FunnelSeed
from consent_service.analytics.services import NAME
from consent_service.db import db, utcnow

MAX_STEPS = 8
MIN_STEPS = 2
MAX_NAME = 80
DEFAULT_NAME = "Idélådan: från visat formulär till inskickad idé"
DEFAULT = (("event", "idea_shown"), ("event", "idea_opened"), ("event", "idea_started"),
           ("event", "idea_submitted"))  # fmt: skip


class FunnelError(ValueError):
    """The funnel cannot be saved as given; the message says why (in Swedish, for editors)."""


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel's steps, as the visit computation needs them."""

    steps: tuple[GoalSpec, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return step_keys(self.steps)


def step_keys(steps: Sequence[GoalSpec]) -> tuple[str, ...]:
    """The stored value of each step: a digest of the steps up to and including it."""
    keys = []
    digest = hashlib.sha256()
    for step in steps:
        digest.update(f"{step.kind}:{step.value}\n".encode())
        keys.append(digest.copy().hexdigest()[:32])
    return tuple(keys)


def reached(steps: Sequence[GoalSpec], visit: Sequence[tuple[bool, str]]) -> int:
    """How many steps a visit took in order; `visit` is (is a page view, path or name) in time."""
    done = 0
    step = steps[0]
    for is_page, value in visit:
        if step.matches_page(value) if is_page else (step.kind == "event" and step.value == value):
            done += 1
            if done == len(steps):
                break
            step = steps[done]
    return done


def parse_steps(raw: str) -> tuple[GoalSpec, ...]:
    """The steps of a stored funnel (JSON list of [kind, value])."""
    return tuple(GoalSpec(kind, value) for kind, value in json.loads(raw))


def site_funnels(session: Session, site: str) -> tuple[FunnelSpec, ...]:
    """The site's funnels as the visit computation needs them (distinct step lists)."""
    rows = session.scalars(select(Funnel.steps).where(Funnel.site == site).order_by(Funnel.id))
    return tuple(dict.fromkeys(FunnelSpec(parse_steps(raw)) for raw in rows))


def list_funnels(site: str) -> list[Funnel]:
    ensure_default(site)
    found = list(db.session.scalars(select(Funnel).where(Funnel.site == site).order_by(Funnel.id)))
    db.session.rollback()
    return found


def get_funnel(site: str, funnel_id: int) -> Funnel | None:
    funnel = db.session.scalars(
        select(Funnel).where(Funnel.site == site, Funnel.id == funnel_id)
    ).first()
    db.session.rollback()
    return funnel


def ensure_default(site: str) -> None:
    """Give a site the idea widget's funnel the first time its funnels are needed, once."""
    done: set[str] = current_app.extensions.setdefault("analytics_funnels_seeded", set())
    if site in done:
        return
    seeded = db.session.get(FunnelSeed, site) is not None
    db.session.rollback()
    if not seeded:
        try:
            with db.writing() as session:
                session.add(FunnelSeed(site=site, seeded_at=utcnow()))
                session.add(Funnel(site=site, name=DEFAULT_NAME, steps=_dump(DEFAULT),
                                   created_by="", created_at=utcnow()))  # fmt: skip
        except IntegrityError:
            pass  # another worker seeded it first
    done.add(site)


def clean_steps(kinds: Sequence[str], values: Sequence[str]) -> list[tuple[str, str]]:
    """The filled-in steps of the form, checked; empty rows are skipped."""
    steps: list[tuple[str, str]] = []
    for number, (kind, raw) in enumerate(zip(kinds, values, strict=False), start=1):
        value = raw.strip()
        if not value:
            continue
        if kind == "event":
            if not NAME.fullmatch(value):
                raise FunnelError(
                    f"Steg {number}: en händelse heter 1 till 64 tecken: bokstäver a-z, "
                    "siffror, mellanslag inuti och _ . : -."
                )
        elif kind == "page":
            if not PAGE_PATTERN.fullmatch(value):
                raise FunnelError(
                    f"Steg {number}: en sida är en sökväg som börjar med /, till exempel "
                    "/bo-och-leva/* (* står för vilka tecken som helst)."
                )
        else:
            raise FunnelError(f"Steg {number}: välj om steget är en händelse eller en sida.")
        steps.append((kind, value))
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise FunnelError(f"En tratt har {MIN_STEPS} till {MAX_STEPS} steg.")
    return steps


def _dump(steps: Sequence[tuple[str, str]]) -> str:
    return json.dumps([list(step) for step in steps], ensure_ascii=False)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise FunnelError(f"Ge tratten ett namn på 1 till {MAX_NAME} tecken.")
    return name


def save_funnel(
    site: str,
    funnel_id: int | None,
    name: str,
    steps: Sequence[tuple[str, str]],
    *,
    by: str,
    now: dt.datetime,
) -> int:
    """Add a funnel (`funnel_id` None) or replace one's name and steps; return its id."""
    name = _clean_name(name)
    try:
        with db.writing() as session:
            if funnel_id is None:
                funnel = Funnel(site=site, name=name, steps=_dump(steps), created_by=by,
                                created_at=now)  # fmt: skip
                session.add(funnel)
            else:
                found = session.scalars(
                    select(Funnel).where(Funnel.site == site, Funnel.id == funnel_id)
                ).first()
                if found is None:
                    raise FunnelError("Tratten finns inte längre.")
                funnel = found
                funnel.name, funnel.steps = name, _dump(steps)
            session.flush()
            return funnel.id
    except IntegrityError:
        raise FunnelError("Det finns redan en tratt med det namnet.") from None


def remove_funnel(site: str, funnel_id: int) -> bool:
    with db.writing() as session:
        result = session.execute(delete(Funnel).where(Funnel.site == site, Funnel.id == funnel_id))
        return bool(getattr(result, "rowcount", 0))
