"""Fixtures: an app with a fresh, migrated database per test, its client and CLI runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from consent_service import create_app
from consent_service.schema import upgrade_database

SECRET = "test-secret-key-that-is-long-enough-0123456789"
HOST_ORIGIN = "https://www.uppsala.test"


def make_app(tmp_path: Path, migrate: bool = True, **overrides: Any) -> Flask:
    config: dict[str, Any] = {
        "CONSENT_MODE": "testing",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'consent.sqlite3'}",
        "ALLOWED_ORIGINS": [HOST_ORIGIN],
        "WTF_CSRF_ENABLED": True,
    }
    config.update(overrides)
    app = create_app(config)
    if migrate:
        upgrade_database(app)
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path)
    yield app
    app.extensions["consent_db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def choice_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "functional": True,
        "statistics": False,
        "policy_version": 1,
        "language": "sv",
        "source": "banner",
    }
    body.update(overrides)
    return body
