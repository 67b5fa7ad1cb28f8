"""The statistics dashboard in Chromium: zero axe violations, reflow at 320 px, keyboard use."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.models import Role
from consent_service.analytics import services
from consent_service.analytics.services import RATE_LIMITED, Sender, count_dropped
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
    signer = ChoiceCookie(app.config["SIGNING_KEYS"], 3600)
    client = app.test_client()
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
        # Four visitors: a visitor is one consent ID on one day.
        client.set_cookie(
            "consent", signer.encode(Choice(str(uuid.uuid4()), service.version, True, True))
        )
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
    page.get_by_label("Jämför med").select_option("previous")
    page.get_by_role("button", name="Visa").click()
    page.get_by_role("heading", name="Sidvisningar och besökare per dag").wait_for()
    # A note on the chart, added from the form under it (back to the same period).
    page.get_by_label("Vad hände?").fill("Ny startsida publicerad")
    page.get_by_role("button", name="Lägg till anteckning").click()
    page.locator(".stats-notes").get_by_text("Ny startsida publicerad").wait_for()
    assert page.locator("svg .stats-marker").count() == 1
    assert page.get_by_label("Jämför med").input_value() == "previous"
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
    # The heading is there before the stylesheet: measure the laid-out page, not the bare one.
    page.wait_for_load_state()

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


def test_shared_view_is_accessible_and_reflows(
    visit_factory: Callable[..., Visit], service: Service
) -> None:
    visit = visit_factory(viewport={"width": 1280, "height": 900})
    page = sign_in(visit, seed(service))
    page.goto(service.url + "/admin/statistics/shares")
    page.get_by_role("heading", name="Delade länkar till besöksstatistiken").wait_for()
    page.get_by_label("Namn").fill("   ")  # no name: refused by the server, announced
    page.get_by_role("button", name="Skapa länk").click()
    page.get_by_role("alert").wait_for()
    page.get_by_label("Namn").fill("Kommunikationsavdelningen")
    page.get_by_role("button", name="Skapa länk").click()
    page.get_by_role("heading", name="Länken är skapad").wait_for()
    url = page.get_by_label("Länk", exact=True).input_value()
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    full_page(visit, "analytics-shares-320")

    # Anyone with the link, signed in or not: a fresh browser with no cookies.
    reader = visit_factory(viewport={"width": 1280, "height": 900}, locale="en-GB")
    shared = reader.page
    response = shared.goto(url + "?compare=previous")
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    shared.get_by_role("heading", name="Visitor statistics for uppsala.se").wait_for()
    assert shared.get_by_role("navigation", name="Administration").count() == 0
    assert shared.get_by_role("img", name="Page views and visitors per day").count() == 1
    shared.get_by_text("Table: page views and visitors per day").click()
    full_page(reader, "analytics-shared-en")
    result = Axe().run(shared, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    shared.get_by_role("link", name="På svenska").click()
    shared.get_by_role("heading", name="Besöksstatistik för uppsala.se").wait_for()
    shared.wait_for_load_state()
    shared.set_viewport_size({"width": 320, "height": 800})
    assert shared.evaluate("document.documentElement.scrollWidth") <= 320
    full_page(reader, "analytics-shared-sv-320")
    result = Axe().run(shared, options=WCAG)
    assert result.violations_count == 0, result.generate_report()

    # Revoked: a clear page, 410.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(service.url + "/admin/statistics/shares")
    page.get_by_role("button", name="Återkalla Kommunikationsavdelningen").first.click()
    page.get_by_text("Återkallad").first.wait_for()
    gone = shared.goto(url)
    assert gone.status == 410
    shared.get_by_role("heading", name="Länken gäller inte längre").wait_for()
    result = Axe().run(shared, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    assert [e for e in reader.errors if "404" not in e and "410" not in e] == []


def test_report_and_note_pages_are_accessible_and_reflow(
    visit_factory: Callable[..., Visit], service: Service
) -> None:
    visit = visit_factory(viewport={"width": 1280, "height": 900})
    page = sign_in(visit, seed(service))
    page.goto(service.url + "/admin/statistics/reports")
    page.get_by_role("heading", name="Rapporter via e-post").wait_for()
    page.get_by_label("E-postadress").fill("anna@uppsala.test")
    page.get_by_label("Varje månad").check()
    page.get_by_label("English").check()
    page.get_by_role("button", name="Prenumerera").click()
    page.get_by_role("rowheader", name="Varje månad").wait_for()
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    full_page(visit, "analytics-reports-320")
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()

    # A note with an empty text is refused on its own page, the day kept; then fixed.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(service.url + "/admin/statistics/")
    page.get_by_label("Vad hände?").fill("   ")
    page.get_by_role("button", name="Lägg till anteckning").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_role("heading", name="Ny anteckning").is_visible()
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    full_page(visit, "analytics-note-error-320")
    page.get_by_label("Vad hände?").fill("Kampanj i sociala medier")
    page.get_by_role("button", name="Spara anteckningen").click()
    page.locator(".stats-notes").get_by_text("Kampanj i sociala medier").wait_for()
    page.locator("#notes-heading").scroll_into_view_if_needed()
    visit.screenshot("analytics-notes-320")
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
    # Only the refused note's answer (400) and the missing favicon.
    assert [e for e in visit.errors if "404" not in e and "400" not in e] == []


def four_weeks(service: Service) -> None:
    """Visits on each of the last 28 days, more in the last fortnight (for the README)."""
    app: Any = service.thread.server.app
    pages = ["/", "/bo-och-leva", "/bo-och-leva/avfall", "/kommun-och-politik", "/ideer"]
    with app.test_request_context():
        today = local_day(utcnow())
        site = current_policy().site
        host = app.config["ALLOWED_ORIGINS"][0].split("//", 1)[1].split(":")[0]
        for back in range(27, -1, -1):
            day = today - dt.timedelta(days=back)
            noon = dt.datetime.combine(day, dt.time(11), tzinfo=dt.UTC)
            visitors = 3 + (27 - back) % 4 + (4 if back < 14 else 0) + (3 if back < 5 else 0)
            for n in range(visitors):
                choice = Choice(str(uuid.uuid5(uuid.NAMESPACE_URL, f"{day}/{n}")),
                                service.version, True, True)  # fmt: skip
                sender = Sender(choice, host, f"198.51.100.{n}", UA)
                views = 1 + (n + back) % 3
                for v in range(views):
                    event = {"type": "pageview", "path": pages[(n + v + back) % len(pages)]}
                    services.ingest([event], sender, site=site, policy_version=service.version,
                                    hosts=frozenset({host}),
                                    now=noon + dt.timedelta(minutes=7 * n + 3 * v))  # fmt: skip


def test_readme_picture(visit_factory: Callable[..., Visit], service: Service) -> None:
    """The dashboard's comparison, chart and notes as the README shows them (docs/images)."""
    name = seed(service)
    four_weeks(service)
    visit = visit_factory(viewport={"width": 1100, "height": 900})
    page = sign_in(visit, name)
    with service.thread.server.app.app_context():
        today = local_day(utcnow())
    # Two weeks up to yesterday: today's notes from the other tests stay out of the picture.
    end = today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=13)
    page.goto(f"{service.url}/admin/statistics/?from={start}&to={end}&compare=previous")
    page.get_by_label("Dag", exact=True).fill((today - dt.timedelta(days=4)).isoformat())
    page.get_by_label("Vad hände?").fill("Ny startsida publicerad")
    page.get_by_role("button", name="Lägg till anteckning").click()
    page.locator(".stats-notes").get_by_text("Ny startsida publicerad").wait_for()
    top = page.locator("#visits-heading").bounding_box()
    bottom = page.locator(".stats-notes").bounding_box()
    chart = page.locator("#chart-heading").bounding_box()
    scroll = page.evaluate("window.scrollY")
    assert top and bottom and chart
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, first in (("analytics-dashboard-readme", top), ("analytics-chart-readme", chart)):
        page.screenshot(
            path=str(SCREENSHOTS / f"{name}.png"),
            full_page=True,
            clip={"x": 0, "y": first["y"] + scroll - 12, "width": 1100,
                  "height": bottom["y"] - first["y"] + bottom["height"] + 24},
        )  # fmt: skip
