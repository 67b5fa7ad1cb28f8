"""The editor's whole path in real Chromium: draft → preview → approval by another person →
publish → a returning citizen is asked again, and the log holds the new text. Every page of
the editor passes axe (WCAG 2.1 A/AA), shows no script or CSP errors and reflows at 320 px."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from consent_service.audit.models import ConsentEntry, PolicyText
from consent_service.db import db
from tests.browser.test_staff_pages import check_page
from tests.conftest import POLICY_VERSION, make_app
from tests.helpers.browser import page_that_records_errors
from tests.helpers.servers import ServerThread
from tests.helpers.staff import PASSWORD

pytestmark = pytest.mark.browser

NEW_TITLE = "Kakor på Uppsala kommuns webbplats"


@pytest.fixture(scope="module")
def editor_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("policy-editor")
    app = make_app(tmp)
    with app.app_context():
        create_user("redaktor", Role.EDITOR, PASSWORD)
        create_user("dso", Role.PRIVACY_OFFICER, PASSWORD)
    server = ServerThread(app)
    yield f"http://127.0.0.1:{server.port}", app
    server.stop()
    app.extensions["consent_db"].dispose()


def choice_version(context: Any, expected: int) -> int | None:
    """The policy version in the citizen's consent cookie once it is `expected` (the page's
    CSP forbids evaluating strings, so the test reads the cookie jar); else the last seen."""
    seen = None
    for _ in range(100):
        for cookie in context.cookies():
            if cookie["name"] == "consent":
                payload = cookie["value"].split(".")[0]
                data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
                seen = int(data["v"])
        if seen == expected:
            break
        time.sleep(0.1)
    return seen


def signed_in(browser: Any, url: str, name: str) -> tuple[Any, Any]:
    context = browser.new_context()
    page = page_that_records_errors(context)
    page.goto(url + "/admin/sign-in")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    return context, page


def test_draft_preview_approve_publish_and_citizens_are_asked_again(
    browser: Any, editor_service: tuple[str, Any]
) -> None:
    url, app = editor_service
    # A citizen chose under the current version; their browser keeps the cookie.
    citizen = browser.new_context()
    citizen_page = page_that_records_errors(citizen)
    citizen_page.goto(url + "/")
    citizen_page.get_by_role("button", name="Acceptera alla").click()
    assert choice_version(citizen, POLICY_VERSION) == POLICY_VERSION

    editor_context, editor = signed_in(browser, url, "redaktor")
    editor.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Kakpolicy"
    ).click()
    check_page(editor, "policy-overview")
    editor.get_by_role("button", name="Skapa utkast").click()
    editor.wait_for_url("**/admin/policy/drafts/*")
    draft_url = editor.url
    editor.fill("#f-text-sv-title", NEW_TITLE)
    editor.get_by_role("button", name="Spara texterna").click()
    editor.wait_for_url("**#texts")
    assert editor.locator("ins", has_text=NEW_TITLE).count() == 1
    # A declaration by keyboard alone: Tab through the form, Enter to add.
    editor.focus("#d-name")
    editor.keyboard.type("sitevision*")
    for selector, value in [("#d-provider", "Sitevision"), ("#d-purpose-sv", "Sparar layout"),
                            ("#d-lifetime-sv", "1 år"), ("#d-purpose-en", "Keeps the layout"),
                            ("#d-lifetime-en", "1 year")]:  # fmt: skip
        editor.fill(selector, value)
    editor.focus("#d-hosts")
    editor.keyboard.press("Enter")
    editor.wait_for_url("**#declarations")
    assert editor.locator("th code").get_by_text("sitevision*", exact=True).count() == 1
    check_page(editor, "policy-draft")

    # The preview: the real banner in a frame, with the draft's title, at both widths.
    editor.get_by_role("link", name="på sv").click()
    frame = editor.frame_locator("iframe").first
    frame.locator("h2", has_text=NEW_TITLE).wait_for()
    settings_frame = editor.frame_locator("iframe").nth(2)
    settings_frame.get_by_role("heading", name="Inställningar för kakor").wait_for()
    check_page(editor, "policy-preview")
    editor_context.close()

    officer_context, officer = signed_in(browser, url, "dso")
    officer.goto(draft_url)
    officer.get_by_role("button", name="Godkänn utkastet").click()
    officer.wait_for_url(draft_url)
    assert "Godkänt av dso" in officer.content()
    check_page(officer, "policy-approved")
    officer.get_by_role("button", name=f"Publicera som version {POLICY_VERSION + 1}").click()
    officer.wait_for_url("**/admin/policy#published")
    check_page(officer, "policy-published")
    officer_context.close()

    # The returning citizen's choice answered the old version: the banner asks again, with
    # the new text, and the log holds the hash of exactly that text.
    # The banner's script is cached for up to an hour: the citizen comes back with their
    # cookies and storage after that (a new context: same jar, empty HTTP cache).
    state = citizen.storage_state()
    citizen.close()
    citizen = browser.new_context(storage_state=state)
    citizen_page = page_that_records_errors(citizen)
    citizen_page.goto(url + "/")
    dialog_title = citizen_page.locator("h2", has_text=NEW_TITLE)
    dialog_title.wait_for()
    citizen_page.get_by_role("button", name="Endast nödvändiga").click()
    assert choice_version(citizen, POLICY_VERSION + 1) == POLICY_VERSION + 1
    with app.app_context():
        last = None
        for _ in range(100):  # the sequencer integrates acknowledged entries within a second
            db.session.rollback()
            last = db.session.scalars(
                select(ConsentEntry).where(ConsentEntry.policy_version == POLICY_VERSION + 1)
            ).first()
            if last is not None:
                break
            time.sleep(0.1)
        assert last is not None and last.action == "update"
        text = db.session.scalars(
            select(PolicyText).where(
                PolicyText.version == last.policy_version, PolicyText.language == "sv"
            )
        ).one()
        assert text.text_hash == last.text_hash
        assert json.loads(text.content)["title"] == NEW_TITLE
    citizen.close()
