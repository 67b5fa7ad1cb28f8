"""Public records without personal data: masking on the board's idea page and the open idea
page at /ideas (publishing, languages, the quarter figures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import Role
from consent_service.db import db
from consent_service.ideas import openpage
from consent_service.ideas.models import Idea
from consent_service.ideas.services import status_token, withdraw_by_citizen
from tests.ideas.conftest import csrf_token, make_staff, sign_in, submit

PERSONAL = "Ring mig på 070-123 45 67 eller mejla ada@example.se. Mitt pnr är 811218-9876."


def new_idea(client: FlaskClient, **overrides: Any) -> str:
    response = submit(client, **overrides)
    assert response.status_code == 201, response.json
    return str(response.json["reference"])


def act(client: FlaskClient, reference: str, path: str, **data: str) -> Any:
    token = csrf_token(client, f"/admin/ideas/{reference}")
    return client.post(f"/admin/ideas/{reference}/{path}", data={"csrf_token": token, **data})


def test_the_idea_page_tells_the_team_what_is_masked(team: FlaskClient) -> None:
    ref = new_idea(team, body=PERSONAL)
    plain = new_idea(team, title="Fler soptunnor", body="Vid busshållplatsen år 2026.")
    html = team.get(f"/admin/ideas/{ref}").get_data(as_text=True)
    assert "Personuppgifter maskeras publikt." in html
    assert "1 personnummer, 1 e-postadress, 1 telefonnummer" in html
    assert PERSONAL in html  # the team sees the text as it was sent
    assert "masking-note" not in team.get(f"/admin/ideas/{plain}").get_data(as_text=True)
    # A public message with a phone number counts too.
    act(team, plain, "messages", body="Ring Bo på 018-12 34 56 så berättar han mer.")
    html = team.get(f"/admin/ideas/{plain}").get_data(as_text=True)
    assert "innehåller 1 telefonnummer" in html


# --- publishing and the open idea page --------------------------------------------------------


def idea_row(app: Flask, reference: str) -> Idea:
    with app.app_context():
        found = db.session.scalar(select(Idea).where(Idea.reference == reference))
        assert found is not None
        return found


def test_only_published_ideas_are_shown_and_always_masked(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(
        team, title="Ring 070-123 45 67 om bänkar", body=PERSONAL, name="Ada Lund",
        email="ada.lund@example.se", contact_ok=True,
    )  # fmt: skip
    hidden = new_idea(team, title="Opublicerad idé om parker", body="Fler träd.")
    act(team, ref, "move", stage="ringa_in", message="Tack! Kontakta Bo på bo@uppsala.se.")
    act(team, ref, "notes", body="Intern: ring Ada")
    page = team.get("/ideas?lang=sv").get_data(as_text=True)
    assert "Inga idéer är publicerade ännu." in page and "Opublicerad" not in page

    response = act(team, ref, "publish", action="publish")
    assert response.status_code == 303
    assert idea_row(app, ref).published
    page = team.get("/ideas?lang=sv").get_data(as_text=True)
    assert '<html lang="sv"' in page and "<main" in page
    assert "Ring [telefonnummer borttaget] om bänkar" in page
    assert "[personnummer borttaget]" in page and "[e-postadress borttagen]" in page
    assert "Tack! Kontakta Bo på [e-postadress borttagen]." in page
    assert "Vi har tagit bort personuppgifter ur texten." in page
    assert "Ringa in" in page and ref in page
    for secret in ("811218-9876", "070-123 45 67", "ada@example.se", "bo@uppsala.se",
                   "Ada Lund", "ada.lund", "Intern: ring", "Opublicerad"):  # fmt: skip
        assert secret not in page, secret

    english = team.get("/ideas", headers={"Accept-Language": "en-GB,en;q=0.9"})
    text = english.get_data(as_text=True)
    assert '<html lang="en"' in text and "Ideas from residents" in text
    assert "[personal identity number removed]" in text and "Define" in text
    assert "Accept-Language" in english.headers["Vary"]
    assert '<a href="/ideas?lang=sv" lang="sv" hreflang="sv">Svenska</a>' in text

    act(team, ref, "publish", action="unpublish")
    assert "Ring [telefonnummer borttaget]" not in team.get("/ideas").get_data(as_text=True)
    history = team.get(f"/admin/ideas/{ref}").get_data(as_text=True)
    assert "Publicerad på den öppna idésidan" in history
    assert "Borttagen från den öppna idésidan" in history
    assert hidden


def test_publishing_needs_the_team_and_a_form_token(app: Flask, client: FlaskClient) -> None:
    ref = new_idea(client)
    assert client.post(f"/admin/ideas/{ref}/publish", data={"action": "publish"}).status_code in (
        302,
        400,
    )
    make_staff(app, "inno")
    sign_in(client, "inno")
    response = client.post(f"/admin/ideas/{ref}/publish", data={"action": "publish"})
    assert response.status_code == 400  # no CSRF token
    assert not idea_row(app, ref).published
    editor = app.test_client()
    make_staff(app, "ed", Role.EDITOR)
    sign_in(editor, "ed")
    token = csrf_token(editor, "/admin/")
    response = editor.post(
        f"/admin/ideas/{ref}/publish", data={"csrf_token": token, "action": "publish"}
    )
    assert response.status_code == 403
    assert not idea_row(app, ref).published


def test_spam_and_withdrawn_ideas_are_never_public(app: Flask, team: FlaskClient) -> None:
    spam = new_idea(team, title="Köp billiga klockor", body="Klicka här.")
    act(team, spam, "spam", action="spam")
    act(team, spam, "publish", action="publish")
    assert not idea_row(app, spam).published
    assert "kan inte publiceras" in team.get(f"/admin/ideas/{spam}").get_data(as_text=True)

    ref = new_idea(team, title="Lekplats i Gottsunda", body="Gungor saknas.")
    act(team, ref, "publish", action="publish")
    assert "Lekplats i Gottsunda" in team.get("/ideas").get_data(as_text=True)
    with app.app_context():
        idea = db.session.scalar(select(Idea).where(Idea.reference == ref))
        assert idea is not None
        withdraw_by_citizen(idea.id)
    assert not idea_row(app, ref).published
    assert "Lekplats i Gottsunda" not in team.get("/ideas").get_data(as_text=True)
    act(team, ref, "publish", action="publish")
    assert not idea_row(app, ref).published


def test_what_happened_to_the_ideas_per_quarter(app: Flask, team: FlaskClient) -> None:
    refs = [new_idea(team, title=f"Idé nummer {n}", body=f"Text {n}.") for n in range(6)]
    act(team, refs[1], "move", stage="ringa_in")
    act(team, refs[2], "move", stage="testa_ideer")
    act(team, refs[3], "move", stage="closed", close_reason="realised")
    act(team, refs[4], "move", stage="closed", close_reason="not_pursued")
    act(team, refs[5], "spam", action="spam")  # never counted
    with app.app_context():
        # One idea came in two quarters ago.
        old = db.session.scalar(select(Idea).where(Idea.reference == refs[0]))
        assert old is not None
        old.received_at = dt.datetime(2026, 5, 10, 12, tzinfo=dt.UTC)
        db.session.commit()
        now = dt.datetime(2026, 12, 2, 8, tzinfo=dt.UTC)
        for ref in refs[1:]:
            idea = db.session.scalar(select(Idea).where(Idea.reference == ref))
            assert idea is not None
            idea.received_at = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)
        db.session.commit()
        quarters = openpage.quarterly_figures("uppsala.se", now=now)
    assert [q.key for q in quarters] == ["2026-Q4", "2026-Q3", "2026-Q2"]
    q4, q3, q2 = quarters
    assert (q4.received, q3.received, q2.received) == (4, 0, 1)
    assert q4.by_stage == {"ringa_in": 1, "testa_ideer": 1}
    assert q4.realised == 1 and q4.closed_other == 1
    assert q4.closed_by_reason == {"realised": 1, "not_pursued": 1}
    assert q2.by_stage == {"new": 1}

    page = team.get("/ideas").get_data(as_text=True)
    assert "Vad hände med idéerna?" in page
    assert '<h3 id="stages-caption">' in page and 'role="region"' in page
    # A chart of the received ideas beside the tables, named by its caption.
    assert 'aria-labelledby="received-chart-caption"' in page and "2026 kvartal 4" in page
    english = team.get("/ideas?lang=en").get_data(as_text=True)
    assert "What happened to the ideas?" in english


def test_no_figures_before_the_first_idea(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        assert openpage.quarterly_figures("uppsala.se") == []
    page = client.get("/ideas").get_data(as_text=True)
    assert "Inga idéer har kommit in ännu." in page


def test_the_status_page_links_to_the_open_page(app: Flask, client: FlaskClient) -> None:
    ref = new_idea(client)
    with app.test_request_context():
        token = status_token(ref)
    page = client.get(f"/ideas/status/{token}?lang=en").get_data(as_text=True)
    assert 'href="/ideas?lang=en"' in page
