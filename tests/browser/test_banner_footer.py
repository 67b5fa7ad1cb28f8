"""The page's own "Kakinställningar" control: never covered by the banner's notice, and on the
demo page one control that works with and without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from werkzeug.wrappers import Response

from tests.browser.conftest import HostSite, Service, Visit

pytestmark = pytest.mark.browser


@pytest.fixture
def footer_page(host_site: HostSite, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """www.uppsala.test/page?footer: a short page whose footer sits at the bottom of the
    window, centred, where the banner's notice appears."""
    page_of_site = host_site.page

    def page(query: dict[str, list[str]]) -> Response:
        if "footer" not in query:
            return page_of_site(query)
        service = host_site.services["v1"]
        html = f"""<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Uppsala kommun</title>
<style>
body {{ margin: 0; min-height: 100vh; display: flex; flex-direction: column; }}
main {{ flex: 1; }}
footer {{ text-align: center; padding: 0.5rem; }}
</style>
<script src="{service}/embed/consent.js" defer></script>
</head>
<body>
<main><h1>Välkommen</h1></main>
<footer><button type="button" data-consent-open>Kakinställningar</button></footer>
</body>
</html>"""
        return Response(html, mimetype="text/html")

    monkeypatch.setattr(host_site, "page", page)
    yield


@pytest.mark.parametrize("width", [320, 1280])
def test_footer_settings_button_works_while_the_notice_shows(
    visit_factory: Any, footer_page: None, width: int
) -> None:
    visit: Visit = visit_factory(viewport={"width": width, "height": 600})
    page = visit.goto(footer="1")
    page.get_by_role("button", name="Endast nödvändiga").click()
    visit.wait("window.Consent.get()?.consent_id")
    expect(page.get_by_role("status")).to_have_text("Ditt val är sparat.")

    button = page.get_by_role("button", name="Kakinställningar")
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # Whatever the notice looks like, a click on the button reaches the button.
    assert button.evaluate("(b, [x, y]) => document.elementFromPoint(x, y) === b", [x, y])
    button.click(timeout=2000)
    page.get_by_role("heading", name="Inställningar för kakor").wait_for()
    assert visit.dialog().evaluate("d => d.open")


# --- the demo page --------------------------------------------------------------------------


@pytest.fixture
def demo(visit_factory: Any, service: Service) -> Iterator[Any]:
    made: list[Any] = []

    def make(**options: Any) -> Any:
        visit: Visit = visit_factory(**options)
        made.append(visit)
        visit.page.goto(service.url + "/")
        return visit.page

    yield make


def test_demo_footer_without_javascript_has_one_working_settings_link(demo: Any) -> None:
    page = demo(java_script_enabled=False)
    footer = page.locator("footer")
    controls = footer.get_by_text("Kakinställningar", exact=True)
    visible = [c for c in controls.all() if c.is_visible()]
    assert len(visible) == 1  # no dead button beside the link
    (link,) = visible
    assert link.evaluate("e => e.tagName") == "A"
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/consent?") and "lang=sv" in href
    assert link.evaluate("e => e.closest('[lang]').lang") == "sv"
    link.click()
    page.get_by_role("button", name="Spara val").wait_for()  # the no-JS settings page
    assert "lang=sv" in page.url


def test_demo_footer_with_javascript_opens_the_banner(demo: Any, service: Service) -> None:
    page = demo()
    page.get_by_role("button", name="Endast nödvändiga").click()
    # The demo page's CSP forbids eval, which wait_for_function's string form needs.
    for _ in range(100):
        if page.evaluate("() => Boolean(window.Consent.get()?.consent_id)"):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the choice was not recorded")
    controls = page.locator("footer").get_by_text("Kakinställningar", exact=True)
    visible = [c for c in controls.all() if c.is_visible()]
    assert len(visible) == 1
    visible[0].click()
    page.get_by_role("heading", name="Inställningar för kakor").wait_for()
    assert page.url == service.url + "/"  # the banner opened; no navigation
