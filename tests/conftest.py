"""Fixtures: an app with a fresh, migrated database per test, its client and CLI runner."""

from __future__ import annotations

import atexit
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from consent_service import create_app
from consent_service.config import DEFAULT_POLICY_FILE
from consent_service.schema import upgrade_database
from consent_service.sites.policy import load_policy
from tests.helpers.browser import browser  # noqa: F401  (the session's Chromium, for every test)
from tests.helpers.smtp import mailbox  # noqa: F401  (a real SMTP server, for the mail tests)

SECRET = "test-secret-key-that-is-long-enough-0123456789"
HOST_ORIGIN = "https://www.uppsala.test"
# The shipped policy's version: what a citizen's choice answers unless a test says otherwise.
POLICY_VERSION = load_policy(DEFAULT_POLICY_FILE).version

# The suite runs on SQLite by default and again on PostgreSQL with
# CONSENT_TEST_DATABASE=postgresql (make test does both).
BACKEND = os.environ.get("CONSENT_TEST_DATABASE", "sqlite")
TEMPLATE_DB = "consent_template"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, leave out tests of SQLite's own files: they do not apply."""
    if BACKEND == "sqlite":
        return
    keep = [item for item in items if item.get_closest_marker("sqlite_only") is None]
    dropped = [item for item in items if item.get_closest_marker("sqlite_only") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


class _Postgres:
    """One throwaway server per test process; a database per test, cloned from a migrated one."""

    server: Any = None
    admin: sa.Engine | None = None
    created: set[str] = set()  # noqa: RUF012  (process-wide registry)

    @classmethod
    def url_for(cls, tmp_path: Path) -> str:
        from tests.postgres import PostgresServer

        if cls.server is None:
            cls.server = PostgresServer().start()
            atexit.register(cls.stop)  # pytest_sessionfinish stops it first, in time
            cls.admin = sa.create_engine(cls.server.url(), isolation_level="AUTOCOMMIT")
            with cls.admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {TEMPLATE_DB}"))
            template = create_app(_config(cls.server.url(TEMPLATE_DB)))
            upgrade_database(template)
            template.extensions["consent_db"].dispose()
        name = "t_" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:24]
        if name not in cls.created:
            assert cls.admin is not None
            with cls.admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}"))
            cls.created.add(name)
        url: str = cls.server.url(name)
        return url

    @classmethod
    def stop(cls) -> None:
        """Stop this process's server and remove its data (once; later calls do nothing)."""
        server, cls.server = cls.server, None
        if cls.admin is not None:
            cls.admin.dispose()
            cls.admin = None
        if server is not None:
            server.stop()
            cls.created.clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Here, not only at exit: a test process of pytest-xdist may be ended before its exit
    # hooks have removed a data directory of several gigabytes (one database per test).
    _Postgres.stop()


def _config(database_url: str) -> dict[str, Any]:
    return {
        "CONSENT_MODE": "testing",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "ALLOWED_ORIGINS": [HOST_ORIGIN],
        "WTF_CSRF_ENABLED": True,
    }


def postgres_database_url(tmp_path: Path) -> str:
    """A fresh, migrated PostgreSQL database whatever the suite's backend (multi-instance tests)."""
    return _Postgres.url_for(tmp_path)


def postgres_empty_database_url(name: str) -> str:
    """A new, empty PostgreSQL database (not migrated) on the suite's server."""
    if _Postgres.server is None:
        _Postgres.url_for(Path("/nonexistent/start-the-server"))
    assert _Postgres.admin is not None
    with _Postgres.admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url: str = _Postgres.server.url(name)
    return url


def database_url(tmp_path: Path) -> str:
    """A fresh database for this test (the same one for the same tmp_path)."""
    if BACKEND == "postgresql":
        return _Postgres.url_for(tmp_path)
    if BACKEND != "sqlite":
        raise RuntimeError(f"CONSENT_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")
    return f"sqlite:///{tmp_path / 'consent.sqlite3'}"


_apps_to_dispose: list[Flask] = []


@pytest.fixture(autouse=True)
def _dispose_apps() -> Iterator[None]:
    """Stop every app's log sequencer and close its connection pool after its test.

    No thread or connection outlives a test.
    """
    yield
    while _apps_to_dispose:
        app = _apps_to_dispose.pop()
        sequencer = app.extensions.get("consent_log_sequencer")
        if sequencer is not None:
            sequencer.stop()
        app.extensions["consent_db"].dispose()


def make_app(tmp_path: Path, migrate: bool = True, **overrides: Any) -> Flask:
    config = _config(database_url(tmp_path))
    config.update(overrides)
    app = create_app(config)
    _apps_to_dispose.append(app)
    if migrate:
        upgrade_database(app)
    return app


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


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
        "policy_version": POLICY_VERSION,
        "language": "sv",
        "source": "banner",
    }
    body.update(overrides)
    return body
