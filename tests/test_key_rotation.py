"""Rotating the secret key logs nobody out: old cookies, sessions and form tokens stay valid."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from consent_service.consent.cookie import COOKIE_NAME
from tests.conftest import choice_body, make_app
from tests.helpers.forms import csrf_token_in

OLD = "old-secret-key-0123456789-0123456789-abcdef"
NEW = "new-secret-key-0123456789-0123456789-ghijkl"


def rotated(tmp_path: Path) -> tuple[Flask, Flask]:
    before = make_app(tmp_path, SECRET_KEY=OLD)
    after = make_app(
        tmp_path, SECRET_KEY=NEW, ENVIRON={"CONSENT_SECRET_KEY_FALLBACKS": OLD}, migrate=False
    )
    assert after.config["SIGNING_KEYS"] == [OLD, NEW]
    return before, after


def test_choice_cookie_and_csrf_token_survive_a_rotation(tmp_path: Path) -> None:
    before, after = rotated(tmp_path)
    old_client = before.test_client()
    old_client.post("/api/v1/consent", json=choice_body())
    page = old_client.get("/consent?lang=sv").get_data(as_text=True)
    token = csrf_token_in(page)
    choice = old_client.get_cookie(COOKIE_NAME)
    session = old_client.get_cookie("consent_session")
    assert choice is not None and session is not None

    new_client = after.test_client()
    new_client.set_cookie(COOKIE_NAME, choice.value)
    new_client.set_cookie("consent_session", session.value)
    assert new_client.get("/api/v1/consent").status_code == 200
    response = new_client.post("/consent", data={"csrf_token": token, "action": "necessary_only"})
    assert response.status_code == 303, response.get_data(as_text=True)
    # The new key signs from now on; the old one alone no longer verifies it.
    fresh = new_client.get_cookie(COOKIE_NAME)
    assert fresh is not None
    old_only = before.test_client()
    old_only.set_cookie(COOKIE_NAME, fresh.value)
    assert old_only.get("/api/v1/consent").status_code == 404
