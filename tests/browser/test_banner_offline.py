"""A choice made while the service cannot be reached is kept, applied conservatively and sent
again with the same request_id: never silently lost, never logged twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Visit

pytestmark = pytest.mark.browser

PENDING_TEXT = "Vi kunde inte nå servern."
ONLY_NECESSARY_RAN = {"necessary": 1, "necessary_src": 1}


def pending(visit: Visit) -> Any:
    return visit.page.evaluate("JSON.parse(localStorage.getItem('consent_pending'))")


def posts(visit: Visit) -> list[dict[str, Any]]:
    return [json.loads(r.post_data) for r in visit.requests if r.method == "POST"]


def fail_with(kind: str) -> Any:
    def handler(route: Any) -> None:
        if kind == "abort":
            route.abort("connectionrefused")
        else:
            route.fulfill(status=503, json={"error": "unavailable"}, headers=CORS)

    return handler


CORS: dict[str, str] = {}


@pytest.mark.parametrize("failure", ["abort", "503"])
def test_unreachable_service_keeps_the_choice_until_the_next_page(
    visit: Visit, failure: str
) -> None:
    page = visit.goto()
    CORS.update(
        {
            "Access-Control-Allow-Origin": visit.site.url,
            "Access-Control-Allow-Credentials": "true",
        }
    )
    page.route(f"{visit.service.api}/consent", fail_with(failure))
    page.get_by_role("button", name="Acceptera alla").click()

    expect(page.get_by_role("status")).to_contain_text(PENDING_TEXT)
    kept = pending(visit)
    assert kept["functional"] is True and kept["statistics"] is True
    assert kept["policy_version"] == visit.service.version
    assert len(kept["request_id"]) == 36
    # Applied as "necessary only" until the service confirms.
    assert visit.cookie() is None
    assert visit.ran() == ONLY_NECESSARY_RAN
    assert page.evaluate("Consent.get()") is None
    assert not visit.dialog().evaluate("d => d.open")
    assert visit.service.log() == [] or all(
        e["request_id"] != kept["request_id"] for e in visit.service.log()
    )

    page.unroute_all()
    visit.goto()
    visit.wait("window.Consent.get()?.consent_id")
    assert [p["request_id"] for p in posts(visit)] == [kept["request_id"]]
    assert pending(visit) is None
    assert visit.payload()["c"] == {"functional": True, "statistics": True}  # type: ignore[index]
    visit.wait("window.ran.statistics_src === 1")
    assert page.locator("consent-banner dialog[open]").count() == 0  # the choice was made
    logged = [e for e in visit.service.log() if e["request_id"] == kept["request_id"]]
    assert len(logged) == 1


def test_choice_is_sent_when_the_connection_returns(visit: Visit) -> None:
    page = visit.goto()
    visit.dialog().wait_for()
    visit.context.set_offline(True)
    page.get_by_role("button", name="Endast nödvändiga").click()
    expect(page.get_by_role("status")).to_contain_text(PENDING_TEXT)
    kept = pending(visit)

    visit.context.set_offline(False)  # fires `online`
    visit.wait("window.Consent.get()?.consent_id")
    assert pending(visit) is None
    assert posts(visit)[-1]["request_id"] == kept["request_id"]
    assert visit.payload()["c"] == {"functional": False, "statistics": False}  # type: ignore[index]


def test_a_lost_answer_is_retried_without_a_second_log_entry(visit: Visit) -> None:
    """The service stored the choice but the answer never arrived: the retry is a replay."""
    page = visit.goto()

    def lose_answer(route: Any) -> None:
        if route.request.method == "POST":
            # The request reaches the service ...
            status, _ = visit.service.request(
                "POST",
                "/api/v1/consent",
                body=route.request.post_data_buffer,
                headers={"Origin": visit.site.url, "Content-Type": "application/json"},
            )
            assert status == 201
            route.abort("connectionreset")  # ... but the page never hears back
        else:
            route.continue_()

    page.route(f"{visit.service.api}/consent", lose_answer)
    page.get_by_role("button", name="Inställningar").click()
    page.get_by_role("switch", name="Funktionella").check()
    page.get_by_role("button", name="Spara val").click()
    expect(page.get_by_role("status")).to_contain_text(PENDING_TEXT)
    kept = pending(visit)
    assert len([e for e in visit.service.log() if e["request_id"] == kept["request_id"]]) == 1

    page.unroute_all()
    page.evaluate("dispatchEvent(new Event('online'))")
    visit.wait("window.Consent.get()?.consent_id")
    logged = [e for e in visit.service.log() if e["request_id"] == kept["request_id"]]
    assert len(logged) == 1
    assert page.evaluate("Consent.get().consent_id") == logged[0]["consent_id"]
    assert visit.payload()["c"] == {"functional": True, "statistics": False}  # type: ignore[index]


def test_a_refused_choice_asks_again(visit: Visit) -> None:
    page = visit.goto()
    page.route(
        f"{visit.service.api}/consent",
        lambda route: route.fulfill(
            status=409,
            json={"error": "policy_outdated"},
            headers={
                "Access-Control-Allow-Origin": visit.site.url,
                "Access-Control-Allow-Credentials": "true",
            },
        ),
    )
    page.get_by_role("button", name="Acceptera alla").click()
    visit.wait("document.querySelector('consent-banner').shadowRoot.querySelector('dialog[open]')")
    assert pending(visit) is None  # dropped: the service will never take it
    assert visit.cookie() is None
    assert visit.ran() == ONLY_NECESSARY_RAN


def test_a_withdrawal_is_retried_with_the_same_request_id(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    visit.wait("window.Consent.get()?.consent_id && !localStorage.getItem('consent_pending')")
    consent_id = page.evaluate("Consent.get().consent_id")

    page.route(
        lambda url: url.split("?")[0] == f"{visit.service.api}/consent",
        lambda route: (
            route.abort("connectionrefused")
            if route.request.method == "DELETE"
            else route.continue_()
        ),
    )
    page.get_by_role("button", name="Återkalla samtycke till kakor").click()
    expect(page.get_by_role("status")).to_contain_text(PENDING_TEXT)
    kept = pending(visit)
    assert kept["withdraw"] is True
    assert (kept["language"], kept["source"]) == ("sv", "banner")
    assert page.evaluate("Consent.get()") is None  # in force at once, on this page

    page.unroute_all()
    page.evaluate("dispatchEvent(new Event('online'))")
    visit.wait("!localStorage.getItem('consent_pending')")
    deletes = [json.loads(r.post_data) for r in visit.requests if r.method == "DELETE"]
    assert len(deletes) == 2
    assert deletes[0] == deletes[1] == {
        "language": "sv", "request_id": kept["request_id"], "source": "banner",
    }  # fmt: skip
    page.wait_for_function("!document.cookie.includes('consent=')")
    logged = [e["action"] for e in visit.service.log() if e["consent_id"] == consent_id]
    assert logged == ["grant", "withdraw"]
