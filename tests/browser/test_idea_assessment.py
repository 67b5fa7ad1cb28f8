"""Two members of the innovation team assess one idea in Chromium, and the team works the
board in bulk without JavaScript: axe (WCAG 2.1 A/AA) on the idea page with the
assessments, the benefit/effort view, the board, the portfolio and the challenge's
criteria; 320 px reflow; no CSP violations or script errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_app
from tests.helpers.browser import page_that_records_errors
from tests.helpers.servers import ServerThread
from tests.helpers.staff import PASSWORD

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


class Team:
    def __init__(self, url: str, app: Any, references: list[str]) -> None:
        self.url, self.app, self.references = url, app, references


@pytest.fixture(scope="module")
def team_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    from consent_service.db import db
    from consent_service.ideas import board, challenges
    from consent_service.ideas.models import Idea
    from tests.ideas.conftest import submit

    tmp: Path = tmp_path_factory.mktemp("idea-assessment")
    app = make_app(tmp, IDEAS_MIN_FILL_SECONDS=0)
    with app.app_context():
        ada = create_user("ada", Role.INNOVATION, PASSWORD)
        create_user("bo", Role.INNOVATION, PASSWORD)
    client = app.test_client()
    references = []
    for title in ("Gungor för vuxna i Stadsparken", "Fler bänkar vid Fyrisån", "Lånecyklar"):
        response = submit(client, title=title)
        assert response.status_code == 201
        references.append(response.json["reference"])
    with app.test_request_context():
        from datetime import date, timedelta

        challenges.save_challenge(
            site="uppsala.se", slug="parker", opens_on=date.today().isoformat(),
            closes_on=(date.today() + timedelta(days=30)).isoformat(), stage="ringa_in",
            texts={"sv": {"question": "Vad saknas i parken?"}}, actor=ada,
        )  # fmt: skip
        for reference in references:
            idea = db.session.query(Idea).filter_by(reference=reference).one()
            board.move_idea(idea.id, "ringa_in", ada, status_url="-")
    server = ServerThread(app)
    yield Team(f"http://127.0.0.1:{server.port}", app, references)
    server.stop()
    app.extensions["consent_db"].dispose()


def signed_in(browser: Any, team: Team, name: str, **context_options: Any) -> Any:
    context = browser.new_context(**context_options)
    page = page_that_records_errors(context)
    page.goto(team.url + "/admin/sign-in")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")
    return page


def check_page(page: Any, name: str) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, (name, results.generate_report())
    assert page.errors == [], page.errors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"ideas-{name}.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 320, (name, overflow)
    page.screenshot(path=str(SCREENSHOTS / f"ideas-{name}-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def fill_scorecard(page: Any, scores: dict[str, str], rationale: str) -> None:
    for criterion, score in scores.items():
        group = page.get_by_role("group", name=re.compile("^" + criterion))
        group.get_by_role("radio", name=score, exact=True).check()
    page.get_by_label("Motivering").fill(rationale)
    page.get_by_role("button", name=re.compile("^Spara .*bedömning")).click()


def test_two_members_assess_one_idea(browser: Any, team_service: Team) -> None:
    reference = team_service.references[0]
    idea_url = f"{team_service.url}/admin/ideas/{reference}"
    ada = signed_in(browser, team_service, "ada")
    ada.goto(idea_url)
    # A refused scorecard comes back with what was entered.
    ada.get_by_label("Motivering").fill("Billigt och populärt.")
    ada.get_by_role("group", name=re.compile("^Nytta")).get_by_role("radio", name="5").check()
    ada.evaluate("document.querySelectorAll('[required]').forEach(e => e.required = false)")
    ada.get_by_role("button", name="Spara bedömning").click()
    assert ada.get_by_role("alert").inner_text().startswith("Ge varje kriterium en poäng")
    assert ada.get_by_label("Motivering").input_value() == "Billigt och populärt."
    check_page(ada, "assessment-refused")
    ada.errors.clear()

    fill_scorecard(ada, {"Nytta": "5", "Insats": "2", "Passar": "4"}, "Billigt och populärt.")
    ada.get_by_text(f"Din bedömning av {reference} är sparad.").wait_for()

    bo = signed_in(browser, team_service, "bo")
    bo.goto(idea_url)
    # By keyboard alone: a radio group is one tab stop, arrows choose within it.
    bo.get_by_role("group", name=re.compile("^Nytta")).get_by_role("radio", name="1").focus()
    for key in ("Space", "ArrowRight", "ArrowRight", "ArrowRight"):  # Nytta 4
        bo.keyboard.press(key)
    for key in ("Tab", "Space"):  # Insats 1
        bo.keyboard.press(key)
    for key in ("Tab", "Space", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight"):
        bo.keyboard.press(key)  # Passar kommunens mål 5
    bo.keyboard.press("Tab")
    assert bo.evaluate("document.activeElement.id") == "rationale"
    bo.keyboard.type("Kan göras i vår.")
    bo.keyboard.press("Tab")
    bo.keyboard.press("Enter")
    bo.get_by_text(f"Din bedömning av {reference} är sparad.").wait_for()
    table = bo.get_by_role("table", name="Poäng per kriterium (2 personer)")
    rows = [r.inner_text().split("\t") for r in table.locator("tbody tr").all()]
    assert rows[0] == ["Nytta för invånarna", "5", "4", "4,5", "4\u20135"]
    assert rows[1][0].startswith("Insats") and rows[1][3:] == ["1,5", "1\u20132"]
    assert "Snabba vinster" in bo.inner_text("#assessment")
    check_page(bo, "assessment-two-members")

    bo.goto(team_service.url + "/admin/ideas/matrix")
    quick = bo.get_by_role("region", name=re.compile("^Snabba vinster"))
    assert reference in quick.inner_text()
    assert (
        bo.get_by_role("table", name=re.compile("^Bedömda idéer")).locator("tbody tr").count() == 1
    )
    check_page(bo, "benefit-effort")

    bo.goto(team_service.url + "/admin/ideas/portfolio")
    assert "4,5" in bo.get_by_role("table", name="Bedömda pågående idéer").inner_text()
    check_page(bo, "portfolio-assessed")

    bo.goto(team_service.url + "/admin/ideas/challenges/parker")
    check_page(bo, "challenge-criteria")
    for page in (ada, bo):
        page.context.close()


def test_bulk_move_and_saved_filter_without_javascript(browser: Any, team_service: Team) -> None:
    # Plain form posts: the whole flow with scripts off. (axe and the reflow check run
    # scripts, so they look at the same pages in a second page with scripts on.)
    page = signed_in(browser, team_service, "ada", java_script_enabled=False)
    checker = signed_in(browser, team_service, "ada")
    board_url = team_service.url + "/admin/ideas/board"
    page.goto(board_url)
    first, second = team_service.references[1], team_service.references[2]
    # A bad target: 400, the ticks stay.
    page.get_by_label(f"Välj {first}").check()
    response_status = []
    page.on("response", lambda r: r.url.endswith("/bulk") and response_status.append(r.status))
    page.get_by_role("button", name="Avsluta valda").click()
    page.get_by_role("alert").wait_for()
    assert response_status == [400]
    assert "Välj ett skäl" in page.get_by_role("alert").inner_text()
    assert page.get_by_label(f"Välj {first}").is_checked()
    checker.goto(board_url)
    check_page(checker, "board-bulk")
    checker.get_by_label(f"Välj {first}").check()
    checker.get_by_role("button", name="Avsluta valda").click()
    checker.get_by_role("alert").wait_for()
    check_page(checker, "board-bulk-refused")
    page.get_by_label(f"Välj {second}").check()
    page.locator("#bulk-stage").select_option(label="Undersöka")
    page.get_by_role("button", name="Flytta valda").click()
    notice = page.get_by_text("2 idéer flyttades:")
    notice.wait_for()
    assert first in notice.inner_text() and second in notice.inner_text()
    column = page.get_by_role("region", name=re.compile("^Undersöka"))
    assert first in column.inner_text() and second in column.inner_text()

    page.goto(board_url + "?challenge=parker")
    page.get_by_label("Spara det här filtret som").fill("Parkerna")
    page.get_by_role("button", name="Spara filter").click()
    page.get_by_text("Filtret ”Parkerna” är sparat.").wait_for()
    link = page.get_by_role("link", name="Parkerna").get_attribute("href")
    assert link.endswith("/admin/ideas/board?challenge=parker")
    checker.goto(board_url + "?challenge=parker")
    check_page(checker, "board-saved-filter")
    page.context.close()
    checker.context.close()
