"""The banner's legal rules, checked in Chromium against the real service.

Each test is one citizen in a fresh browser context on www.uppsala.test, with the banner
loaded from samtycke.uppsala.test.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Service, Visit

pytestmark = pytest.mark.browser

ALL = {"necessary": True, "functional": True, "statistics": True}
NONE = {"necessary": True, "functional": False, "statistics": False}
ONLY_NECESSARY_RAN = {"necessary": 1, "necessary_src": 1}
# What Matomo sets (`_pk_<kind>.<site id>.<domain hash>`), declared as `_pk_id.*` and
# `_pk_ses.*` in the statistics category; `uppsala_prefs` is declared as it is (functional).
MATOMO = ("_pk_id.1.a1b2", "_pk_ses.1.a1b2")


def wait_for_choice(visit: Visit) -> dict[str, Any]:
    """Wait until the service has confirmed a choice; return the consent cookie's payload."""
    visit.wait("!localStorage.getItem('consent_pending') && window.Consent.get()?.consent_id")
    payload = visit.payload()
    assert payload is not None
    return payload


def server_view(visit: Visit) -> Any:
    """GET {api}/consent from the page, with the citizen's cookie, as an integration would."""
    return visit.page.evaluate(
        "api => fetch(api + '/consent', {credentials: 'include'}).then(r => r.json())",
        visit.service.api,
    )


def storage(visit: Visit) -> dict[str, Any]:
    return visit.page.evaluate(
        "({local: Object.keys(localStorage), session: Object.keys(sessionStorage)})"
    )  # type: ignore[no-any-return]


def cookie_names(visit: Visit) -> set[str]:
    return {c["name"] for c in visit.context.cookies()}


def set_matomo_cookies(visit: Visit) -> None:
    """As the statistics script would: on the host and on the whole site."""
    visit.page.evaluate(
        "names => names.forEach(n => { document.cookie = n + '=1;path=/';"
        " document.cookie = n + '=2;path=/;domain=.uppsala.test' })",
        list(MATOMO),
    )


def test_nothing_is_stored_or_sent_before_a_choice(visit: Visit) -> None:
    page = visit.goto()
    visit.dialog().wait_for()
    page.keyboard.press("Escape")  # ignoring the banner is no choice
    page.wait_for_timeout(300)

    assert visit.dialog().evaluate("d => d.open")
    assert visit.context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    assert storage(visit) == {"local": [], "session": []}
    assert visit.service_calls() == ["GET embed/consent.js"]
    assert visit.ran() == ONLY_NECESSARY_RAN  # necessary scripts need no consent
    assert page.evaluate("window.Consent.get()") is None
    assert visit.events() == []
    assert visit.errors == []


