"""The idea widget in Chromium, embedded on www.uppsala.test and talking to
samtycke.uppsala.test, as in production: every state, keyboard only, axe-core on each."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from werkzeug.wrappers import Request, Response

from tests.browser.conftest import PAGE_HOST, SCREENSHOTS, SERVICE_HOST, start_service
from tests.helpers.servers import ServerThread
from tests.helpers.staff import PASSWORD, make_staff

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "consent_service" / "static" / "embed" / "ideas.js"
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@dataclass
class IdeaService:
    url: str
    db_path: Path
    thread: ServerThread
    app: Any

    def ideas(self) -> list[dict[str, Any]]:
        with sqlite3.connect(self.db_path) as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute(
                "SELECT reference, title, body, area, topic, page, language, stage, spam_reason"
                " FROM ideas ORDER BY id"
            ).fetchall()
        return [dict(r) for r in rows]

    def contact_of(self, reference: str) -> tuple[Any, ...] | None:
        with sqlite3.connect(self.db_path) as conn:
            row: tuple[Any, ...] | None = conn.execute(
                "SELECT c.name, c.email, c.contact_ok FROM idea_contacts c"
                " JOIN ideas i ON i.id = c.idea_id WHERE i.reference = ?",
                (reference,),
            ).fetchone()
        return row


class HostPage:
    """www.uppsala.test: `/ideas?lang=sv&csp=1&tracker=1&challenge=slug` embeds the widget."""

    def __init__(self) -> None:
        self.service_url = ""
        self.thread = ServerThread(self)

    @property
    def url(self) -> str:
        return f"http://{PAGE_HOST}:{self.thread.port}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        query = parse_qs(request.query_string.decode())
        if request.path == "/tracker.js":
            # Stands in for the banner's window.Consent: records what the widget tracks.
            body = "window.tracked=[];window.Consent={track:(n,p)=>window.tracked.push([n,p])};"
            response = Response(body, mimetype="text/javascript")
        elif request.path.startswith("/ideas"):
            response = self.page(query)
        else:
            response = Response("", status=204)  # /favicon.ico and the like
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)

    def page(self, query: dict[str, list[str]]) -> Response:
        lang = query.get("lang", ["sv"])[0]
        tracker = '<script src="/tracker.js"></script>' if "tracker" in query else ""
        # ?challenge=slug embeds the widget for a challenge (data-challenge).
        challenge = "".join(c for c in query.get("challenge", [""])[0] if c.isalnum() or c == "-")
        challenge_attr = f' data-challenge="{challenge}"' if challenge else ""
        html = f"""<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Uppsala kommun</title>{tracker}
<script src="{self.service_url}/embed/ideas.js" defer></script></head>
<body><main><h1>Förbättra Uppsala</h1>
<h2>Har du en idé?</h2>
<div data-idea-widget data-topic="trafik"{challenge_attr}></div>
</main></body></html>"""
        response = Response(html, mimetype="text/html")
        if "csp" in query:
            s = self.service_url
            response.headers["Content-Security-Policy"] = (
                f"default-src 'self'; script-src 'self' {s}; style-src 'self'; "
                f"connect-src 'self' {s}; img-src 'self'"
            )
        return response


@pytest.fixture(scope="session")
def host_page() -> Iterator[HostPage]:
    page = HostPage()
    yield page
    page.thread.stop()


@pytest.fixture(scope="session")
def idea_service(
    host_page: HostPage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IdeaService]:
    from tests.browser.conftest import ensure_bundle

    ensure_bundle()
    if not BUNDLE.exists():
        import subprocess

        subprocess.run(["node", "build.mjs"], cwd=ROOT / "widget", check=True)
    service = start_service(
        tmp_path_factory.mktemp("idea-service"),
        host_page.url,
        IDEAS_MIN_FILL_SECONDS=0,
        IDEAS_RATE_LIMIT=1000,
    )
    service.app.config["PUBLIC_URL"] = service.url
    host_page.service_url = service.url
    yield IdeaService(service.url, service.db_path, service.thread, service.app)
    service.stop()


class Citizen:
    def __init__(self, context: Any, host: HostPage, service: IdeaService) -> None:
        self.context, self.host, self.service = context, host, service
        self.page = context.new_page()
        self.page.set_default_timeout(5000)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on(
            "request",
            lambda r: (
                SERVICE_HOST in r.url
                and self.requests.append(
                    f"{r.method} {r.url.split(SERVICE_HOST)[1].split('/', 1)[1]}"
                )
            ),
        )

    def open(self, **params: str) -> Any:
        query = "&".join(f"{k}={v}" for k, v in {"lang": "sv", **params}.items())
        self.page.goto(f"{self.host.url}/ideas?{query}")
        self.widget("form").wait_for()
        return self.page

    def widget(self, selector: str) -> Any:
        return self.page.locator("[data-idea-widget]").locator(selector)

    def axe(self, state: str) -> None:
        results = Axe().run(self.page, options=WCAG)
        assert results.violations_count == 0, (state, results.generate_report())

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"ideas-{name}.png"), full_page=True)

    def active(self) -> str:
        """The id of the focused element inside the widget's shadow root."""
        return str(
            self.page.evaluate(
                "document.querySelector('[data-idea-widget]').shadowRoot.activeElement?.id || ''"
            )
        )


