"""Fixtures for the idea tests: an app whose forms may be sent at once, staff, submissions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from tests.conftest import make_app
from tests.helpers import forms, staff

# A page's CSRF token; `form_token` below is the idea form's own token.
csrf_token = forms.form_token


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    # No minimum fill time by default: tests send forms at machine speed.
    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0)
    yield app
    app.extensions["consent_db"].dispose()


def form_token(client: FlaskClient) -> str:
    response = client.get("/api/v1/ideas/form")
    assert response.json is not None
    return str(response.json["form_token"])


def idea_body(client: FlaskClient | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Fler bänkar vid Fyrisån",
        "body": "Längs promenadstråket finns för få platser att vila.",
        "area": "trafik",
        "topic": "innovation",
        "page": "https://www.uppsala.test/innovation?q=secret#part",
    }
    if client is not None:
        body["form_token"] = form_token(client)
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def submit(client: FlaskClient, **overrides: Any) -> Any:
    return client.post("/api/v1/ideas", json=idea_body(client, **overrides))


def make_staff(app: Flask, name: str, role: Role = Role.INNOVATION) -> int:
    """A staff account, by default in the innovation team; its id."""
    return staff.make_staff(app, name, role)


def sign_in(client: FlaskClient, name: str) -> None:
    assert staff.sign_in(client, name) == 303


@pytest.fixture
def team(app: Flask, client: FlaskClient) -> FlaskClient:
    """A client signed in as a member of the innovation team."""
    make_staff(app, "inno")
    sign_in(client, "inno")
    return client
