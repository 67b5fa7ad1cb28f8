"""Hostile events: text that cannot be stored, look-alike names, absurd numbers.

Each case is refused for the one event that carries it (the rest of the batch is stored)
and counted as invalid; never a 500. Floods are in test_ingest_limits.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.analytics.models import AnalyticsEvent, DroppedCount
from consent_service.db import db
from tests.analytics.conftest import pageview, send


def stored_paths(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AnalyticsEvent.path).order_by(AnalyticsEvent.id)))


def dropped(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {d.reason: d.count for d in db.session.scalars(select(DroppedCount))}


def between_two_good_ones(bad_event_json: str) -> str:
    """A batch as JSON text (escapes such as \\ud800 written as they travel)."""
    first, last = '{"type": "pageview", "path": "/ok-1"}', '{"type": "pageview", "path": "/ok-2"}'
    return '{"events": [' + ", ".join([first, bad_event_json, last]) + "]}"


# --- text that UTF-8 cannot hold: a lone surrogate from a JSON escape ------------------------

SURROGATES = [
    ('{"type": "event", "name": "x", "path": "/", "props": {"q": "\\ud800"}}', "invalid_props"),
    ('{"type": "event", "name": "x", "path": "/", "props": {"q": "a\\udfffb"}}', "invalid_props"),
    ('{"type": "event", "name": "x", "path": "/", "props": {"\\ud800": 1}}', "invalid_props"),
    ('{"type": "pageview", "path": "/\\ud800"}', "invalid_text"),
    ('{"type": "pageview", "path": "/", "referrer": "https://\\ud800.se/"}', "invalid_text"),
    ('{"type": "event", "name": "\\ud800", "path": "/"}', "invalid_text"),
]


@pytest.mark.parametrize(("bad", "code"), SURROGATES)
def test_a_lone_surrogate_refuses_that_event_and_keeps_the_batch(
    app: Flask, client: FlaskClient, granted: str, bad: str, code: str
) -> None:
    response = send(client, body=between_two_good_ones(bad), cookie=granted)
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.json is not None
    assert response.json["stored"] == 2
    assert [(r["index"], r["error"]) for r in response.json["rejected"]] == [(1, code)]
    assert stored_paths(app) == ["/ok-1", "/ok-2"]
    assert dropped(app) == {"invalid": 1}


# --- names and keys must match their pattern in full: no trailing newline -------------------

LOOK_ALIKES = [
    ({"type": "event", "name": "idea_opened\n", "path": "/"}, "invalid_value"),
    ({"type": "event", "name": "x", "path": "/", "props": {"topic\n": "park"}}, "invalid_props"),
]


@pytest.mark.parametrize(("bad", "code"), LOOK_ALIKES)
def test_a_trailing_newline_is_not_part_of_a_name(
    app: Flask, client: FlaskClient, granted: str, bad: dict[str, Any], code: str
) -> None:
    response = send(client, [pageview("/ok-1"), bad, pageview("/ok-2")], cookie=granted)
    assert response.json is not None
    assert [(r["index"], r["error"]) for r in response.json.get("rejected", [])] == [(1, code)]
    assert stored_paths(app) == ["/ok-1", "/ok-2"]


# --- numbers: finite and within ±10^15 ---------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["1e308", "-1e308", "1e16", "-1000000000000001", "100000000000000000000",
               "Infinity", "-Infinity", "NaN"],
)  # fmt: skip
def test_absurd_numbers_are_refused(
    app: Flask, client: FlaskClient, granted: str, number: str
) -> None:
    bad = '{"type": "event", "name": "x", "path": "/", "props": {"n": ' + number + "}}"
    response = send(client, body=between_two_good_ones(bad), cookie=granted)
    assert response.status_code == 202
    assert response.json is not None
    assert [(r["index"], r["error"]) for r in response.json["rejected"]] == [(1, "invalid_props")]


def test_ordinary_numbers_are_kept(app: Flask, client: FlaskClient, granted: str) -> None:
    props = {"a": 1e15, "b": -1_000_000_000_000_000, "c": 0.5, "d": 42, "e": True}
    response = send(client, [{"type": "event", "name": "x", "path": "/", "props": props}],
                    cookie=granted)  # fmt: skip
    assert response.json == {"stored": 1}