@pytest.fixture
def citizen(browser: Any, host_page: HostPage, idea_service: IdeaService) -> Iterator[Citizen]:
    context = browser.new_context()
    yield Citizen(context, host_page, idea_service)
    context.close()


def fill_valid(c: Citizen, title: str) -> None:
    c.widget("#title").fill(title)
    c.widget("#body").fill("Fler cykelställ vid Stora torget.\nDe som finns är alltid fulla.")
    c.widget("#area").select_option("trafik")


# --- tests ------------------------------------------------------------------------------------


def test_submit_from_another_host_of_the_site(citizen: Citizen) -> None:
    page = citizen.open(tracker="1")
    assert citizen.requests == ["GET embed/ideas.js"]  # nothing until the citizen starts
    citizen.axe("empty")
    citizen.screenshot("empty-sv")
    fill_valid(citizen, "Fler cykelställ")
    citizen.widget("#name").fill("Ada")
    citizen.widget("#email").fill("ada@example.se")
    citizen.widget("#contact_ok").check()
    citizen.widget("button[type=submit]").click()
    success = citizen.widget(".ok")
    success.wait_for()
    reference = citizen.widget(".ok strong").inner_text()
    assert reference.startswith("IDE-")
    assert (
        citizen.active() == ""
        and page.evaluate(
            "document.querySelector('[data-idea-widget]').shadowRoot.activeElement.className"
        )
        == "ok"
    )
    citizen.axe("success")
    citizen.screenshot("success-sv")
    (idea,) = [i for i in citizen.service.ideas() if i["reference"] == reference]
    assert idea["stage"] == "new" and idea["topic"] == "trafik" and idea["area"] == "trafik"
    assert idea["page"] == f"{citizen.host.url}/ideas"  # no query string
    assert idea["body"].endswith("alltid fulla.")
    assert citizen.service.contact_of(reference) == ("Ada", "ada@example.se", 1)
    assert citizen.context.cookies() == []  # the widget sets no cookie, anywhere
    assert [t[0] for t in page.evaluate("window.tracked")] == [
        "idea_shown", "idea_opened", "idea_started", "idea_submitted",
    ]  # fmt: skip
    assert citizen.errors == []

    # The status link opens the citizen's page on the service.
    with page.expect_navigation():
        citizen.widget(".ok a").click()
    assert reference in page.inner_text("h1")
    assert page.locator("[aria-current=step]").inner_text().startswith("Mottagen")
    citizen.axe("status page")
    citizen.screenshot("status-sv")
    page.get_by_role("button", name="Dra tillbaka idén").click()
    page.get_by_role("heading", name="Vill du dra tillbaka idén?").wait_for()
    citizen.axe("withdrawal confirmation")
    page.get_by_role("button", name="Ja, dra tillbaka idén").click()
    page.get_by_text("Du har dragit tillbaka idén.").wait_for()
    citizen.axe("status page after withdrawal")
    assert citizen.service.contact_of(reference) is None  # deleted with the withdrawal


