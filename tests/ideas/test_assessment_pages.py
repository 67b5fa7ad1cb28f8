"""The scorecard, bulk and saved-filter pages over HTTP: what the team sees, and bad input
answered with 4xx and a clear message while nothing that was entered is lost."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from consent_service.db import db
from consent_service.ideas import bulk
from consent_service.ideas.models import Idea, IdeaAssessment, IdeaEvent, IdeaSavedFilter
from tests.ideas.conftest import csrf_token, make_staff, sign_in
from tests.ideas.test_board import new_idea
from tests.ideas.test_challenges import publish

SCORES = {"score_benefit": "4", "score_effort": "2", "score_fit": "5"}


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def stage(app: Flask, reference: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Idea.stage).where(Idea.reference == reference)))


def assess(client: FlaskClient, reference: str, **data: str) -> Any:
    token = csrf_token(client, f"/admin/ideas/{reference}")
    return client.post(f"/admin/ideas/{reference}/assessment", data={"csrf_token": token, **data})


def bulk_post(client: FlaskClient, refs: list[str], **data: str) -> Any:
    token = csrf_token(client, "/admin/ideas/board")
    return client.post("/admin/ideas/bulk", data={"csrf_token": token, "idea": refs, **data})


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_two_members_assess_and_the_page_shows_mean_and_spread(
    app: Flask, team: FlaskClient, client: FlaskClient
) -> None:
    ref = new_idea(team)
    response = assess(team, ref, **SCORES, rationale="Snabbt gjort, många får nytta.")
    assert response.status_code == 303 and response.headers["Location"].endswith("#assessment")
    other = app.test_client()
    make_staff(app, "bo")
    sign_in(other, "bo")
    response = assess(
        other, ref, score_benefit="5", score_effort="1", score_fit="4", rationale="Håller med."
    )
    assert response.status_code == 303
    page = text(team.get(f"/admin/ideas/{ref}"))
    assert "Poäng per kriterium (2 personer)" in page
    assert "Spridning (lägst\u2013högst)" in page
    assert "<td>4,5</td>" in page and "<td>4\u20135</td>" in page  # benefit: mean, spread
    assert "<td>1,5</td>" in page and "<td>1\u20132</td>" in page  # effort
    assert "Snabba vinster" in page and "Håller med." in page
    assert "(lägre är bättre)" in page
    # inno's own form is filled in with inno's scorecard, to revise it
    assert re.search(r'name="score_benefit" value="4" required checked', page)
    assert "Spara ändrad bedömning" in page

    response = assess(team, ref, **{**SCORES, "score_benefit": "2"}, rationale="Omprövad.")
    assert response.status_code == 303
    page = text(team.get(f"/admin/ideas/{ref}"))
    assert "Dina tidigare versioner (1)" in page and "Bedömningen ändrad" in page
    assert count(app, IdeaAssessment) == 3

    portfolio = text(team.get("/admin/ideas/portfolio"))
    assert "Bedömda pågående idéer" in portfolio and "<td>3,5</td>" in portfolio
    assert "<td>2\u20135</td>" in portfolio  # benefit: inno's revised 2, bo's 5
    matrix = text(team.get("/admin/ideas/matrix"))
    assert 'Snabba vinster <span class="count">(1)</span>' in matrix
    assert f"{ref} · nytta 3,5 · insats 1,5" in matrix


def test_a_refused_scorecard_is_400_and_keeps_what_was_entered(
    app: Flask, team: FlaskClient
) -> None:
    ref = new_idea(team)
    response = assess(team, ref, score_benefit="4", score_effort="9", rationale="Min motivering")
    assert response.status_code == 400
    page = text(response)
    assert (
        "Ge varje kriterium en poäng från 1 till 5 (saknas: Insats, Passar kommunens mål)" in page
    )
    assert 'role="alert" id="assessment-error"' in page
    assert re.search(r'name="score_benefit" value="4" required checked', page)
    assert ">Min motivering</textarea>" in page
    assert 'aria-invalid="true"' in page
    response = assess(team, ref, **SCORES, rationale="x" * 501)
    assert response.status_code == 400 and "högst 500 tecken (nu 501)" in text(response)
    assert count(app, IdeaAssessment) == 0
    # Without the CSRF token: refused before anything is read.
    response = team.post(f"/admin/ideas/{ref}/assessment", data={**SCORES, "rationale": "x"})
    assert response.status_code == 400
    assert count(app, IdeaAssessment) == 0
    assert team.post("/admin/ideas/IDE-1999-000001/assessment").status_code in (400, 404)


def test_bulk_move_from_the_board(app: Flask, team: FlaskClient) -> None:
    refs = [new_idea(team, title=f"Idé {n}") for n in range(3)]
    board = text(team.get("/admin/ideas/board"))
    assert 'form="bulk-form"' not in board  # inbox ideas are not on the board's columns
    response = bulk_post(team, refs[:2], action="move", stage="ringa_in")
    assert response.status_code == 303
    board = text(team.get("/admin/ideas/board"))
    assert f"2 idéer flyttades: {refs[0]}, {refs[1]}." in board
    assert f'value="{refs[0]}" form="bulk-form" id="pick-{refs[0]}"' in board
    assert stage(app, refs[0]) == stage(app, refs[1]) == "ringa_in" and stage(app, refs[2]) == "new"
    response = bulk_post(team, refs, action="move", stage="ringa_in")
    assert response.status_code == 303
    board = text(team.get("/admin/ideas/board"))
    assert "1 idéer flyttades" in board and "Oförändrade" in board and 'role="alert"' in board


def test_bad_bulk_input_is_400_and_keeps_the_selection(app: Flask, team: FlaskClient) -> None:
    refs = [new_idea(team, title=f"Idé {n}") for n in range(2)]
    bulk_post(team, refs, action="move", stage="ringa_in")
    events = count(app, IdeaEvent)
    for refs_sent, data, message in [
        ([], {"action": "move", "stage": "undersoka"}, "Välj minst en idé"),
        (refs, {"action": "move", "stage": "<script>"}, "Välj ett steg"),
        (refs, {"action": "close", "close_reason": ""}, "Välj ett skäl"),
        (refs, {"action": "owner", "owner": "99999"}, "aktiv medlem"),
        (refs, {"action": "explode"}, "Välj vad som ska hända"),
        (refs, {"action": "tag", "tag": "x" * 41}, "1 till 40 tecken"),
        ([*refs, "IDE-1999-000009"], {"action": "move", "stage": "undersoka"}, "IDE-1999-000009"),
        (
            [f"IDE-2026-{n:06d}" for n in range(bulk.BULK_MAX + 1)],
            {"action": "move", "stage": "undersoka"},
            f"högst {bulk.BULK_MAX}",
        ),
    ]:
        response = bulk_post(team, refs_sent, **data)
        assert response.status_code == 400, data
        page = text(response)
        assert message in page and 'id="bulk-error"' in page, data
        for ref in refs_sent[:2]:
            if ref in refs:
                assert f'value="{ref}" form="bulk-form" id="pick-{ref}" checked' in page
    assert count(app, IdeaEvent) == events
    assert {stage(app, r) for r in refs} == {"ringa_in"}
    # The tag typed in stays in its field.
    page = text(bulk_post(team, [], action="tag", tag="lekplats"))
    assert 'id="bulk-tag" name="tag" type="text" maxlength="40" value="lekplats"' in page
    # Without the CSRF token.
    response = team.post(
        "/admin/ideas/bulk", data={"idea": refs, "action": "move", "stage": "fokusera"}
    )
    assert response.status_code == 400 and {stage(app, r) for r in refs} == {"ringa_in"}


def test_saved_filters_from_the_list_and_the_board(app: Flask, team: FlaskClient) -> None:
    new_idea(team, title="Gungor i parken")
    page = text(team.get("/admin/ideas/list?q=gunga&stage=new&junk=1"))
    assert "Inga sparade filter" in page
    assert 'name="query" value="q=gunga&amp;stage=new"' in page
    token = csrf_token(team, "/admin/ideas/list?q=gunga")
    response = team.post(
        "/admin/ideas/filters",
        data={"csrf_token": token, "view": "list", "query": "q=gunga&stage=new", "name": "Gungor"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/ideas/list?q=gunga&stage=new")
    board = text(team.get("/admin/ideas/board"))
    assert 'href="/admin/ideas/list?q=gunga&amp;stage=new">Gungor</a>' in board
    assert 'name="query"' not in board  # no filter chosen on the board: nothing to save

    for data, message in [
        ({"view": "list", "query": "q=gunga", "name": ""}, "namn på 1 till 60"),
        ({"view": "list", "query": "junk=1", "name": "Tomt"}, "inget filter att spara"),
        ({"view": "admin", "query": "q=x", "name": "Fel"}, "Okänd sida"),
        ({"view": "list", "query": "q=" + "x" * 2001, "name": "Lång"}, "för långt"),
    ]:
        response = team.post("/admin/ideas/filters", data={"csrf_token": token, **data})
        assert response.status_code == 400 and message in text(response), data
    assert count(app, IdeaSavedFilter) == 1

    # Another member neither sees nor deletes it.
    with app.app_context():
        saved_id = db.session.scalar(select(IdeaSavedFilter.id))
    other = app.test_client()
    make_staff(app, "bo")
    sign_in(other, "bo")
    assert "Gungor" not in text(other.get("/admin/ideas/board"))
    other_token = csrf_token(other, "/admin/ideas/board")
    response = other.post(
        f"/admin/ideas/filters/{saved_id}/delete", data={"csrf_token": other_token}
    )
    assert response.status_code == 404 and count(app, IdeaSavedFilter) == 1
    response = team.post(
        f"/admin/ideas/filters/{saved_id}/delete", data={"csrf_token": token, "back": "list"}
    )
    assert response.status_code == 303 and count(app, IdeaSavedFilter) == 0
    assert response.headers["Location"].endswith("/admin/ideas/list")


def test_challenge_criteria_and_the_matrix_per_challenge(app: Flask, team: FlaskClient) -> None:
    assert publish(team, "parker").status_code == 303
    page = text(team.get("/admin/ideas/challenges/parker"))
    assert "Bedömningskriterier" in page and "Nytta för invånarna" in page
    token = csrf_token(team, "/admin/ideas/challenges/parker")
    response = team.post(
        "/admin/ideas/challenges/parker/criteria",
        data={"csrf_token": token, "label_sv": "Hållbarhet", "label_en": "", "role": "other"},
    )
    assert response.status_code == 400
    page = text(response)
    assert "på engelska" in page and 'value="Hållbarhet"' in page
    response = team.post(
        "/admin/ideas/challenges/parker/criteria",
        data={"csrf_token": token, "label_sv": "Hållbarhet", "label_en": "Sustainability",
              "role": "other"},
    )  # fmt: skip
    assert response.status_code == 303
    ref = new_idea(team, challenge="parker")
    idea_page = text(team.get(f"/admin/ideas/{ref}"))
    assert 'name="score_k4"' in idea_page and "(utmaningens kriterier)" in idea_page
    assert assess(team, ref, **SCORES, score_k4="3", rationale="Bra").status_code == 303
    response = team.post(
        "/admin/ideas/challenges/parker/criteria/remove", data={"csrf_token": token, "key": "k4"}
    )
    assert response.status_code == 400 and "redan poäng" in text(response)
    assert "Hållbarhet" in text(team.get(f"/admin/ideas/{ref}"))

    other = new_idea(team, title="Utan utmaning")
    assess(team, other, score_benefit="1", score_effort="5", score_fit="1", rationale="Nej")
    matrix = text(team.get("/admin/ideas/matrix?challenge=parker"))
    assert ref in matrix and other not in matrix
    assert "Bara idéer till utmaningen parker" in matrix
    assert other in text(team.get("/admin/ideas/matrix"))
    assert team.get("/admin/ideas/matrix?challenge=finns-inte").status_code == 404
