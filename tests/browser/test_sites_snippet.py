"""An administrator adds a second site, switches to it, copies its snippet and opens the test
page in real Chromium: axe (WCAG 2.1 A/AA), no CSP violations, 320 px reflow, keyboard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.browser.conftest import SCREENSHOTS, ensure_bundle
from tests.conftest import make_app
from tests.helpers.browser import page_that_records_errors
from tests.helpers.servers import ServerThread
from tests.helpers.staff import PASSWORD

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
SECOND = "knivsta.test"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ensure_bundle()
    tmp: Path = tmp_path_factory.mktemp("sites-snippet")
    app = make_app(tmp, SITES_REFRESH_SECONDS=0)
    with app.app_context():
        create_user("chef", Role.ADMIN, PASSWORD)
    server = ServerThread(app)
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    app.extensions["consent_db"].dispose()


@pytest.fixture
def page(browser: Any, service: str) -> Iterator[Any]:
    context = browser.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service)
    page = page_that_records_errors(context)
    page.goto(service + "/admin/sign-in")
    page.fill("#name", "chef")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    yield page
    context.close()


def check_page(page: Any, name: str) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, (name, results.generate_report())
    assert page.errors == [], (name, page.errors)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"sites-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 320, (name, overflow)
    page.screenshot(path=str(SCREENSHOTS / f"sites-{name}-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def wait_for(page: Any, expression: str, timeout: float = 5.0) -> Any:
    """Poll a JS expression until truthy, without eval (the test page's CSP forbids it)."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(expression)):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.05)
    return value


def type_into(page: Any, selector: str, text: str) -> None:
    page.focus(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def test_a_second_site_from_adding_to_the_test_page(page: Any, service: str) -> None:
    page.goto(service + "/admin/sites")
    assert page.locator("#site-switch").count() == 0  # one site: nothing to switch
    check_page(page, "list")

    # A refused origin: the form comes back with what was typed and the reason at the field.
    type_into(page, "#f-domain", SECOND)
    type_into(page, "#f-origins", "www.knivsta.test")
    type_into(page, "#f-cookie_domain", ".knivsta.test")
    page.focus("#f-origins")
    page.keyboard.press("Tab")  # on to the cookie domain, then the time zone, then the button
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#f-origins-error")
    assert page.input_value("#f-domain") == SECOND
    assert page.input_value("#f-cookie_domain") == ".knivsta.test"
    assert page.get_attribute("#f-origins", "aria-invalid") == "true"
    check_page(page, "refused")

    type_into(page, "#f-origins", "https://www.knivsta.test")
    page.focus("#f-time_zone")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/sites?added=*")
    assert SECOND in page.inner_text("[role=status]")
    assert page.locator("#site-switch").count() == 1
    check_page(page, "added")

    # Change it: the link in the list, a new time zone, saved.
    page.click(f'a[href="/admin/sites/{SECOND}"]')
    page.wait_for_url(f"**/admin/sites/{SECOND}")
    check_page(page, "edit")
    type_into(page, "#f-time_zone", "Europe/Helsinki")
    page.keyboard.press("Enter")
    page.wait_for_url("**?saved=1")
    assert page.input_value("#f-time_zone") == "Europe/Helsinki"
    assert "sparade" in page.inner_text("[role=status]")

    # Switch to the new site from the header, by keyboard.
    page.focus("#site-switch")
    page.select_option("#site-switch", SECOND)
    page.keyboard.press("Tab")
    # Wait for the switch's own navigation (POST, redirect back) before going on: a goto
    # while it is under way aborts one of the two.
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.input_value("#site-switch") == SECOND

    page.goto(service + "/admin/snippet")
    code = page.inner_text("#code-banner")
    assert code == (
        f'<script src="{service}/embed/consent.js?site={SECOND}" defer nonce="{{NONCE}}"></script>'
    )
    assert f"{service}/embed/ideas.js?site={SECOND}" in page.inner_text("#code-ideas")
    copy = page.get_by_role("button", name="Kopiera Kakbannern (copy)")
    copy.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#code-banner-status:has-text('Kopierat')")
    assert page.evaluate("navigator.clipboard.readText()") == code
    check_page(page, "snippet")

    page.get_by_role("link", name="Öppna testsidan").first.click()
    page.wait_for_url(f"**/admin/snippet/test?site={SECOND}")
    wait_for(
        page, "document.querySelector('consent-banner')?.shadowRoot?.querySelector('dialog[open]')"
    )
    wait_for(page, "document.querySelector('consent-embed')")
    assert page.locator("iframe[data-consent]").count() == 0  # held back: nothing loaded
    assert page.inner_text("[data-demo-gate=statistics]") == "inte laddat"
    banner = page.locator("consent-banner dialog")
    assert banner.is_visible()
    page.evaluate(
        "Promise.all(document.querySelector('consent-banner').shadowRoot"
        ".querySelector('dialog').getAnimations().map(a => a.finished))"
    )
    check_page(page, "test-page-banner")
    # The banner's first layer takes the keyboard; "Acceptera alla" runs the gated script.
    page.get_by_role("button", name="Acceptera alla").focus()
    page.keyboard.press("Enter")
    wait_for(page, "document.querySelector('[data-demo-gate=statistics]').textContent == 'laddat'")
    check_page(page, "test-page")
