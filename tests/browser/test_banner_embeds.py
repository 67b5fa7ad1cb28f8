"""Gated embeds: `<iframe|img data-consent=... data-src=...>` load nothing from their provider
until the category is granted; until then an accessible placeholder stands in their place.

The provider is a third party on another site (www.video.test, karta.video.test), so every
request to it is visible in the browser's request log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from tests.browser.conftest import (
    POLICY,
    HostSite,
    ServerThread,
    Service,
    Visit,
    start_service,
)
from tests.browser.test_banner_accessibility import assert_no_axe_violations
from tests.browser.test_banner_choices import wait_for_choice
from tests.helpers.browser import until

pytestmark = pytest.mark.browser

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)

# The film service's declaration: its host names the provider of an embed from it; its
# cookies and storage keys are cleared on refusal (`*` ends a prefix).
DECLARATION = """
[[cookies]]
name = "vid_*"
category = "functional"
provider = "Filmtjänsten"
hosts = ["video.test"]
storage = ["vid_state", "vidcache*"]
purpose = { sv = "Kommer ihåg var du var i filmen.", en = "Remembers where you were in the film." }
lifetime = { sv = "1 år", en = "1 year" }
"""


def policy_with_embeds() -> str:
    return POLICY.read_text(encoding="utf-8") + DECLARATION


@pytest.fixture(scope="session")
def provider() -> Iterator[ServerThread]:
    """The third party: a film page for the iframe and a map image."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/film":
            response = Response(
                "<!doctype html><title>Film</title><p>Film</p>", mimetype="text/html"
            )
        elif request.path == "/karta.png":
            response = Response(PNG, mimetype="image/png")
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def service_embeds(
    service: Service, host_site: HostSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("service-embeds")
    policy = tmp / "policy.toml"
    policy.write_text(policy_with_embeds(), encoding="utf-8")
    svc = start_service(tmp, host_site.url, policy)
    host_site.services["embeds"] = svc.url
    yield svc
    svc.stop()


@pytest.fixture
def embeds_page(
    host_site: HostSite,
    service_embeds: Service,
    provider: ServerThread,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """www.uppsala.test/page?embeds: a film (iframe) and a map (img) behind `functional`."""
    page_of_site = host_site.page
    film = f"http://www.video.test:{provider.port}/film"
    karta = f"http://karta.video.test:{provider.port}/karta.png"

    def page(query: dict[str, list[str]]) -> Response:
        if "embeds" not in query:
            return page_of_site(query)
        lang = query.get("lang", ["sv"])[0]
        csp = "csp" in query
        nonce = ' nonce="n0nce-for-tests"' if csp else ""
        table = "<h2>Kakor</h2><div data-consent-declaration></div>" if "table" in query else ""
        if "hidden" in query:  # an embed in a closed <details>, without width and height
            table += (
                f'<details><summary>Mer film</summary><iframe data-consent="functional"'
                f' data-src="{film}?2" title="Film i en flik"></iframe></details>'
            )
        html = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sortera avfall</title>
<style{nonce}>body {{ margin: 1rem; font-family: sans-serif }}
iframe, img {{ max-width: 100%; box-sizing: border-box }}</style>
<script src="{service_embeds.url}/embed/consent.js" defer{nonce}></script>
</head>
<body>
<main>
<h1>Sortera avfall</h1>
<p>Se filmen om hur du sorterar.</p>
<iframe data-consent="functional" data-src="{film}" title="Film: Så sorterar du"
 width="560" height="315"></iframe>
<p>Återvinningscentralerna på kartan.</p>
<img data-consent="functional" data-src="{karta}" data-provider="Kartbolaget"
 alt="Karta över återvinningscentraler" width="400" height="300">
{table}
</main>
<footer>
<button type="button" data-consent-open>Kakinställningar</button>
<button type="button" data-consent-withdraw>Återkalla samtycke till kakor</button>
</footer>
</body>
</html>"""
        response = Response(html, mimetype="text/html")
        if csp:
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; script-src 'self' 'nonce-n0nce-for-tests' "
                f"{service_embeds.url}; style-src 'self' 'nonce-n0nce-for-tests'; "
                f"connect-src 'self' {service_embeds.url}; "
                f"img-src 'self' http://karta.video.test:{provider.port}; "
                f"frame-src http://www.video.test:{provider.port}"
            )
        return response

    monkeypatch.setattr(host_site, "page", page)
    yield {"film": film, "karta": karta}


def third_party(visit: Visit) -> list[str]:
    """Start logging the page's requests to the provider's site; returns the live list."""
    seen: list[str] = []

    def log(request: Any) -> None:
        if "video.test" in request.url:
            seen.append(request.url)

    visit.page.on("request", log)
    return seen


def holders(visit: Visit) -> Any:
    return visit.page.locator("consent-embed")


def only_necessary(visit: Visit, **params: str) -> Any:
    page = visit.goto(service="embeds", embeds="1", **params)
    page.get_by_role("button", name="Endast nödvändiga").click()
    wait_for_choice(visit)
    holders(visit).nth(1).wait_for()
    return page


def box(locator: Any) -> tuple[float, float, float, float]:
    b = locator.bounding_box()
    assert b is not None
    return (round(b["x"]), round(b["y"]), round(b["width"]), round(b["height"]))


@pytest.mark.parametrize("width", [1280, 320])
def test_nothing_loads_before_consent_and_a_placeholder_stands_in(
    visit_factory: Any, embeds_page: dict[str, str], service_embeds: Service, width: int
) -> None:
    visit: Visit = visit_factory(viewport={"width": width, "height": 900})
    seen = third_party(visit)
    page = visit.goto(service="embeds", embeds="1")
    holders(visit).nth(1).wait_for()  # also behind the banner of a first visit
    assert seen == []
    assert page.locator("iframe, img").count() == 0  # out of the page until loaded
    page.get_by_role("button", name="Endast nödvändiga").click()
    wait_for_choice(visit)
    page.wait_for_timeout(300)
    assert seen == []

    film, karta = holders(visit).nth(0), holders(visit).nth(1)
    # As large as the embed (its width and height, within the page's max-width: 100%).
    assert box(film)[2:] == ((560, 315) if width > 600 else (width - 32, 315))
    assert box(karta)[2:] == ((400, 300) if width > 600 else (width - 32, 300))
    # Named, with the provider from the declaration (film) or data-provider (map).
    group = film.get_by_role("group", name="Film: Så sorterar du")
    assert "Innehållet kommer från Filmtjänsten." in group.inner_text()
    assert "kan Filmtjänsten sätta kakor" in group.inner_text()
    assert (
        "Innehållet kommer från Kartbolaget."
        in karta.get_by_role("group", name="Karta över återvinningscentraler").inner_text()
    )
    for holder in (film, karta):
        assert holder.get_by_role("button", name="Visa den här gången").is_visible()
        assert holder.get_by_role("button", name="Tillåt funktionella kakor").is_visible()
    # Nothing sticks out of the page at 320 px.
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert_no_axe_violations(visit, f"placeholders at {width} px")
    visit.screenshot(f"embed-placeholder-{'desktop' if width > 600 else '320'}")
    assert seen == [] and visit.errors == []


def test_show_this_time_loads_one_embed_and_records_nothing(
    visit: Visit, embeds_page: dict[str, str], service_embeds: Service
) -> None:
    seen = third_party(visit)
    page = only_necessary(visit)
    logged = len(service_embeds.log())
    film = holders(visit).nth(0)
    before = box(film)
    film.get_by_role("button", name="Visa den här gången").click()
    iframe = page.locator("iframe")
    visit.wait("document.querySelector('iframe')?.src")
    assert iframe.get_attribute("src") == embeds_page["film"]
    page.frame_locator("iframe").get_by_text("Film").wait_for()
    assert seen == [embeds_page["film"]]
    assert box(iframe) == before  # nothing moved
    assert iframe.evaluate("e => document.activeElement === e")  # focus stays there
    # The map still waits; nothing was recorded; the choice is unchanged.
    assert holders(visit).count() == 1
    page.wait_for_timeout(200)
    assert len(service_embeds.log()) == logged
    assert visit.payload()["c"] == {"functional": False, "statistics": False}  # type: ignore[index]

    # This time only: the next page shows the placeholder again.
    seen.clear()
    visit.goto(service="embeds", embeds="1")
    holders(visit).nth(1).wait_for()
    page.wait_for_timeout(200)
    assert seen == []


def test_allow_grants_the_category_through_the_log_and_loads_all(
    visit: Visit, embeds_page: dict[str, str], service_embeds: Service
) -> None:
    seen = third_party(visit)
    page = only_necessary(visit)
    holders(visit).nth(0).get_by_role("button", name="Tillåt funktionella kakor").click()
    visit.wait("window.Consent.get()?.choices.functional")
    entry = service_embeds.log()[-1]
    assert (entry["functional"], entry["statistics"], entry["language"]) == (1, 0, "sv")
    visit.wait("document.querySelectorAll('iframe[src], img[src]').length === 2")
    assert holders(visit).count() == 0
    assert page.locator("iframe").evaluate("e => document.activeElement === e")  # focus moved
    assert sorted(seen) == sorted(embeds_page.values())
    visit.wait("document.querySelector('img').naturalWidth === 1")  # the map has loaded

    # A returning visitor who granted it: loaded at once, no request to the service.
    seen.clear()
    page = visit.goto(service="embeds", embeds="1")
    visit.wait("document.querySelectorAll('iframe[src], img[src]').length === 2")
    page.wait_for_timeout(200)
    assert set(visit.service_calls()) <= {"GET embed/consent.js"}
    assert holders(visit).count() == 0
    assert visit.errors == []


def test_withdrawal_unloads_the_embeds(
    visit: Visit, embeds_page: dict[str, str], service_embeds: Service
) -> None:
    seen = third_party(visit)
    page = visit.goto(service="embeds", embeds="1")
    page.get_by_role("button", name="Acceptera alla").click()
    wait_for_choice(visit)
    visit.wait("document.querySelectorAll('iframe[src], img[src]').length === 2")
    iframe_box = box(page.locator("iframe"))

    page.get_by_role("button", name="Återkalla samtycke till kakor").click()
    holders(visit).nth(1).wait_for()
    assert page.locator("iframe, img").count() == 0
    assert box(holders(visit).nth(0))[2:] == iframe_box[2:]  # the footer's button scrolled
    # The page unloads at once; the withdrawal reaches the service just after.
    until(lambda: service_embeds.log()[-1]["action"] == "withdraw")

    # Shown this time, then withdrawn: unloaded too.
    holders(visit).nth(0).get_by_role("button", name="Visa den här gången").click()
    visit.wait("document.querySelector('iframe')?.src")
    seen.clear()
    page.evaluate("Consent.withdraw()")
    holders(visit).nth(1).wait_for()
    visit.wait("document.querySelectorAll('consent-embed').length === 2")
    assert page.locator("iframe").count() == 0


def test_placeholders_by_keyboard_under_a_strict_csp(
    visit: Visit, embeds_page: dict[str, str], service_embeds: Service
) -> None:
    messages: list[str] = []
    visit.page.on("console", lambda m: messages.append(m.text))
    seen = third_party(visit)
    page = only_necessary(visit, csp="1")
    film = holders(visit).nth(0)
    button = film.get_by_role("button", name="Visa den här gången")
    # Styled through its own adopted stylesheet: no inline style, no unsafe-inline.
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 78, 121)"
    assert film.evaluate("e => getComputedStyle(e).height") == "315px"
    assert page.locator("[style]").count() == 0

    # Tab from the heading reaches the film's two buttons, then the map's.
    page.locator("h1").evaluate("h => { h.tabIndex = -1; h.focus() }")
    names = []
    for _ in range(4):
        page.keyboard.press("Tab")
        names.append(page.evaluate("document.activeElement.shadowRoot?.activeElement?.textContent"))
    assert names == ["Visa den här gången", "Tillåt funktionella kakor"] * 2
    outline = page.evaluate(
        "getComputedStyle(document.activeElement.shadowRoot.activeElement).outlineStyle"
    )
    assert outline == "solid"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # the map's "show this time"
    visit.wait("document.querySelector('img')?.complete")
    assert seen == [embeds_page["karta"]]
    assert not [m for m in messages if "Content Security Policy" in m]
    assert visit.errors == []


def test_an_embed_hidden_in_a_closed_details(
    visit: Visit, embeds_page: dict[str, str], service_embeds: Service
) -> None:
    seen = third_party(visit)
    page = only_necessary(visit, hidden="1")
    holders(visit).nth(2).wait_for(state="attached")
    page.get_by_text("Mer film").click()
    holder = page.locator("details consent-embed")
    once = holder.get_by_role("button", name="Visa den här gången")
    assert once.is_visible()
    width, height = box(holder)[2:]
    assert width == 304 and height > 154  # the iframe's default border box, grown
    # An iframe's default box (300 x 150) is too small for the notice: the box grows.
    assert holder.evaluate("e => e.scrollHeight <= e.clientHeight")
    assert seen == []
    once.click()
    visit.wait("document.querySelector('details iframe')?.src")
    assert seen == [embeds_page["film"] + "?2"]
