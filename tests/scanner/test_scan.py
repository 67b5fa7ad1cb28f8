"""`consent-service scan` against real pages in headless Chromium (slow: three crawls in all)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from consent_service.admin.models import Role
from consent_service.audit.events import events_for
from consent_service.audit.models import EventKind
from consent_service.consent.services import current_policy
from consent_service.db import db
from consent_service.scanner.models import ScanJob
from tests.browser.conftest import Service
from tests.helpers.smtp import Mailbox
from tests.helpers.staff import PASSWORD, make_staff
from tests.scanner.conftest import MunicipalSite, run_scan
from tests.scanner.test_notify import staff

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def bad_scan(scan_service: Service, municipal_site: MunicipalSite) -> tuple[int, dict[str, Any]]:
    result = run_scan(scan_service, f"{municipal_site.url}/bad/", "--pages", "3")
    assert result.exit_code in (0, 1), result.output + result.stderr
    return result.exit_code, json.loads(result.stdout)


def findings(report: dict[str, Any], kind: str) -> set[str]:
    return {f.get("name") or f["host"] for f in report["findings"] if f["kind"] == kind}


def cookie(report: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [c for c in report["cookies"] if c["name"] == name]
    return found


def test_a_misbehaving_site_has_each_kind_of_finding(
    bad_scan: tuple[int, dict[str, Any]], municipal_site: MunicipalSite
) -> None:
    code, report = bad_scan
    site = municipal_site.url
    assert code == 1
    assert report["url"] == f"{site}/bad/"
    assert report["started_at"].endswith("Z")
    # The start page's link, then the page of the sitemap that the sitemap index names;
    # robots.txt keeps /private/ out.
    assert report["pages"] == [f"{site}/bad/", f"{site}/bad/second", f"{site}/bad/listed"]

    # The ungated tracker's cookie and key, and the page's own undeclared cookie.
    assert findings(report, "before_consent") == {"_pk_ses.1.abcd", "_ga", "_hjid"}
    assert findings(report, "third_party_before_consent") == {"tracker.example.test"}
    assert findings(report, "undeclared") == {"_ga", "_hjid"}
    assert findings(report, "declared_not_seen") == {"uppsala_prefs"}
    undeclared = {f["name"]: f["detail"] for f in report["findings"] if f["kind"] == "undeclared"}
    assert "Google Analytics (statistics)" in undeclared["_ga"]
    assert "Hotjar (statistics)" in undeclared["_hjid"]
    for finding in report["findings"]:
        assert set(finding) <= {"kind", "page", "name", "host", "detail"}
        assert finding["page"] in report["pages"]

    # Each cookie as the contract describes it, with where it came from.
    ses = cookie(report, "_pk_ses.1.abcd")
    assert ses["declared_as"] == "statistics" and ses["set_before_consent"] is True
    assert ses["first_party"] is True and ses["domain"] == "www.uppsala.test"
    assert ses["set_by"] == f"script {site}/js/tracker.js"
    assert 1700 < ses["lifetime_seconds"] <= 1800
    ga = cookie(report, "_ga")
    assert ga["declared_as"] is None and ga["set_by"] == f"Set-Cookie from {site}/bad/"
    assert ga["pages"] == [f"{site}/bad/"]
    # Gated correctly: only after "accept all", so not a finding.
    pk_id = cookie(report, "_pk_id.1.abcd")
    assert pk_id["set_before_consent"] is False and pk_id["declared_as"] == "statistics"
    assert pk_id["set_by"] == f"script {site}/js/stats.js"
    assert len(pk_id["pages"]) == 3
    consent = cookie(report, "consent")
    assert consent["domain"] == ".uppsala.test" and consent["first_party"] is True
    assert consent["declared_as"] == "necessary" and consent["set_before_consent"] is False
    assert consent["set_by"].startswith("Set-Cookie from http://samtycke.uppsala.test:")
    assert {h["host"]: h["first_party"] for h in report["hosts"]} == {
        "www.uppsala.test": True,
        "samtycke.uppsala.test": True,
        "tracker.example.test": False,
    }


def test_a_command_line_scan_leaves_its_report_hash_in_the_consent_log(
    bad_scan: tuple[int, dict[str, Any]], scan_service: Service
) -> None:
    _, report = bad_scan
    app = scan_service.app
    with app.app_context():
        events = events_for(db.session, EventKind.SCAN_REPORT, current_policy().site, "cli")
    [event] = [e for e in events if e.details["url"] == report["url"]]
    # The digest is of the JSON exactly as the command printed it.
    assert (
        event.evidence_sha256
        == hashlib.sha256(
            json.dumps(report, indent=2, ensure_ascii=False).encode() + b"\n"
        ).hexdigest()
    )
    assert event.actor.startswith("cli:")
    assert event.details["pages"] == report["pages"]
    assert event.details["findings"] == len(report["findings"])


def test_the_crawl_stays_on_the_site_and_submits_nothing(
    bad_scan: tuple[int, dict[str, Any]], municipal_site: MunicipalSite
) -> None:
    _, report = bad_scan
    assert "GET /private/page" not in municipal_site.requests
    assert not any(r.startswith("POST") for r in municipal_site.requests)
    assert "GET /rapport.pdf" not in municipal_site.requests
    assert "/offsite" not in municipal_site.tracker.requests  # the pixel, never the page
    assert "/pixel.gif" in municipal_site.tracker.requests
    assert any(
        "robots.txt excludes" in note and "/private/page" in note for note in report["notes"]
    )


def test_a_clean_site_has_no_findings_and_a_readable_report(
    scan_service: Service, municipal_site: MunicipalSite, tmp_path: Path, browser: Any
) -> None:
    output = tmp_path / "report.html"
    result = run_scan(
        scan_service, f"{municipal_site.url}/clean/", "--pages", "1", "--format", "html",
        "--output", str(output),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "0 finding(s) on 1 page(s)" in result.stderr
    html = output.read_text(encoding="utf-8")
    assert '<html lang="sv"' in html  # Swedish unless --language en
    assert "Inga anmärkningar" in html
    assert "Rapportens hash är registrerad i samtyckesloggen som bevis: post" in html
    assert 'src="data:image/png;base64,' in html  # the banner as the citizen saw it
    for name in ("_pk_id.1.abcd", "_pk_ses.1.abcd", "uppsala_prefs", "consent"):
        assert f'<th scope="row">{name}</th>' in html
    # The functional cookie comes from an inline script that the banner inserted on consent.
    assert f"inline script inserted by {scan_service.url}/embed/consent.js" in html

    # The suite's one Playwright browser: a second sync Playwright in this process would
    # clash with its event loop.
    page = browser.new_page()
    try:
        page.set_content(html)
        results = Axe().run(page, options=WCAG_AA)
        page.set_viewport_size({"width": 320, "height": 800})  # reflow: no sideways scroll
        width = page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.close()
    assert results.violations_count == 0, results.generate_report()
    assert width <= 320


def test_an_unreachable_site_cannot_be_scanned(scan_service: Service) -> None:
    result = run_scan(scan_service, "http://nowhere.uppsala.test:1/")
    assert result.exit_code == 2
    assert "could not scan" in result.stderr
    assert result.stdout == ""


def assert_accessible(page: Any) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})


def test_staff_start_a_scan_in_the_admin_and_the_worker_runs_it(
    scan_service: Service, municipal_site: MunicipalSite, browser: Any
) -> None:
    app = scan_service.app
    make_staff(app, "redaktor", Role.EDITOR)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(scan_service.url + "/admin/scans/")
        page.fill("#name", "redaktor")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url("**/admin/scans/")
        assert_accessible(page)

        page.fill("#f-url", f"{municipal_site.url}/clean/")
        page.fill("#f-pages", "1")
        page.get_by_role("button", name="Starta skanning").click()
        # Whatever its number: other tests of this service queue scans too.
        page.wait_for_url(re.compile(r".*/admin/scans/\d+$"))
        assert "I kö" in page.inner_text("main")
        assert_accessible(page)

        # The worker runs its own browser and event loop: in a thread of its own here.
        outcome: dict[str, Any] = {}

        def work() -> None:
            outcome["result"] = app.test_cli_runner().invoke(args=["worker", "--once"])

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(180)
        assert outcome["result"].exit_code == 0, outcome["result"].output

        page.reload()
        text = page.inner_text("main")
        assert "Klar" in text and "1 sidor skannade" in text and "Inga anmärkningar" in text
        assert page.get_by_role("link", name="Ladda ned rapporten (JSON)").count() == 1
        assert_accessible(page)
    finally:
        context.close()


def test_a_scheduled_scan_is_kept_with_the_admins_scans_and_mails_the_officers(
    scan_service: Service, municipal_site: MunicipalSite, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = scan_service.app
    staff(app, "dso-schema", Role.PRIVACY_OFFICER, "dso-schema@uppsala.test")
    smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
            "SMTP_FROM": "samtycke@uppsala.test"}  # fmt: skip
    saved = {key: app.config.get(key) for key in smtp}
    app.config.update(smtp)
    try:
        result = run_scan(scan_service, f"{municipal_site.url}/bad/", "--pages", "1", "--scheduled")
    finally:
        app.config.update(saved)
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["url"] == f"{municipal_site.url}/bad/"
    with app.app_context():
        job = db.session.scalars(select(ScanJob).order_by(ScanJob.id.desc())).first()
        assert job is not None and job.status == "done" and job.report_json == result.stdout
        assert job.requested_by.startswith("cli:")
        [event] = events_for(db.session, EventKind.SCAN_REPORT, job.site, str(job.id))
        assert event.actor == job.requested_by
    assert "privacy officer(s) e-mailed about changed findings" in result.stderr
    [(_, mail)] = [m for m in box.mails if m[0] == ["dso-schema@uppsala.test"]]
    assert f"/admin/scans/{job.id}" in mail.get_content()
    assert "Satt före samtycke: _ga" in mail.get_content()
