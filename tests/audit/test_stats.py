"""One consent-rate definition: one site's grants and updates per day of its time zone."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from consent_service.audit import stats
from consent_service.audit.chain import append_entry
from consent_service.audit.models import ConsentEntry
from consent_service.consent.services import current_policy
from consent_service.db import db
from tests.audit.conftest import add_entries, sign_in_as

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_other_site(app: Flask, when: dt.datetime, count: int = 1) -> None:
    with app.app_context():
        policy = current_policy()
        with db.writing_connection() as conn:
            for i in range(count):
                append_entry(
                    conn,
                    ConsentEntry(
                        site="annan.example", occurred_at=when + dt.timedelta(seconds=i),
                        consent_id=str(uuid.uuid4()), action="grant", functional=True,
                        statistics=True, policy_version=policy.version,
                        text_hash=policy.text_hash("sv"), language="sv", source="banner",
                        gpc=False,
                    ),
                )  # fmt: skip


def day_counts(app: Flask, first: str, last: str) -> dict[str, tuple[int, int]]:
    with app.app_context():
        site = current_policy().site
        buckets = stats.consent_rates(
            db.session,
            dt.date.fromisoformat(first),
            dt.date.fromisoformat(last),
            "day",
            site=site,
            zone=stats.site_zone(site),
        )
    return {b.label: (b.decisions, b.statistics) for b in buckets}


def test_days_are_the_sites_calendar_days_across_clock_changes(app: Flask) -> None:
    # Summer (UTC+2): 22:30 UTC on 9 June is 00:30 on 10 June in Stockholm.
    add_entries(app, 1, start=at("2026-06-09T22:30:00"), statistics=True)
    add_entries(app, 1, start=at("2026-06-09T21:59:59"))  # 23:59:59 local, still 9 June
    # The clock goes back at 01:00 UTC on 25 October: 22:30 UTC is 00:30 (+2) on the 25th,
    # the next evening 23:30 UTC is 00:30 (+1) on the 26th.
    add_entries(app, 1, start=at("2026-10-24T22:30:00"), statistics=True)
    add_entries(app, 1, start=at("2026-10-25T22:30:00"))  # 23:30 local on the 25th
    add_entries(app, 1, start=at("2026-10-25T23:30:00"), statistics=True)
    assert day_counts(app, "2026-06-09", "2026-06-10") == {
        "2026-06-09": (1, 0),
        "2026-06-10": (1, 1),
    }
    assert day_counts(app, "2026-10-24", "2026-10-26") == {
        "2026-10-24": (0, 0),
        "2026-10-25": (2, 1),
        "2026-10-26": (1, 1),
    }


def test_only_the_sites_grants_and_updates_count(app: Flask) -> None:
    when = at("2026-06-10T09:00:00")
    add_entries(app, 2, start=when, statistics=True)
    add_entries(app, 1, start=when, action="update")
    add_entries(app, 3, start=when, action="withdraw", functional=False)
    add_other_site(app, when, 5)
    assert day_counts(app, "2026-06-10", "2026-06-10") == {"2026-06-10": (3, 2)}


@pytest.mark.parametrize(
    ("start", "end", "changes"),
    [
        ("2026-06-01", "2026-07-01", []),
        ("2026-01-01", "2027-01-01", ["2026-03-29T01:00:00+00:00", "2026-10-25T01:00:00+00:00"]),
    ],
)
def test_clock_changes_are_found_to_the_second(start: str, end: str, changes: list[str]) -> None:
    found = stats.offsets(STOCKHOLM, at(start + "T00:00:00"), at(end + "T00:00:00"))
    assert [since.isoformat() for since, _ in found[1:]] == changes
    assert [minutes for _, minutes in found] == ([120] if not changes else [60, 120, 60])


def test_both_pages_show_the_same_rate(app: Flask, officer: FlaskClient) -> None:
    """The consent-log charts and the statistics dashboard agree, late-evening decisions too."""
    add_entries(app, 2, start=at("2026-06-09T22:30:00"), statistics=True)  # 10 June locally
    add_entries(app, 1, start=at("2026-06-10T12:00:00"))
    add_entries(app, 1, start=at("2026-06-10T22:30:00"), statistics=True)  # 11 June locally
    add_other_site(app, at("2026-06-10T12:00:00"), 2)
    charts = officer.get(
        "/admin/audit/charts?granularity=day&date_from=2026-06-10&date_to=2026-06-10"
    )
    html = charts.get_data(as_text=True)
    assert charts.status_code == 200
    row = re.search(r'<th scope="row">2026-06-10</th>\s*<td>(\d+)</td>', html)
    assert row is not None and row.group(1) == "3", html
    assert "Europe/Stockholm" in html
    other = officer.get(
        "/admin/audit/charts?granularity=day&date_from=2026-06-10&date_to=2026-06-10"
        "&site=annan.example"
    ).get_data(as_text=True)
    assert re.search(r'<th scope="row">2026-06-10</th>\s*<td>2</td>', other)
    assert '<option value="annan.example" selected>' in other
    dashboard = officer.get("/admin/statistics/?from=2026-06-10&to=2026-06-10")
    text = re.sub(r"\s+", " ", dashboard.get_data(as_text=True))
    assert re.search(r"2 av 3 val", text), text


def test_the_two_menu_items_have_distinct_names(app: Flask) -> None:
    client = app.test_client()
    sign_in_as(app, client, Role.PRIVACY_OFFICER, "dso-menu")
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert "Besöksstatistik" in html and "Samtyckesstatistik" in html
    assert ">Statistik<" not in html
