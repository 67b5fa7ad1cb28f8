"""Numbers and dates as the page's language writes them (CLDR data through Babel)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from consent_service.web.formatting import (
    format_date,
    format_datetime,
    format_number,
    format_percent,
)
from tests.helpers.staff import sign_in_as

NBSP = "\u00a0"
WHEN = dt.datetime(2026, 1, 31, 14, 5, 9, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("formatted", "expected"),
    [
        # Swedish: a decimal comma, a no-break space before %, and as digit group separator.
        (format_percent(0.444, 1), f"44,4{NBSP}%"),
        (format_percent(0.75), f"75{NBSP}%"),
        (format_percent(None), "\u2013"),
        (format_number(0.0, 1), "0,0"),
        (format_number(1234567), f"1{NBSP}234{NBSP}567"),
        (format_number(2.25, 1), "2,2"),  # CLDR rounds half to even
        # English: a decimal point, no space before %.
        (format_percent(0.444, 1, "en"), "44.4%"),
        (format_number(1234567.5, 1, "en"), "1,234,567.5"),
        # A language Babel does not know falls back to the staff pages' Swedish.
        (format_percent(0.5, 0, "xx"), f"50{NBSP}%"),
        (format_date(WHEN), "2026-01-31"),
        (format_date(WHEN.date(), "long"), "31 januari 2026"),
        (format_date("2026-01-31T14:05:09+00:00", "long", "en"), "January 31, 2026"),
        (format_datetime(WHEN), "2026-01-31 14:05"),
        (format_datetime(WHEN, seconds=True), "2026-01-31 14:05:09"),
        (format_datetime(WHEN.replace(tzinfo=None), seconds=True), "2026-01-31 14:05:09"),
    ],
)
def test_formats(formatted: str, expected: str) -> None:
    assert formatted == expected


TEMPLATE = "{{ 0.444|percent(1) }} {{ 2.5|number(1) }} {{ day|date('long') }}"


def test_filters_follow_the_page_language(app: Flask) -> None:
    day = dt.date(2026, 3, 1)
    with app.test_request_context():
        # Staff pages pass no language: Swedish.
        assert render_template_string(TEMPLATE, day=day) == f"44,4{NBSP}% 2,5 1 mars 2026"
        assert render_template_string(TEMPLATE, day=day, language="sv") == (
            f"44,4{NBSP}% 2,5 1 mars 2026"
        )
        assert render_template_string(TEMPLATE, day=day, language="en") == (
            "44.4% 2.5 March 1, 2026"
        )


def test_a_staff_page_shows_swedish_decimals(app: Flask, client: FlaskClient) -> None:
    """The retention page said "3.0 år" beside "1095" (the default: 1,095 days)."""
    sign_in_as(app, client, Role.PRIVACY_OFFICER)
    html = client.get("/admin/audit/retention").get_data(as_text=True)
    assert f"<td>1{NBSP}095</td><td>3,0 år</td>" in html


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_citizen_status_page_dates_in_its_language(tmp_path: Path, language: str) -> None:
    """The status page showed "2026-01-31" in English too; now "January 31, 2026"."""
    from tests.conftest import make_app
    from tests.ideas.conftest import submit

    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0)
    citizen = app.test_client()
    created = submit(citizen)
    assert created.status_code == 201, created.get_data(as_text=True)
    html = citizen.get(f"{created.json['status_url']}?lang={language}").get_data(as_text=True)
    today = dt.datetime.now(dt.UTC).date()
    assert f">{format_date(today, 'long', language)}</time>" in html
    assert f">{today.isoformat()}</time>" not in html
