"""`<div data-consent-declaration>` on a host page: the published declarations as a table in
the page's language, from GET /api/v1/policy (fetched only when a page has one)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.conftest import Service, Visit
from tests.browser.test_banner_accessibility import assert_no_axe_violations
from tests.browser.test_banner_choices import wait_for_choice
from tests.browser.test_banner_embeds import embeds_page, provider, service_embeds  # noqa: F401

pytestmark = pytest.mark.browser


def published(service: Service, lang: str) -> dict[str, Any]:
    status, body = service.request("GET", "/api/v1/policy")
    assert status == 200
    return json.loads(body)["texts"][lang]  # type: ignore[no-any-return]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_table_shows_the_published_declarations(
    visit: Visit,
    embeds_page: dict[str, str],  # noqa: F811
    service_embeds: Service,  # noqa: F811
    lang: str,
) -> None:
    texts = published(service_embeds, lang)
    page = visit.goto(service="embeds", embeds="1", table="1", lang=lang)
    table = page.get_by_role("table", name=texts["title"])
    table.wait_for()
    assert table.get_attribute("lang") == lang
    headers = table.locator("thead th")
    assert headers.all_inner_texts() == [
        texts[f"cookie_{f}"] for f in ("name", "provider", "purpose", "lifetime")
    ]
    assert {h.get_attribute("scope") for h in headers.all()} == {"col"}
    groups = table.locator("tbody th[scope=rowgroup]").all_inner_texts()
    categories = ("necessary", "functional", "statistics")
    assert groups == [texts["categories"][k]["label"] for k in categories]
    rows = table.locator("tbody tr:has(th[scope=row])")
    assert rows.count() == len(texts["cookies"])
    film = texts["cookies"][-1]
    # A declaration's storage keys are listed with its name.
    row = rows.filter(has_text="vid_*")
    assert row.locator("th").inner_text() == "vid_*, vid_state, vidcache*"
    assert row.locator("td").all_inner_texts() == [
        film["provider"],
        film["purpose"],
        film["lifetime"],
    ]
    page.get_by_role("button", name=texts["necessary_only"]).click()
    wait_for_choice(visit)
    assert_no_axe_violations(visit, f"declaration table ({lang})")
    if lang == "sv":
        table.scroll_into_view_if_needed()
        visit.screenshot("declaration-table")


def test_no_table_no_request(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Endast nödvändiga").click()
    wait_for_choice(visit)
    visit.goto()
    page.wait_for_timeout(300)
    assert set(visit.service_calls()) <= {"GET embed/consent.js"}


def test_settings_list_storage_keys_with_the_cookie(
    visit: Visit,
    service_embeds: Service,  # noqa: F811
) -> None:
    page = visit.goto(service="embeds")
    page.get_by_role("button", name="Inställningar").click()
    functional = page.locator("consent-banner summary").nth(1)
    functional.click()
    assert page.get_by_text("vid_*, vid_state, vidcache*", exact=True).is_visible()
    # And on the settings page that works without JavaScript.
    status, body = service_embeds.request("GET", "/consent")
    assert status == 200
    assert "<code>vid_*</code>, <code>vid_state</code>, <code>vidcache*</code>" in body.decode()
