"""The statistics dashboard in Chromium: zero axe violations, reflow at 320 px, keyboard use."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.models import Role
from consent_service.analytics.services import RATE_LIMITED, count_dropped
from consent_service.analytics.visitors import local_day
from consent_service.consent.cookie import Choice, ChoiceCookie
from consent_service.consent.services import current_policy
from consent_service.db import db, utcnow
from tests.browser.conftest import SCREENSHOTS, Service, Visit
from tests.helpers.staff import PASSWORD, make_staff

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


def seed(service: Service) -> str:
    """Some consented statistics and an editor account; return the editor's name."""
    app: Any = service.thread.server.app
    cookie = ChoiceCookie(app.config["SIGNING_KEYS"], 3600).encode(
        Choice(str(uuid.uuid4()), service.version, True, True)
    )
    client = app.test_client()
    client.set_cookie("consent", cookie)
    origin = app.config["ALLOWED_ORIGINS"][0]
    for n, (path, referrer) in enumerate(
        [("/bo-och-leva", "https://www.google.com/"), ("/bo-och-leva", None),
         ("/kommun-och-politik", "https://www.bing.com/"),
         ("/ideer?utm_source=nyhetsbrev&utm_medium=email&utm_campaign=vinter", None)]
    ):  # fmt: skip
        event: dict[str, Any] = {"type": "pageview", "path": path, "screen": "medium"}
        if referrer:
            event["referrer"] = referrer
        batch = [event, {"type": "event", "name": "idea_opened", "path": "/ideer"}]
        response = client.post(
            "/api/v1/events",
            data=json.dumps({"events": batch}),
            content_type="text/plain",
            headers={"Origin": origin, "User-Agent": UA},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        )
        assert response.json == {"stored": 2}
    # Two decisions in the consent log, one with statistics: the estimates' table shows.
    for statistics in (True, False):
        decision = app.test_client().post(
            "/api/v1/consent",
            json={"functional": True, "statistics": statistics, "language": "sv",
                  "policy_version": service.version, "source": "banner"},
        )  # fmt: skip
        assert decision.status_code in (200, 201), decision.json
    name = f"redaktor-{uuid.uuid4().hex[:8]}"
    make_staff(app, name, Role.EDITOR)
    # What a flood limit held back: the dashboard's note above the figures.
    with app.app_context(), db.writing_connection() as conn:
        count_dropped(conn, current_policy().site, local_day(utcnow()), RATE_LIMITED, 120)
    return name


def full_page(visit: Visit, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(visit: Visit, name: str) -> Any:
    page = visit.page
    page.goto(visit.service.url + "/admin/sign-in")
    page.get_by_label("Användarnamn").fill(name)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("heading", name=f"Hej {name}").wait_for()
    return page


def test_dashboard_is_accessible_and_reflows(
    visit_factory: Callable[..., Visit], service: Service
) -> None:
    visit = visit_factory(viewport={"width": 1280, "height": 900})
    page = sign_in(visit, seed(service))
    page.get_by_role("link", name="Besöksstatistik").first.click()
    page.get_by_role("heading", name="Besöksstatistik", exact=True).wait_for()
    page.get_by_label("Jämför med perioden före").check()
    page.get_by_role("button", name="Visa").click()
    page.get_by_role("heading", name="Sidvisningar och besökare per dag").wait_for()
    assert page.get_by_role("img", name="Sidvisningar och besökare per dag").count() == 1
    assert page.get_by_role("link", name="/bo-och-leva").is_visible()
    assert page.locator("#dropped-note").is_visible()
    # Visits and their sources and campaigns, from the statistics API's functions.
    assert page.get_by_role("heading", name="Besök", exact=True).is_visible()
    assert page.get_by_role("heading", name="Typ av källa").is_visible()
    assert page.get_by_role("rowheader", name="Sökmotorer").is_visible()
    assert page.get_by_role("rowheader", name="vinter").is_visible()
    assert page.get_by_text("(uppskattning)").first.is_visible()
    page.get_by_text("Tabell: sidvisningar och besökare per dag").click()  # open the data table
    full_page(visit, "analytics-dashboard")

    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()

    # Keyboard: the page filter from a table link, then back to the whole site by the form.
    page.get_by_role("link", name="/bo-och-leva").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Sammanfattning för /bo-och-leva").wait_for()
    page.get_by_label("Sida").fill("")
    page.get_by_label("Sida").press("Enter")
    page.get_by_role("heading", name="Sammanfattning", exact=True).wait_for()

    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    full_page(visit, "analytics-dashboard-320")
    page.locator("#funnel-heading").scroll_into_view_if_needed()
    visit.screenshot("analytics-dashboard-320-funnel")
    page.locator("#sources-heading").scroll_into_view_if_needed()
    visit.screenshot("analytics-dashboard-320-sources")
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    assert [e for e in visit.errors if "404" not in e] == []  # the service has no favicon


def test_privacy_officer_view_is_accessible(
    visit_factory: Callable[..., Visit], service: Service
) -> None:
    app: Any = service.thread.server.app
    name = f"dso-{uuid.uuid4().hex[:8]}"
    make_staff(app, name, Role.PRIVACY_OFFICER)
    visit = visit_factory(viewport={"width": 1024, "height": 800})
    page = sign_in(visit, name)
    page.goto(service.url + "/admin/statistics/?compare=1")
    page.get_by_role("heading", name="Bara de som sagt ja till statistik räknas").wait_for()
    assert page.get_by_role("img").count() == 0  # no statistics, only the consent figures
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()


def test_goals_page_is_accessible_and_reflows(
    visit_factory: Callable[..., Visit], service: Service
) -> None:
    visit = visit_factory(viewport={"width": 1280, "height": 900})
    page = sign_in(visit, seed(service))
    page.goto(service.url + "/admin/statistics/goals")
    page.get_by_role("heading", name="Mål i besöksstatistiken").wait_for()
    # A wrong page pattern first: the error is announced and the field points to it.
    page.get_by_label("Sidvisning").check()
    page.get_by_label("Händelsens namn eller sidans sökväg").fill("bo-och-leva")
    page.get_by_role("button", name="Lägg till").click()
    page.get_by_role("alert").wait_for()
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    page.get_by_label("Händelsens namn eller sidans sökväg").fill("/bo-och-leva*")
    page.get_by_role("button", name="Lägg till").click()
    page.get_by_role("rowheader", name="/bo-och-leva*").wait_for()
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    full_page(visit, "analytics-goals-320")
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
