"""The team's mail and the archive file in Chromium, with a real SMTP server (aiosmtpd): a team
member chooses a daily digest on Mina aviseringar by keyboard, a citizen sends an idea from
the widget in easy Swedish (lättläst) and gets a receipt, the digest goes out with the idea,
and the idea's archive file is downloaded and opened on its own. Axe on every page, 320 px."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from axe_playwright_python.sync_playwright import Axe
from werkzeug.wrappers import Request, Response

from tests.browser.conftest import PAGE_HOST, SCREENSHOTS, start_service
from tests.browser.test_ideas_widget import BUNDLE, ROOT, WCAG
from tests.helpers.browser import page_that_records_errors
from tests.helpers.servers import ServerThread, free_port
from tests.helpers.smtp import Mailbox
from tests.helpers.staff import PASSWORD, make_staff

pytestmark = pytest.mark.browser


class EasyHostPage:
    """www.uppsala.test/lattlast: the widget with data-language="sv-lattlast"."""

    def __init__(self) -> None:
        self.service_url = ""
        self.thread = ServerThread(self)

    @property
    def url(self) -> str:
        return f"http://{PAGE_HOST}:{self.thread.port}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if Request(environ).path != "/lattlast":
            return Response("", status=204)(environ, start_response)
        html = f"""<!doctype html>
<html lang="sv"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Lämna en idé</title>
<script src="{self.service_url}/embed/ideas.js" defer></script></head>
<body><main><h1>Lämna en idé</h1>
<div data-idea-widget data-topic="lattlast" data-language="sv-lattlast"></div>
</main></body></html>"""
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' {self.service_url}; style-src 'self'; "
            f"connect-src 'self' {self.service_url}"
        )
        return response(environ, start_response)


@dataclass
class Setup:
    url: str
    app: Any
    host: EasyHostPage
    box: Mailbox


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    from tests.browser.conftest import ensure_bundle

    ensure_bundle()
    if not BUNDLE.exists():
        import subprocess

        subprocess.run(["node", "build.mjs"], cwd=ROOT / "widget", check=True)
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    host = EasyHostPage()
    service = start_service(
        tmp_path_factory.mktemp("team-mail"),
        host.url,
        IDEAS_MIN_FILL_SECONDS=0,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_SECURITY="none",
        SMTP_FROM="Innovationsteamet <innovation@uppsala.test>",
    )
    host.service_url = service.url
    from consent_service.admin.models import Role

    make_staff(service.app, "tova", Role.INNOVATION)
    yield Setup(service.url, service.app, host, box)
    service.stop()
    host.thread.stop()
    controller.stop()


def axe(page: Any, state: str) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, (state, results.generate_report())


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def signed_in(browser: Any, setup: Setup) -> Any:
    context = browser.new_context(accept_downloads=True)
    page = page_that_records_errors(context)
    page.goto(setup.url + "/admin/sign-in")
    page.get_by_label("Användarnamn").fill("tova")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(setup.url + "/admin/")
    return page


def test_digest_from_settings_to_the_mail_server(browser: Any, setup: Setup) -> None:
    page = signed_in(browser, setup)
    menu = page.get_by_role("navigation", name="Administration")
    menu.get_by_role("link", name="Mina aviseringar").click()
    page.get_by_role("heading", name="Mina aviseringar").wait_for()
    axe(page, "settings, empty")

    # Keyboard only: the address, the daily digest (arrow keys in the radio group), mentions.
    page.get_by_label("Din e-postadress").focus()
    page.keyboard.type("tova@uppsala.test")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    assert page.get_by_label("Varje dag").is_checked()
    page.get_by_label("Skicka e-post när någon gör mig till ägare").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Spara").focus()
    page.keyboard.press("Enter")
    page.get_by_text("Dina aviseringar är sparade.").wait_for()
    axe(page, "settings, saved")
    screenshot(page, "ideas-mail-settings")

    # An address the browser lets through but the service does not (no top-level domain):
    # told why, above the form, nothing saved.
    page.get_by_label("Din e-postadress").fill("tova@intranat")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("alert").get_by_text("Skriv en e-postadress").wait_for()
    axe(page, "settings, refused")
    page.set_viewport_size({"width": 320, "height": 800})
    assert no_horizontal_scroll(page)
    screenshot(page, "ideas-mail-settings-320")
    assert page.errors == []

    # A citizen sends an idea from the widget in easy Swedish and gives an address.
    citizen = page_that_records_errors(browser.new_context())
    citizen.goto(setup.host.url + "/lattlast")
    widget = citizen.locator("[data-idea-widget]")
    widget.get_by_text("Har du en idé? Berätta för oss.").wait_for()
    widget.get_by_label("Vad vill du ändra?").fill("Ring 070-123 45 67 om fler bänkar")
    widget.get_by_label("Berätta om din idé").fill("Det behövs fler bänkar vid ån.")
    widget.get_by_label("Vad handlar idén om?").select_option("trafik")
    widget.get_by_label("Din e-post").fill("ada@example.se")
    widget.get_by_label("Ja, ni får skicka e-post till mig om idén").check()
    axe(citizen, "widget in easy Swedish")
    screenshot(citizen, "ideas-widget-lattlast")
    widget.get_by_role("button", name="Skicka").click()
    widget.get_by_text("Tack för din idé!").wait_for()
    reference = widget.locator("strong").first.inner_text().strip()
    assert reference.startswith("IDE-")
    assert citizen.errors == []

    # The receipt went out after the answer; the digest next morning lists the idea, masked.
    receipt = setup.box.wait_for("ada@example.se")
    assert reference in receipt["Subject"] and "/ideas/status/" in receipt.get_content()
    from consent_service.ideas import notify

    with setup.app.test_request_context(base_url=setup.url):
        run = notify.send_digests(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert run.sent == 1
    (digest,) = setup.box.to("tova@uppsala.test")
    text = digest.get_content()
    assert reference in text and "[telefonnummer borttaget]" in text and "070-123" not in text
    assert f"{setup.url}/admin/ideas/{reference}" in text


def test_the_archive_file_downloads_and_stands_alone(
    browser: Any, setup: Setup, tmp_path: Path
) -> None:
    from tests.browser.test_ideas_widget import IdeaService, post_idea

    service = IdeaService(setup.url, Path(), None, setup.app)  # type: ignore[arg-type]
    reference = post_idea(
        service, title="Lekplats i Gottsunda", body="Gärna gungor.", area="trafik"
    )["reference"]
    page = signed_in(browser, setup)
    page.goto(f"{setup.url}/admin/ideas/{reference}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Ladda ner arkivfil för diariet").click()
    download = info.value
    assert download.suggested_filename == f"{reference}-arkiv.html"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    # Opened on its own, as from the diary: nothing is loaded besides the file itself (it has
    # no script; axe needs JavaScript on, so the page keeps it).
    viewer = page_that_records_errors(browser.new_context())
    requested: list[str] = []
    viewer.on("request", lambda r: requested.append(r.url))
    viewer.goto(path.as_uri())
    viewer.get_by_role("heading", name=f"Idé {reference}").wait_for()
    assert requested == [path.as_uri()]
    assert viewer.get_by_text("Lekplats i Gottsunda").count() == 1
    assert viewer.get_by_role("cell", name="Idén kom in").count() == 1
    axe(viewer, "archive file")
    screenshot(viewer, "ideas-archive-file")
    viewer.set_viewport_size({"width": 320, "height": 800})
    assert no_horizontal_scroll(viewer)
    viewer.emulate_media(media="print")
    screenshot(viewer, "ideas-archive-file-print-320")
