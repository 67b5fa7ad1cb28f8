"""Easy Swedish (lättläst) for the idea widget: the texts, the form document, the API's
messages and the no-JS page."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.db import db
from consent_service.ideas.catalog import WIDGET_KEYS, current_catalog
from consent_service.ideas.models import Idea
from tests.ideas.conftest import submit

VARIANT = "sv-lattlast"


def sentences(text: str) -> list[str]:
    filled = text.replace("{n}", "5").replace("{max}", "120").replace("{minutes}", "10")
    return [s for s in re.split(r"(?<=[.!?:])\s+", filled.strip()) if s]


def lix(texts: list[str]) -> float:
    """Läsbarhetsindex: words per sentence + the share of words over six letters, in percent.
    Under 25 is very easy text (children's books), 30 to 40 ordinary news."""
    parts = [s for t in texts for s in sentences(t)]
    words = [w for s in parts for w in re.findall(r"[A-Za-zÅÄÖåäöÉé]+", s)]
    return len(words) / len(parts) + 100 * sum(len(w) > 6 for w in words) / len(words)


def test_the_easy_texts_are_complete_short_and_easier_than_the_standard_ones(app: Flask) -> None:
    with app.app_context():
        catalog = current_catalog()
        easy = catalog.widget_texts("sv", VARIANT)
        standard = catalog.widget_texts("sv")
    assert set(easy) == set(standard) == set(WIDGET_KEYS)
    assert easy["submit"] == "Skicka" and easy != standard
    for key, text in easy.items():
        for sentence in sentences(text):
            assert len(sentence.split()) <= 12, (key, sentence)
    # Measured: all texts 11.6 against 18.5; the running texts 12.0 against 24.8.
    assert lix(list(easy.values())) < 15 < lix(list(standard.values()))
    prose = ("intro", "public", "next", "keep")
    assert lix([easy[k] for k in prose]) < 15 < 20 < lix([standard[k] for k in prose])
    # The placeholders the widget fills in are all there.
    for key in ("left", "over", "title_long", "limited"):
        assert re.findall(r"\{\w+\}", easy[key]) == re.findall(r"\{\w+\}", standard[key])


def test_the_form_document_in_easy_swedish(client: FlaskClient) -> None:
    document = client.get(f"/api/v1/ideas/form?lang={VARIANT}").json
    assert document["language"] == "sv" and document["variant"] == VARIANT
    assert document["texts"]["title"] == "Vad vill du ändra?"
    assert any(a["id"] == "trafik" for a in document["areas"])
    plain = client.get("/api/v1/ideas/form?lang=sv").json
    assert plain["variant"] is None and plain["texts"]["title"] == "Vad kan bli bättre?"
    # Case does not matter; an unknown variant is plain Swedish.
    assert client.get("/api/v1/ideas/form?lang=SV-Lattlast").json["variant"] == VARIANT
    assert client.get("/api/v1/ideas/form?lang=sv-nonsense").json["variant"] is None


def test_an_easy_swedish_idea_is_stored_as_swedish_and_answered_in_easy_swedish(
    app: Flask, client: FlaskClient
) -> None:
    refused = submit(client, title="", language=VARIANT)
    assert refused.status_code == 400
    assert refused.json["message"] == "Skriv vad du vill ändra."
    stored = submit(client, language=VARIANT)
    assert stored.status_code == 201
    with app.app_context():
        idea = db.session.scalar(select(Idea).where(Idea.reference == stored.json["reference"]))
        assert idea is not None and idea.language == "sv"


def test_the_no_js_page_in_easy_swedish(client: FlaskClient) -> None:
    html = client.get(f"/ideas/new?lang={VARIANT}").get_data(as_text=True)
    assert "Vad vill du ändra?" in html and f'name="lang" value="{VARIANT}"' in html
    assert 'lang="sv"' in html
