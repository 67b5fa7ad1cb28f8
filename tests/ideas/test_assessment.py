"""Scorecards, bulk work on the board and saved filters, without HTTP: the maths, the rules,
and that a refused change leaves everything as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from consent_service.admin.models import Role, User
from consent_service.db import db
from consent_service.ideas import assessment, board, bulk, challenges, saved_filters
from consent_service.ideas.models import (
    Idea,
    IdeaAssessment,
    IdeaEvent,
    IdeaSavedFilter,
    IdeaTag,
)
from tests.ideas.conftest import make_staff
from tests.ideas.test_board import new_idea
from tests.ideas.test_challenges import days

GOOD = {"benefit": "4", "effort": "2", "fit": "5"}


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def user(app: Flask, name: str, role: Role = Role.INNOVATION) -> User:
    created = make_staff(app, name, role)
    db.session.rollback()  # end the read transaction begun before the account existed
    found = db.session.get(User, created)
    assert found is not None
    return found


def idea_id(reference: str) -> int:
    db.session.rollback()
    found = db.session.scalar(select(Idea.id).where(Idea.reference == reference))
    assert found is not None
    return found


def fresh(reference: str) -> Idea:
    db.session.rollback()  # see what the writers committed since
    found = db.session.scalar(select(Idea).where(Idea.reference == reference))
    assert found is not None
    return found


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


# --- maths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("benefit", "effort", "expected"),
    [
        (4.5, 1.0, assessment.QUICK_WIN),
        (3.5, 3.5, assessment.BIG_BET),
        (3.0, 2.0, assessment.FILL_IN),  # the midpoint itself is low
        (2.0, 3.0, assessment.FILL_IN),
        (3.0, 3.01, assessment.RECONSIDER),
        (1.0, 5.0, assessment.RECONSIDER),
        (5.0, 5.0, assessment.BIG_BET),
        (None, 2.0, None),  # no benefit criterion: not placed
        (4.0, None, None),
    ],
)
def test_quadrants(benefit: float | None, effort: float | None, expected: str | None) -> None:
    assert assessment.quadrant(benefit, effort) == expected


def test_two_members_mean_and_spread(app: Flask, client: FlaskClient, ctx: None) -> None:
    ref = new_idea(client)
    ada, bo = user(app, "ada"), user(app, "bo")
    assessment.record_assessment(idea_id(ref), ada, GOOD, "Många får nytta, lite arbete.")
    assessment.record_assessment(
        idea_id(ref), bo, {"benefit": "3", "effort": "5", "fit": "4"}, "Kräver upphandling."
    )
    scores = assessment.scores_of(fresh(ref))
    assert [a.assessor.name for a in scores.current] == ["ada", "bo"]
    by_key = {f.criterion.key: f for f in scores.figures}
    assert by_key["benefit"].mean == 3.5 and (
        by_key["benefit"].lowest,
        by_key["benefit"].highest,
    ) == (3, 4)
    assert by_key["effort"].mean == 3.5 and (by_key["effort"].lowest, by_key["effort"].highest) == (
        2,
        5,
    )
    assert by_key["fit"].mean == 4.5
    assert scores.benefit == 3.5 and scores.effort == 3.5
    assert scores.quadrant == assessment.BIG_BET
    assert (
        by_key["effort"].criterion.lower_is_better and not by_key["fit"].criterion.lower_is_better
    )


def test_a_revision_replaces_the_score_and_keeps_the_history(
    app: Flask, client: FlaskClient, ctx: None
) -> None:
    ref = new_idea(client)
    ada = user(app, "ada")
    first = assessment.record_assessment(idea_id(ref), ada, GOOD, "Först.")
    second = assessment.record_assessment(
        idea_id(ref),
        ada,
        {"benefit": "2", "effort": "4", "fit": "1"},
        "Efter samtal med förvaltningen.",
    )
    assert (first.revision, second.revision) == (1, 2)
    scores = assessment.scores_of(fresh(ref))
    assert len(scores.current) == 1 and scores.revisions == 2
    assert scores.benefit == 2 and scores.quadrant == assessment.RECONSIDER
    revisions = assessment.history_of(idea_id(ref), ada.id)
    assert [a.rationale for a in revisions] == ["Efter samtal med förvaltningen.", "Först."]
    assert [s.score for s in revisions[1].scores] == [4, 2, 5]
    kinds = db.session.scalars(
        select(IdeaEvent.kind).where(IdeaEvent.idea_id == idea_id(ref)).order_by(IdeaEvent.id)
    ).all()
    assert kinds[-2:] == ["assessed", "reassessed"]
    lines = [board.describe_event(e) for e in board.history(idea_id(ref))]
    assert lines[0] == "Bedömningen ändrad: Nytta för invånarna 2, Insats 4, Passar kommunens mål 1"


RATIONALE = "Kort motivering."


@pytest.mark.parametrize(
    ("scores", "rationale", "message", "fields"),
    [
        ({"benefit": "4", "effort": "2"}, RATIONALE, "saknas: Passar kommunens mål", {"fit"}),
        ({**GOOD, "benefit": "0"}, RATIONALE, "från 1 till 5", {"benefit"}),
        ({**GOOD, "effort": "6"}, RATIONALE, "från 1 till 5", {"effort"}),
        ({**GOOD, "fit": "3.5"}, RATIONALE, "från 1 till 5", {"fit"}),
        ({**GOOD, "fit": "٣"}, RATIONALE, "från 1 till 5", {"fit"}),  # Arabic-Indic three
        ({**GOOD, "fit": None}, RATIONALE, "från 1 till 5", {"fit"}),
        ({**GOOD, "cost": "3"}, RATIONALE, "kriterier som inte finns", {"cost"}),
        (GOOD, "   ", "Motivera", {"rationale"}),
        (GOOD, None, "Motivera", {"rationale"}),
        (GOOD, "x" * 501, r"högst 500 tecken \(nu 501\)", {"rationale"}),
    ],
)
def test_a_refused_scorecard_stores_nothing(
    app: Flask,
    client: FlaskClient,
    ctx: None,
    scores: dict[str, str | None],
    rationale: str | None,
    message: str,
    fields: set[str],
) -> None:
    ref = new_idea(client)
    ada = user(app, "ada")
    with pytest.raises(assessment.AssessmentError, match=message) as refused:
        assessment.record_assessment(idea_id(ref), ada, scores, rationale)
    assert refused.value.fields == fields
    assert count(IdeaAssessment) == 0


def test_a_rationale_counts_crlf_as_one_character(
    app: Flask, client: FlaskClient, ctx: None
) -> None:
    ref = new_idea(client)
    text = ("a" * 99 + "\r\n") * 5  # 500 characters in the browser, 505 bytes sent
    saved = assessment.record_assessment(idea_id(ref), user(app, "ada"), GOOD, text)
    assert len(saved.rationale) == 499  # the trailing line break trimmed


def test_only_the_team_assesses_and_never_spam(app: Flask, client: FlaskClient, ctx: None) -> None:
    ref = new_idea(client)
    editor = user(app, "redaktor", Role.EDITOR)
    with pytest.raises(assessment.AssessmentError, match="Bara innovationsteamet"):
        assessment.record_assessment(idea_id(ref), editor, GOOD, RATIONALE)
    ada = user(app, "ada")
    board.mark_spam(idea_id(ref), ada)
    with pytest.raises(assessment.AssessmentError, match="skräp"):
        assessment.record_assessment(idea_id(ref), ada, GOOD, RATIONALE)
    assert count(IdeaAssessment) == 0


def test_a_challenge_gets_its_own_criteria(app: Flask, client: FlaskClient, ctx: None) -> None:
    ada = user(app, "ada")
    challenge = challenges.save_challenge(
        site="uppsala.se", slug="parker", opens_on=days(-1), closes_on=days(9),
        stage="ringa_in", texts={"sv": {"question": "Vad saknas i parken?"}}, actor=ada,
    )  # fmt: skip
    assert assessment.criteria_of(challenge) == assessment.DEFAULT_CRITERIA
    added = assessment.add_criterion(challenge, " Hållbarhet ", "Sustainability", "other")
    assert added.key == "k4"
    db.session.rollback()
    keys = [c.key for c in assessment.criteria_of(challenge)]
    assert keys == ["benefit", "effort", "fit", "k4"]
    for label_sv, label_en, role, message in [
        ("", "Cost", "other", "på svenska"),
        ("Kostnad", "x" * 81, "other", "på engelska"),
        ("Kostnad", "Cost", "price", "Välj vad"),
        ("hållbarhet", "Sustainability", "other", "finns redan"),
    ]:
        with pytest.raises(assessment.AssessmentError, match=message):
            assessment.add_criterion(challenge, label_sv, label_en, role)

    ref = new_idea(client, challenge="parker")
    with pytest.raises(assessment.AssessmentError, match="saknas: Hållbarhet"):
        assessment.record_assessment(idea_id(ref), ada, GOOD, RATIONALE)
    assessment.record_assessment(idea_id(ref), ada, {**GOOD, "k4": "3"}, RATIONALE)
    for scored in ("k4", "fit"):
        with pytest.raises(assessment.AssessmentError, match="redan poäng"):
            assessment.remove_criterion(challenge, scored)
    # A criterion added after the scorecard: nobody has scored it, so it has no figures yet.
    assert assessment.add_criterion(challenge, "Kostnad", "Cost", "effort").key == "k5"
    scores = assessment.scores_of(fresh(ref))
    by_key = {f.criterion.key: f for f in scores.figures}
    assert by_key["k5"].scores == () and by_key["k5"].mean is None
    assert scores.effort == 2  # the mean of the effort criteria that have scores
    assert [s.label for s in scores.current[0].scores] == [
        "Nytta för invånarna", "Insats", "Passar kommunens mål", "Hållbarhet",
    ]  # fmt: skip
    assert assessment.remove_criterion(challenge, "k5") == "Kostnad"
    with pytest.raises(assessment.AssessmentError, match="finns inte"):
        assessment.remove_criterion(challenge, "k5")


def test_the_matrix_places_assessed_ideas(app: Flask, client: FlaskClient, ctx: None) -> None:
    ada, bo = user(app, "ada"), user(app, "bo")
    quick, bet, untouched = (
        new_idea(client),
        new_idea(client, title="B"),
        new_idea(client, title="C"),
    )
    assessment.record_assessment(
        idea_id(quick), ada, {"benefit": "5", "effort": "1", "fit": "3"}, "a"
    )
    assessment.record_assessment(
        idea_id(quick), bo, {"benefit": "4", "effort": "2", "fit": "3"}, "b"
    )
    assessment.record_assessment(
        idea_id(bet), ada, {"benefit": "4", "effort": "5", "fit": "3"}, "c"
    )
    db.session.rollback()
    ideas = board.ideas_in(["new"])
    result = assessment.matrix(ideas)
    assert [p.idea.reference for p in result.quadrants[assessment.QUICK_WIN]] == [quick]
    assert [p.idea.reference for p in result.quadrants[assessment.BIG_BET]] == [bet]
    assert result.unassessed == 1 and not result.unplaced
    placed = assessment.placements(ideas)
    assert placed[idea_id(quick)].benefit == 4.5 and placed[idea_id(quick)].effort == 1.5
    assert placed[idea_id(quick)].assessors == 2
    assert placed[idea_id(quick)].benefit_range == (4, 5)
    assert placed[idea_id(quick)].effort_range == (1, 2)
    assert placed[idea_id(bet)].benefit_range == (4, 4)
    assert idea_id(untouched) not in placed


# --- bulk -----------------------------------------------------------------------------------


def link(reference: str) -> str:
    return f"https://samtycke.test/status/{reference}"


def test_bulk_move_records_each_idea_like_a_single_move(
    app: Flask, client: FlaskClient, ctx: None
) -> None:
    ada = user(app, "ada")
    refs = [new_idea(client, title=f"Idé {n}") for n in range(3)]
    board.move_idea(idea_id(refs[2]), "undersoka", ada, status_url="-")
    result = bulk.bulk_change(
        [r.lower() for r in refs] + [refs[0]], "move", ada, stage="undersoka", status_url=link
    )
    assert result.changed == refs[:2]
    assert result.refused == [(refs[2], "Idén är redan i det steget.")]
    for ref in refs:
        assert fresh(ref).stage == "undersoka"
        moves = db.session.scalars(
            select(IdeaEvent).where(IdeaEvent.idea_id == idea_id(ref), IdeaEvent.kind == "moved")
        ).all()
        assert len(moves) == 1 and moves[0].actor_id == ada.id


def test_bulk_close_tag_and_owner(app: Flask, client: FlaskClient, ctx: None) -> None:
    ada, bo = user(app, "ada"), user(app, "bo")
    refs = [new_idea(client, title=f"Idé {n}") for n in range(2)]
    board.add_tag(idea_id(refs[1]), "park", ada)
    db.session.rollback()  # as a new request would, see the tag
    tagged = bulk.bulk_change(refs, "tag", ada, tag="  Park ", status_url=link)
    assert tagged.changed == refs[:1] and tagged.refused == [(refs[1], "hade redan taggen")]
    owned = bulk.bulk_change(refs, "owner", ada, owner=str(bo.id), status_url=link)
    assert owned.changed == refs and all(fresh(r).owner_id == bo.id for r in refs)
    closed = bulk.bulk_change(refs, "close", ada, close_reason="not_pursued", status_url=link)
    assert closed.changed == refs
    assert {(fresh(r).stage, fresh(r).close_reason) for r in refs} == {("closed", "not_pursued")}


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("move", {"stage": "nowhere"}, "Välj ett steg"),
        ("move", {"stage": "closed"}, "avsluta gör du med ett skäl"),
        ("close", {"close_reason": "merged"}, "Välj ett skäl"),
        ("close", {}, "Välj ett skäl"),
        ("tag", {"tag": "   "}, "1 till 40 tecken"),
        ("tag", {"tag": "x" * 41}, "1 till 40 tecken"),
        ("owner", {"owner": "not-a-number"}, "aktiv medlem"),
        ("owner", {"owner": "EDITOR"}, "aktiv medlem"),
        ("delete", {}, "Välj vad som ska hända"),
    ],
)
def test_a_bad_bulk_target_changes_nothing(
    app: Flask, client: FlaskClient, ctx: None, action: str, fields: dict[str, str], message: str
) -> None:
    ada = user(app, "ada")
    editor = user(app, "redaktor", Role.EDITOR)
    if fields.get("owner") == "EDITOR":
        fields = {"owner": str(editor.id)}
    refs = [new_idea(client, title=f"Idé {n}") for n in range(2)]
    events = count(IdeaEvent)
    with pytest.raises(bulk.BulkError, match=message):
        bulk.bulk_change(refs, action, ada, status_url=link, **fields)
    assert count(IdeaEvent) == events and count(IdeaTag) == 0
    assert {fresh(r).stage for r in refs} == {"new"}


def test_a_bad_bulk_selection_changes_nothing(app: Flask, client: FlaskClient, ctx: None) -> None:
    ada = user(app, "ada")
    ref = new_idea(client)
    events = count(IdeaEvent)
    for selection, message in [
        ([], "Välj minst en idé"),
        (["", "  "], "Välj minst en idé"),
        ([ref, "IDE-1999-000001"], "ingen idé med referensnummer IDE-1999-000001"),
        ([f"IDE-2026-{n:06d}" for n in range(bulk.BULK_MAX + 1)], f"högst {bulk.BULK_MAX}"),
    ]:
        with pytest.raises(bulk.BulkError, match=message):
            bulk.bulk_change(selection, "move", ada, stage="undersoka", status_url=link)
    assert count(IdeaEvent) == events and fresh(ref).stage == "new"


# --- saved filters --------------------------------------------------------------------------


def test_saved_filters_are_per_user(app: Flask, ctx: None) -> None:
    ada, bo = user(app, "ada"), user(app, "bo")
    saved = saved_filters.save_filter(
        ada, " Mina  parker ", "list", {"tag": "park", "owner": "7", "evil": "x", "q": " gunga  "}
    )
    assert (saved.name, saved.view, saved.query) == (
        "Mina parker",
        "list",
        "q=gunga&owner=7&tag=park",
    )
    again = saved_filters.save_filter(ada, "Mina parker", "board", {"challenge": "parker"})
    assert again.id == saved.id and again.query == "challenge=parker"
    saved_filters.save_filter(bo, "Mina parker", "list", {"stage": "active"})
    db.session.rollback()
    assert [f.query for f in saved_filters.filters_of(ada)] == ["challenge=parker"]
    assert saved_filters.delete_filter(bo, saved.id) is None  # not bo's
    assert count(IdeaSavedFilter) == 2
    assert saved_filters.delete_filter(ada, saved.id) == "Mina parker"
    db.session.rollback()
    assert saved_filters.filters_of(ada) == []
    for name, view, args, message in [
        ("", "list", {"q": "x"}, "namn"),
        ("x" * 61, "list", {"q": "x"}, "namn"),
        ("Tomt", "list", {"evil": "x"}, "inget filter"),
        ("Fel", "secret", {"q": "x"}, "Okänd sida"),
        ("Långt", "list", {"q": "x" * 201}, "högst 200"),
    ]:
        with pytest.raises(saved_filters.FilterError, match=message):
            saved_filters.save_filter(ada, name, view, args)
    for n in range(saved_filters.FILTERS_PER_USER):
        saved_filters.save_filter(ada, f"f{n}", "list", {"q": str(n)})
    with pytest.raises(saved_filters.FilterError, match="Ta bort något först"):
        saved_filters.save_filter(ada, "ett till", "list", {"q": "x"})
