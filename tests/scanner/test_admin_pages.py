"""The scanner's admin pages in every state a scan goes through, in a real browser: axe-clean
(WCAG 2.1 A/AA), reflowing at 320 px, no script errors, downloads reachable by keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.models import Role
from consent_service.db import db, utcnow
from consent_service.scanner.jobs import (
    claim_job,
    fail_job,
    finish_job,
    queue_scan,
    record_progress,
)
from consent_service.scanner.models import ScanJob
from consent_service.scanner.services import RequestSeen, build_report, load_known
from tests.browser.conftest import SCREENSHOTS, Service
from tests.helpers.browser import page_that_records_errors
from tests.helpers.staff import PASSWORD, make_staff
from tests.scanner.conftest import MunicipalSite
from tests.scanner.test_services import CLEAN, CLEAN_STORAGE, DECLARED, START, cookie, observe

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def check(page: Any, name: str) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"scanner-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, name
    page.screenshot(path=str(SCREENSHOTS / f"scanner-{name}-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.errors == [], name


def test_every_state_of_a_scan_is_accessible(
    scan_service: Service, municipal_site: MunicipalSite, browser: Any
) -> None:
    app = scan_service.app
    make_staff(app, "dso-skanning", Role.PRIVACY_OFFICER)
    url = f"{municipal_site.url}/clean/"
    with app.app_context():
        queued = queue_scan(url=url, max_pages=3, requested_by="dso-skanning")
        running = queue_scan(url=url, max_pages=3, requested_by="dso-skanning")
        failed = queue_scan(url=url, max_pages=3, requested_by="dso-skanning")
        earlier = queue_scan(url=url, max_pages=3, requested_by="dso-skanning")
        later = queue_scan(url=url, max_pages=3, requested_by="dso-skanning")
        for job in (running, failed, earlier, later):
            assert claim_job(job.id, utcnow())
        record_progress(running.id, 1, 3)
        fail_job(failed.id, "the start page answered 503 Service Unavailable")
        before = observe(cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE)
        after = observe(
            cookies=[*CLEAN, cookie("_fbp", "accept_all")],
            storage=CLEAN_STORAGE,
            requests=[RequestSeen("https://px.example.com/a.gif", START, "no_choice", "image")],
        )
        finish_job(earlier.id, build_report(before, DECLARED, load_known()))
        finish_job(later.id, build_report(after, DECLARED, load_known()))

    context = browser.new_context()
    try:
        page = page_that_records_errors(context, 10_000)
        page.goto(scan_service.url + "/admin/scans/")
        page.fill("#name", "dso-skanning")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url("**/admin/scans/")
        check(page, "list")

        page.goto(f"{scan_service.url}/admin/scans/{queued.id}")
        assert "I kö" in page.inner_text("main")
        check(page, "queued")

        page.goto(f"{scan_service.url}/admin/scans/{running.id}")
        assert page.get_by_label("Skannade sidor").get_attribute("value") == "1"
        check(page, "running")

        page.goto(f"{scan_service.url}/admin/scans/{failed.id}")
        assert "Webbplatsen kunde inte skannas" in page.inner_text("[role=alert]")
        check(page, "failed")

        page.goto(f"{scan_service.url}/admin/scans/{later.id}")
        text = page.inner_text("main")
        assert "Nya anmärkningar (2)" in text and "Åtgärdade anmärkningar (2)" in text
        assert "Bevis i samtyckesloggen: post" in text
        check(page, "done-with-changes")
        # The downloads are reached with the keyboard like everything else.
        link = page.get_by_role("link", name="Download the report (HTML, in English)")
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent").startswith("Download"):
                break
        assert link.evaluate("el => el === document.activeElement")

        # The printable report in English, as stored for download (Playwright's own HTTP
        # client does not use the browser's host-resolver rules), with comparison and evidence.
        with app.app_context():
            stored = db.session.get(ScanJob, later.id)
            assert stored is not None and stored.report_html_en is not None
        # A blank page: the admin page's CSP would block the report's own styles.
        page = page_that_records_errors(context, 10_000)
        page.set_content(stored.report_html_en)
        assert "New since the last scan" in page.inner_text("main")
        check(page, "report-en")
    finally:
        context.close()
        with app.app_context():  # no queued scan left for the other tests' worker
            fail_job(queued.id, "not run: a page-state test")
