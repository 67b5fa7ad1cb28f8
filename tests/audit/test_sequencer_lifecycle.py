"""The sequencer thread ends with its app and its process, quietly; real failures are retried.

A test app, or a worker that exits, takes its database away with it: the thread must stop
rather than report errors about a database that is gone. A failure while it runs is still
logged and retried, and a stop loses no acknowledged decision.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from consent_service.audit.log_models import PendingEntry
from consent_service.audit.sequencer import _PENDING, Sequencer, integrate_pending
from consent_service.db import db
from tests.conftest import _apps_to_dispose, choice_body, make_app

ROOT = Path(__file__).resolve().parents[2]
FAILED = "consent-log sequencer failed"
ENTRY = {
    "site": "uppsala.se", "occurred_at": dt.datetime(2026, 12, 2, tzinfo=dt.UTC),
    "consent_id": "00000000-0000-4000-8000-000000000000", "action": "grant",
    "functional": True, "statistics": False, "policy_version": 1, "text_hash": "0" * 64,
    "language": "sv", "source": "api", "gpc": False, "request_id": None,
}  # fmt: skip


def background_app(tmp_path: Path) -> Flask:
    return make_app(
        tmp_path, CHECKPOINT_KEY=str(tmp_path / "checkpoint.pem"), LOG_INTEGRATION="background"
    )


def sequencer_of(app: Flask) -> Sequencer:
    sequencer = app.extensions["consent_log_sequencer"]
    assert isinstance(sequencer, Sequencer)
    return sequencer


def pending(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PendingEntry)) or 0


def wait_for(condition: object, limit: float = 20.0) -> bool:
    """Poll until `condition()` holds; a bound against hanging, not a timing assertion."""
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def record(app: Flask, count: int) -> None:
    client = app.test_client()
    for _ in range(count):
        assert client.post("/api/v1/consent", json=choice_body()).status_code == 201


def test_stop_ends_the_thread_quietly_and_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = background_app(tmp_path)
    record(app, 3)  # the first request starts the thread
    sequencer = sequencer_of(app)
    assert sequencer.running()
    assert wait_for(lambda: pending(app) == 0)

    with caplog.at_level(logging.DEBUG, logger="consent_service.audit.sequencer"):
        sequencer.stop()
        assert not sequencer.running()
        # Stopped in this process for good: a request does not start it again, and what it
        # acknowledges meanwhile stays pending until a sequencer integrates it.
        record(app, 2)
        assert not sequencer.running()
        assert pending(app) == 2
        with app.app_context():
            assert integrate_pending() == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.sqlite_only  # on PostgreSQL the leader holds its lock connection, and so the app
def test_a_dropped_app_ends_its_thread(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "first").mkdir()
    (tmp_path / "next").mkdir()
    app = background_app(tmp_path / "first")
    record(app, 1)
    thread = sequencer_of(app)._thread
    assert thread is not None and thread.is_alive()
    # Its test is over: the app is disposed of and dropped (the next test's migration takes
    # Alembic's reference to it), its database removed.
    _apps_to_dispose.remove(app)
    app.extensions["consent_db"].dispose()
    del app
    make_app(tmp_path / "next")
    gc.collect()
    with caplog.at_level(logging.DEBUG, logger="consent_service.audit.sequencer"):
        (tmp_path / "first" / "consent.sqlite3").unlink(missing_ok=True)
        thread.join(20)
    assert not thread.is_alive()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_failure_while_running_is_logged_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = background_app(tmp_path)
    with caplog.at_level(logging.INFO, logger="consent_service.audit.sequencer"):
        record(app, 1)  # starts the thread
        # An entry whose leaf no longer matches its promise: the sequencer refuses the batch.
        with app.app_context(), db.writing_connection() as conn:
            conn.execute(insert(_PENDING), {**ENTRY, "leaf_hash": "00" * 32, "promise": ""})
        assert wait_for(lambda: any(FAILED in r.getMessage() for r in caplog.records))
        assert sequencer_of(app).running()
        # Once the bad entry is dealt with, the thread carries on by itself.
        with app.app_context(), db.writing_connection() as conn:
            conn.execute(_PENDING.delete())
        record(app, 2)
        assert wait_for(lambda: pending(app) == 0)
        assert sequencer_of(app).running()


@pytest.mark.sqlite_only
def test_a_process_ends_without_sequencer_errors(tmp_path: Path) -> None:
    """Exit hooks registered before the thread started (here: removing the database, closing
    its pool, then waiting) run after the sequencer has stopped."""
    database = tmp_path / "db"
    script = textwrap.dedent(
        f"""
        import atexit, shutil, time
        apps = []
        atexit.register(time.sleep, 1.0)  # runs last: time for a live thread to fail
        atexit.register(lambda: apps[0].extensions["consent_db"].dispose())
        atexit.register(shutil.rmtree, {str(database)!r})
        from pathlib import Path
        from tests.conftest import choice_body, make_app
        Path({str(database)!r}).mkdir()
        apps.append(make_app(Path({str(database)!r}), LOG_INTEGRATION="background"))
        client = apps[0].test_client()
        for _ in range(5):
            assert client.post("/api/v1/consent", json=choice_body()).status_code == 201
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "CONSENT_TEST_DATABASE": "sqlite"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert FAILED not in done.stderr and "Traceback" not in done.stderr, done.stderr
