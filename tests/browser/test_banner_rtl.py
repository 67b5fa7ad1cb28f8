"""Right-to-left host pages: the embeds and the service's stylesheet hide things without
pushing them off to one side, so an RTL page never scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Response

from tests.browser.conftest import HostSite, Service, Visit

pytestmark = pytest.mark.browser

SITE_CSS = Path(__file__).resolve().parents[2] / "consent_service" / "static" / "css" / "site.css"

NO_SIDEWAYS_SCROLL = (
    "document.documentElement.scrollWidth <= innerWidth && document.body.scrollWidth <= innerWidth"
)


@pytest.fixture
def rtl_page(
    host_site: HostSite, service_rtl: Service, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """www.uppsala.test/page?rtl: an Arabic page with the banner, the idea widget and, for
    its skip link and honeypot rules, the service's own stylesheet."""
    page_of_site = host_site.page
    service = service_rtl.url

    def page(query: dict[str, list[str]]) -> Response:
        if "rtl" not in query:
            return page_of_site(query)
        html = f"""<!doctype html>
<html dir="rtl" lang="ar">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Uppsala kommun</title>
<style>{SITE_CSS.read_text(encoding="utf-8")}</style>
<script src="{service}/embed/consent.js" defer></script>
<script src="{service}/embed/ideas.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<main id="main" class="page">
<h1>Uppsala</h1>
<div data-idea-widget data-topic="innovation"></div>
<form><p class="trap" aria-hidden="true"><label for="w">Website</label>
<input id="w" name="website" tabindex="-1" autocomplete="off"></p></form>
</main>
<footer><button type="button" data-consent-open>Cookie settings</button></footer>
</body>
</html>"""
        return Response(html, mimetype="text/html")

    monkeypatch.setattr(host_site, "page", page)
    yield


@pytest.mark.parametrize("width", [1280, 320])
def test_rtl_page_does_not_scroll_sideways(visit_factory: Any, rtl_page: None, width: int) -> None:
    visit: Visit = visit_factory(viewport={"width": width, "height": 720})
    page = visit.goto(rtl="1")
    page.get_by_role("heading", name="RTL cookies on uppsala.se").wait_for()
    page.locator("[data-idea-widget]").locator("form").wait_for()
    visit.settle()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate(
        "[document.documentElement.scrollWidth, innerWidth]"
    )
    page.get_by_role("button", name="Only necessary").click()
    visit.wait("window.Consent.get()?.consent_id")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.evaluate("scrollX") == 0

    # The skip link appears where RTL readers start, at the right edge, when focused.
    visit.goto(rtl="1")  # no banner now: the first Tab reaches the page's first link
    page.locator("[data-idea-widget]").locator("form").wait_for()
    page.keyboard.press("Tab")
    link = page.get_by_role("link", name="Skip to content")
    assert link.evaluate("e => e === document.activeElement")
    box = link.bounding_box()
    assert box is not None and box["width"] > 20
    assert width / 2 < box["x"] + box["width"] <= width
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    # Hidden things stay hidden: the honeypots take no room and are out of sight.
    for hidden in (
        page.locator(".trap"),
        page.locator("[data-idea-widget]").locator(".hp"),
    ):
        rect = hidden.bounding_box()
        assert rect is not None and rect["width"] <= 1 and rect["height"] <= 1