def test_funnel_counts_the_form_as_opened_on_first_use(citizen: Citizen) -> None:
    """A page view shows the form; only focus or input in it counts as opening it."""
    page = citizen.open(tracker="1")

    def tracked() -> list[str]:
        return [t[0] for t in page.evaluate("window.tracked")]

    page.wait_for_timeout(200)
    assert page.evaluate("window.tracked") == [["idea_shown", {"topic": "trafik"}]]
    citizen.widget("#area").focus()
    assert tracked() == ["idea_shown", "idea_opened"]
    assert page.evaluate("window.tracked[1][1]") == {"topic": "trafik"}
    citizen.widget("#title").focus()  # once per form, however many fields
    assert tracked() == ["idea_shown", "idea_opened"]
    page.keyboard.type("Fler bänkar")
    assert tracked() == ["idea_shown", "idea_opened", "idea_started"]
    citizen.widget("#body").fill("Längs Fyrisån.")
    citizen.widget("#area").select_option("trafik")
    citizen.widget("button[type=submit]").click()
    citizen.widget(".ok").wait_for()
    citizen.widget(".ok button").click()  # "Send another idea": a new form
    citizen.widget("#title").wait_for()
    assert tracked()[-1] == "idea_submitted"
    citizen.widget("#title").fill("Fler soptunnor")
    assert tracked()[-3:] == ["idea_submitted", "idea_opened", "idea_started"]
    assert tracked().count("idea_shown") == 1


def test_keyboard_only_in_english(citizen: Citizen) -> None:
    page = citizen.open(lang="en")
    assert citizen.widget("label[for=title]").inner_text().startswith("What could be better?")
    page.keyboard.press("Tab")
    assert citizen.active() == "title"
    page.keyboard.type("Safer crossings")
    page.keyboard.press("Tab")
    page.keyboard.type("A zebra crossing near the school on Kungsgatan.")
    page.keyboard.press("Tab")
    assert citizen.active() == "area"
    page.keyboard.press("ArrowDown")  # the first area
    page.keyboard.press("Tab")
    assert citizen.active() == "name"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert citizen.active() == "contact_ok"  # the honeypot is not in the tab order
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    citizen.widget(".ok").wait_for()
    assert "Thank you for your idea!" in citizen.widget(".ok").inner_text()
    ideas = citizen.service.ideas()
    assert ideas[-1]["title"] == "Safer crossings" and ideas[-1]["language"] == "en"
    assert ideas[-1]["spam_reason"] is None
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Send another idea"
    citizen.widget("#title").wait_for()
    citizen.axe("empty, en")
    citizen.screenshot("empty-en")


def test_every_error_state_is_announced_and_linked(citizen: Citizen) -> None:
    page = citizen.open()
    citizen.widget("button[type=submit]").click()
    citizen.widget("[role=alert]").get_by_text("Formuläret har fel").wait_for()
    assert citizen.active() == "title"
    for field, message in [
        ("title", "Skriv vad som kan bli bättre."),
        ("body", "Beskriv din idé."),
        ("area", "Välj vilket område idén gäller."),
    ]:
        control = citizen.widget(f"#{field}")
        assert control.get_attribute("aria-invalid") == "true"
        assert f"{field}-e" in control.get_attribute("aria-describedby").split()
        assert citizen.widget(f"#{field}-e").inner_text() == message
    citizen.axe("errors")
    citizen.screenshot("errors-sv")

    citizen.widget("#title").fill("x" * 121)
    assert citizen.widget("#title-c").inner_text() == "1 tecken för mycket"
    assert citizen.widget("#title-e").inner_text() == "Skriv högst 120 tecken."
    citizen.widget("#title").fill("Kortare rubrik")
    assert citizen.widget("#title-e").inner_text() == ""
    assert citizen.widget("#title-c").inner_text() == "106 tecken kvar"
    citizen.widget("#body").fill("Text")
    citizen.widget("#area").select_option("kultur")
    citizen.widget("#email").fill("ada@example.se")
    citizen.widget("button[type=submit]").click()
    assert citizen.widget("#contact_ok-e").inner_text().startswith("Kryssa i rutan")
    assert citizen.active() == "contact_ok"
    citizen.widget("#email").fill("inte en adress")
    citizen.widget("#contact_ok").check()
    citizen.widget("button[type=submit]").click()
    assert citizen.widget("#email-e").inner_text() == "Skriv en e-postadress som namn@exempel.se."

    # The server's verdict lands on the same fields: an area the form never offered.
    citizen.widget("#email").fill("ada@example.se")
    page.evaluate(
        "document.querySelector('[data-idea-widget]').shadowRoot.querySelector('#area')"
        ".add(new Option('x', 'no-such-area', true, true))"
    )
    before = len(citizen.service.ideas())
    citizen.widget("button[type=submit]").click()
    citizen.widget("#area-e").get_by_text("Välj vilket område idén gäller.").wait_for()
    assert citizen.active() == "area"
    assert len(citizen.service.ideas()) == before
    # Chromium logs the expected 400 answer; nothing else may have gone wrong.
    assert [e for e in citizen.errors if "400 (BAD REQUEST)" not in e] == []


