"""Consent-log fixtures: entries written through the real chain code, a signed-in officer."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from consent_service.audit.chain import append_entry
from consent_service.audit.models import ConsentEntry
from consent_service.consent.services import current_policy
from consent_service.db import db
from tests.conftest import make_app
from tests.helpers.forms import form_token as form_token  # imported by audit tests
from tests.helpers.staff import sign_in_as


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


@pytest.fixture
def officer(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in_as(app, client, Role.PRIVACY_OFFICER, "dso")
    return client
