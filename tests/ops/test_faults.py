"""Database faults: clear 503s with Retry-After, readiness says so, recovery without restart.

(bench/reliability.py does the same under load with real gunicorn workers; these are the
quick versions that run in `make test`.)
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from consent_service.audit.chain import verify_chain
from consent_service.db import db
from tests.conftest import choice_body, make_app

# Deselected (not skipped) on the PostgreSQL pass: see tests/conftest.py.
sqlite_only = pytest.mark.sqlite_only


@contextlib.contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """Make files unwritable even for root (immutable flag), or by mode for other users."""
    present = [p for p in paths if p.exists()]
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *map(str, present)], check=True)
    else:
        for path in present:
            path.chmod(0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", *map(str, present)], check=True)
        else:
            for path in present:
                path.chmod(0o644)


def _database_file(app: Flask) -> Path:
    with app.app_context():
        database = db.engine.url.database
    assert database
    return Path(database)


@sqlite_only
def test_an_unwritable_sqlite_file_answers_503_then_recovers(
    app: Flask, client: FlaskClient
) -> None:
    assert client.post("/api/v1/consent", json=choice_body()).status_code == 201
    database = _database_file(app)
    # Not the -shm index: SQLite maps it into memory, and a write to an immutable mapping is
    # a SIGBUS (a worker would die and be replaced; a test process would just crash).
    with unwritable(database, Path(f"{database}-wal")):
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert ready.json and ready.json["error"] == "database_read_only"
        refused = client.post("/api/v1/consent", json=choice_body(request_id="fault-retry-1"))
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert refused.json and refused.json["error"] == "unavailable"
    # Back without a restart; the client's retry with the same request_id is stored once.
    assert client.get("/readyz").status_code == 200
    retried = client.post("/api/v1/consent", json=choice_body(request_id="fault-retry-1"))
    assert retried.status_code == 201
    with app.app_context():
        result = verify_chain(db.session)
        integrity = db.session.execute(text("PRAGMA integrity_check")).scalar()
    assert result.ok and result.checked == 2 and integrity == "ok"


@sqlite_only
def test_a_full_disk_answers_503_and_leaves_the_database_intact(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    client = app.test_client()
    with app.app_context():
        pages = db.session.execute(text("PRAGMA page_count")).scalar_one()

    # SQLite's max_page_count stands in for a full disk: the file may not grow past it.
    @event.listens_for(app.extensions["consent_db"].engine, "connect")
    def _cap(dbapi_connection: object, record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(f"PRAGMA max_page_count = {pages + 2}")
        cursor.close()

    app.extensions["consent_db"].engine.dispose()  # new connections get the cap
    statuses = [
        client.post(
            "/api/v1/consent", json=choice_body(request_id=f"disk-full-{i:04d}")
        ).status_code
        for i in range(400)
    ]
    assert 503 in statuses, "the cap was never reached"
    assert set(statuses) == {201, 503}
    stored = statuses.index(503)
    assert set(statuses[:stored]) == {201}
    with app.app_context():
        result = verify_chain(db.session)
        integrity = db.session.execute(text("PRAGMA integrity_check")).scalar()
    # Every acknowledged write is there, in one chain; nothing half-written.
    assert result.ok and result.checked == statuses.count(201) and integrity == "ok"
