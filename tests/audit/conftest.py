"""Consent-log fixtures: entries written through the real chain code, a signed-in officer."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from consent_service.audit.chain import append_entry
from consent_service.audit.models import ConsentEntry
from consent_service.consent.services import current_policy
from consent_service.db import db
from tests.conftest import make_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """The shared app, with the checkpoint key in this test's own directory."""
    return make_app(tmp_path, CHECKPOINT_KEY=str(tmp_path / "checkpoint.pem"))


def add_entries(
    app: Flask,
    count: int,
    *,
    start: dt.datetime | None = None,
    step: dt.timedelta = dt.timedelta(hours=1),
    action: str = "grant",
    consent_id: str | None = None,
    functional: bool = True,
    statistics: bool = False,
    source: str = "banner",
) -> list[int]:
    """Append entries with chosen times (as the API would, but backdated)."""
    start = start or dt.datetime.now(dt.UTC) - dt.timedelta(hours=count)
    seqs = []
    with app.app_context():
        policy = current_policy()
        with db.writing_connection() as conn:
            for i in range(count):
                entry = ConsentEntry(
                    site=policy.site,
                    occurred_at=start + i * step,
                    consent_id=consent_id or str(uuid.uuid4()),
                    action=action,
                    functional=functional,
                    statistics=statistics,
                    policy_version=policy.version,
                    text_hash=policy.text_hash("sv"),
                    language="sv",
                    source=source,
                    gpc=False,
                )
                append_entry(conn, entry)
                seqs.append(entry.seq)
    return seqs


def form_token(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, html
    return match.group(1)


def sign_in_as(app: Flask, client: FlaskClient, role: Role, name: str | None = None) -> str:
    name = name or f"user-{role.value}"
    with app.app_context():
        create_user(name, role, PASSWORD)
    token = form_token(client, "/admin/sign-in")
    response = client.post(
        "/admin/sign-in", data={"csrf_token": token, "name": name, "password": PASSWORD}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return name


@pytest.fixture
def officer(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in_as(app, client, Role.PRIVACY_OFFICER, "dso")
    return client
