"""Funnels and content reports in Chromium: zero axe violations, reflow at 320 px, keyboard use."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.models import Role
from consent_service.consent.cookie import Choice, ChoiceCookie
from tests.browser.conftest import Service, Visit
from tests.browser.test_analytics_dashboard import UA, WCAG, full_page, sign_in
from tests.helpers.staff import make_staff

pytestmark = pytest.mark.browser


def seed(service: Service) -> str:
    """Two visitors who took a funnel's steps, a missing page, a download, a link, a search."""
    app: Any = service.thread.server.app
    # The site search's parameter for this run (read by the ingest on every request).
    app.config["ANALYTICS_SEARCH_PARAMS"] = {"*": ("q",)}
    origin = app.config["ALLOWED_ORIGINS"][0]
    batches = [
        [{"type": "pageview", "path": "/tjanster/bygglov"},
         {"type": "pageview", "path": "/tjanster/bygglov/ansok"},
         {"type": "event", "name": "bygglov_skickat", "path": "/tjanster/bygglov/ansok"},
         {"type": "event", "name": "File Download", "path": "/tjanster/bygglov",
          "props": {"url": "https://www.uppsala.se/files/bygglovstaxa-2026.pdf"}}],
        [{"type": "pageview", "path": "/tjanster/bygglov"},
         {"type": "pageview", "path": "/sok?q=Bygglov%20altan"},
         {"type": "event", "name": "404", "path": "/gamla-sidan",
          "props": {"path": "/gamla-sidan"}},
         {"type": "event", "name": "Outbound Link: Click", "path": "/tjanster/bygglov",
          "props": {"url": "https://www.boverket.se/"}}],
    ]  # fmt: skip
    # The same missing page, download, link and search from a dozen more visitors: the
    # dashboard lists the ten most visited of each, and other tests add theirs to this
    # service (none of these events is a step of the funnel).
    batches += [[event for event in batches[1] if event.get("name") or "q=" in event["path"]]
                for _ in range(12)]  # fmt: skip
    for batch in batches:
        client = app.test_client()
        cookie = ChoiceCookie(app.config["SIGNING_KEYS"], 3600).encode(
            Choice(str(uuid.uuid4()), service.version, True, True)
        )
        client.set_cookie("consent", cookie)
        response = client.post("/api/v1/events", data=json.dumps({"events": batch}),
                               content_type="text/plain",
                               headers={"Origin": origin, "User-Agent": UA})  # fmt: skip
        assert response.json == {"stored": len(batch)}
    app.config["ANALYTICS_SEARCH_PARAMS"] = {}
    name = f"redaktor-{uuid.uuid4().hex[:8]}"
    make_staff(app, name, Role.EDITOR)
    return name


def axe_clean(page: Any) -> None:
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()


@pytest.fixture
def fresh_rollups(service: Service) -> Iterator[None]:
    """Today's content tables come from a rollup at most CONSENT_ANALYTICS_ROLLUP_SECONDS
    old, and another test may have rolled today up a moment ago on this shared service."""
    config = service.app.config
    kept = config["ANALYTICS_ROLLUP_SECONDS"]
    config["ANALYTICS_ROLLUP_SECONDS"] = 0
    yield
    config["ANALYTICS_ROLLUP_SECONDS"] = kept


@pytest.mark.usefixtures("fresh_rollups")
def test_funnels_and_content_reports_are_accessible_and_reflow(
    visit_factory: Callable[..., Visit], service: Service
) -> None:
    visit = visit_factory(viewport={"width": 1280, "height": 900})
    page = sign_in(visit, seed(service))
    page.goto(service.url + "/admin/statistics/funnels")
    page.get_by_role("heading", name="Trattar i besöksstatistiken").wait_for()
    page.get_by_label("Namn", exact=True).fill("Bygglov")
    page.locator("#step-kind-1").select_option("page")
    page.locator("#step-value-1").fill("/tjanster/bygglov")
    page.locator("#step-kind-2").select_option("page")
    page.locator("#step-value-2").fill("/tjanster/bygglov/ansok")
    page.locator("#step-value-3").fill("bygglov_skickat")
    # By keyboard: Enter in a field submits the form.
    page.locator("#step-value-3").press("Enter")
    page.get_by_role("heading", name="Bygglov", exact=True).wait_for()
    axe_clean(page)
    page.get_by_role("link", name="Ändra Bygglov").click()
    page.get_by_role("heading", name="Ändra tratten").wait_for()
    page.locator("#step-value-2").fill("tjanster")  # not a path
    page.get_by_role("button", name="Spara ändringarna").click()
    page.get_by_role("alert").wait_for()
    assert "Steg 2: en sida är en sökväg" in page.get_by_role("alert").inner_text()
    axe_clean(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    full_page(visit, "analytics-funnels-320")
    axe_clean(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(service.url + "/admin/statistics/")
    page.get_by_role("heading", name="Trattar", exact=True).wait_for()
    assert page.get_by_role("heading", name="Bygglov", exact=True).is_visible()
    # Two visits viewed the service page, one went on to apply and sent it: 50 %.
    conversion = page.get_by_role("heading", name="Bygglov", exact=True).locator(
        "xpath=following-sibling::p[1]"
    )
    assert "sista steget: 50 %" in conversion.inner_text().replace("\u00a0", " ")
    for value in ("/gamla-sidan", "https://www.uppsala.se/files/bygglovstaxa-2026.pdf",
                  "https://www.boverket.se/", "bygglov altan"):  # fmt: skip
        assert page.get_by_role("rowheader", name=value).is_visible(), value
    assert page.locator("#realtime-visitors").inner_text() != "0"
    full_page(visit, "analytics-dashboard-funnels-content")
    axe_clean(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.locator("#funnel-heading").scroll_into_view_if_needed()
    visit.screenshot("analytics-dashboard-320-funnels")
    page.locator("#content-heading").scroll_into_view_if_needed()
    visit.screenshot("analytics-dashboard-320-content")
    axe_clean(page)
    # The service has no favicon (404); the refused form answered 400 on purpose.
    assert [e for e in visit.errors if "404" not in e and "400" not in e] == []
