"""The admin's account pages in real Chromium, by keyboard: an admin creates an account, its
owner sets a password through the one-time link, the admin disables it. Every page passes
axe (WCAG 2.1 A/AA), has no CSP violations and reflows at 320 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.browser.test_staff_pages import check_page as staff_check_page
from tests.conftest import make_app
from tests.helpers.browser import page_that_records_errors
from tests.helpers.servers import ServerThread
from tests.helpers.staff import PASSWORD

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
NEW_PASSWORD = "Gröna-Ekoln-Kvarn-31"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("admin-users")
    app = make_app(tmp)
    with app.app_context():
        create_user("chef", Role.ADMIN, PASSWORD)
        create_user("webbredaktor-med-ett-langt-namn", Role.EDITOR, PASSWORD)
    server = ServerThread(app)
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    app.extensions["consent_db"].dispose()


def check_page(page: Any, name: str) -> None:
    staff_check_page(page, name, prefix="admin")


def sign_in_by_keyboard(page: Any, base: str, name: str, password: str) -> None:
    page.goto(base + "/admin/sign-in")
    page.focus("#name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_create_set_password_and_disable(browser: Any, service: str) -> None:
    admin_context, newcomer_context = browser.new_context(), browser.new_context()
    admin, newcomer = (
        page_that_records_errors(admin_context),
        page_that_records_errors(newcomer_context),
    )

    sign_in_by_keyboard(admin, service, "chef", PASSWORD)
    admin.wait_for_url("**/admin/")
    admin.get_by_role("link", name="Användare").first.focus()
    admin.keyboard.press("Enter")
    admin.wait_for_url("**/admin/users")
    check_page(admin, "users")

    # The form, by keyboard: name, role (least privilege first: editor), e-mail.
    admin.focus("#name")
    admin.keyboard.type("ny-dso")
    admin.keyboard.press("Tab")
    assert admin.evaluate("document.activeElement.id") == "role"
    assert admin.input_value("#role") == "editor"
    while admin.input_value("#role") != "privacy_officer":
        admin.keyboard.press("ArrowDown")
    admin.keyboard.press("Tab")
    assert admin.evaluate("document.activeElement.id") == "email"
    admin.keyboard.type("ny-dso@uppsala.test")
    admin.keyboard.press("Enter")
    admin.wait_for_selector("#link")
    assert "Kontot ny-dso (dataskyddsombud) är skapat" in admin.inner_text("[role=status]")
    link = admin.input_value("#link")
    assert "/admin/set-password/" in link
    check_page(admin, "user-link")

    # The newcomer opens the link: a refused password first, then a good one.
    newcomer.goto(link)
    assert "ny-dso" in newcomer.inner_text("main")
    check_page(newcomer, "set-password")
    newcomer.focus("#new_password")
    newcomer.keyboard.type("Sommar2024!!")
    newcomer.keyboard.press("Tab")
    newcomer.keyboard.type("Sommar2024!!")
    newcomer.keyboard.press("Enter")
    newcomer.wait_for_selector("#password-errors")
    assert "för vanligt" in newcomer.inner_text("#password-errors")
    check_page(newcomer, "set-password-refused")
    newcomer.focus("#new_password")
    newcomer.keyboard.type(NEW_PASSWORD)
    newcomer.keyboard.press("Tab")
    newcomer.keyboard.type(NEW_PASSWORD)
    newcomer.keyboard.press("Enter")
    newcomer.wait_for_url("**/admin/sign-in")
    # Setting the password signed nobody in: the sign-in page says what to do next.
    assert "Lösenordet är sparat" in newcomer.inner_text("[role=status]")
    check_page(newcomer, "password-set")
    sign_in_by_keyboard(newcomer, service, "ny-dso", NEW_PASSWORD)
    newcomer.wait_for_url("**/admin/")

    # The link is used up.
    gone = newcomer.goto(link)
    assert gone is not None and gone.status == 404
    newcomer.errors.clear()
    check_page(newcomer, "link-gone")

    # The admin sees the new account and disables it from its page.
    admin.goto(service + "/admin/users")
    row = admin.locator("tr", has=admin.get_by_role("link", name="ny-dso"))
    assert "dataskyddsombud" in row.inner_text() and "aktivt" in row.inner_text()
    assert "ny-dso@uppsala.test" in row.inner_text()
    admin.get_by_role("link", name="ny-dso").focus()
    admin.keyboard.press("Enter")
    admin.wait_for_selector("h1:has-text('Konto ny-dso')")
    check_page(admin, "user")
    admin.get_by_role("button", name="Stäng av kontot").focus()
    admin.keyboard.press("Enter")
    admin.wait_for_selector("[role=status]")
    assert "ny-dso är avstängt. 1 session avslutades." in admin.inner_text("[role=status]")
    check_page(admin, "user-disabled")

    # The newcomer's session ended at once, and signing in again is refused.
    newcomer.goto(service + "/admin/")
    assert newcomer.url.startswith(service + "/admin/sign-in")
    sign_in_by_keyboard(newcomer, service, "ny-dso", NEW_PASSWORD)
    newcomer.wait_for_selector("#sign-in-error")

    admin_context.close()
    newcomer_context.close()


def test_the_settings_page(browser: Any, service: str) -> None:
    context = browser.new_context()
    page = page_that_records_errors(context)
    sign_in_by_keyboard(page, service, "chef", PASSWORD)
    page.wait_for_url("**/admin/")
    page.goto(service + "/admin/settings")
    assert "consent.E002" in page.inner_text("main")
    check_page(page, "settings")
    context.close()
