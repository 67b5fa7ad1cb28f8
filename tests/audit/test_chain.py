"""The consent log's hash chain: tampering is found and named, concurrent writers never fork it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_service.audit.chain import verify_chain
from consent_service.db import db
from tests.conftest import choice_body


def record(app: Flask, n: int) -> None:
    client = app.test_client()
    for i in range(n):
        client.post("/api/v1/consent", json=choice_body(statistics=i % 2 == 0))


def sql(app: Flask, statement: str) -> None:
    """Run SQL as someone with direct database access would, bypassing the app's rules."""
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if db.engine.dialect.name == "sqlite":
                cursor.execute("PRAGMA foreign_keys=OFF")
            else:
                # Someone with database access can switch off foreign-key triggers too.
                cursor.execute("SET session_replication_role = replica")
            cursor.execute(statement)
            raw.commit()
        finally:
            raw.close()


def test_intact_chain_verifies(app: Flask, runner: FlaskCliRunner) -> None:
    record(app, 5)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output


TAMPERING: list[tuple[str, str, int]] = [
    ("edit a choice",
     "UPDATE consent_log_entries SET statistics = NOT statistics WHERE seq = 2", 2),
    ("edit a time",
     "UPDATE consent_log_entries SET occurred_at = '2020-01-01 00:00:00' WHERE seq = 3",
     3),
    ("delete an entry", "DELETE FROM consent_log_entries WHERE seq = 3", 3),
    ("delete entry and link", "DELETE FROM consent_log_entries WHERE seq = 2; "
     "DELETE FROM audit_chain_links WHERE seq = 2", 2),
    ("reorder two entries", "UPDATE consent_log_entries SET seq = -2 WHERE seq = 2; "
     "UPDATE consent_log_entries SET seq = 2 WHERE seq = 3; "
     "UPDATE consent_log_entries SET seq = 3 WHERE seq = -2", 2),
    ("cut the last entry off", "DELETE FROM consent_log_entries WHERE seq = 5; "
     "DELETE FROM audit_chain_links WHERE seq = 5", 5),
    ("forge a link hash",
     "UPDATE audit_chain_links SET hash = (CASE WHEN substr(hash, 1, 1) = '0' THEN '1' "
     "ELSE '0' END) || substr(hash, 2) WHERE seq = 4", 4),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "statement", "bad_seq"),
    TAMPERING,
    ids=[t[0] for t in TAMPERING],
)
def test_tampering_is_detected_and_named(
    app: Flask, runner: FlaskCliRunner, what: str, statement: str, bad_seq: int
) -> None:
    record(app, 5)
    for part in statement.split("; "):
        sql(app, part)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"BROKEN at entry {bad_seq}" in result.output


def test_concurrent_appends_keep_one_linear_chain(app: Flask) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            record(app, 25)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads: list[threading.Thread] = [threading.Thread(target=worker) for _ in range(8)]
    starts: list[Callable[[], None]] = [t.start for t in threads]
    for start in starts:
        start()
    for t in threads:
        t.join()
    assert not errors
    with app.app_context():
        result = verify_chain(db.session)
    assert result.ok, result.describe()
    assert result.checked == 200


TEXTS = ["plain", 'quote " and \\ backslash', "åäö", "\u202eRTL", "😀", "tab\tnew\nline", "\x01"]


@pytest.mark.parametrize("text", TEXTS)
def test_the_fast_entry_digest_equals_the_canonical_one(text: str) -> None:
    import datetime as dt

    from consent_service.audit.chain import entry_digest, entry_row_digest, utc_iso
    from consent_service.audit.models import ConsentEntry

    for when in (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                 dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)):  # fmt: skip
        entry = ConsentEntry(
            seq=7, site=text, occurred_at=when, consent_id=text, action=text, functional=True,
            statistics=False, policy_version=3, text_hash=text, language=text, source=text,
            gpc=True,
        )  # fmt: skip
        stored = when.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLite keeps it
        columns = (7, text, utc_iso(stored), text, text, True, False, 3, text, text, text, True)
        assert entry_row_digest(*columns) == entry_digest(entry)
        assert utc_iso(when) == utc_iso(stored)


def test_entries_at_whole_seconds_verify(app: Flask, runner: FlaskCliRunner) -> None:
    import datetime as dt

    from tests.audit.conftest import add_entries

    add_entries(app, 3, start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
