"""The PostgreSQL connection pool: a pooled connection is handed out without a round trip to
the server, and one whose session the server ended is replaced before anyone uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from consent_service.db import make_engine
from tests.conftest import postgres_database_url
from tests.postgres import PostgresServer


def _activity(admin: sa.Engine, pid: int) -> tuple[str, object] | None:
    with admin.connect() as conn:
        row = conn.execute(
            sa.text("SELECT query, state_change FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        ).first()
    return None if row is None else (row[0], row[1])


def _backend_pid(engine: sa.Engine) -> int:
    with engine.begin() as conn:
        pid: int = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    return pid


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """The service's engine on a test database, and an administrator's beside it."""
    url = postgres_database_url(tmp_path)
    engine = make_engine(url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        yield engine, admin
    finally:
        engine.dispose()
        admin.dispose()


def test_a_pooled_connection_is_handed_out_without_a_round_trip(
    engines: tuple[sa.Engine, sa.Engine],
) -> None:
    engine, admin = engines
    pid = _backend_pid(engine)
    before = _activity(admin, pid)
    with engine.connect() as conn:
        # Checked out again (the same session): the server has seen nothing since.
        assert _activity(admin, pid) == before
        assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == pid


def test_a_terminated_session_is_replaced_on_checkout(
    engines: tuple[sa.Engine, sa.Engine],
) -> None:
    engine, admin = engines
    pid = _backend_pid(engine)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    while _activity(admin, pid) is not None:
        time.sleep(0.01)
    assert _backend_pid(engine) != pid


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of this test's own, to restart without disturbing the suite's."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_every_pooled_connection_is_replaced_after_a_server_restart(
    own_server: PostgresServer,
) -> None:
    engine = make_engine(own_server.url())
    try:
        with engine.connect() as first, engine.connect() as second:
            before = {
                first.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
                second.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
            }
        own_server.pause()
        own_server.resume()
        with engine.connect() as first, engine.connect() as second:
            after = {
                first.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
                second.execute(sa.text("SELECT pg_backend_pid()")).scalar_one(),
            }
        assert len(after) == 2
        assert not after & before
    finally:
        engine.dispose()
