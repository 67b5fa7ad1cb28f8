"""The daily visitor key: random, shared by all workers, rotated daily, destroyed after 48 h."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import Flask
from sqlalchemy import select

from consent_service.analytics import rollup, services
from consent_service.analytics.models import AnalyticsEvent, VisitorKey
from consent_service.analytics.services import Sender
from consent_service.analytics.visitors import day_start, stored_key_days, visitor_hash
from consent_service.consent.cookie import Choice
from consent_service.db import db
from tests.analytics.conftest import BROWSER_UA, CLIENT_IP

CHOICE = Choice("7f1c2d3e-0000-4000-8000-000000000001", 1, True, True)


def ingest_at(
    app: Flask,
    day: dt.date,
    hour: int = 12,
    *,
    choice: Choice = CHOICE,
    address: str = CLIENT_IP,
    user_agent: str = BROWSER_UA,
) -> None:
    """Store one page view as if it arrived at `hour` o'clock (Stockholm) on `day`."""
    with app.test_request_context():
        now = day_start(day) + dt.timedelta(hours=hour)
        result = services.ingest(
            [{"type": "pageview", "path": "/"}],
            Sender(choice, "www.uppsala.test", address, user_agent, "sv"),
            site="uppsala.se",
            policy_version=1,
            hosts=frozenset({"www.uppsala.test"}),
            now=now,
        )
        assert result.stored == 1


def key_days(app: Flask) -> list[dt.date]:
    with app.app_context():
        return stored_key_days()


def visitors(app: Flask) -> list[tuple[dt.date, str]]:
    with app.app_context():
        rows = db.session.execute(select(AnalyticsEvent.day, AnalyticsEvent.visitor))
        return [(day, visitor) for day, visitor in rows]


def test_the_key_rotates_daily_and_is_destroyed_after_48_hours(app: Flask) -> None:
    monday = dt.date(2026, 3, 2)
    ingest_at(app, monday, 9)
    ingest_at(app, monday, 18)
    assert key_days(app) == [monday]
    tuesday = monday + dt.timedelta(days=1)
    ingest_at(app, tuesday)
    assert key_days(app) == [monday, tuesday]  # yesterday's key lives until today is over
    ingest_at(app, tuesday + dt.timedelta(days=1))
    # On Wednesday, Monday's key (48 hours after Monday began) is gone: destroyed lazily by
    # the first ingest of the day, in every worker's shared database.
    assert key_days(app) == [tuesday, tuesday + dt.timedelta(days=1)]

    hashes = visitors(app)
    same_day = [v for d, v in hashes if d == monday]
    assert len(same_day) == 2 and same_day[0] == same_day[1]  # one visitor within a day
    assert len({v for _, v in hashes}) == 3  # but not linkable across days


def test_a_visitor_is_one_consent_id_not_an_address_or_browser(app: Flask) -> None:
    """The contract's visitor: one consent ID on one day. Address and user agent play no part."""
    day = dt.date(2026, 3, 2)
    other_ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"
    ingest_at(app, day, 9)
    ingest_at(app, day, 10, address="198.51.100.9", user_agent=other_ua)  # same consent
    ingest_at(app, day, 11, choice=Choice("7f1c2d3e-0000-4000-8000-000000000002", 1, True, True))
    hashes = [v for _, v in visitors(app)]
    assert hashes[0] == hashes[1] != hashes[2]
    with app.app_context():
        key = bytes.fromhex(db.session.scalars(select(VisitorKey.key)).one())
    assert hashes[0] == visitor_hash(key, CHOICE.consent_id, "uppsala.se")
    # Nothing of the address or the browser is in the message that is hashed.
    expected = hmac.new(key, f"{CHOICE.consent_id}\nuppsala.se".encode(), hashlib.sha256)
    assert hashes[0] == expected.hexdigest()[:32]


def test_keys_are_random_not_derived_from_the_date(app: Flask, tmp_path: object) -> None:
    day = dt.date(2026, 3, 2)
    ingest_at(app, day)
    with app.app_context():
        first = db.session.scalars(select(VisitorKey.key)).one()
        db.session.execute(VisitorKey.__table__.delete())
        db.session.commit()
    app.extensions["analytics_day_keys"].clear()
    ingest_at(app, day)
    with app.app_context():
        second = db.session.scalars(select(VisitorKey.key)).one()
    assert first != second and len(first) == 64


def test_purge_destroys_old_keys(app: Flask) -> None:
    day = dt.date(2026, 3, 2)
    ingest_at(app, day)
    with app.test_request_context():
        line = rollup.purge(day_start(day + dt.timedelta(days=2)) + dt.timedelta(minutes=1))
    assert "1 visitor key(s) destroyed" in line
    assert key_days(app) == []