def test_sending_and_unreachable_states(citizen: Citizen) -> None:
    page = citizen.open()
    held: list[Any] = []
    page.route("**/api/v1/ideas", lambda route: held.append(route))
    fill_valid(citizen, "Medan det skickas")
    citizen.widget("button[type=submit]").click()
    citizen.widget("[role=status]").get_by_text("Skickar idén").wait_for()
    assert citizen.widget("button[type=submit]").get_attribute("aria-disabled") == "true"
    citizen.axe("sending")
    citizen.widget("button[type=submit]").click(force=True)  # a second press sends nothing
    held[0].abort()  # the network fails
    alert = citizen.widget("[role=alert]")
    alert.get_by_text("Vi kan inte nå idétjänsten just nu.").wait_for()
    assert len(held) == 1
    link = alert.locator("a")
    assert link.get_attribute("href").startswith(f"{citizen.service.url}/ideas/new?lang=sv")
    assert citizen.widget("#title").input_value() == "Medan det skickas"  # nothing lost
    citizen.axe("unreachable")
    citizen.screenshot("unreachable-sv")
    page.unroute("**/api/v1/ideas")
    citizen.widget("button[type=submit]").click()  # the same request_id, now delivered
    citizen.widget(".ok").wait_for()
    assert [i["title"] for i in citizen.service.ideas()].count("Medan det skickas") == 1


def test_strict_csp_and_320px_reflow(
    browser: Any, host_page: HostPage, idea_service: IdeaService
) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        citizen = Citizen(context, host_page, idea_service)
        page = citizen.open(csp="1")
        button = citizen.widget("button[type=submit]")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 73, 122)"
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        citizen.widget("#title").fill("W" * 120)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        citizen.axe("320px")
        citizen.screenshot("reflow-320")
        assert citizen.errors == []
    finally:
        context.close()


def test_nojs_fallback_page(citizen: Citizen) -> None:
    page = citizen.page
    page.goto(f"{citizen.service.url}/ideas/new?topic=trafik&lang=sv")
    citizen.axe("no-JS form")
    page.get_by_role("button", name="Skicka idén").click()
    # autofocus is applied at the next rendering opportunity; wait for it rather than race.
    expect(page.locator("#error-summary")).to_be_focused()
    citizen.axe("no-JS errors")
    citizen.screenshot("nojs-errors")
    page.get_by_label("Vad kan bli bättre?").fill("Utan JavaScript")
    page.get_by_label("Beskriv din idé").fill("Det går också bra.")
    page.get_by_label("Vilket område gäller det?").select_option("annat")
    page.get_by_role("button", name="Skicka idén").click()
    page.get_by_text("Tack! Vi har tagit emot din idé.").wait_for()
    assert citizen.service.ideas()[-1]["title"] == "Utan JavaScript"


# --- the innovation team's board --------------------------------------------------------------

XSS = '<img src=x onerror="window.__xss=1">'


