"""Scorecards: the innovation team's assessment of ideas, criterion by criterion, 1 to 5.

Each member of the team keeps one assessment per idea; revising it adds a revision (the
latest counts, the earlier ones stay as history). An idea's figures are taken over the
members' latest assessments: per criterion the mean and the spread as lowest to highest. The
2x2 view places an idea by its mean benefit and mean effort: above the scale's midpoint (3)
is high, 3 and below is low.

Criteria belong to a challenge; a challenge without its own, and an idea without a
challenge, use DEFAULT_CRITERIA. Computed in Python from plain rows, the same on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_service.admin.models import Role, User
from consent_service.db import db, utcnow
from consent_service.ideas.board import BoardError, lock_idea, record_event
from consent_service.ideas.catalog import SPAM
from consent_service.ideas.models import (
    Idea,
    IdeaAssessment,
    IdeaAssessmentScore,
    IdeaChallenge,
    IdeaCriterion,
)

SCALE = (1, 2, 3, 4, 5)
MIDPOINT = 3
RATIONALE_MAX = 500
LABEL_MAX = 80
CRITERIA_MAX = 8
BENEFIT, EFFORT, OTHER = "benefit", "effort", "other"
ROLES = (BENEFIT, EFFORT, OTHER)

QUICK_WIN, BIG_BET, FILL_IN, RECONSIDER = "quick_win", "big_bet", "fill_in", "reconsider"
QUADRANTS = (QUICK_WIN, BIG_BET, FILL_IN, RECONSIDER)
QUADRANT_NAMES = {
    QUICK_WIN: "Snabba vinster",
    BIG_BET: "Stora satsningar",
    FILL_IN: "Utfyllnad",
    RECONSIDER: "Ompröva",
}
QUADRANT_HINTS = {
    QUICK_WIN: "hög nytta, liten insats",
    BIG_BET: "hög nytta, stor insats",
    FILL_IN: "låg nytta, liten insats",
    RECONSIDER: "låg nytta, stor insats",
}


@dataclass(frozen=True)
class Criterion:
    key: str
    role: str
    label_sv: str
    label_en: str

    @property
    def lower_is_better(self) -> bool:
        return self.role == EFFORT

    @property
    def scale_hint(self) -> str:
        """What 1 and 5 mean, in the team's language."""
        if self.role == EFFORT:
            return "1 = liten insats, 5 = stor insats. Lägre är bättre."
        if self.role == BENEFIT:
            return "1 = liten nytta, 5 = stor nytta."
        return "1 = lite, 5 = mycket."


DEFAULT_CRITERIA = (
    Criterion("benefit", BENEFIT, "Nytta för invånarna", "Benefit for citizens"),
    Criterion("effort", EFFORT, "Insats", "Effort"),
    Criterion("fit", OTHER, "Passar kommunens mål", "Fit with the municipality's goals"),
)


