"""Visits with Plausible's definitions: known traffic in, exact figures out, live and rolled up."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from consent_service.analytics import figures, rollup, services
from consent_service.analytics.models import AnalyticsEvent
from consent_service.analytics.reports import Period
from consent_service.analytics.services import Sender
from consent_service.analytics.sources import source_of
from consent_service.analytics.visits import Figures
from consent_service.consent.cookie import Choice
from consent_service.db import db
from tests.analytics.conftest import BROWSER_UA

CHOICE = Choice("7f1c2d3e-0000-4000-8000-000000000001", 1, True, True)
DAY = dt.date(2026, 3, 2)
SITE = "uppsala.se"
ZONE = ZoneInfo("Europe/Stockholm")  # the default CONSENT_ANALYTICS_TIMEZONE
# Three visitors: three consent IDs (a visitor is one consent ID on one day).
A = CHOICE.consent_id
B, C = "7f1c2d3e-0000-4000-8000-00000000000b", "7f1c2d3e-0000-4000-8000-00000000000c"


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=ZONE).astimezone(dt.UTC)


def at(minutes: int, day: dt.date = DAY) -> dt.datetime:
    """`minutes` after 09:00 on `day`, in the analytics time zone."""
    return day_start(day) + dt.timedelta(hours=9, minutes=minutes)


def ingest(app: Flask, when: dt.datetime, consent: str, *events: dict[str, Any]) -> None:
    with app.test_request_context():
        choice = Choice(consent, 1, True, True)
        services.ingest(list(events), Sender(choice, "www.uppsala.test", "192.0.2.1", BROWSER_UA),
                        site=SITE, policy_version=1, hosts=frozenset({"www.uppsala.test"}),
                        now=when)  # fmt: skip


def view(path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "pageview", "path": path, **extra}


def event(name: str, path: str) -> dict[str, Any]:
    return {"type": "event", "name": name, "path": path}


def known_traffic(app: Flask) -> None:
    """Four visits of three visitors (times after 09:00):

    A  0 /a (newsletter campaign), 5 /b, 10 outbound          visit 1: 2 views, 600 s
    A  60 /a from google.se (50 minutes later: a new visit)   visit 2: bounce, 0 s
    B  0 /b from facebook + idea_shown, 30 /c (30 min: same)  visit 3: 2 views, 1800 s
    C  0 /a + idea_shown (not an interaction)                 visit 4: bounce, 0 s
    """
    campaign = "/a?utm_source=nyhetsbrev&utm_medium=email&utm_campaign=vinter&fbclid=x#top"
    ingest(app, at(0), A, view(campaign))
    ingest(app, at(5), A, view("/b"))
    ingest(app, at(10), A, event("outbound", "/b"))
    ingest(app, at(60), A, view("/a", referrer="https://www.google.se/search"))
    ingest(app, at(0), B, view("/b", referrer="https://l.facebook.com/"), event("idea_shown", "/b"))
    ingest(app, at(30), B, view("/c"))
    ingest(app, at(0), C, view("/a"), event("idea_shown", "/a"))


WHOLE_DAY = Period(DAY, DAY)
TOTALS = Figures(visitors=3, visits=4, pageviews=6, bounces=2, duration=2400, events=3)
BREAKDOWNS = {
    # value: (visitors, visits, pageviews, bounces, duration)
    "page": [("/a", (2, 3, 3, 2, 600)), ("/b", (2, 2, 2, 0, 2400)), ("/c", (1, 1, 1, 0, 1800))],
    "entry_page": [("/a", (2, 3, 4, 2, 600)), ("/b", (1, 1, 2, 0, 1800))],
    "exit_page": [("/a", (2, 2, 2, 2, 0)), ("/b", (1, 1, 2, 0, 600)), ("/c", (1, 1, 2, 0, 1800))],
    "source": [("Direct / None", (1, 1, 1, 1, 0)), ("Facebook", (1, 1, 2, 0, 1800)),
               ("Google", (1, 1, 1, 1, 0)), ("nyhetsbrev", (1, 1, 2, 0, 600))],
    "source_kind": [("campaign", (1, 1, 2, 0, 600)), ("direct", (1, 1, 1, 1, 0)),
                    ("search", (1, 1, 1, 1, 0)), ("social", (1, 1, 2, 0, 1800))],
    "utm_source": [("nyhetsbrev", (1, 1, 2, 0, 600))],
    "utm_medium": [("email", (1, 1, 2, 0, 600))],
    "utm_campaign": [("vinter", (1, 1, 2, 0, 600))],
    "goal": [("idea_shown", (2, 2, 3, 1, 1800)), ("outbound", (1, 1, 2, 0, 600))],
}  # fmt: skip


def check_figures(app: Flask) -> None:
    with app.test_request_context():
        total = figures.aggregate(SITE, WHOLE_DAY)
        assert total == TOTALS
        # Plausible's derived metrics: 6 / 4 views, 2 of 4 bounced, 2400 s / 4 visits.
        assert (total.views_per_visit, total.bounce_rate, total.visit_duration) == (1.5, 50, 600)
        for prop, expected in BREAKDOWNS.items():
            got = [(value, (f.visitors, f.visits, f.pageviews, f.bounces, f.duration))
                   for value, f in figures.breakdown(SITE, prop, WHOLE_DAY)]  # fmt: skip
            assert got == expected, prop


def test_known_traffic_gives_exact_figures_live_and_rolled_up(app: Flask) -> None:
    known_traffic(app)
    # The day is open: computed from the raw events when asked.
    check_figures(app)
    with app.test_request_context():
        assert rollup.rollup_day(SITE, DAY, at(24 * 60), final=True)
    # Final: read from analytics_daily_visits, the same figures.
    check_figures(app)


def test_an_event_counts_as_soon_as_it_is_stored(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A quiet day: its computation is never "slow" here, however busy the machine running
    # the test is (a slow one may be reused for a few seconds; see figures.live_day).
    monkeypatch.setattr(figures, "SLOW_SECONDS", 3600.0)
    ingest(app, at(0), A, view("/a"))
    with app.test_request_context():
        assert figures.aggregate(SITE, WHOLE_DAY).pageviews == 1
    ingest(app, at(1), A, view("/b"))
    with app.test_request_context():
        # The open day's computation is kept until the day's events change.
        total = figures.aggregate(SITE, WHOLE_DAY)
        assert (total.pageviews, total.visits, total.bounces, total.duration) == (2, 1, 0, 60)


def test_visits_never_reach_across_days(app: Flask) -> None:
    late = day_start(DAY + dt.timedelta(days=1)) - dt.timedelta(minutes=5)
    ingest(app, late, A, view("/a"))
    ingest(app, late + dt.timedelta(minutes=10), A, view("/b"))
    with app.test_request_context():
        two_days = Period(DAY, DAY + dt.timedelta(days=1))
        total = figures.aggregate(SITE, two_days)
        # One visitor on each day (the key changes at midnight): two visits, two bounces.
        assert (total.visitors, total.visits, total.bounces) == (2, 2, 2)


def test_campaign_fields_are_kept_and_other_parameters_dropped(app: Flask) -> None:
    ingest(app, at(0), A, view("/a?UTM_Source=Skylt&utm_term=&utm_content=qr%201&q=hemligt"))
    with app.app_context():
        row = db.session.execute(select(AnalyticsEvent)).scalar_one()
        assert row.path == "/a"
        assert (row.utm_source, row.utm_medium, row.utm_content, row.utm_term) == (
            "Skylt", None, "qr 1", None,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("referrer", "utm_source", "expected"),
    [
        ("www.google.se", None, ("Google", "search")),
        ("duckduckgo.com", "nyhetsbrev", ("DuckDuckGo", "search")),
        ("l.facebook.com", None, ("Facebook", "social")),
        ("t.co", None, ("X (Twitter)", "social")),
        ("www.linkedin.com", None, ("LinkedIn", "social")),
        ("www.regionuppsala.se", None, ("www.regionuppsala.se", "site")),
        (None, "facebook", ("Facebook", "social")),
        (None, "fb", ("Facebook", "social")),
        (None, "nyhetsbrev", ("nyhetsbrev", "campaign")),
        (None, None, ("Direct / None", "direct")),
    ],
)
def test_sources_are_grouped_by_kind(
    referrer: str | None, utm_source: str | None, expected: tuple[str, str]
) -> None:
    assert source_of(referrer, utm_source) == expected


def test_configured_goals_replace_the_event_names(app: Flask) -> None:
    from consent_service.analytics.goals import GoalError, add_goal

    known_traffic(app)
    with app.app_context():
        add_goal(SITE, "page", "/b*", by="redaktor", now=at(0))
        add_goal(SITE, "event", "outbound", by="redaktor", now=at(0))
        with pytest.raises(GoalError):
            add_goal(SITE, "event", "outbound", by="redaktor", now=at(0))
        with pytest.raises(GoalError):
            add_goal(SITE, "page", "bo-och-leva", by="redaktor", now=at(0))
    for _ in range(2):  # live, then rolled up with the goals of the moment
        with app.test_request_context():
            got = [(value, (f.visitors, f.visits, f.pageviews, f.bounces, f.duration, f.events))
                   for value, f in figures.breakdown(SITE, "goal", WHOLE_DAY)]  # fmt: skip
            # /b was viewed in visits 1 and 3; idea_shown is no goal now.
            assert got == [("Visit /b*", (2, 2, 4, 0, 2400, 2)),
                           ("outbound", (1, 1, 2, 0, 600, 1))]  # fmt: skip
            rollup.rollup_day(SITE, DAY, at(24 * 60), final=True)


def test_a_busy_day_is_recomputed_at_most_every_few_seconds(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every computation counts as slow here: a result younger than REUSE_SECONDS is reused.
    monkeypatch.setattr(figures, "SLOW_SECONDS", -1.0)
    ingest(app, at(0), A, view("/a"))
    with app.test_request_context():
        assert figures.aggregate(SITE, WHOLE_DAY).pageviews == 1
    ingest(app, at(1), A, view("/b"))
    with app.test_request_context():
        assert figures.aggregate(SITE, WHOLE_DAY).pageviews == 1
        monkeypatch.setattr(figures, "REUSE_SECONDS", 0.0)
        assert figures.aggregate(SITE, WHOLE_DAY).pageviews == 2


def test_past_days_are_recounted_with_the_goals_of_now(app: Flask) -> None:
    from click.testing import Result

    from consent_service.analytics.goals import add_goal

    known_traffic(app)
    with app.test_request_context():
        assert rollup.rollup_day(SITE, DAY, at(24 * 60), final=True)
        add_goal(SITE, "page", "/c", by="redaktor", now=at(0))
        # Final: the goals it was rolled up with (none: every custom event).
        assert [v for v, _ in figures.breakdown(SITE, "goal", WHOLE_DAY)] == [
            "idea_shown", "outbound",
        ]  # fmt: skip
    result: Result = app.test_cli_runner().invoke(args=["analytics", "recount-visits"])
    assert result.exit_code == 0 and "1 day(s) recounted" in result.output
    with app.test_request_context():
        got = [(v, f.visitors, f.visits) for v, f in figures.breakdown(SITE, "goal", WHOLE_DAY)]
        assert got == [("Visit /c", 1, 1)]
        assert figures.aggregate(SITE, WHOLE_DAY) == TOTALS