def post_idea(service: IdeaService, **fields: Any) -> dict[str, Any]:
    """Submit through the API as a script would (no browser, no Origin)."""
    import json
    import urllib.request

    with urllib.request.urlopen(  # noqa: S310 - a fixed http URL of the test service
        service.url.replace(SERVICE_HOST, "127.0.0.1") + "/api/v1/ideas/form"
    ) as r:
        token = json.load(r)["form_token"]
    request = urllib.request.Request(  # noqa: S310 - as above
        service.url.replace(SERVICE_HOST, "127.0.0.1") + "/api/v1/ideas",
        data=json.dumps({"form_token": token, **fields}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as r:  # noqa: S310 - as above
        return dict(json.load(r))


def test_board_pages_are_accessible_and_hostile_text_stays_text(
    browser: Any, host_page: HostPage, idea_service: IdeaService
) -> None:
    from consent_service.admin.models import Role

    make_staff(idea_service.app, "innovator", Role.INNOVATION)
    hostile = post_idea(
        idea_service,
        title=XSS,
        body=f"<script>window.__xss=1</script>\n{XSS}",
        area="kultur",
        topic="<svg onload=window.__xss=1>",
        page="https://www.uppsala.test/<script>window.__xss=1</script>",
        name=XSS,
        email="x'onload=window.__xss=1@example.se",  # one address: no <>, quotes or spaces
        contact_ok=True,
    )
    calm = post_idea(idea_service, title="Läsfrämjande i skolan", body="Bokcirklar.", area="skola")
    context = browser.new_context()
    try:
        c = Citizen(context, host_page, idea_service)
        page = c.page
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        base = idea_service.url + "/admin"
        page.goto(base + "/sign-in")
        page.get_by_label("Användarnamn").fill("innovator")
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_url(base + "/")

        ref = hostile["reference"]
        # The team's own additions, typed into the board's forms.
        page.goto(f"{base}/ideas/{ref}")
        page.get_by_label("Ny tagg").fill("<b onmouseover=window.__xss=1>t</b>")
        page.get_by_role("button", name="Lägg till tagg").click()
        page.get_by_label("Ny anteckning (bara för teamet)").fill(XSS)
        page.get_by_role("button", name="Spara anteckning").click()
        page.get_by_label("Nytt publikt meddelande", exact=False).fill(XSS)
        page.get_by_role("button", name="Publicera").click()
        page.get_by_text("Meddelandet är publicerat").wait_for()

        for path, name in [
            ("/ideas", "inbox"),
            ("/ideas/board", "board"),
            (f"/ideas/{ref}", "idea"),
            ("/ideas/spam", "spam"),
            ("/ideas/list?stage=new", "list"),
            ("/ideas/portfolio", "portfolio"),
            ("/ideas/evaluation", "evaluation"),
        ]:
            page.goto(base + path)
            page.mouse.move(10, 10)
            c.axe(name)
            c.screenshot(f"board-{name}")
            assert page.evaluate("window.__xss") is None, name

        # Move an idea by keyboard on the board: focus its "next stage" button, press Enter.
        page.goto(base + "/ideas/board")
        page.goto(base + "/ideas")
        page.get_by_role("button", name=re.compile(f"Till Ringa in.*{calm['reference']}")).focus()
        page.keyboard.press("Enter")
        page.get_by_text(f"{calm['reference']} flyttades till Ringa in.").wait_for()
        page.goto(base + "/ideas/board")
        column = page.locator("section", has=page.locator("#col-ringa_in"))
        assert calm["reference"] in column.inner_text()
        page.get_by_role(
            "button", name=re.compile(f"Undersöka.*flytta {calm['reference']} framåt")
        ).focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/ideas/board#idea-{calm['reference']}")
        column = page.locator("section", has=page.locator("#col-undersoka"))
        assert calm["reference"] in column.inner_text()
        c.axe("board after a move")
        c.screenshot("board-after-move")

        # The citizen's status page shows the public message as text, never as markup.
        page.goto(hostile["status_url"])
        c.axe("hostile status page")
        assert XSS in page.inner_text("body")
        assert page.evaluate("window.__xss") is None and dialogs == []
    finally:
        context.close()
