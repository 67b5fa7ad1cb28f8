"""Free-text search on the board: any Swedish word form, on SQLite and on PostgreSQL
(CONSENT_TEST_DATABASE=postgresql runs this file against a real server)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from consent_service.db import db
from consent_service.ideas import board, search
from consent_service.ideas.models import Idea
from tests.ideas.conftest import submit


def new_idea(client: FlaskClient, title: str, body: str) -> str:
    response = submit(client, title=title, body=body)
    assert response.status_code == 201, response.json
    return str(response.json["reference"])


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("cykelbanor", {"bana"}),  # plural finds the singular
        ("cykelbanorna", {"bana"}),
        ("Cykelbana", {"bana"}),
        ("bänk", {"bank"}),  # "bänkar" in the text
        ("bänkar Fyrisån", {"bank"}),  # every word must match
        ("bänkar cykelbana", set()),
        ("lekplatserna", {"lek"}),  # "lekplatsen" in the text
        ("bänkarna", {"bank"}),
        ("100% _", set()),  # LIKE wildcards are literal
        ("simhall", set()),
    ],
)
def test_word_forms(app: Flask, team: FlaskClient, query: str, found: set[str]) -> None:
    refs = {
        "bana": new_idea(team, "Bredare cykelbana", "Cykelbanan vid Kungsgatan är för smal."),
        "bank": new_idea(team, "Fler bänkar", "Längs Fyrisån finns för få bänkar."),
        "lek": new_idea(team, "Ny lekplats", "Lekplatsen i Gottsunda är sliten."),
    }
    with app.test_request_context():
        result = board.select_ideas(q=query)
    assert {r.reference for r in result.ideas} == {refs[k] for k in found}


def test_search_from_the_board(team: FlaskClient) -> None:
    ref = new_idea(team, "Bredare cykelbana", "Vid Kungsgatan.")
    new_idea(team, "Fler bänkar", "Vid Fyrisån.")
    board_page = team.get("/admin/ideas/board").get_data(as_text=True)
    assert 'role="search"' in board_page and 'name="q"' in board_page
    page = team.get("/admin/ideas/list?q=cykelbanor").get_data(as_text=True)
    assert ref in page and "Fler bänkar" not in page
    assert "sökord ”cykelbanor”" in page
    by_reference = team.get(f"/admin/ideas/list?q={ref.lower()}").get_data(as_text=True)
    assert ref in by_reference


def test_older_ideas_get_their_stems_after_upgrade(app: Flask, team: FlaskClient) -> None:
    ref = new_idea(team, "Bredare cykelbana", "Vid Kungsgatan.")
    with app.app_context():
        db.session.execute(update(Idea).values(search_stems=None))
        db.session.commit()
        assert search.fill_missing_stems() == "search words of 1 idea(s) filled in"
        idea = board.idea_by_reference(ref)
        assert idea is not None and idea.search_stems == " bred cykelban vid kungsgatan "


def test_stems() -> None:
    assert search.stem_words("Cykelbanor, cykelbana och CYKELBANORNA!") == [
        "cykelban", "cykelban", "och", "cykelban",
    ]  # fmt: skip
    assert search.search_stems("Fler bänkar", "") == " fler bänk "


def test_each_database_uses_its_own_swedish_stemming(app: Flask) -> None:
    with app.app_context():
        clause = str(search.matching("cykelbanor").compile(dialect=db.engine.dialect))
        if db.engine.dialect.name == "postgresql":
            assert "to_tsvector('swedish'::regconfig" in clause and "plainto_tsquery" in clause
        else:
            assert "search_stems LIKE" in clause
