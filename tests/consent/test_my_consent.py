"""`/consent/mine`: the visitor's decisions with the texts shown, and the receipt to keep."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

from consent_service.consent.cookie import COOKIE_NAME
from tests.audit.test_transparency import choice_body


def test_without_a_choice_the_page_says_so(client: FlaskClient) -> None:
    response = client.get("/consent/mine?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is no saved choice for this browser." in html
    assert "<script" not in html  # nothing to check
    assert client.get("/consent/mine/receipt.json").status_code == 404


def test_the_history_shows_each_choice_and_the_archived_text(client: FlaskClient) -> None:
    client.post("/api/v1/consent", json=choice_body(language="sv"))
    client.post("/api/v1/consent", json=choice_body(statistics=True, language="en"))
    response = client.get("/consent/mine?lang=sv")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<h1>Mitt samtycke</h1>" in html
    assert "Första val" in html and "Ändrat val" in html
    assert "Statistik: nej" in html and "Statistik: ja" in html
    # The exact texts shown, from the archive: Swedish for the first, English for the second.
    assert "Kakor på uppsala.se" in html and 'lang="en"' in html
    assert 'href="/consent/mine/receipt.json" download' in html
    # The verification script carries the page's CSP nonce.
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script type="module" nonce="{nonce}">' in html
    english = client.get("/consent/mine?lang=en").get_data(as_text=True)
    assert "<h1>My consent</h1>" in english and "Changed choice" in english


def test_the_receipt_downloads_as_json(client: FlaskClient) -> None:
    client.post("/api/v1/consent", json=choice_body())
    download = client.get("/consent/mine/receipt.json")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith('attachment; filename="consent-')
    assert json.loads(download.data) == client.get("/api/v1/consent/receipt").get_json()


def test_a_withdrawal_is_shown_to_a_visitor_who_kept_the_cookie(
    app: Flask, client: FlaskClient
) -> None:
    client.post("/api/v1/consent", json=choice_body())
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    kept = cookie.value
    client.delete("/api/v1/consent")
    client.set_cookie(COOKIE_NAME, kept)
    html = client.get("/consent/mine?lang=en").get_data(as_text=True)
    assert "First choice" in html and "Withdrawn" in html


def test_the_settings_page_links_to_it(client: FlaskClient) -> None:
    html = client.get("/consent?lang=en").get_data(as_text=True)
    assert 'href="/consent/mine?lang=en"' in html


def test_a_withdrawal_without_javascript_leaves_a_link_to_its_receipt(
    client: FlaskClient,
) -> None:
    from tests.audit.conftest import form_token

    token = form_token(client, "/consent?lang=en")
    client.post("/consent", data={"csrf_token": token, "action": "accept_all", "lang": "en"})
    token = form_token(client, "/consent?lang=en")
    answer = client.post("/consent", data={"csrf_token": token, "action": "withdraw", "lang": "en"})
    assert answer.status_code == 303 and client.get_cookie(COOKIE_NAME) is None
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    link = page.split('href="/consent/mine?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    mine = client.get(f"/consent/mine?{link}").get_data(as_text=True)
    assert "First choice" in mine and "Withdrawn" in mine
    download = mine.split('href="/consent/mine/receipt.json?', 1)[1].split('"', 1)[0]
    body = client.get("/consent/mine/receipt.json?" + download.replace("&amp;", "&")).get_json()
    assert [e["action"] for e in body["entries"]] == ["grant", "withdraw"]
    # A forged or altered link shows nothing.
    assert client.get("/consent/mine/receipt.json?receipt=forged").status_code == 404
