"""`/consent` and the demo page in a real browser: without JavaScript, by keyboard, with axe."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import SCREENSHOTS, HostSite, Service

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_no_axe_violations(page: Any) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def choice_payload(context: Any) -> dict[str, Any] | None:
    for cookie in context.cookies():
        if cookie["name"] == "consent":
            part = cookie["value"].split(".")[0]
            data: dict[str, Any] = json.loads(
                base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            )
            return data
    return None


@pytest.fixture
def no_js(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False)
    yield context
    context.close()


def test_no_javascript_flow_records_and_returns(
    no_js: Any, service: Service, host_site: HostSite
) -> None:
    page = no_js.new_page()
    page.goto(f"{service.url}/consent?lang=sv&next={host_site.url}/page")
    functional = page.get_by_role("switch", name="Funktionella")
    statistics = page.get_by_role("switch", name="Statistik")
    assert not functional.is_checked() and not statistics.is_checked()
    # axe needs JavaScript to run; the page itself has none, so it is checked in the next test.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "nojs-settings-sv.png"), full_page=True)
    statistics.check()
    page.get_by_role("button", name="Spara val").click()
    page.wait_for_url(f"{host_site.url}/page**")
    payload = choice_payload(no_js)
    assert payload is not None
    assert payload["c"] == {"functional": False, "statistics": True}
    assert service.log()[-1]["source"] == "nojs"

    # Back on the settings page: the choice, the consent ID and a withdrawal in one click.
    page.goto(f"{service.url}/consent?lang=sv")
    assert page.get_by_role("switch", name="Statistik").is_checked()
    assert payload["id"] in page.content()
    page.get_by_role("button", name="Återkalla samtycke").click()
    assert page.get_by_role("status").inner_text().startswith("Ditt samtycke är återkallat")
    assert choice_payload(no_js) is None


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_settings_page_passes_axe(browser: Any, service: Service, lang: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{service.url}/consent?lang={lang}")
        assert_no_axe_violations(page)
        page.locator("details").first.click()  # the cookie table, opened
        assert_no_axe_violations(page)
    finally:
        context.close()


def test_settings_page_in_english_by_keyboard(browser: Any, service: Service) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{service.url}/consent?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert_no_axe_violations(page)
        # Tab from the top of the page to "Accept all" and press it.
        for _ in range(40):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.textContent.trim()")
            if focused == "Accept all":
                break
        else:
            pytest.fail("Accept all cannot be reached by keyboard")
        page.keyboard.press("Enter")
        page.wait_for_url("**/consent?status=saved**")
        assert "Your choice has been saved." in page.get_by_role("status").inner_text()
        assert_no_axe_violations(page)
        page.screenshot(path=str(SCREENSHOTS / "nojs-settings-en-saved.png"), full_page=True)
    finally:
        context.close()


def test_settings_page_reflows_at_320px(browser: Any, service: Service) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.goto(f"{service.url}/consent?lang=sv")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=str(SCREENSHOTS / "nojs-settings-320.png"), full_page=True)
    finally:
        context.close()


def test_demo_page_with_banner_passes_axe(browser: Any, service: Service) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.goto(service.url + "/")
        page.locator("consent-banner dialog").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "demo-first-visit.png"))
        assert_no_axe_violations(page)
        page.get_by_role("button", name="Acceptera alla").click()
        # The demo's gated scripts ran under the page's nonce-based CSP.
        page.locator('[data-demo-gate="statistics"]', has_text="laddat").wait_for()
        page.locator('[data-demo-gate="functional"]', has_text="laddat").wait_for()
        assert not errors, errors
        assert_no_axe_violations(page)
        page.screenshot(path=str(SCREENSHOTS / "demo-after-accept.png"), full_page=True)
    finally:
        context.close()
