"""The privacy officer's pages: search, entries, charts, verify now, access log; hostile input."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import AccessLogEntry
from consent_service.db import db
from tests.audit.conftest import add_entries, form_token
from tests.audit.test_chain import sql
from tests.conftest import POLICY_VERSION


def seqs_on(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'aria-label="Post (\d+)"', html)]


def access_rows(app: Flask) -> list[AccessLogEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))


def test_keyset_pages_cover_every_entry_once(app: Flask, officer: FlaskClient) -> None:
    add_entries(app, 120)
    seen: list[int] = []
    url = "/admin/audit/"
    while url:
        html = officer.get(url).get_data(as_text=True)
        seen += seqs_on(html)
        match = re.search(r'href="([^"]*before=\d+[^"]*)">Äldre poster', html)
        url = match.group(1).replace("&amp;", "&") if match else ""
    assert seen == list(range(120, 0, -1))
    back = officer.get("/admin/audit/?after=50").get_data(as_text=True)
    assert seqs_on(back) == list(range(100, 50, -1))
    assert "Nyare poster" in back


def test_audit_pages_are_never_cached(app: Flask, officer: FlaskClient) -> None:
    add_entries(app, 1)
    for path in ("/admin/audit/", "/admin/audit/entries/1", "/admin/audit/access-log"):
        assert officer.get(path).headers["Cache-Control"] == "no-store"


def test_filters_narrow_the_search(app: Flask, officer: FlaskClient) -> None:
    start = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    add_entries(app, 3, start=start, step=dt.timedelta(days=1), consent_id="abc-1")
    add_entries(app, 2, start=start, action="withdraw", functional=False, source="nojs")
    add_entries(app, 2, start=start, statistics=True)

    def found(query: str) -> list[int]:
        response = officer.get("/admin/audit/?" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return seqs_on(response.get_data(as_text=True))

    assert found("consent_id=abc-1") == [3, 2, 1]
    assert found("date_from=2026-03-02&date_to=2026-03-02") == [2]
    assert found("action=withdraw") == [5, 4]
    assert found("source=nojs") == [5, 4]
    assert found("category=statistics") == [7, 6]
    assert found("category=none") == [5, 4]
    assert found("category=functional&action=grant") == [7, 6, 3, 2, 1]
    current = f"policy_version={POLICY_VERSION}"
    assert found(f"{current}&consent_id=abc-1&action=grant") == [3, 2, 1]
    assert found(f"policy_version={POLICY_VERSION + 1}") == []


HOSTILE = [
    "consent_id=%27%20OR%201%3D1--",
    "consent_id=" + "a" * 5000,
    "consent_id=%00",
    "consent_id=%ED%A0%80",
    "consent_id=%F0%9F%98%80",
    "date_from=2026-02-30",
    "date_from=99999-01-01",
    "date_from=1900-01-01",
    "date_from=2026-01-01T00:00",
    "date_from=2026-05-01&date_to=2026-04-01",
    "action=grant%27%3B",
    "action=purge",
    "category=%3Cscript%3E",
    "policy_version=1e9",
    "policy_version=-1",
    "policy_version=99999999999999999999",
    "source=%E2%80%AE",
    "site=..%2F..",
    "before=-1",
    "before=99999999999999999999999",
    "after=abc",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_filters_get_a_clear_400(officer: FlaskClient, query: str) -> None:
    response = officer.get("/admin/audit/?" + query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    export = officer.get("/admin/audit/export?format=csv&" + query)
    assert export.status_code in (200, 400)  # cursors are ignored by the export


@pytest.mark.parametrize(
    "path",
    ["/admin/audit/entries/0", "/admin/audit/entries/999999",
     "/admin/audit/entries/99999999999999999999999", "/admin/audit/entries/-1",
     "/admin/audit/entries/abc"],
)  # fmt: skip
def test_unknown_entries_are_404(officer: FlaskClient, path: str) -> None:
    assert officer.get(path).status_code == 404


def test_an_entry_shows_the_archived_text_and_its_history(app: Flask, officer: FlaskClient) -> None:
    add_entries(app, 2, consent_id="c0ffee-1")
    add_entries(app, 1, action="withdraw", consent_id="c0ffee-1", functional=False)
    add_entries(app, 1)
    html = officer.get("/admin/audit/entries/2").get_data(as_text=True)
    assert "Kakor på uppsala.se" in html  # the banner's title as archived
    assert "c0ffee-1" in html
    assert html.count('href="/admin/audit/entries/') == 2  # entries 1 and 3, not 4
    assert "(den här)" in html
    assert re.search(r"Postens hash i kedjan</dt><dd class=\"mono\">[0-9a-f]{64}", html)


def test_a_purged_entry_says_so(app: Flask, officer: FlaskClient) -> None:
    add_entries(app, 1, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=1500))
    app.test_cli_runner().invoke(args=["purge"])
    response = officer.get("/admin/audit/entries/1")
    assert response.status_code == 410
    assert "gallrad" in response.get_data(as_text=True)


def test_the_chart_counts_rates_and_shapes(app: Flask, officer: FlaskClient) -> None:
    day = dt.datetime(2026, 6, 10, 9, tzinfo=dt.UTC)
    add_entries(app, 2, start=day, functional=True, statistics=True)  # accept all
    add_entries(app, 1, start=day, functional=False, statistics=False)  # only necessary
    add_entries(app, 1, start=day, functional=True, statistics=False, action="update")  # custom
    add_entries(app, 3, start=day, action="withdraw", functional=False)  # not a decision to count
    response = officer.get(
        "/admin/audit/charts?granularity=day&date_from=2026-06-09&date_to=2026-06-11"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    row = re.search(r'<th scope="row">2026-06-10</th>(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td>\s*([^<]*?)\s*</td>", row.group(1))
    # Swedish: a decimal comma and a no-break space before the sign (CLDR via Babel).
    assert cells == ["4", "75,0\xa0%", "50,0\xa0%", "50,0\xa0%", "25,0\xa0%", "25,0\xa0%"]
    assert "<svg" in html and "<polyline" in html and "<script" not in html
    weekly = officer.get(
        "/admin/audit/charts?granularity=week&date_from=2026-06-01&date_to=2026-06-30"
    )
    assert "2026 v24" in weekly.get_data(as_text=True)
    monthly = officer.get(
        "/admin/audit/charts?granularity=month&date_from=2026-01-01&date_to=2026-12-31"
    )
    assert "2026-06" in monthly.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["granularity=year", "granularity=day&date_from=2000-01-01&date_to=2026-01-01",
     "date_from=2026-13-01", "date_from=2026-05-01&date_to=2026-04-01"],
)  # fmt: skip
def test_bad_chart_ranges_get_a_clear_400(officer: FlaskClient, query: str) -> None:
    response = officer.get("/admin/audit/charts?" + query)
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)


def test_verify_now_reports_intact_and_broken(app: Flask, officer: FlaskClient) -> None:
    add_entries(app, 4)
    token = form_token(officer, "/admin/audit/verify")
    ok = officer.post("/admin/audit/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "Loggen är oförändrad" in ok and "4 poster kontrollerade" in ok
    sql(app, "UPDATE consent_log_entries SET statistics = NOT statistics WHERE seq = 3")
    broken = officer.post("/admin/audit/verify", data={"csrf_token": token}).get_data(True)
    assert "Loggen är inte intakt" in broken and "post 3" in broken
    assert officer.post("/admin/audit/verify", data={}).status_code == 400


def test_the_access_log_records_who_did_what(app: Flask, officer: FlaskClient) -> None:
    add_entries(app, 2)
    officer.get("/admin/audit/?action=grant&consent_id=abc")
    officer.get("/admin/audit/entries/1")
    officer.get("/admin/audit/export?format=csv&action=grant")
    token = form_token(officer, "/admin/audit/verify")
    officer.post("/admin/audit/verify", data={"csrf_token": token})
    rows = [(r.actor, r.action, r.outcome, r.details) for r in access_rows(app)]
    assert rows[0] == ("dso", "sign_in", "ok", {})
    assert ("dso", "search", "ok", {"action": "grant", "consent_id": "abc"}) in rows
    assert ("dso", "view_entry", "ok", {"seq": 1}) in rows
    assert ("dso", "export", "ok", {"format": "csv", "action": "grant"}) in rows
    assert ("dso", "verify", "ok", {}) in rows
    page = officer.get("/admin/audit/access-log").get_data(as_text=True)
    assert "Export" in page and "Verifiering" in page and "Inloggning" in page


@pytest.mark.parametrize("before", ["abc", "-5", "1" * 40, "%00"])
def test_hostile_access_log_cursors_get_a_400(officer: FlaskClient, before: str) -> None:
    assert officer.get(f"/admin/audit/access-log?before={before}").status_code == 400


def test_the_access_log_cannot_be_changed_through_the_app(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if "access" in rule.rule:
            assert rule.methods is not None
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    client = app.test_client()
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/admin/audit/access-log").status_code == 405
