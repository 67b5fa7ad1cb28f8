"""The admin's staff list, the password page and the error pages in real Chromium: axe
(WCAG 2.1 A/AA), no CSP violations, 320 px reflow, keyboard use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_app
from tests.helpers.browser import page_that_records_errors
from tests.helpers.servers import ServerThread
from tests.helpers.staff import PASSWORD

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def staff_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("staff-pages")
    app = make_app(tmp)
    with app.app_context():
        create_user("chef", Role.ADMIN, PASSWORD)
        for name, role in [("webbredaktor-med-ett-langt-namn", Role.EDITOR),
                           ("dso", Role.PRIVACY_OFFICER)]:  # fmt: skip
            create_user(name, role, PASSWORD)
    server = ServerThread(app)
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    app.extensions["consent_db"].dispose()


@pytest.fixture
def admin_page(browser: Any, staff_service: str) -> Iterator[Any]:
    context = browser.new_context()
    page = page_that_records_errors(context)
    page.goto(staff_service + "/admin/sign-in")
    page.fill("#name", "chef")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def check_page(page: Any, name: str, prefix: str = "staff") -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
    assert page.errors == [], page.errors
    page.set_viewport_size({"width": 320, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 320, (name, overflow)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{prefix}-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_staff_pages_pass_axe_and_reflow(admin_page: Any, staff_service: str) -> None:
    page = admin_page
    for name, path, status in [
        ("home", "/admin/", 200),
        ("staff", "/admin/staff", 200),
        ("password", "/admin/password", 200),
        ("not-found", "/admin/no-such-page", 404),
    ]:
        response = page.goto(staff_service + path)
        assert response is not None and response.status == status, (name, response.status)
        check_page(page, name)


def test_ending_sessions_and_a_refused_password_by_keyboard(
    admin_page: Any, staff_service: str
) -> None:
    page = admin_page
    page.goto(staff_service + "/admin/staff")
    page.get_by_role("button", name="Avsluta sessioner för dso").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("[role=status]")
    assert "för dso avslutade" in page.inner_text("[role=status]")
    check_page(page, "staff-ended")

    page.goto(staff_service + "/admin/password")
    page.focus("#current_password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type("Sommar2024!!")
    page.keyboard.press("Tab")
    page.keyboard.type("Sommar2024!!")
    page.keyboard.press("Enter")
    page.wait_for_selector("#password-errors")
    assert "för vanligt" in page.inner_text("#password-errors")
    check_page(page, "password-refused")


def test_the_forbidden_page(browser: Any, staff_service: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(staff_service + "/admin/sign-in")
    page.fill("#name", "dso")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    response = page.goto(staff_service + "/admin/staff")
    assert response is not None and response.status == 403
    page.errors = []
    check_page(page, "forbidden")
    context.close()
