"""Staff evidence in the consent log: recorded, verified, tamper-evident, exported, ignored by
consent statistics and receipts."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_service.audit import stats
from consent_service.audit.chain import verify_chain
from consent_service.audit.events import events_for, evidence_digest, record_event
from consent_service.audit.models import EventKind, LogEvent
from consent_service.consent.services import current_policy
from consent_service.db import db
from tests.audit.conftest import add_entries
from tests.audit.test_chain import sql
from tests.audit.test_export import export, lines, run_verifier
from tests.conftest import HOST_ORIGIN, choice_body

REPORT = '{"url": "https://www.uppsala.test/", "findings": []}\n'


def add_event(
    app: Flask, kind: EventKind = EventKind.SCAN_REPORT, subject: str = "7", **extra: object
) -> int:
    with app.app_context(), db.writing() as session:
        event = record_event(
            session,
            kind,
            site=current_policy().site,
            subject=subject,
            evidence=REPORT,
            actor="redaktor",
            details={"url": "https://www.uppsala.test/", "pages": ["https://www.uppsala.test/"]},
            **extra,  # type: ignore[arg-type]
        )
        return event.seq


def test_an_event_takes_the_next_position_and_verifies(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 2)
    assert add_event(app) == 3
    assert add_event(app, EventKind.POLICY_APPROVED, "4") == 4
    add_entries(app, 1)
    with app.app_context():
        stored = events_for(db.session, EventKind.SCAN_REPORT, current_policy().site, "7")
        assert [e.seq for e in stored] == [3]
        assert stored[0].evidence_sha256 == evidence_digest(REPORT.encode())
        assert stored[0].actor == "redaktor"
        result = verify_chain(db.session)
    assert result.ok and result.checked == 5 and result.events == 2
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "2 staff events" in verified.output


def test_consent_statistics_and_receipts_ignore_events(app: Flask) -> None:
    client = app.test_client()
    client.post("/api/v1/consent", json=choice_body(statistics=True))  # position 1
    add_event(app)  # position 2
    client.post("/api/v1/consent", json=choice_body(functional=False))  # position 3
    receipt = client.get("/api/v1/consent/receipt", headers={"Origin": HOST_ORIGIN}).get_json()
    assert [e["action"] for e in receipt["entries"]] == ["grant", "update"]
    assert [e["leaf_index"] for e in receipt["entries"]] == [0, 2]
    for entry in receipt["entries"]:
        assert "type" not in json.loads(base64.b64decode(entry["leaf"]))
    with app.app_context():
        site = current_policy().site
        zone = stats.site_zone(site)
        today = dt.datetime.now(zone).date()
        buckets = stats.consent_rates(db.session, today, today, "day", site=site, zone=zone)
        total = stats.totals(buckets)
    assert total.decisions == 2


TAMPERING: list[tuple[str, str]] = [
    ("edit the digest", "UPDATE audit_events SET evidence_sha256 = '" + "0" * 64 + "'"),
    ("edit the actor", "UPDATE audit_events SET actor = 'någon annan'"),
    ("edit the time", "UPDATE audit_events SET occurred_at = '2020-01-01 00:00:00.000000'"),
    ("delete the event", "DELETE FROM audit_events"),
    ("move it to an entry's position", "UPDATE audit_events SET seq = 1"),
]


@pytest.mark.parametrize(("what", "statement"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_tampering_with_an_event_is_detected(
    app: Flask, runner: FlaskCliRunner, what: str, statement: str
) -> None:
    add_entries(app, 2)
    add_event(app)  # position 3
    add_entries(app, 1)
    sql(app, statement)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "BROKEN at entry" in result.output


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_a_complete_export_carries_events_and_verifies(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, fmt: str
) -> None:
    add_entries(app, 2)
    add_event(app)
    add_entries(app, 1)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    file = export(runner, tmp_path, fmt)
    if fmt == "ndjson":
        body = lines(file)[2:]
        assert [i.get("type") for i in body] == [None, None, "event", None]
        event = body[2]
        assert event["kind"] == "scan_report" and event["subject"] == "7"
        assert event["evidence_sha256"] == evidence_digest(REPORT)
        assert event["details"]["url"] == "https://www.uppsala.test/"
    code, output = run_verifier(file)
    assert code == 0, output
    assert "4 positions, 3 entries, 0 removed by recorded purges, 1 staff events" in output
    if fmt == "ndjson":
        tampered = file.read_text().replace('"subject":"7"', '"subject":"8"')
        file.write_text(tampered)
        code, output = run_verifier(file)
        assert code == 1 and "entry 3: its contents do not match its hash" in output


BAD_EVENTS: list[tuple[str, dict[str, object]]] = [
    ("unknown kind", {"kind": "scan_done"}),
    ("empty subject", {"subject": ""}),
    ("long subject", {"subject": "x" * 201}),
    ("empty actor", {"actor": ""}),
    ("float in details", {"details": {"share": 0.5}}),
    ("object in details", {"details": {"when": dt.date(2026, 1, 1)}}),
    ("lone surrogate", {"details": {"url": "\ud800"}}),
]


@pytest.mark.parametrize(("what", "change"), BAD_EVENTS, ids=[b[0] for b in BAD_EVENTS])
def test_bad_events_are_refused_and_nothing_is_chained(
    app: Flask, what: str, change: dict[str, object]
) -> None:
    args: dict[str, object] = {
        "kind": EventKind.SCAN_REPORT, "site": "uppsala.test", "subject": "1",
        "evidence": b"x", "actor": "dso", "details": {},
    }  # fmt: skip
    args.update(change)
    with app.app_context():
        with pytest.raises(ValueError), db.writing() as session:
            kind = args.pop("kind")
            record_event(session, kind, **args)  # type: ignore[arg-type]
        assert db.session.query(LogEvent).count() == 0
        assert verify_chain(db.session).checked == 0
