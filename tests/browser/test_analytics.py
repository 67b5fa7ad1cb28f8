"""The tracker in real Chromium: silent without statistics consent, counting with it.

The page is on www.uppsala.test and the service on samtycke.uppsala.test, as in production;
events travel by sendBeacon with the consent cookie of the whole site (.uppsala.test).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import Service, Visit
from tests.helpers.browser import until

pytestmark = pytest.mark.browser

# Headless Chromium says "HeadlessChrome", which the service rightly filters as a bot.
DESKTOP_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# The page goes to the background: the tracker must send what it has queued, now.
HIDE_PAGE = """() => {
  Object.defineProperty(document, "hidden", {value: true, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
  Object.defineProperty(document, "hidden", {value: false, configurable: true});
}"""


def rows(service: Service, consent_id: str | None = None) -> list[dict[str, Any]]:
    with sqlite3.connect(service.db_path) as conn:
        conn.row_factory = sqlite3.Row
        found = conn.execute(
            "SELECT type, path, name, props, referrer_host, screen, device, visitor"
            " FROM analytics_events ORDER BY id"
        ).fetchall()
    return [dict(r) for r in found]


def beacons(visit: Visit) -> list[Any]:
    return [r for r in visit.requests if "/api/v1/events" in r.url]


@pytest.fixture
def citizen(visit_factory: Callable[..., Visit]) -> Visit:
    return visit_factory(user_agent=DESKTOP_UA, viewport={"width": 1280, "height": 800})


def try_everything(visit: Visit) -> None:
    """Everything that would be counted with consent: a custom event, SPA navigation, hiding."""
    page = visit.page
    page.evaluate("Consent.track('idea_opened', {topic: 'park'})")
    page.evaluate("history.pushState({}, '', '/page/annan-vy')")
    page.evaluate(HIDE_PAGE)


def test_no_request_before_consent_after_refusal_or_after_withdrawal(
    citizen: Visit, service: Service
) -> None:
    page = citizen.goto()
    citizen.dialog().wait_for()
    before = len(rows(service))
    try_everything(citizen)
    page.get_by_role("button", name="Endast nödvändiga").click()
    citizen.wait("window.Consent.get() && window.Consent.get().consent_id")
    try_everything(citizen)
    page.wait_for_timeout(300)  # time enough for a beacon that should not exist
    assert beacons(citizen) == []

    # Statistics granted in the settings layer: now the current page counts.
    page.get_by_role("link", name="Kakinställningar").click()
    page.get_by_role("switch", name="Statistik").check()
    page.get_by_role("button", name="Spara val").click()
    citizen.wait("window.Consent.get().choices.statistics")
    page.evaluate(HIDE_PAGE)
    until(lambda: beacons(citizen))
    until(lambda: len(rows(service)) > before)

    page.get_by_role("button", name="Återkalla samtycke till kakor").click()
    citizen.wait("window.Consent.get() === null")
    sent = len(beacons(citizen))
    stored = len(rows(service))
    try_everything(citizen)
    page.wait_for_timeout(300)
    assert len(beacons(citizen)) == sent
    assert len(rows(service)) == stored
    assert citizen.errors == []


def test_events_flow_after_consent(citizen: Visit, service: Service) -> None:
    page = citizen.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    citizen.wait("window.Consent.get() && window.Consent.get().choices.statistics")
    before = len(rows(service))

    page.evaluate("history.pushState({}, '', '/page/tjanster?personnummer=191212121212#a')")
    page.evaluate("history.pushState({}, '', '/page/tjanster?personnummer=191212121212#b')")
    page.evaluate("history.go(-2)")
    citizen.wait("location.pathname === '/page'")
    page.evaluate("Consent.track('idea_submitted', {area: 'parker', steps: 3})")
    # An outbound link: counted, and sent at once because the page is about to go away.
    page.evaluate("""() => {
      const a = document.createElement("a");
      a.href = "https://www.skatteverket.se/deklaration"; a.textContent = "Skatteverket";
      a.addEventListener("click", (e) => e.preventDefault());
      document.body.append(a);
    }""")
    page.get_by_role("link", name="Skatteverket").click()
    new = until(lambda: (r := rows(service)[before:]) and len(r) >= 5 and r)

    views = [(r["path"], r["screen"]) for r in new if r["type"] == "pageview"]
    # The first view, the SPA navigation (query and fragment dropped, a hash change is no
    # new page), and the way back.
    assert views == [("/page", "large"), ("/page/tjanster", "large"), ("/page", "large")]
    events = {r["name"]: r["props"] for r in new if r["type"] == "event"}
    assert events == {
        "idea_submitted": '{"area":"parker","steps":3}',
        "outbound": '{"host":"www.skatteverket.se"}',
    }
    assert {r["device"] for r in new} == {"desktop"}
    assert len({r["visitor"] for r in new}) == 1
    request = beacons(citizen)[0]
    assert request.headers["content-type"].startswith("text/plain")
    assert citizen.errors == []


def test_global_privacy_control_is_respected(
    visit_factory: Callable[..., Visit], service: Service
) -> None:
    visit = visit_factory(user_agent=DESKTOP_UA)
    visit.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    visit.wait("window.Consent.get() && window.Consent.get().consent_id")
    assert page.evaluate("Consent.get().choices.statistics") is False
    try_everything(visit)
    page.wait_for_timeout(300)
    assert beacons(visit) == []
