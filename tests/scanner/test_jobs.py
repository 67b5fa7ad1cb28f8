"""Scans queued from the admin and claimed by the worker (no browser: the crawl is elsewhere)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from consent_service.db import db, utcnow
from consent_service.scanner.jobs import (
    ScanRefused,
    claim_next,
    queue_scan,
    record_progress,
    scannable_url,
)
from consent_service.scanner.models import ScanJob
from tests.helpers.forms import form_token
from tests.helpers.staff import sign_in_as


def queue(client: FlaskClient, url: str, pages: str = "5") -> tuple[int, str, str]:
    token = form_token(client, "/admin/scans/")
    response = client.post("/admin/scans/", data={"csrf_token": token, "url": url, "pages": pages})
    return response.status_code, response.headers.get("Location", ""), response.text


def test_an_editor_queues_a_scan_and_follows_it(app: Flask, client: FlaskClient) -> None:
    name = sign_in_as(app, client, Role.EDITOR)
    page = client.get("/admin/scans/")
    assert page.status_code == 200 and "<h1>Kakskanning</h1>" in page.text
    status, location, _ = queue(client, "https://www.uppsala.test/")
    assert status == 303 and location.endswith("/admin/scans/1")
    job_page = client.get(location)
    assert "I kö" in job_page.text and "https://www.uppsala.test/" in job_page.text
    with app.app_context():
        job = db.session.get(ScanJob, 1)
        assert job is not None
        assert (job.status, job.requested_by, job.max_pages) == ("queued", name, 5)
    listing = client.get("/admin/scans/").text
    assert 'href="/admin/scans/1"' in listing
    # No report before the scan has run.
    assert client.get("/admin/scans/1/report.html").status_code == 404


@pytest.mark.parametrize(
    ("url", "pages", "field", "message"),
    [
        ("https://www.example.com/", "5", "url", "Bara webbplatsens egna sidor"),
        ("http://169.254.169.254/latest/", "5", "url", "Bara webbplatsens egna sidor"),
        ("javascript:alert(1)", "5", "url", "börjar med https://"),
        ("https://www.uppsala.test/", "0", "pages", "från 1 till 100"),
        ("https://www.uppsala.test/", "many", "pages", "från 1 till 100"),
        ("https://www.uppsala.test/", "101", "pages", "från 1 till 100"),
    ],
)
def test_the_form_refuses_other_sites_and_page_counts(
    app: Flask, client: FlaskClient, url: str, pages: str, field: str, message: str
) -> None:
    sign_in_as(app, client, Role.PRIVACY_OFFICER)
    status, _, html = queue(client, url, pages)
    assert status == 400
    assert message in html and f'id="error-{field}"' in html
    assert f'id="f-{field}"' in html and 'aria-invalid="true"' in html
    with app.app_context():
        assert db.session.query(ScanJob).count() == 0


def test_only_the_sites_own_pages_are_scannable() -> None:
    origins = ["https://www.uppsala.se", "https://uppsala.se"]
    assert scannable_url(" https://www.uppsala.se/a#x ", origins) == "https://www.uppsala.se/a"
    assert scannable_url("https://kommun.uppsala.se", origins) == "https://kommun.uppsala.se/"
    with pytest.raises(ScanRefused):
        scannable_url("https://uppsala.se.example.com/", origins)


def test_workers_claim_each_job_once_and_give_up_on_a_dead_one(app: Flask) -> None:
    with app.app_context():
        first = queue_scan(url="https://www.uppsala.test/", max_pages=3, requested_by="a")
        second = queue_scan(url="https://www.uppsala.test/b", max_pages=3, requested_by="b")
        now = utcnow()
        assert claim_next(now) == first.id
        assert claim_next(now) == second.id
        assert claim_next(now) is None
        record_progress(first.id, 2, 3)
        db.session.rollback()  # a new read transaction: see what the workers wrote
        job = db.session.get(ScanJob, first.id)
        assert job is not None
        assert (job.status, job.pages_done, job.pages_total) == ("running", 2, 3)
        # Its worker died: an hour later the job is given up, not left running for ever.
        assert claim_next(now + dt.timedelta(hours=1)) is None
        db.session.rollback()  # a new read transaction: see what the workers wrote
        job = db.session.get(ScanJob, first.id)
        assert job is not None
        assert (job.status, job.exit_code, job.error) == ("failed", 2, "the worker stopped")


def test_a_finished_scan_offers_both_reports(app: Flask, client: FlaskClient) -> None:
    sign_in_as(app, client, Role.EDITOR)
    report = {"url": "https://www.uppsala.test/", "findings": [{"kind": "undeclared"}] * 2}
    with app.app_context():
        job = queue_scan(url="https://www.uppsala.test/", max_pages=1, requested_by="x")
        with db.writing() as session:
            row = session.get(ScanJob, job.id)
            assert row is not None
            row.status, row.exit_code, row.findings, row.pages_done = "done", 1, 2, 1
            row.report_json = json.dumps(report)
            row.report_html = "<!doctype html><title>r</title>"
            row.finished_at = utcnow()
    page = client.get(f"/admin/scans/{job.id}").text
    assert "2 anmärkningar." in page and "Inte deklarerad" in page
    html = client.get(f"/admin/scans/{job.id}/report.html")
    assert html.status_code == 200 and html.text.startswith("<!doctype html>")
    assert (
        html.headers["Content-Disposition"] == f'attachment; filename="kakskanning-{job.id}.html"'
    )
    assert client.get(f"/admin/scans/{job.id}/report.json").json == report
    assert client.get("/admin/scans/999").status_code == 404
