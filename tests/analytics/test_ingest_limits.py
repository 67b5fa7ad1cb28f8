"""Floods of analytics events: limits per client address, per consent ID and per visitor and day.

The counters live in the database (`consent_service/ratelimit.py`), so every worker and
instance sees the same figures; what a limit holds back is counted by reason and shown on the
dashboard.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from consent_service.admin.models import Role
from consent_service.analytics.models import AnalyticsEvent, DroppedCount
from consent_service.consent.cookie import Choice, ChoiceCookie
from consent_service.db import db
from tests.analytics.conftest import pageview, send
from tests.conftest import POLICY_VERSION, make_app
from tests.helpers.staff import sign_in_as


def stored_paths(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AnalyticsEvent.path).order_by(AnalyticsEvent.id)))


def dropped(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {d.reason: d.count for d in db.session.scalars(select(DroppedCount))}


def cookie_for(app: Flask, consent_id: str | None = None) -> str:
    signer = ChoiceCookie(app.config["SIGNING_KEYS"], 3600)
    return signer.encode(Choice(consent_id or str(uuid.uuid4()), POLICY_VERSION, True, True))


def batch(n: int, prefix: str = "/p") -> list[dict[str, Any]]:
    return [pageview(f"{prefix}{i}") for i in range(n)]


def test_one_cookie_cannot_flood_the_statistics(app: Flask, client: FlaskClient) -> None:
    """3,000 page views in a burst on one cookie: the consent's limit stops them, with 429."""
    cookie = cookie_for(app)
    limit = app.config["ANALYTICS_RATE_LIMIT_CONSENT"]
    answers = [send(client, batch(100), cookie=cookie) for _ in range(30)]
    statuses = [a.status_code for a in answers]
    assert statuses[: limit // 100] == [202] * (limit // 100)
    assert set(statuses[limit // 100 :]) == {429}
    refused = answers[-1]
    assert refused.json is not None and refused.json["error"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(stored_paths(app)) == limit
    assert dropped(app) == {"rate_limited": 3000 - limit}


def test_one_client_address_is_limited_across_cookies(tmp_path: Path) -> None:
    app = make_app(tmp_path, ANALYTICS_RATE_LIMIT_CLIENT=250)
    client = app.test_client()
    answers = [send(client, batch(100), cookie=cookie_for(app)) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert "Retry-After" in answers[2].headers
    # Another address is not held back by the first one's flood.
    assert send(client, batch(1), cookie=cookie_for(app), address="198.51.100.9").json == {
        "stored": 1
    }
    assert dropped(app) == {"rate_limited": 100}


def test_without_consent_a_flood_is_limited_too(tmp_path: Path) -> None:
    app = make_app(tmp_path, ANALYTICS_RATE_LIMIT_CLIENT=150)
    client = app.test_client()
    answers = [send(client, batch(100), cookie=None) for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 429]
    assert dropped(app) == {"no_consent": 100, "rate_limited": 100}


def test_a_visitor_is_capped_per_day(tmp_path: Path) -> None:
    """One consent ID is one visitor a day, whatever its address: the day's cap holds."""
    app = make_app(tmp_path, ANALYTICS_VISITOR_DAILY_CAP=120)
    client = app.test_client()
    cookie = cookie_for(app)
    first = send(client, batch(100), cookie=cookie)
    second = send(client, batch(100, "/q"), cookie=cookie, address="198.51.100.2")
    third = send(client, batch(1, "/r"), cookie=cookie, user_agent="Mozilla/5.0 (X11; Linux)")
    assert first.json == {"stored": 100}
    assert second.status_code == 202
    assert second.json == {"stored": 20, "dropped": 80, "reason": "visitor_cap"}
    assert third.json == {"stored": 0, "dropped": 1, "reason": "visitor_cap"}
    assert stored_paths(app)[-1] == "/q19"
    assert dropped(app) == {"visitor_cap": 81}
    # Another consent ID (from the same address and browser) is another visitor.
    other = send(client, batch(1), cookie=cookie_for(app))
    assert other.json == {"stored": 1}


def test_one_counter_statement_per_batch(app: Flask, client: FlaskClient) -> None:
    """The limits cost one upsert per batch, however many events and limits it has."""
    cookie = cookie_for(app)
    send(client, batch(1), cookie=cookie)  # the day's visitor key is created on first use
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    def traced(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.set_trace_callback(statements.append)

    # On SQLite the batch goes to the driver, past SQLAlchemy's events: sqlite3 traces it.
    on_sqlite = engine.dialect.name == "sqlite"
    hook, listener = ("connect", traced) if on_sqlite else ("before_cursor_execute", seen)
    event.listen(engine, hook, listener)
    engine.dispose()  # pooled connections are opened again, with the trace
    try:
        assert send(client, batch(50), cookie=cookie).json == {"stored": 50}
    finally:
        event.remove(engine, hook, listener)
        engine.dispose()
    assert len([s for s in statements if "rate_counters" in s]) == 1, statements


def test_the_dashboard_says_what_was_dropped_and_why(tmp_path: Path) -> None:
    app = make_app(tmp_path, ANALYTICS_RATE_LIMIT_CLIENT=100, ANALYTICS_VISITOR_DAILY_CAP=60)
    client = app.test_client()
    send(client, batch(80), cookie=cookie_for(app))  # 60 stored, 20 over the visitor's cap
    send(client, batch(50), cookie=cookie_for(app))  # over the client's limit
    editor = app.test_client()
    sign_in_as(app, editor, Role.EDITOR, name="editor")
    html = editor.get("/admin/statistics/").get_data(as_text=True)
    assert 'id="dropped-note"' in html
    assert "För många händelser från samma klient eller samtycke" in html
    assert "Över taket för en besökare per dag" in html
    csv_text = editor.get("/admin/statistics/export/dropped.csv").get_data(as_text=True)
    assert "50" in csv_text and "20" in csv_text


def test_the_limits_are_settings(tmp_path: Path) -> None:
    from consent_service.config import load_settings

    env = {"CONSENT_ENV": "development", "CONSENT_ANALYTICS_VISITOR_DAILY_CAP": "5000",
           "CONSENT_ANALYTICS_RATE_LIMIT_CLIENT": "9000",
           "CONSENT_ANALYTICS_RATE_LIMIT_CONSENT": "400"}  # fmt: skip
    settings = load_settings(tmp_path, env)
    assert settings["ANALYTICS_VISITOR_DAILY_CAP"] == 5000
    assert settings["ANALYTICS_RATE_LIMIT_CLIENT"] == 9000
    assert settings["ANALYTICS_RATE_LIMIT_CONSENT"] == 400
    defaults = load_settings(tmp_path, {"CONSENT_ENV": "development"})
    assert defaults["ANALYTICS_VISITOR_DAILY_CAP"] == 1000
    assert json.dumps(defaults["ANALYTICS_RATE_LIMIT_CONSENT"])  # a plain number