class AssessmentError(BoardError):
    """A scorecard the rules refuse; `fields` names the inputs at fault."""

    def __init__(self, message: str, fields: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.fields = frozenset(fields)


# --- criteria -------------------------------------------------------------------------------


def criteria_of(challenge: IdeaChallenge | None) -> tuple[Criterion, ...]:
    """The challenge's criteria in order, or the default set."""
    if challenge is None:
        return DEFAULT_CRITERIA
    rows = db.session.scalars(
        select(IdeaCriterion)
        .where(IdeaCriterion.challenge_id == challenge.id)
        .order_by(IdeaCriterion.position, IdeaCriterion.id)
    ).all()
    if not rows:
        return DEFAULT_CRITERIA
    return tuple(Criterion(r.key, r.role, r.label_sv, r.label_en) for r in rows)


def _own_criteria(session: Session, challenge_id: int) -> list[IdeaCriterion]:
    """The challenge's criteria rows, created from the default set on first change."""
    rows = list(
        session.scalars(
            select(IdeaCriterion)
            .where(IdeaCriterion.challenge_id == challenge_id)
            .order_by(IdeaCriterion.position, IdeaCriterion.id)
        )
    )
    if rows:
        return rows
    for position, c in enumerate(DEFAULT_CRITERIA):
        row = IdeaCriterion(challenge_id=challenge_id, key=c.key, position=position, role=c.role,
                            label_sv=c.label_sv, label_en=c.label_en)  # fmt: skip
        session.add(row)
        rows.append(row)
    return rows


def add_criterion(challenge: IdeaChallenge, label_sv: str, label_en: str, role: str) -> Criterion:
    """Add a criterion to the challenge (the defaults become its own first)."""
    label_sv, label_en = " ".join(label_sv.split()), " ".join(label_en.split())
    if not label_sv or len(label_sv) > LABEL_MAX:
        raise AssessmentError(f"Skriv kriteriets namn på svenska, högst {LABEL_MAX} tecken.",
                              ["label_sv"])  # fmt: skip
    if not label_en or len(label_en) > LABEL_MAX:
        raise AssessmentError(f"Skriv kriteriets namn på engelska, högst {LABEL_MAX} tecken.",
                              ["label_en"])  # fmt: skip
    if role not in ROLES:
        raise AssessmentError("Välj vad kriteriet mäter.", ["role"])
    with db.writing() as session:
        session.get(IdeaChallenge, challenge.id, with_for_update=True)
        rows = _own_criteria(session, challenge.id)
        if len(rows) >= CRITERIA_MAX:
            raise AssessmentError(f"En utmaning kan ha högst {CRITERIA_MAX} kriterier.")
        if any(r.label_sv.casefold() == label_sv.casefold() for r in rows):
            raise AssessmentError(f"Kriteriet ”{label_sv}” finns redan.", ["label_sv"])
        taken = {r.key for r in rows}
        number = len(rows) + 1
        while f"k{number}" in taken:
            number += 1
        row = IdeaCriterion(challenge_id=challenge.id, key=f"k{number}", role=role,
                            position=max(r.position for r in rows) + 1,
                            label_sv=label_sv, label_en=label_en)  # fmt: skip
        session.add(row)
    return Criterion(row.key, role, label_sv, label_en)


def remove_criterion(challenge: IdeaChallenge, key: str) -> str:
    """Remove a criterion no one has scored yet; returns its name."""
    with db.writing() as session:
        session.get(IdeaChallenge, challenge.id, with_for_update=True)
        rows = _own_criteria(session, challenge.id)
        found = next((r for r in rows if r.key == key), None)
        if found is None:
            raise AssessmentError("Kriteriet finns inte.")
        if len(rows) == 1:
            raise AssessmentError("En utmaning behöver minst ett kriterium.")
        scored = session.scalar(
            select(func.count())
            .select_from(IdeaAssessmentScore)
            .join(IdeaAssessment)
            .join(Idea, Idea.id == IdeaAssessment.idea_id)
            .where(Idea.challenge_id == challenge.id, IdeaAssessmentScore.criterion == key)
        )
        if scored:
            raise AssessmentError(
                f"Kriteriet ”{found.label_sv}” har redan poäng i bedömningar och kan inte tas bort."
            )
        session.delete(found)
        return found.label_sv


# --- recording ------------------------------------------------------------------------------


def record_assessment(
    idea_id: int, actor: User, scores: Mapping[str, str | None], rationale: str | None
) -> IdeaAssessment:
    """Record (or revise) `actor`'s scorecard for the idea: every criterion 1 to 5, a rationale.

    Nothing is stored unless all of it is valid.
    """
    if actor.role != Role.INNOVATION.value or not actor.active:
        raise AssessmentError("Bara innovationsteamet bedömer idéer.")
    idea = db.session.get(Idea, idea_id)
    if idea is None:
        raise AssessmentError("Idén finns inte längre.")
    criteria = criteria_of(idea.challenge)
    known = {c.key for c in criteria}
    unknown = sorted(k for k in scores if k not in known)
    if unknown:
        raise AssessmentError("Bedömningen gäller kriterier som inte finns.", unknown)
    parsed: dict[str, int] = {}
    missing = []
    for c in criteria:
        raw = (scores.get(c.key) or "").strip()
        if raw not in {str(n) for n in SCALE}:
            missing.append(c.key)
        else:
            parsed[c.key] = int(raw)
    if missing:
        names = ", ".join(c.label_sv for c in criteria if c.key in missing)
        raise AssessmentError(f"Ge varje kriterium en poäng från 1 till 5 (saknas: {names}).",
                              missing)  # fmt: skip
    # CRLF counts as one character, as in the browser's maxlength.
    text = (rationale or "").replace("\r\n", "\n").strip()
    if not text:
        raise AssessmentError("Motivera bedömningen kort.", ["rationale"])
    if len(text) > RATIONALE_MAX:
        raise AssessmentError(
            f"Motiveringen får vara högst {RATIONALE_MAX} tecken (nu {len(text)}).", ["rationale"]
        )
    with db.writing() as session:
        locked = lock_idea(session, idea_id)
        if locked.stage == SPAM:
            raise AssessmentError("Idén ligger bland skräp och bedöms inte.")
        previous = session.scalar(
            select(func.max(IdeaAssessment.revision)).where(
                IdeaAssessment.idea_id == idea_id, IdeaAssessment.assessor_id == actor.id
            )
        )
        assessment = IdeaAssessment(
            idea_id=idea_id,
            assessor_id=actor.id,
            revision=(previous or 0) + 1,
            assessed_at=utcnow(),
            rationale=text,
            scores=[
                IdeaAssessmentScore(
                    criterion=c.key, position=i, role=c.role, label=c.label_sv, score=parsed[c.key]
                )
                for i, c in enumerate(criteria)
            ],
        )
        session.add(assessment)
        summary = ", ".join(f"{c.label_sv} {parsed[c.key]}" for c in criteria)
        record_event(session, locked, actor, "assessed" if previous is None else "reassessed",
                     detail=summary)  # fmt: skip
    return assessment


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionFigures:
    criterion: Criterion
    scores: tuple[int, ...]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def lowest(self) -> int | None:
        return min(self.scores) if self.scores else None

    @property
    def highest(self) -> int | None:
        return max(self.scores) if self.scores else None


@dataclass(frozen=True)
class IdeaScores:
    """An idea's current assessments (one per member, latest revision) and their figures."""

    criteria: tuple[Criterion, ...]
    current: tuple[IdeaAssessment, ...]
    figures: tuple[CriterionFigures, ...]
    revisions: int

    def score(self, assessment: IdeaAssessment, key: str) -> int | None:
        return next((s.score for s in assessment.scores if s.criterion == key), None)

    @property
    def benefit(self) -> float | None:
        return _role_mean(self.figures, BENEFIT)

    @property
    def effort(self) -> float | None:
        return _role_mean(self.figures, EFFORT)

    @property
    def quadrant(self) -> str | None:
        return quadrant(self.benefit, self.effort)


def _role_mean(figures: Sequence[CriterionFigures], role: str) -> float | None:
    means = [f.mean for f in figures if f.criterion.role == role and f.mean is not None]
    return statistics.fmean(means) if means else None


def quadrant(benefit: float | None, effort: float | None) -> str | None:
    """Where the 2x2 view puts an idea; above the midpoint is high (3 itself is low)."""
    if benefit is None or effort is None:
        return None
    high_benefit, high_effort = benefit > MIDPOINT, effort > MIDPOINT
    if high_benefit:
        return BIG_BET if high_effort else QUICK_WIN
    return RECONSIDER if high_effort else FILL_IN


def _latest(assessments: Iterable[IdeaAssessment]) -> list[IdeaAssessment]:
    latest: dict[int, IdeaAssessment] = {}
    for a in assessments:
        if a.assessor_id not in latest or a.revision > latest[a.assessor_id].revision:
            latest[a.assessor_id] = a
    return sorted(latest.values(), key=lambda a: (a.assessor.name.casefold(), a.assessor_id))


def figures_of(
    criteria: Sequence[Criterion], current: Sequence[IdeaAssessment]
) -> tuple[CriterionFigures, ...]:
    """Per criterion, the scores of the current assessments (a criterion added later is
    missing from older scorecards and counts only where it was scored)."""
    result = []
    for c in criteria:
        values = tuple(s.score for a in current for s in a.scores if s.criterion == c.key)
        result.append(CriterionFigures(c, values))
    return tuple(result)


def scores_of(idea: Idea) -> IdeaScores:
    every = db.session.scalars(
        select(IdeaAssessment).where(IdeaAssessment.idea_id == idea.id)
    ).all()
    current = _latest(every)
    criteria = criteria_of(idea.challenge)
    return IdeaScores(criteria, tuple(current), figures_of(criteria, current), len(every))


def history_of(idea_id: int, assessor_id: int) -> Sequence[IdeaAssessment]:
    """A member's revisions of their assessment, latest first."""
    return db.session.scalars(
        select(IdeaAssessment)
        .where(IdeaAssessment.idea_id == idea_id, IdeaAssessment.assessor_id == assessor_id)
        .order_by(IdeaAssessment.revision.desc())
    ).all()


@dataclass(frozen=True)
class Placement:
    """An assessed idea's means for the portfolio and the 2x2 view."""

    idea: Idea
    benefit: float | None
    effort: float | None
    assessors: int
    # Lowest and highest of the assessors' own benefit (effort) values: the spread.
    benefit_range: tuple[float, float] | None = None
    effort_range: tuple[float, float] | None = None

    @property
    def quadrant(self) -> str | None:
        return quadrant(self.benefit, self.effort)


def _role_range(
    criteria: Sequence[Criterion], current: Sequence[IdeaAssessment], role: str
) -> tuple[float, float] | None:
    """Lowest and highest over the assessors of each one's mean on the role's criteria."""
    keys = {c.key for c in criteria if c.role == role}
    values = []
    for a in current:
        scores = [s.score for s in a.scores if s.criterion in keys]
        if scores:
            values.append(statistics.fmean(scores))
    return (min(values), max(values)) if values else None


def placements(ideas: Sequence[Idea]) -> dict[int, Placement]:
    """The benefit and effort means of those of `ideas` that have been assessed."""
    by_idea: dict[int, list[IdeaAssessment]] = defaultdict(list)
    ids = [i.id for i in ideas]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for a in db.session.scalars(
            select(IdeaAssessment).where(IdeaAssessment.idea_id.in_(chunk))
        ):
            by_idea[a.idea_id].append(a)
    criteria_cache: dict[int | None, tuple[Criterion, ...]] = {}
    result = {}
    for idea in ideas:
        if idea.id not in by_idea:
            continue
        if idea.challenge_id not in criteria_cache:
            criteria_cache[idea.challenge_id] = criteria_of(idea.challenge)
        criteria = criteria_cache[idea.challenge_id]
        current = _latest(by_idea[idea.id])
        figures = figures_of(criteria, current)
        result[idea.id] = Placement(
            idea,
            _role_mean(figures, BENEFIT),
            _role_mean(figures, EFFORT),
            len(current),
            _role_range(criteria, current, BENEFIT),
            _role_range(criteria, current, EFFORT),
        )
    return result


@dataclass(frozen=True)
class Matrix:
    """The 2x2 benefit/effort view: assessed ideas by quadrant, and those it cannot place
    (their challenge's criteria have no benefit or no effort criterion)."""

    quadrants: dict[str, list[Placement]]
    unplaced: list[Placement]
    unassessed: int

    @property
    def placed(self) -> list[Placement]:
        return [p for q in QUADRANTS for p in self.quadrants[q]]


def matrix(ideas: Sequence[Idea]) -> Matrix:
    found = placements(ideas)
    quadrants: dict[str, list[Placement]] = {q: [] for q in QUADRANTS}
    unplaced = []
    for placement in found.values():
        where = placement.quadrant
        if where is None:
            unplaced.append(placement)
        else:
            quadrants[where].append(placement)
    for listed in quadrants.values():
        # Best first: most benefit, then least effort.
        listed.sort(key=lambda p: (-(p.benefit or 0), p.effort or 0, p.idea.reference))
    return Matrix(quadrants, unplaced, len(ideas) - len(found))
