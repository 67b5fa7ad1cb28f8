"""`/consent`: the settings page without JavaScript, protected by a CSRF token."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.audit.models import ConsentEntry
from consent_service.consent.cookie import COOKIE_NAME
from consent_service.db import db
from tests.conftest import HOST_ORIGIN
from tests.helpers.forms import form_token


def submit(client: FlaskClient, **fields: str) -> object:
    data = {"csrf_token": form_token(client, "/consent"), **fields}
    return client.post("/consent", data=data)


def logged(app: Flask) -> list[tuple[str, bool, bool, str]]:
    with app.app_context():
        rows = db.session.scalars(select(ConsentEntry).order_by(ConsentEntry.seq))
        return [(e.action, e.functional, e.statistics, e.source) for e in rows]


def test_page_renders_both_languages(client: FlaskClient) -> None:
    sv = client.get("/consent").get_data(as_text=True)
    assert '<html lang="sv"' in sv and "Spara val" in sv and "Endast nödvändiga" in sv
    en = client.get("/consent?lang=en").get_data(as_text=True)
    assert '<html lang="en"' in en and "Save choices" in en
    assert 'role="switch"' in sv and "checked" not in sv.split('id="cat-functional"')[1][:120]


def test_save_records_choice_sets_cookie_and_returns(app: Flask, client: FlaskClient) -> None:
    response = submit(client, action="save", statistics="y", next=f"{HOST_ORIGIN}/page?x=1")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["Location"] == f"{HOST_ORIGIN}/page?x=1"  # type: ignore[attr-defined]
    assert client.get_cookie(COOKIE_NAME) is not None
    assert logged(app) == [("grant", False, True, "nojs")]


@pytest.mark.parametrize(
    "target",
    ["https://evil.test/", "//evil.test/x", "javascript:alert(1)", "https://www.uppsala.test.evil.test/",
     "/\\evil.test", "http://www.uppsala.test/"],
)  # fmt: skip
def test_next_outside_allowed_origins_is_ignored(client: FlaskClient, target: str) -> None:
    response = submit(client, action="necessary_only", next=target)
    assert response.headers["Location"].startswith("/consent?status=saved")  # type: ignore[attr-defined]


def test_accept_all_then_withdraw(app: Flask, client: FlaskClient) -> None:
    submit(client, action="accept_all")
    page = client.get("/consent?status=saved").get_data(as_text=True)
    assert "Ditt val är sparat." in page and "Återkalla samtycke" in page
    submit(client, action="withdraw")
    assert client.get_cookie(COOKIE_NAME) is None
    assert [a for a, *_ in logged(app)] == ["grant", "withdraw"]


def test_accept_all_with_gpc_keeps_statistics_off(app: Flask, client: FlaskClient) -> None:
    token = form_token(client, "/consent")
    client.post("/consent", data={"csrf_token": token, "action": "accept_all"},
                headers={"Sec-GPC": "1"})  # fmt: skip
    assert logged(app) == [("grant", True, False, "nojs")]


def test_missing_or_forged_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    assert client.post("/consent", data={"action": "accept_all"}).status_code == 400
    form_token(client, "/consent")
    forged = client.post("/consent", data={"action": "accept_all", "csrf_token": "forged"})
    assert forged.status_code == 400
    assert logged(app) == []


@pytest.mark.parametrize(
    "fields",
    [{"action": "delete_everything"}, {"action": "save", "next": "x" * 3000},
     {"action": "save", "lang": "sv\u202e<script>alert(1)</script>"},
     {"action": "save", "functional": "\x00" * 10}],
)  # fmt: skip
def test_hostile_form_input_is_refused_without_error(
    app: Flask, client: FlaskClient, fields: dict[str, str]
) -> None:
    response = submit(client, **fields)
    assert response.status_code in (303, 400)  # type: ignore[attr-defined]
    assert all(action in ("grant",) for action, *_ in logged(app))


def test_invalid_utf8_in_form_body_is_handled(app: Flask, client: FlaskClient) -> None:
    token = form_token(client, "/consent")
    body = f"csrf_token={token}&action=save&lang=%ED%A0%80&next=%FF%FE"
    response = client.post("/consent", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (303, 400)


def test_withdrawing_without_javascript_expires_matomos_cookies(client: FlaskClient) -> None:
    submit(client, action="accept_all")
    client.set_cookie("_pk_id.1.1fff", "x")
    response = submit(client, action="withdraw")
    expired = {
        header.split("=", 1)[0]
        for header in response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
        if "Max-Age=0" in header
    }
    assert {COOKIE_NAME, "_pk_id.1.1fff"} <= expired


@pytest.mark.parametrize(("query", "lang"), [("", "sv"), ("?lang=en", "en")])
def test_the_page_describes_itself(app: Flask, client: FlaskClient, query: str, lang: str) -> None:
    html = client.get("/consent" + query).get_data(as_text=True)
    intro = app.extensions["sites"].file_policy.rendered(lang)["page_intro"]
    assert f'<meta name="description" content="{intro}">' in html
