"""Daily rollups (site-wide and per page), their refresh, and the retention rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from consent_service.analytics import reports, rollup, services
from consent_service.analytics.models import AnalyticsEvent, DailyAggregate, RollupDay
from consent_service.analytics.reports import Period
from consent_service.analytics.services import Sender
from consent_service.analytics.visitors import day_start
from consent_service.consent.cookie import Choice
from consent_service.db import db
from tests.analytics.conftest import BROWSER_UA
from tests.conftest import make_app

CHOICE = Choice("7f1c2d3e-0000-4000-8000-000000000001", 1, True, True)
DAY = dt.date(2026, 3, 2)
SITE = "uppsala.se"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")  # fmt: skip


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return day_start(day) + dt.timedelta(hours=hour)


def ingest(app: Flask, events: list[dict[str, Any]], *, consent: str = CHOICE.consent_id,
           ua: str = BROWSER_UA, day: dt.date = DAY, lang: str = "sv") -> None:  # fmt: skip
    with app.test_request_context():
        # A visitor is one consent ID on one day; the address plays no part.
        choice = Choice(consent, 1, True, True)
        services.ingest(events, Sender(choice, "www.uppsala.test", "192.0.2.1", ua, lang),
                        site=SITE, policy_version=1, hosts=frozenset({"www.uppsala.test"}),
                        now=at(day))  # fmt: skip


def view(path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "pageview", "path": path, **extra}


def event(name: str, path: str = "/ideer", **extra: Any) -> dict[str, Any]:
    return {"type": "event", "name": name, "path": path, **extra}


def test_a_day_is_counted_site_wide_and_per_page(app: Flask) -> None:
    ingest(app, [view("/a", referrer="https://www.google.com/"), view("/b"), view("/a")])
    ingest(app, [view("/a", screen="small")], consent="consent-2", ua=IPHONE, lang="en")
    outbound = event("outbound", "/a", props={"host": "www.skatteverket.se"})
    ingest(app, [event("idea_shown"), event("idea_opened"), event("idea_started"),
                 event("idea_submitted"), outbound])  # fmt: skip
    ingest(
        app,
        [event("idea_shown"), event("idea_opened"), event("idea_submitted")],
        consent="consent-3",
    )
    # Shown to a fourth visitor, who did nothing with it.
    ingest(app, [event("idea_shown")], consent="consent-4")
    with app.test_request_context():
        assert rollup.refresh(SITE, DAY, DAY, at(DAY, 13)) == 1
        month = Period(DAY, DAY)
        assert reports.series(SITE, month, None)[0].pageviews == 4
        assert reports.series(SITE, month, None)[0].visitors == 2
        assert reports.series(SITE, month, "/a")[0].pageviews == 3
        pages = reports.top(SITE, "page", month, None)
        assert [(r.value, r.events, r.visitors) for r in pages] == [("/a", 3, 2), ("/b", 1, 1)]
        referrers = reports.top(SITE, "referrer", month, "/a")
        assert {r.value: r.events for r in referrers} == {"": 2, "www.google.com": 1}
        assert {r.value: r.events for r in reports.top(SITE, "device", month, None)} == {
            "desktop": 3, "mobile": 1,
        }  # fmt: skip
        assert {r.value: r.visitors for r in reports.top(SITE, "language", month, "/a")} == {
            "sv": 1, "en": 1,
        }  # fmt: skip
        # The third visitor skipped "started": counted as opening, not as reaching the end.
        steps = reports.funnel(SITE, month, None)
        assert [(s.name, s.events, s.visitors) for s in steps] == [
            ("idea_shown", 3, 3), ("idea_opened", 2, 2), ("idea_started", 1, 1),
            ("idea_submitted", 2, 1),
        ]  # fmt: skip
        props = reports.top(SITE, "prop", month, None)
        assert [(r.value, r.events) for r in props] == [("outbound\thost\twww.skatteverket.se", 1)]
        assert reports.top(SITE, "event", month, "/a")[0].value == "outbound"


def test_open_days_are_refreshed_when_stale_and_closed_days_once(app: Flask) -> None:
    ingest(app, [view("/a")])
    with app.test_request_context():
        assert rollup.refresh(SITE, DAY, DAY, at(DAY, 13)) == 1
    ingest(app, [view("/a")])
    with app.test_request_context():
        # Within ANALYTICS_ROLLUP_SECONDS of the last rollup: the figures may lag a little.
        assert rollup.refresh(SITE, DAY, DAY, at(DAY, 13) + dt.timedelta(seconds=10)) == 0
        assert reports.series(SITE, Period(DAY, DAY), None)[0].pageviews == 1
        assert rollup.refresh(SITE, DAY, DAY, at(DAY, 14)) == 1
        assert reports.series(SITE, Period(DAY, DAY), None)[0].pageviews == 2
        # After the day (and its grace minutes) it is rolled up a last time, then never again.
        next_day = at(DAY + dt.timedelta(days=1), 1)
        assert rollup.refresh(SITE, DAY, DAY, next_day) == 1
        assert rollup.refresh(SITE, DAY, DAY, next_day + dt.timedelta(hours=5)) == 0
        assert db.session.get(RollupDay, (SITE, DAY)).final  # type: ignore[union-attr]


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_retention_keeps_daily_figures_longer_than_raw_events(tmp_path: Path) -> None:
    app = make_app(tmp_path, ANALYTICS_RAW_DAYS=30, ANALYTICS_AGGREGATE_DAYS=60)
    old, older, recent = DAY, DAY - dt.timedelta(days=40), DAY + dt.timedelta(days=45)
    for day in (older, old, recent):
        ingest(app, [view("/a")], day=day)
    with app.test_request_context():
        # 50 days after DAY: raw events of DAY and before are gone, DAY's figures stay;
        # figures of `older` (90 days back) are gone too. Nothing was rolled up before:
        # purge rolls up every closed day first, so no figure is lost with its raw events.
        line = rollup.purge(at(DAY + dt.timedelta(days=50)))
        assert "3 day(s) rolled up" in line
        assert "2 raw event(s)" in line
        remaining = db.session.scalars(select(AnalyticsEvent.day)).all()
        assert remaining == [recent]
        figures = reports.series(SITE, Period(old, old), None)
        assert figures[0].pageviews == 1
        assert reports.series(SITE, Period(older, older), None)[0].pageviews == 0
        assert db.session.get(RollupDay, (SITE, older)) is None
    assert count(app, DailyAggregate) > 0
