"""The no-JavaScript idea page /ideas/new: the same rules, CSRF, honeypot and limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.db import db
from consent_service.ideas.models import Idea
from tests.conftest import make_app
from tests.helpers.forms import csrf_token_in


def form_fields(client: FlaskClient, path: str = "/ideas/new") -> dict[str, str]:
    html = client.get(path).get_data(as_text=True)
    hidden = dict(
        re.findall(
            r'<input (?:type="hidden" )?name="(\w+)"(?: type="hidden")? value="([^"]*)"', html
        )
    )
    hidden["csrf_token"] = csrf_token_in(html)
    return hidden


def post(client: FlaskClient, **fields: Any) -> Any:
    data = form_fields(client)
    data.update(
        {
            "title": "Bättre cykelparkering",
            "body": "Vid resecentrum.\r\nTack!",
            "area": "trafik",
            "website": "",
        }
    )
    data.update(fields)
    return client.post("/ideas/new", data={k: v for k, v in data.items() if v is not None})


def ideas(app: Flask) -> list[Idea]:
    with app.app_context():
        return list(db.session.scalars(select(Idea)).unique())


def test_the_page_carries_csrf_form_token_and_honeypot(client: FlaskClient) -> None:
    response = client.get("/ideas/new?topic=innovation&page=https://www.uppsala.test/x?y=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    fields = form_fields(client, "/ideas/new?topic=innovation")
    assert fields["csrf_token"] and fields["form_token"] and fields["topic"] == "innovation"
    assert 'value="https://www.uppsala.test/x"' in html  # the query is dropped
    assert 'name="website"' in html and 'class="trap" aria-hidden="true"' in html
    assert "allmän handling" in html


def test_a_valid_idea_leads_to_its_status_page(app: Flask, client: FlaskClient) -> None:
    response = post(client, name="Ada", email="ada@example.se", contact_ok="y")
    assert response.status_code == 303
    assert "/ideas/status/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tack! Vi har tagit emot din idé." in page
    (idea,) = ideas(app)
    assert idea.stage == "new" and idea.body == "Vid resecentrum.\nTack!"


def test_errors_are_listed_and_linked_to_their_fields(app: Flask, client: FlaskClient) -> None:
    response = post(client, title="", body="x" * 4001, email="ada@example.se")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="error-summary"' in html and 'href="#idea-title"' in html
    assert 'aria-describedby="title-hint title-error" aria-invalid="true"' in html
    assert "Skriv vad som kan bli bättre." in html and "Skriv högst 4000 tecken." in html
    assert "Kryssa i rutan om vi får kontakta dig" in html
    assert 'value="ada@example.se"' in html  # nothing the citizen wrote is lost
    assert ideas(app) == []


def test_without_csrf_token_nothing_is_stored(app: Flask, client: FlaskClient) -> None:
    response = post(client, csrf_token="forged")
    assert response.status_code == 400
    assert "Formuläret kunde inte skickas" in response.get_data(as_text=True)
    assert ideas(app) == []


def test_honeypot_and_missing_time_stamp_go_to_spam(app: Flask, client: FlaskClient) -> None:
    assert post(client, website="http://x.example").status_code == 303
    assert post(client, title="Annan", form_token="").status_code == 303
    assert sorted((i.spam_reason or "") for i in ideas(app)) == ["honeypot", "no_form_token"]


def test_the_rate_limit_answers_with_a_page(tmp_path: Path) -> None:
    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0, IDEAS_RATE_LIMIT=1)
    client = app.test_client()
    assert post(client).status_code == 303
    refused = post(client, title="En till")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Du har skickat många idéer" in refused.get_data(as_text=True)


def test_english_page(client: FlaskClient) -> None:
    html = client.get("/ideas/new?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "Send the idea" in html and "Preschool and school" in html


def status_page(client: FlaskClient) -> str:
    response = post(client, name="Ada", email="ada@example.se", contact_ok="y")
    return str(response.headers["Location"]).split("?")[0].removeprefix("http://localhost")


def test_withdrawing_asks_for_confirmation(app: Flask, client: FlaskClient) -> None:
    path = status_page(client)
    html = client.get(path).get_data(as_text=True)
    token = csrf_token_in(html)
    # The old one-press form: nothing happens, the citizen is asked first.
    asked = client.post(path + "/withdraw", data={"csrf_token": token})
    assert asked.status_code == 303 and asked.headers["Location"].split("?")[0].endswith(
        path + "/withdraw"
    )
    assert [i.stage for i in ideas(app)] == ["new"]
    confirm = client.get(path + "/withdraw?lang=sv")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and confirm.headers["Referrer-Policy"] == "no-referrer"
    assert "Vill du dra tillbaka idén?" in page and f'href="{path}?lang=sv"' in page
    confirm_field = re.search(r'name="confirm" type="hidden" value="([^"]+)"', page)
    assert confirm_field
    fields = {"csrf_token": csrf_token_in(page), "confirm": confirm_field.group(1)}
    done = client.post(path + "/withdraw", data=fields)
    assert done.status_code == 303 and "notice=withdrawn" in done.headers["Location"]
    assert [(i.stage, i.close_reason) for i in ideas(app)] == [("closed", "withdrawn")]
    assert client.get(path + "/withdraw").status_code == 303  # nothing left to withdraw


def test_ids_on_the_status_page_are_unique(client: FlaskClient) -> None:
    html = client.get(status_page(client)).get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert ids and len(ids) == len(set(ids)), sorted(ids)


def test_the_form_page_describes_itself_in_its_language(client: FlaskClient) -> None:
    """Search results and link previews show what the page is for, in the reader's language."""
    sv = client.get("/ideas/new?lang=sv").get_data(as_text=True)
    en = client.get("/ideas/new?lang=en").get_data(as_text=True)
    assert re.search(r'<meta name="description" content="Har du en idé[^"]+">', sv)
    assert re.search(r'<meta name="description" content="Do you have an idea[^"]+">', en)
