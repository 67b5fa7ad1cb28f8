"""`/consent/mine` in a real browser: axe-clean, and the proofs check out in the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, Service
from tests.browser.test_settings_page import assert_no_axe_violations
from tests.helpers.browser import CHROMIUM_FLAGS, RESOLVER_RULES, chromium_or_skip

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("lang", "accept", "ok"), [
    ("sv", "Acceptera alla", "bevis stämmer mot kontrollpunkten"),
    ("en", "Accept all", "proofs match the checkpoint"),
])  # fmt: skip
def test_my_consent_page_verifies_the_receipt_in_the_browser(
    browser: Any, service: Service, lang: str, accept: str, ok: str
) -> None:
    # WebCrypto needs a secure context: the test service is plain http on a test domain,
    # which this browser is told to treat as https (as the real service is).
    secure = browser.browser_type.launch(
        executable_path=chromium_or_skip(),
        args=[*CHROMIUM_FLAGS, RESOLVER_RULES,
              f"--unsafely-treat-insecure-origin-as-secure={service.url}"],
    )  # fmt: skip
    context = secure.new_context()
    try:
        page = context.new_page()
        page.goto(f"{service.url}/consent?lang={lang}")
        page.get_by_role("button", name=accept).click()
        page.goto(f"{service.url}/consent/mine?lang={lang}")
        assert_no_axe_violations(page)
        page.locator("#verify-button").click()
        result = page.locator("#verify-result")
        result.filter(has_text=ok).wait_for(timeout=10_000)
        text = result.inner_text()
        # The signature too: Chromium has Ed25519 in WebCrypto.
        assert "stämmer med loggens nyckel" in text or "matches the log's key" in text, text
        assert "\u2713" in page.locator(".proof-status").first.inner_text()
        assert_no_axe_violations(page)
        # Reflow at 320 CSS px (WCAG 1.4.10): nothing scrolls sideways, keys and hashes wrap.
        page.set_viewport_size({"width": 320, "height": 640})
        for summary in page.locator("summary").all():
            summary.click()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"my-consent-{lang}.png"), full_page=True)
    finally:
        context.close()
        secure.close()
