"""One click from a scan's undeclared cookie to a declaration in the site's policy draft."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import Role
from consent_service.db import db, utcnow
from consent_service.scanner.jobs import queue_scan
from consent_service.scanner.models import ScanJob
from consent_service.sites import store
from consent_service.sites.models import SitePolicy
from tests.helpers.forms import csrf_token_in
from tests.helpers.staff import sign_in_as

REPORT = {
    "url": "https://www.uppsala.test/",
    "cookies": [
        {"name": "_ga", "domain": ".uppsala.test", "first_party": True, "declared_as": None,
         "pages": ["https://www.uppsala.test/"], "lifetime_seconds": 63072000},
        {"name": "odd_one", "domain": "tracker.example", "first_party": False,
         "declared_as": None, "pages": [], "lifetime_seconds": None},
        {"name": "_pk_id.1.abcd", "domain": ".uppsala.test", "first_party": True,
         "declared_as": "statistics", "pages": []},
        {"name": "bad name;", "domain": "x", "declared_as": None},
    ],
    "findings": [{"kind": "undeclared", "name": "_ga"}, {"kind": "undeclared", "name": "odd_one"}],
}  # fmt: skip


def finished_scan(app: Flask) -> int:
    with app.app_context():
        job = queue_scan(url="https://www.uppsala.test/", max_pages=1, requested_by="x")
        with db.writing() as session:
            row = session.get(ScanJob, job.id)
            assert row is not None
            row.status, row.exit_code, row.findings, row.pages_done = "done", 1, 2, 1
            row.report_json = json.dumps(REPORT)
            row.finished_at = utcnow()
        return job.id


def test_an_undeclared_cookie_becomes_a_draft_declaration(app: Flask, client: FlaskClient) -> None:
    sign_in_as(app, client, Role.EDITOR)
    job_id = finished_scan(app)
    page = client.get(f"/admin/scans/{job_id}")
    assert "Lägg _ga i utkastet" in page.text and "Lägg odd_one i utkastet" in page.text
    assert "_pk_id.1.abcd i utkastet" not in page.text and "bad name" not in page.text
    token = csrf_token_in(page.data)
    first = client.post(f"/admin/scans/{job_id}/declare", data={"csrf_token": token, "name": "_ga"})
    assert first.status_code == 303 and "/admin/policy/drafts/" in first.headers["Location"]
    again = client.post(f"/admin/scans/{job_id}/declare",
                        data={"csrf_token": token, "name": "odd_one"})  # fmt: skip
    assert again.headers["Location"] == first.headers["Location"]  # the same open draft
    repeat = client.post(
        f"/admin/scans/{job_id}/declare", data={"csrf_token": token, "name": "_ga"}
    )
    assert repeat.headers["Location"] == first.headers["Location"]
    with app.app_context():
        draft = db.session.scalars(select(SitePolicy).where(SitePolicy.status == "draft")).one()
        cookies = {c["name"]: c for c in store.draft_document(draft)["cookies"]}
    ga, odd = cookies["_ga"], cookies["odd_one"]
    # Google Analytics is a well-known statistics cookie; an unknown one is functional
    # (optional: cleared on refusal) until the editor decides.
    assert (ga["category"], ga["provider"], ga["party"]) == (
        "statistics",
        "Google Analytics",
        "first",
    )
    assert (odd["category"], odd["provider"], odd["party"]) == (
        "functional",
        "tracker.example",
        "third",
    )
    assert ga["lifetime"]["sv"] == "2 år" and ga["lifetime"]["en"] == "2 years"
    assert odd["lifetime"] == {"sv": "Sessionen", "en": "The session"}
    assert "skriv vad kakan gör" in ga["purpose"]["sv"]
    assert list(cookies).count("_ga") == 1


def test_forged_names_and_other_roles_are_refused(app: Flask, client: FlaskClient) -> None:
    sign_in_as(app, client, Role.EDITOR)
    job_id = finished_scan(app)
    token = csrf_token_in(client.get(f"/admin/scans/{job_id}").data)
    for name in ("_pk_id.1.abcd", "bad name;", "", "x" * 5000):
        response = client.post(f"/admin/scans/{job_id}/declare",
                               data={"csrf_token": token, "name": name})  # fmt: skip
        assert response.status_code == 404, name
    assert client.post(f"/admin/scans/{job_id}/declare", data={"name": "_ga"}).status_code == 400
    assert client.post("/admin/scans/999/declare",
                       data={"csrf_token": token, "name": "_ga"}).status_code == 404  # fmt: skip
    with app.app_context():
        assert (
            db.session.scalars(select(SitePolicy).where(SitePolicy.status == "draft")).all() == []
        )
