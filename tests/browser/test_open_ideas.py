"""The open idea page in Chromium: the team publishes from the board (a real form post), the
public page shows the idea masked, in Swedish and English, axe-clean, without JavaScript and
reflowed at 320 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser import test_ideas_widget as widget_tests
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_ideas_widget import WCAG, HostPage, IdeaService, post_idea
from tests.helpers.staff import PASSWORD

pytestmark = pytest.mark.browser
# The idea widget's service and host page, shared with its tests.
host_page = widget_tests.host_page
idea_service = widget_tests.idea_service

PERSONAL = "Ring mig på 070-123 45 67 eller mejla ada@example.se. Mitt pnr är 811218-9876."


def axe(page: Any, state: str) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, (state, results.generate_report())


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def published(browser: Any, host_page: HostPage, idea_service: IdeaService) -> Iterator[Any]:
    """A signed-in team member's page, after publishing an idea with personal data in it."""
    from consent_service.admin.auth import create_user
    from consent_service.admin.models import Role
    from consent_service.ideas import board
    from consent_service.ideas.models import Idea

    app = idea_service.app
    with app.app_context():
        user = create_user("oppen", Role.INNOVATION, PASSWORD)
    idea = post_idea(
        idea_service, title="Bänkar längs Fyrisån", body=PERSONAL, area="trafik", name="Ada"
    )
    other = post_idea(
        idea_service, title="Lånecyklar i Gottsunda", body="Som i city.", area="trafik"
    )
    with app.test_request_context():
        from consent_service.db import db

        target = db.session.query(Idea).filter_by(reference=idea["reference"]).one()
        board.move_idea(
            target.id,
            "testa_ideer",
            user,
            message="Vi testar med Bo, 018-12 34 56.",
            status_url="-",
        )
        done = db.session.query(Idea).filter_by(reference=other["reference"]).one()
        board.move_idea(done.id, "closed", user, close_reason="realised", status_url="-")
        board.set_published(done.id, True, user)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(5000)
    base = idea_service.url + "/admin"
    page.goto(base + "/sign-in")
    page.get_by_label("Användarnamn").fill("oppen")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(base + "/")
    page.goto(f"{base}/ideas/{idea['reference']}")
    page.get_by_role("button", name="Visa på den öppna idésidan").click()
    page.get_by_text("visas på den öppna idésidan, med personuppgifter maskerade").wait_for()
    assert page.locator("#masking-note").is_visible()
    axe(page, "idea page with the publish form")
    page.goto(base + "/ideas/board")
    screenshot(page, "open-ideas-board")
    yield page
    context.close()


def test_the_open_idea_page_in_both_languages(published: Any, idea_service: IdeaService) -> None:
    page = published
    page.goto(idea_service.url + "/ideas?lang=sv")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.locator("main h1").inner_text() == "Idéer från invånarna"
    assert page.locator("main").count() == 1
    text = page.inner_text("main")
    assert "[telefonnummer borttaget]" in text and "[personnummer borttaget]" in text
    assert "[e-postadress borttagen]" in text
    assert "070-123" not in text and "811218" not in text and "018-12" not in text
    assert "Ada" not in text  # the sender's name is never public
    assert "Testa idéer" in text and "Lånecyklar i Gottsunda" in text
    assert [h.inner_text() for h in page.locator("main h2").all()] == [
        "Idéer som innovationsteamet har publicerat",
        "Vad hände med idéerna?",
    ]
    table = page.get_by_role("table", name=re.compile("^Idéer per kvartal"))
    assert table.locator("tbody tr").count() == 1
    axe(page, "open idea page, sv")
    screenshot(page, "open-ideas-sv")

    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/ideas?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "[personal identity number removed]" in page.inner_text("main")
    axe(page, "open idea page, en")


def test_the_open_idea_page_reflows_and_needs_no_script(
    published: Any, browser: Any, idea_service: IdeaService
) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(idea_service.url + "/ideas?lang=sv")
        assert "[personnummer borttaget]" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        screenshot(page, "open-ideas-320")
    finally:
        context.close()
    # axe needs script: the same width with it on.
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.goto(idea_service.url + "/ideas?lang=sv")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        axe(page, "open idea page at 320 px")
    finally:
        context.close()


# --- challenges -------------------------------------------------------------------------------


def test_a_challenge_in_the_widget(
    browser: Any, host_page: HostPage, idea_service: IdeaService, published: Any
) -> None:
    import datetime as dt

    from consent_service.admin.auth import create_user
    from consent_service.admin.models import Role
    from consent_service.ideas import challenges

    app = idea_service.app
    today = challenges.today()
    with app.test_request_context():
        user = create_user("utmanare", Role.INNOVATION, PASSWORD)
        for slug, first, last in (("trygg-skolvag", -1, 30), ("stangd", -20, -2)):
            challenges.save_challenge(
                site="uppsala.se",
                slug=slug,
                opens_on=(today + dt.timedelta(days=first)).isoformat(),
                closes_on=(today + dt.timedelta(days=last)).isoformat(),
                stage="undersoka",
                texts={
                    "sv": {"question": "Hur kan skolvägen bli tryggare?"},
                    "en": {"question": "How can the way to school be safer?"},
                },
                actor=user,
            )
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(5000)
        widget = page.locator("[data-idea-widget]")
        page.goto(f"{host_page.url}/ideas?lang=en&challenge=trygg-skolvag")
        widget.locator(".q").wait_for()
        assert widget.locator(".q").inner_text() == "How can the way to school be safer?"
        assert widget.locator(".q").get_attribute("lang") == "en"
        axe(page, "widget with a challenge")
        screenshot(page, "ideas-challenge-en")
        widget.locator("#title").fill("Lower speed limit")
        widget.locator("#body").fill("30 km/h near the school on Kungsgatan.")
        widget.locator("#area").select_option("trafik")
        widget.locator("button[type=submit]").click()
        widget.locator(".ok").wait_for()
        reference = widget.locator(".ok strong").inner_text()
        with app.app_context():
            from sqlalchemy import select

            from consent_service.db import db
            from consent_service.ideas.models import Idea

            idea = db.session.scalar(select(Idea).where(Idea.reference == reference))
            assert idea is not None and idea.challenge is not None
            assert idea.challenge.slug == "trygg-skolvag"

        page.goto(f"{host_page.url}/ideas?lang=sv&challenge=stangd")
        widget.get_by_text("Utmaningen stängde").wait_for()
        assert widget.locator("form").count() == 0
        axe(page, "widget with a closed challenge")

        # The open idea page lists both and groups its figures per challenge.
        page.goto(idea_service.url + "/ideas?lang=sv")
        assert page.get_by_role("heading", name="Utmaningar").count() == 1
        assert page.get_by_role("link", name=re.compile("^Svara på utmaningen")).count() == 1
        axe(page, "open idea page with challenges")
        screenshot(page, "open-ideas-challenges-sv")
    finally:
        context.close()
    # The team's pages: the challenges and the board's search.
    team = published
    team.goto(idea_service.url + "/admin/ideas/challenges")
    axe(team, "challenges page")
    screenshot(team, "ideas-challenges-admin")
    team.goto(idea_service.url + "/admin/ideas/board")
    team.get_by_label("Sök i rubrik och text").fill("cykelbanor")
    team.get_by_role("button", name="Sök", exact=True).click()
    team.wait_for_url("**/admin/ideas/list?q=cykelbanor")
    axe(team, "search results")
