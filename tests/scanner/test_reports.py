"""Finished scans: evidence in the consent log, "new since the last scan", the printable
reports in Swedish and English, and the JSON contract. No browser: the reports come from
recorded observations, stored through the same code the worker uses."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from consent_service.admin.models import Role
from consent_service.audit.events import events_for
from consent_service.audit.models import EventKind
from consent_service.db import db, utcnow
from consent_service.scanner.jobs import (
    claim_job,
    fail_job,
    finish_job,
    queue_scan,
    record_progress,
)
from consent_service.scanner.models import ScanJob
from consent_service.scanner.services import (
    RequestSeen,
    build_report,
    compare_reports,
    load_known,
)
from tests.audit.test_chain import sql
from tests.helpers.staff import sign_in_as
from tests.scanner.test_services import (
    CLEAN,
    CLEAN_STORAGE,
    DECLARED,
    SECOND,
    START,
    cookie,
    observe,
)

URL = "https://www.uppsala.test/"
PIXEL = RequestSeen("https://px.example.com/a.gif", START, "no_choice", "image")


def finished_job(app: Flask, requested_by: str = "redaktor", **lists: Any) -> int:
    """Queue, claim and finish a job with a report built from these observations."""
    report = build_report(observe(**lists), DECLARED, load_known())
    with app.app_context():
        job = queue_scan(url=URL, max_pages=2, requested_by=requested_by)
        assert claim_job(job.id, utcnow())
        finish_job(job.id, report)
        return job.id


def stored(app: Flask, job_id: int) -> ScanJob:
    with app.app_context():
        job = db.session.get(ScanJob, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def test_the_report_hash_is_chained_with_what_was_checked_and_by_whom(
    app: Flask, runner: FlaskCliRunner
) -> None:
    job_id = finished_job(app, cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE)
    job = stored(app, job_id)
    assert job.status == "done" and job.exit_code == 1 and job.findings == 2
    assert job.report_json is not None
    with app.app_context():
        [event] = events_for(db.session, EventKind.SCAN_REPORT, job.site, str(job_id))
        assert event.evidence_sha256 == hashlib.sha256(job.report_json.encode()).hexdigest()
        assert event.actor == "redaktor"
        assert event.details == {
            "url": START,
            "started_at": "2026-12-02T08:00:00Z",
            "pages": [START, SECOND],
            "findings": 2,
        }
    # The printable reports name the entry, as the admin page does.
    assert job.report_html is not None and job.report_html_en is not None
    assert f"post {event.seq}, SHA-256 av JSON-rapporten <code>{event.evidence_sha256}" in (
        job.report_html
    )
    assert f"entry {event.seq}, SHA-256 of the JSON report" in job.report_html_en
    # Rendered before the entry existed: its number was filled in, no placeholder is left.
    assert "\u2063" not in job.report_html + job.report_html_en
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "1 staff events" in verified.output


def test_the_scan_page_shows_the_evidence_and_notices_a_changed_report(
    app: Flask, client: FlaskClient
) -> None:
    job_id = finished_job(app, cookies=CLEAN, storage=CLEAN_STORAGE)
    sign_in_as(app, client, Role.PRIVACY_OFFICER)
    with app.app_context():
        site = stored(app, job_id).site
        [event] = events_for(db.session, EventKind.SCAN_REPORT, site, str(job_id))
    page = client.get(f"/admin/scans/{job_id}").text
    assert f"Bevis i samtyckesloggen: post {event.seq}, hash <code>{event.evidence_sha256}" in page
    assert "Den sparade rapporten har fortfarande samma hash." in page
    # Someone with database access edits the stored report.
    edit = f"UPDATE scan_jobs SET report_json = '{{}}' WHERE id = {job_id}"  # noqa: S608 (an int)
    sql(app, edit)
    page = client.get(f"/admin/scans/{job_id}").text
    assert "Den sparade rapporten har inte längre den hashen" in page


def test_new_since_the_last_scan(app: Flask, client: FlaskClient) -> None:
    first = finished_job(
        app, cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE, requests=[]
    )
    second = finished_job(
        app,
        cookies=[*CLEAN, cookie("_fbp", "accept_all", domain=".uppsala.se")],
        storage=CLEAN_STORAGE,
        requests=[PIXEL],
    )
    old, new = stored(app, first), stored(app, second)
    assert old.report_json is not None and new.report_json is not None
    changes = compare_reports(json.loads(new.report_json), json.loads(old.report_json))
    assert [(f["kind"], f.get("name") or f.get("host")) for f in changes.new_findings] == [
        ("third_party_before_consent", "px.example.com"),
        ("undeclared", "_fbp"),
    ]
    assert [(f["kind"], f["name"]) for f in changes.resolved_findings] == [
        ("before_consent", "_ga"),
        ("undeclared", "_ga"),
    ]
    assert [c["name"] for c in changes.new_cookies] == ["_fbp"]
    assert changes.findings_changed

    sign_in_as(app, client, Role.EDITOR)
    page = client.get(f"/admin/scans/{second}").text
    assert f'href="/admin/scans/{first}">skanning {first}</a>' in page
    assert "Nya anmärkningar (2)" in page and "Åtgärdade anmärkningar (2)" in page
    assert "Nya kakor (1)" in page and "<code>_fbp</code> på .uppsala.se" in page
    assert "Ingen tidigare avslutad skanning" in client.get(f"/admin/scans/{first}").text
    # The printable reports carry the same comparison.
    assert new.report_html is not None and new.report_html_en is not None
    assert "Nytt sedan förra skanningen" in new.report_html
    assert f"Jämfört med skanning {first}" in new.report_html
    assert "New since the last scan" in new.report_html_en
    assert "Resolved findings (2)" in new.report_html_en
    assert "New since" not in (old.report_html_en or "")
    # The same findings again: nothing new, nothing resolved.
    third = finished_job(
        app,
        cookies=[*CLEAN, cookie("_fbp", "accept_all", domain=".uppsala.se")],
        storage=CLEAN_STORAGE,
        requests=[PIXEL],
    )
    assert "Inget har ändrats." in client.get(f"/admin/scans/{third}").text


def test_the_swedish_report_groups_findings_by_kind_in_swedish(app: Flask) -> None:
    job_id = finished_job(
        app, cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE, requests=[PIXEL]
    )
    html = stored(app, job_id).report_html
    assert html is not None and html.startswith('<!doctype html>\n<html lang="sv"')
    headings = [line for line in html.splitlines() if line.startswith("<h3 id=")]
    assert headings == [
        '<h3 id="kind-before_consent">Satt före samtycke (1)</h3>',
        '<h3 id="kind-third_party_before_consent">Tredje part kontaktad före samtycke (1)</h3>',
        '<h3 id="kind-undeclared">Inte deklarerad (1)</h3>',
    ]
    assert "kakan _ga på www.uppsala.se (inte deklarerad) sattes innan något val gjorts" in html
    assert "liknar Google Analytics (statistik)" in html
    assert "<td>1 timme</td>" not in html and "<td>60 minuter</td>" in html  # Babel, in Swedish
    english = stored(app, job_id).report_html_en
    assert english is not None and "<td>60 minutes</td>" in english
    assert "cookie _ga on www.uppsala.se (not declared) was set before any choice" in english


def test_the_json_report_keeps_the_contracts_keys(app: Flask) -> None:
    job_id = finished_job(
        app, cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE, requests=[PIXEL]
    )
    report_json = stored(app, job_id).report_json
    assert report_json is not None
    doc = json.loads(report_json)
    # The contract's keys, in its order and with its meanings; more keys may follow.
    assert list(doc)[:5] == ["url", "started_at", "pages", "cookies", "findings"]
    assert isinstance(doc["url"], str) and isinstance(doc["started_at"], str)
    assert all(isinstance(p, str) for p in doc["pages"])
    for c in doc["cookies"]:
        assert list(c)[:6] == [
            "name", "domain", "first_party", "set_before_consent", "declared_as", "pages",
        ]  # fmt: skip
        assert c["declared_as"] in (None, "necessary", "functional", "statistics")
    for f in doc["findings"]:
        assert f["kind"] in (
            "before_consent", "third_party_before_consent", "undeclared", "declared_not_seen",
        )  # fmt: skip
        assert set(f) - {"name", "host"} == {"kind", "page", "detail"}
        assert "detail_sv" not in f


def test_queued_running_and_failed_jobs_show_their_state(app: Flask, client: FlaskClient) -> None:
    sign_in_as(app, client, Role.EDITOR)
    with app.app_context():
        queued = queue_scan(url=URL, max_pages=3, requested_by="redaktor")
        running = queue_scan(url=URL, max_pages=3, requested_by="redaktor")
        failed = queue_scan(url=URL, max_pages=3, requested_by="redaktor")
        assert claim_job(running.id, utcnow()) and claim_job(failed.id, utcnow())
        record_progress(running.id, 2, 3)
        fail_job(failed.id, "the start page answered 503")
    assert "Skanningen väntar på sin tur" in client.get(f"/admin/scans/{queued.id}").text
    page = client.get(f"/admin/scans/{running.id}").text
    assert '<progress id="scan-progress" value="2" max="3">' in page and "2 av 3" in page
    page = client.get(f"/admin/scans/{failed.id}").text
    assert "Webbplatsen kunde inte skannas" in page and "the start page answered 503" in page
    # A failed scan chains no evidence and offers no report.
    assert client.get(f"/admin/scans/{failed.id}/report.en.html").status_code == 404
    with app.app_context():
        assert not events_for(db.session, EventKind.SCAN_REPORT, stored(app, failed.id).site, "3")
