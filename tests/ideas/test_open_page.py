"""Public records without personal data: masking on the board's idea page and the open idea
page at /ideas (publishing, languages, the quarter figures)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.ideas.conftest import csrf_token, submit

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