def test_accept_all(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    payload = wait_for_choice(visit)

    assert payload["v"] == visit.service.version
    assert payload["c"] == {"functional": True, "statistics": True}
    assert not visit.dialog().evaluate("d => d.open")
    event = visit.events()[-1]
    assert event == {
        "consent_id": payload["id"],
        "choices": ALL,
        "policy_version": visit.service.version,
    }
    # Every gated script ran, once, inline and external alike.
    page.wait_for_function("window.ran.statistics_src && window.ran.functional_src")
    assert visit.ran() == {
        "necessary": 1, "necessary_src": 1,
        "functional": 1, "functional_src": 1, "functional_module": 1,
        "statistics": 1, "statistics_src": 1,
    }  # fmt: skip
    assert server_view(visit)["consent_id"] == payload["id"]
    entry = visit.service.log()[-1]
    assert (entry["consent_id"], entry["action"], entry["source"], entry["language"]) == (
        payload["id"], "grant", "banner", "sv",
    )  # fmt: skip
    assert (entry["functional"], entry["statistics"]) == (1, 1)
    assert storage(visit)["local"] == []  # the pending copy is gone once confirmed
    expect(page.get_by_role("status")).to_have_text("Ditt val är sparat.")
    assert visit.errors == []


def test_only_necessary(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Endast nödvändiga").click()
    payload = wait_for_choice(visit)

    assert payload["c"] == {"functional": False, "statistics": False}
    assert visit.events()[-1]["choices"] == NONE
    page.wait_for_timeout(200)
    assert visit.ran() == ONLY_NECESSARY_RAN
    assert cookie_names(visit) == {"consent"}
    entry = visit.service.log()[-1]
    assert (entry["consent_id"], entry["functional"], entry["statistics"]) == (payload["id"], 0, 0)


def test_settings_layer_starts_off_and_saves(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Inställningar").click()
    heading = page.get_by_role("heading", name="Inställningar för kakor")
    heading.wait_for()

    necessary = page.get_by_role("switch", name="Nödvändiga")
    functional = page.get_by_role("switch", name="Funktionella")
    statistics = page.get_by_role("switch", name="Statistik")
    assert necessary.is_checked() and necessary.is_disabled()
    assert not functional.is_checked() and not statistics.is_checked()
    assert page.get_by_text("Du har inte gjort något val ännu.").is_visible()
    # The cookie declarations of each category.
    page.locator("consent-banner summary").nth(2).click()
    assert page.get_by_text("_pk_ses.*", exact=True).is_visible()
    assert page.get_by_text("Håller ihop sidvisningar under ett besök.").is_visible()

    statistics.check()
    page.get_by_role("button", name="Spara val").click()
    payload = wait_for_choice(visit)

    assert payload["c"] == {"functional": False, "statistics": True}
    assert visit.events()[-1]["choices"] == {**NONE, "statistics": True}
    page.wait_for_function("window.ran.statistics_src === 1")
    assert visit.ran() == {**ONLY_NECESSARY_RAN, "statistics": 1, "statistics_src": 1}
    assert visit.service.log()[-1]["source"] == "settings"


def test_reopen_shows_the_choice_and_changes_it(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    first = wait_for_choice(visit)
    page.wait_for_function("window.ran.statistics_src === 1")
    set_matomo_cookies(visit)
    assert {*MATOMO, "uppsala_prefs"} <= cookie_names(visit)

    page.get_by_role("link", name="Kakinställningar").click()
    assert visit.dialog().evaluate("d => d.open")
    assert page.get_by_role("heading", name="Inställningar för kakor").is_visible()
    assert page.get_by_text(f"Ditt samtyckes-id: {first['id']}").is_visible()
    statistics = page.get_by_role("switch", name="Statistik")
    assert statistics.is_checked()
    assert page.get_by_role("switch", name="Funktionella").is_checked()
    assert page.url.endswith("/page")  # the no-JS link was not followed

    statistics.uncheck()
    page.get_by_role("button", name="Spara val").click()
    payload = wait_for_choice(visit)
    assert payload["id"] == first["id"]
    assert payload["c"] == {"functional": True, "statistics": False}
    assert visit.events()[-1] == {
        "consent_id": first["id"],
        "choices": {**ALL, "statistics": False},
        "policy_version": visit.service.version,
    }
    # The statistics cookies are gone from the host and from the site domain; the others stay.
    names = cookie_names(visit)
    assert names.isdisjoint(MATOMO)  # declared by prefix
    assert "uppsala_prefs" in names
    assert visit.ran()["statistics"] == 1  # scripts never run twice
    assert [e["action"] for e in visit.service.log() if e["consent_id"] == first["id"]] == [
        "grant",
        "update",
    ]


def test_withdraw_in_one_click(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    first = wait_for_choice(visit)
    page.wait_for_function("window.ran.statistics_src === 1")
    set_matomo_cookies(visit)
    assert {*MATOMO, "uppsala_prefs"} <= cookie_names(visit)

    page.get_by_role("button", name="Återkalla samtycke till kakor").click()
    page.wait_for_function("window.consentEvents.at(-1).choices.functional === false")
    page.get_by_text("Ditt samtycke är återkallat. Bara nödvändiga kakor används.").wait_for()

    assert cookie_names(visit).isdisjoint({*MATOMO, "uppsala_prefs", "consent"})
    assert visit.events()[-1]["choices"] == NONE
    assert page.evaluate("window.Consent.get()") is None
    assert storage(visit)["local"] == []
    assert visit.service.log()[-1]["action"] == "withdraw"
    assert visit.service.log()[-1]["consent_id"] == first["id"]
    assert not visit.dialog().evaluate("d => d.open")  # the banner comes back on the next page

    visit.goto()
    visit.dialog().wait_for()
    assert page.get_by_role("button", name="Acceptera alla").is_visible()


def test_withdraw_from_the_settings_layer(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Endast nödvändiga").click()
    wait_for_choice(visit)
    page.get_by_role("link", name="Kakinställningar").click()
    page.get_by_role("button", name="Återkalla samtycke", exact=True).click()
    page.wait_for_function("!document.cookie.includes('consent=')")
    assert visit.service.log()[-1]["action"] == "withdraw"
    assert visit.service.log()[-1]["source"] == "settings"


def test_returning_visitor_sees_no_banner_and_causes_no_requests(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    payload = wait_for_choice(visit)

    visit.goto()
    page.wait_for_function("window.consentEvents.length === 1")
    page.wait_for_timeout(300)
    assert page.locator("consent-banner").count() == 0  # not even built
    assert set(visit.service_calls()) <= {"GET embed/consent.js"}
    assert visit.events() == [
        {"consent_id": payload["id"], "choices": ALL, "policy_version": visit.service.version}
    ]
    page.wait_for_function("window.ran.statistics_src === 1")
    assert visit.ran()["functional"] == 1


def test_new_policy_version_asks_again(visit: Visit, service_v2: Service) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    assert wait_for_choice(visit)["v"] == visit.service.version

    visit.goto(service="v2")
    visit.dialog().wait_for()
    assert page.evaluate("window.Consent.get()") is None
    page.wait_for_timeout(200)
    assert visit.ran() == ONLY_NECESSARY_RAN  # the old consent does not cover the new policy

    page.get_by_role("button", name="Endast nödvändiga").click()
    page.wait_for_function(f"window.Consent.get()?.policy_version === {service_v2.version}")
    payload = visit.payload()
    assert payload is not None
    assert (payload["v"], payload["c"]) == (
        service_v2.version,
        {"functional": False, "statistics": False},
    )


def test_banner_cached_from_before_a_policy_change(visit: Visit, service_v2: Service) -> None:
    """consent.js is cached for a while: a stale copy must neither loop nor lose the choice."""
    status, body = service_v2.request("GET", "/embed/consent.js")
    assert status == 200
    current = f'"version": {service_v2.version}'.encode()
    stale = body.replace(current, f'"version": {service_v2.version - 1}'.encode(), 1)
    assert stale != body
    visit.page.route(
        f"{service_v2.url}/embed/consent.js",
        lambda route: route.fulfill(body=stale, content_type="text/javascript"),
    )
    page = visit.goto(service="v2")
    page.get_by_role("button", name="Acceptera alla").click()
    # The service refuses the outdated version; the banner asks again, now for the current one.
    visit.wait(
        "document.querySelector('consent-banner').shadowRoot.querySelector('dialog[open]')"
        " && !localStorage.getItem('consent_pending')"
    )
    page.get_by_role("button", name="Acceptera alla").click()
    assert wait_for_choice(visit)["v"] == service_v2.version

    # Still the stale copy: a choice for a newer policy counts, no banner.
    visit.goto(service="v2")
    visit.wait("window.consentEvents.length === 1")
    assert page.locator("consent-banner").count() == 0
    assert visit.service_calls() == ["GET embed/consent.js"]


def test_english_page_gets_english_texts(visit: Visit) -> None:
    page = visit.goto(lang="en-GB")
    page.get_by_role("heading", name="Cookies on uppsala.se").wait_for()
    assert page.get_by_role("button", name="Accept all").is_visible()
    root = page.locator("consent-banner div").first
    assert root.get_attribute("lang") == "en"
    assert root.get_attribute("dir") == "ltr"
    # Only the default language is inlined: English texts come from the policy document.
    assert visit.service_calls() == ["GET embed/consent.js", "GET api/v1/policy"]
    page.get_by_role("button", name="Only necessary").click()
    wait_for_choice(visit)
    assert visit.service.log()[-1]["language"] == "en"


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("sv-SE", "Kakor på uppsala.se"),
        ("de", "Kakor på uppsala.se"),
        ("", "Kakor på uppsala.se"),
        ("en", "Cookies on uppsala.se"),
    ],
)
def test_language_follows_the_page(visit: Visit, lang: str, title: str) -> None:
    page = visit.goto(lang=lang)
    page.get_by_role("heading", name=title).wait_for()


def test_a_third_language_written_right_to_left(visit: Visit, service_rtl: Service) -> None:
    page = visit.goto(lang="ar", service="rtl")
    page.get_by_role("heading", name="RTL cookies on uppsala.se").wait_for()
    root = page.locator("consent-banner div").first
    assert (root.get_attribute("lang"), root.get_attribute("dir")) == ("ar", "rtl")
    visit.settle()
    boxes = [
        page.get_by_role("button", name=n).bounding_box()
        for n in ("Accept all", "Only necessary", "Settings")
    ]
    assert boxes[0]["x"] > boxes[1]["x"] > boxes[2]["x"]  # type: ignore[index]  # mirrored
    visit.screenshot("first-layer-rtl")
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("switch", name="Statistics").check()
    page.get_by_role("button", name="Save choices").click()
    assert wait_for_choice(visit)["c"] == {"functional": False, "statistics": True}
    assert service_rtl.log()[-1]["language"] == "ar"


def test_global_privacy_control(visit_factory: Any) -> None:
    visit: Visit = visit_factory()
    visit.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    page = visit.goto()
    assert page.get_by_text("Global Privacy Control").is_visible()
    page.get_by_role("button", name="Acceptera alla").click()
    payload = wait_for_choice(visit)
    assert payload["c"] == {"functional": True, "statistics": False}
    page.wait_for_timeout(200)
    assert "statistics" not in visit.ran()

    # An explicit switch in the settings layer still counts.
    page.get_by_role("link", name="Kakinställningar").click()
    page.get_by_role("switch", name="Statistik").check()
    page.get_by_role("button", name="Spara val").click()
    page.wait_for_function("window.Consent.get().choices.statistics === true")
    assert visit.payload()["c"] == {"functional": True, "statistics": True}  # type: ignore[index]


def test_script_api_and_queue(visit_factory: Any) -> None:
    visit: Visit = visit_factory()
    # Calls queued before the banner loaded are replayed.
    visit.context.add_init_script(
        "window.Consent = [['set', {functional: true, statistics: false}]];"
        "document.addEventListener('consent:track',"
        " e => (window.tracked = window.tracked || []).push(e.detail));"
    )
    page = visit.goto()
    payload = wait_for_choice(visit)
    assert payload["c"] == {"functional": True, "statistics": False}
    assert page.evaluate("Consent.get()") == {
        "consent_id": payload["id"],
        "choices": {**ALL, "statistics": False},
        "policy_version": visit.service.version,
    }
    page.evaluate("Consent.track('search', {q: 'bygglov'})")
    assert page.evaluate("window.tracked") is None  # no statistics consent: nothing tracked

    page.evaluate("Consent.set({functional: true, statistics: true})")
    page.wait_for_function("Consent.get().choices.statistics")
    page.evaluate("Consent.track('search', {q: 'bygglov'})")
    assert page.evaluate("window.tracked") == [{"name": "search", "props": {"q": "bygglov"}}]

    page.evaluate("Consent.withdraw()")
    page.wait_for_function("!document.cookie.includes('consent=')")
    assert page.evaluate("Consent.get()") is None


def test_strict_host_csp(visit: Visit) -> None:
    """No unsafe-inline anywhere: styles are adopted, gated scripts run with the page's nonce."""
    violations: list[str] = []
    visit.page.on(
        "console", lambda m: "Content Security Policy" in m.text and violations.append(m.text)
    )
    page = visit.goto(csp="1")
    button = page.get_by_role("button", name="Acceptera alla")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 78, 121)"
    button.click()
    wait_for_choice(visit)
    visit.wait("window.ran.statistics_src === 1 && window.ran.functional_src === 1")
    assert visit.ran()["statistics"] == 1 and visit.ran()["functional"] == 1
    assert violations == []


@pytest.mark.parametrize("constructable", [True, False])
def test_strict_host_csp_and_style_fallback(visit_factory: Any, constructable: bool) -> None:
    """Without constructable stylesheets the styles go in a <style> with the script's nonce."""
    visit: Visit = visit_factory()
    if not constructable:
        visit.context.add_init_script("delete CSSStyleSheet.prototype.replaceSync")
    violations: list[str] = []
    visit.page.on(
        "console", lambda m: "Content Security Policy" in m.text and violations.append(m.text)
    )
    page = visit.goto(csp="1")
    button = page.get_by_role("button", name="Acceptera alla")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 78, 121)"
    assert page.locator("consent-banner style").count() == (0 if constructable else 1)
    assert violations == []


def test_host_page_theme_and_stray_styles(visit: Visit) -> None:
    page = visit.goto(theme="1")
    button = page.get_by_role("button", name="Acceptera alla")
    style = button.evaluate(
        "b => { const s = getComputedStyle(b), p = getComputedStyle(b.closest('dialog')"
        ".querySelector('p')); return [s.backgroundColor, s.textTransform, p.textAlign,"
        " p.letterSpacing, p.color, p.lineHeight, p.fontFamily] }"
    )
    # The custom property themes it; the page's own rules for body, p and button do not leak in.
    assert style[:2] == ["rgb(92, 15, 46)", "none"]
    assert style[2] in {"start", "left"} and style[3] == "normal"
    assert style[4] == "rgb(27, 27, 27)" and style[5] == "24px"
    assert style[6] == page.evaluate("getComputedStyle(document.body).fontFamily")


def test_bundle_fits_the_size_budget(service: Service) -> None:
    status, body = service.request("GET", "/embed/consent.js")
    assert status == 200
    assert b"__CONSENT_CONFIG__" not in body
    assert json.dumps("Acceptera alla", ensure_ascii=False).encode() in body
    size = len(gzip.compress(body, 9))
    assert size <= 6000, f"consent.js as served is {size} B gzip -9, over the 6000 B budget"


def test_withdrawal_says_in_which_language_and_from_where(visit: Visit) -> None:
    """DELETE carries {language, request_id, source}: the log records the banner's language."""
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    wait_for_choice(visit)

    page.get_by_role("button", name="Återkalla samtycke till kakor").click()
    page.wait_for_function("!document.cookie.includes('consent=')")
    (delete,) = [r for r in visit.requests if r.method == "DELETE"]
    assert delete.headers["content-type"] == "application/json"
    body = json.loads(delete.post_data)
    assert set(body) == {"language", "request_id", "source"}
    assert (body["language"], body["source"]) == ("sv", "banner")
    assert len(body["request_id"]) == 36 and body["request_id"].count("-") == 4

    # From the settings layer of an English page: its language and "settings".
    visit.requests.clear()
    page = visit.goto(lang="en")
    page.get_by_role("button", name="Only necessary").click()
    wait_for_choice(visit)
    page.get_by_role("link", name="Kakinställningar").click()
    page.get_by_role("button", name="Withdraw consent", exact=True).click()
    page.wait_for_function("!document.cookie.includes('consent=')")
    (delete,) = [r for r in visit.requests if r.method == "DELETE"]
    body = json.loads(delete.post_data)
    assert (body["language"], body["source"]) == ("en", "settings")
    entry = visit.service.log()[-1]
    assert (entry["action"], entry["language"], entry["source"]) == ("withdraw", "en", "settings")
    assert entry["request_id"] == body["request_id"]
