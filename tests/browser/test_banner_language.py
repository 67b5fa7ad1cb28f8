"""The banner's language switch: one button per policy language, named in that language;
switching re-renders the layer in it (texts from GET /api/v1/policy), sets `lang` and `dir`,
and a decision records the language the citizen chose."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Service, Visit
from tests.browser.test_banner_accessibility import assert_no_axe_violations, shadow_focus
from tests.browser.test_banner_choices import wait_for_choice

pytestmark = pytest.mark.browser


def root(visit: Visit) -> tuple[str | None, str | None]:
    box = visit.page.locator("consent-banner div").first
    return box.get_attribute("lang"), box.get_attribute("dir")


def test_switch_to_english_on_a_swedish_page_and_accept(visit: Visit) -> None:
    page = visit.goto()
    sv = page.get_by_role("button", name="På svenska")
    en = page.get_by_role("button", name="In English")
    assert (sv.get_attribute("lang"), sv.get_attribute("aria-pressed")) == ("sv", "true")
    assert (en.get_attribute("lang"), en.get_attribute("aria-pressed")) == ("en", "false")
    assert visit.service_calls() == ["GET embed/consent.js"]  # nothing fetched until asked

    en.click()
    page.get_by_role("heading", name="Cookies on uppsala.se").wait_for()
    assert root(visit) == ("en", "ltr")
    assert shadow_focus(visit) == "In English"  # focus stays on the switch
    assert page.get_by_role("button", name="In English").get_attribute("aria-pressed") == "true"
    assert "GET api/v1/policy" in visit.service_calls()
    assert_no_axe_violations(visit, "first layer switched to English")
    visit.screenshot("first-layer-switched-to-en")

    page.get_by_role("button", name="Accept all").click()
    wait_for_choice(visit)
    entry = visit.service.log()[-1]
    assert (entry["action"], entry["language"], entry["functional"]) == ("grant", "en", 1)


def test_switch_in_the_settings_layer_by_keyboard(visit: Visit) -> None:
    page = visit.goto(lang="en")
    page.get_by_role("button", name="Settings").click()
    page.get_by_role("heading", name="Cookie settings").wait_for()
    page.locator("consent-banner summary").first.wait_for()  # the declarations are here
    while shadow_focus(visit) != "På svenska":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Inställningar för kakor").wait_for()
    assert root(visit) == ("sv", "ltr")
    page.locator("consent-banner summary").first.click()
    assert page.get_by_text("Sparar ditt val om kakor.").is_visible()
    assert_no_axe_violations(visit, "settings layer switched to Swedish")
    page.get_by_role("switch", name="Statistik").check()
    page.get_by_role("button", name="Spara val").click()
    assert wait_for_choice(visit)["c"] == {"functional": False, "statistics": True}
    assert visit.service.log()[-1]["language"] == "sv"


def test_switch_to_a_right_to_left_language(visit: Visit, service_rtl: Service) -> None:
    page = visit.goto(service="rtl")
    buttons = page.locator("consent-banner .lang button")
    assert [b.get_attribute("lang") for b in buttons.all()] == ["sv", "en", "ar"]
    page.locator("consent-banner button[lang=ar]").click()
    page.get_by_role("heading", name="RTL cookies on uppsala.se").wait_for()
    assert root(visit) == ("ar", "rtl")
    page.get_by_role("button", name="Only necessary").click()
    wait_for_choice(visit)
    assert service_rtl.log()[-1]["language"] == "ar"
