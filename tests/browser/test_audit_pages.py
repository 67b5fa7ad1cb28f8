"""The privacy officer's pages in real Chromium: keyboard sign-in, axe (WCAG 2.1 A/AA), CSP,
320 px reflow, and a screenshot of each page for review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.audit.conftest import add_entries
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_app
from tests.helpers.browser import page_that_records_errors
from tests.helpers.servers import ServerThread
from tests.helpers.staff import PASSWORD

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PAGES = [
    ("search", "/admin/audit/"),
    ("search-error", "/admin/audit/?date_from=2026-02-30&consent_id=x"),
    ("entry", "/admin/audit/entries/3"),
    ("purged-entry", "/admin/audit/entries/1"),
    ("charts", "/admin/audit/charts?granularity=day&date_from=2026-05-01&date_to=2026-05-20"),
    (
        "charts-month",
        "/admin/audit/charts?granularity=month&date_from=2025-06-01&date_to=2026-05-31",
    ),
    ("retention", "/admin/audit/retention"),
    ("access-log", "/admin/audit/access-log"),
    ("home", "/admin/"),
]


@pytest.fixture(scope="module")
def audit_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("audit-pages")
    app = make_app(tmp, CHECKPOINT_KEY=str(tmp / "cp.pem"))
    with app.app_context():
        create_user("dso", Role.PRIVACY_OFFICER, PASSWORD)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=1500)
    add_entries(app, 2, start=old)
    start = dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC)
    add_entries(app, 20, start=start, step=dt.timedelta(hours=20), statistics=True)
    add_entries(app, 12, start=start, step=dt.timedelta(hours=31), functional=False)
    add_entries(app, 6, start=start, step=dt.timedelta(days=3), action="update")
    add_entries(app, 3, start=start, action="withdraw", functional=False, source="nojs")
    runner = app.test_cli_runner()
    runner.invoke(args=["purge"])
    runner.invoke(args=["audit", "checkpoint"])
    server = ServerThread(app)
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    app.extensions["consent_db"].dispose()


@pytest.fixture
def officer_page(browser: Any, audit_service: str) -> Iterator[Any]:
    context = browser.new_context()
    page = page_that_records_errors(context)
    page.goto(audit_service + "/admin/audit/")
    # Keyboard only: the sign-in form is reached and sent without a mouse.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "name":
            break
    page.keyboard.type("dso")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/audit/")
    yield page
    context.close()


def check_page(page: Any, name: str) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
    assert page.errors == [], page.errors  # no CSP violations or script errors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"audit-{name}.png"), full_page=True)


def test_audit_pages_pass_axe_and_reflow(officer_page: Any, audit_service: str) -> None:
    page = officer_page
    for name, path in PAGES:
        page.set_viewport_size({"width": 1280, "height": 900})
        response = page.goto(audit_service + path)
        assert response is not None and response.status in (200, 400, 410), (name, response.status)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        check_page(page, name)
        page.set_viewport_size({"width": 320, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 320, (name, overflow)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(audit_service + "/admin/audit/charts")
    page.screenshot(path=str(SCREENSHOTS / "audit-charts-320.png"), full_page=True)


def test_verify_now_by_keyboard(officer_page: Any, audit_service: str) -> None:
    page = officer_page
    page.goto(audit_service + "/admin/audit/verify")
    button = page.get_by_role("button", name="Verifiera nu")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#verify-result")
    assert "Loggen är oförändrad" in page.inner_text("#verify-result")
    check_page(page, "verify")


def test_search_by_keyboard_and_follow_an_entry(officer_page: Any, audit_service: str) -> None:
    page = officer_page
    page.goto(audit_service + "/admin/audit/")
    page.focus("#f-action")
    page.select_option("#f-action", "withdraw")
    page.focus("#f-consent_id")
    page.keyboard.press("Enter")  # submits the filter form
    page.wait_for_url("**action=withdraw**")
    rows = page.locator("tbody tr")
    assert rows.count() == 3
    page.get_by_role("link", name="Post 43").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/entries/43")
    assert "Texten invånaren såg" in page.content()
