"""Period comparison, chart notes, shared links and e-mail subscriptions on the dashboard.

Known traffic in (tests/analytics/test_visits.py), exact figures out: the change against the
period before and against the same period a year earlier, in Babel's signs and percentages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from consent_service.admin.models import AccessLogEntry, Role
from consent_service.analytics import chart_notes, sharing
from consent_service.analytics.editor_models import ShareLink
from consent_service.analytics.reports import Period
from consent_service.db import db, utcnow
from consent_service.web.formatting import format_change, format_points
from tests.analytics.test_visits import DAY, A, B, at, ingest, known_traffic, view
from tests.helpers.forms import form_token
from tests.helpers.staff import sign_in_as

NBSP = "\u00a0"
PREV = DAY - dt.timedelta(days=1)  # Sunday 1 March 2026
YEAR = dt.date(2025, 3, 2)


def editor(app: Flask, name: str = "redaktor") -> FlaskClient:
    client = app.test_client()
    sign_in_as(app, client, Role.EDITOR, name=name)
    return client


def earlier_traffic(app: Flask) -> None:
    """The day before: 2 visitors, 2 visits, 3 views, 1 bounce, 300 s in all (150 s each).
    A year before: 1 visitor, 1 visit, 3 views, no bounce, 1,200 s."""
    ingest(app, at(0, YEAR), A, view("/a"))
    ingest(app, at(10, YEAR), A, view("/b"))
    ingest(app, at(20, YEAR), A, view("/c"))
    ingest(app, at(0, PREV), A, view("/a"))
    ingest(app, at(0, PREV), B, view("/a"))
    ingest(app, at(5, PREV), B, view("/b"))


def card_changes(html: str) -> list[str]:
    return re.findall(r'<dd class="stats-card-change">([^<]*)</dd>', html)


# --- comparison -----------------------------------------------------------------------------


def test_babel_signs_and_points() -> None:
    assert format_change(112, 100) == f"+12{NBSP}%"
    assert format_change(97, 100) == f"\u22123{NBSP}%"  # Swedish writes U+2212
    assert format_change(97, 100, "en") == "-3%"
    assert format_change(5, 0) is None
    assert format_points(45, 50) == "\u22125" and format_points(45, 50, "en") == "-5"


def test_the_year_before_has_as_many_days() -> None:
    week = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    assert week.year_before() == Period(dt.date(2025, 3, 2), dt.date(2025, 3, 8))
    leap = Period(dt.date(2024, 2, 29), dt.date(2024, 3, 1))
    assert leap.year_before() == Period(dt.date(2023, 2, 28), dt.date(2023, 3, 1))


def test_comparison_with_the_period_before_and_the_year_before(app: Flask) -> None:
    earlier_traffic(app)
    known_traffic(app)  # 3 visitors, 4 visits, 6 views, 2 bounces, 600 s per visit
    client = editor(app)
    day = f"from={DAY}&to={DAY}"

    html = client.get(f"/admin/statistics/?{day}&compare=previous").get_data(as_text=True)
    assert card_changes(html) == [
        # Page views and visitors from the daily rollup: 6 vs 3, 3 vs 2; no custom events.
        f"+100{NBSP}% mot perioden före (3)",
        f"+50{NBSP}% mot perioden före (2)",
        "ny mot perioden före (0)",
        # Visits: 4 vs 2; 1.5 views per visit both days; bounce rate 50 % both; 600 s vs 150 s.
        f"+100{NBSP}% mot perioden före (2)",
        f"+0{NBSP}% mot perioden före (1,5)",
        f"+0{NBSP}procentenheter mot perioden före (50{NBSP}%)",
        f"+300{NBSP}% mot perioden före (2{NBSP}min 30{NBSP}s)",
    ]
    assert "Sidvisningar, perioden före" in html  # the dashed line's legend

    html = client.get(f"/admin/statistics/?{day}&compare=year").get_data(as_text=True)
    assert card_changes(html) == [
        f"+100{NBSP}% mot samma period förra året (3)",
        f"+200{NBSP}% mot samma period förra året (1)",
        "ny mot samma period förra året (0)",
        f"+300{NBSP}% mot samma period förra året (1)",
        f"\u221250{NBSP}% mot samma period förra året (3)",  # 1.5 views per visit vs 3
        f"+50{NBSP}procentenheter mot samma period förra året (0{NBSP}%)",
        f"\u221250{NBSP}% mot samma period förra året (20{NBSP}min 0{NBSP}s)",
    ]
    assert "Besökare, samma period förra året" in html
    # The table beside the chart pairs each day with the day a year earlier.
    assert '<th scope="col">Dag, samma period förra året</th>' in html
    assert f'<td>{YEAR.isoformat()}</td><td class="num">3</td><td class="num">1</td>' in html
    assert "selected>Samma period förra året</option>" in html


def test_an_unknown_comparison_is_refused(app: Flask) -> None:
    response = editor(app).get("/admin/statistics/?compare=decade")
    assert response.status_code == 400
    assert "Jämför med perioden före eller med samma period förra året." in response.get_data(
        as_text=True
    )


# --- annotations ----------------------------------------------------------------------------


def test_editors_annotate_the_chart(app: Flask) -> None:
    known_traffic(app)
    client = editor(app, "anna")
    token = form_token(client, "/admin/statistics/")
    back = {"from": str(PREV), "to": str(DAY + dt.timedelta(days=1)), "compare": "previous"}
    added = client.post("/admin/statistics/annotations",
                        data={"csrf_token": token, "day": str(DAY),
                              "text": "Ny  startsida\tpublicerad", **back})  # fmt: skip
    assert added.status_code == 303
    assert added.headers["Location"] == (
        f"/admin/statistics/?from={PREV}&to={DAY + dt.timedelta(days=1)}&compare=previous"
        "#notes-heading"
    )
    with app.app_context():  # another site's note is not shown
        chart_notes.add_annotation("annan.se", str(DAY), "Inte här", by="x", now=utcnow())
    html = client.get(added.headers["Location"]).get_data(as_text=True)
    notes = html.split('id="notes-heading"')[1].split("</section>")[0]
    assert "Ny startsida publicerad" in notes and "(av anna)" in notes
    assert "Inte här" not in html
    # Three days on the chart: the note's day is the middle one, x = 56 + 652 / 2.
    assert ('<g class="stats-marker"><title>2026-03-02: Ny startsida publicerad</title>\n'
            '        <line x1="382.0" x2="382.0"') in html  # fmt: skip

    note_id = int(re.search(r"/admin/statistics/annotations/(\d+)\?", notes).group(1))
    page = client.get(f"/admin/statistics/annotations/{note_id}")
    assert page.status_code == 200 and 'value="Ny startsida publicerad"' in page.get_data(
        as_text=True
    )
    changed = client.post(f"/admin/statistics/annotations/{note_id}",
                          data={"csrf_token": token, "day": str(DAY),
                                "text": "Ny startsida"})  # fmt: skip
    assert changed.status_code == 303
    html = client.get(f"/admin/statistics/?from={DAY}&to={DAY}").get_data(as_text=True)
    assert "Ny startsida" in html and "(av anna, ändrad av anna)" in html

    gone = client.post(f"/admin/statistics/annotations/{note_id}/delete",
                       data={"csrf_token": token})  # fmt: skip
    assert gone.status_code == 303
    again = client.post(f"/admin/statistics/annotations/{note_id}/delete",
                        data={"csrf_token": token})  # fmt: skip
    assert again.status_code == 404
    assert "Inga anteckningar för perioden." in client.get(
        f"/admin/statistics/?from={DAY}&to={DAY}"
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    ("day", "note", "message"),
    [("2026-13-01", "Kampanj", "Ange dagen som ett datum"),
     ("", "Kampanj", "Ange dagen som ett datum"),
     ("1999-12-31", "Kampanj", "för långt bak"),
     ("2026-03-02", "   ", "Skriv vad som hände"),
     ("2026-03-02", "x" * 201, "högst 200 tecken"),
     ("2026-03-02", "Kampanj\x00", "tecken som inte kan sparas")],
)  # fmt: skip
def test_bad_notes_are_refused_and_kept_in_the_form(
    app: Flask, day: str, note: str, message: str
) -> None:
    client = editor(app)
    token = form_token(client, "/admin/statistics/")
    response = client.post("/admin/statistics/annotations",
                           data={"csrf_token": token, "day": day, "text": note})  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert f'value="{day}"' in html  # what was typed is still there
    with app.app_context():
        assert chart_notes.annotations_in("uppsala.se", Period(dt.date(2000, 1, 1), DAY)) == []
    assert client.post("/admin/statistics/annotations/999", data={
        "csrf_token": token, "day": "2026-03-02", "text": "x"}).status_code == 404  # fmt: skip


# --- shared links ---------------------------------------------------------------------------


def create_link(client: FlaskClient, label: str = "Kommunikationsavdelningen",
                expires: str = "") -> str:  # fmt: skip
    token = form_token(client, "/admin/statistics/shares")
    response = client.post(
        "/admin/statistics/shares", data={"csrf_token": token, "label": label, "expires": expires}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    url = re.search(r'id="new-link-url"[^>]*value="([^"]+)"', html).group(1)
    assert f'<th scope="row">{label}</th>' in html  # listed at once
    return url.split("/statistics/shared/")[1]


def test_a_shared_link_shows_today_in_the_daily_table_as_on_the_cards(
    app: Flask, client: FlaskClient
) -> None:
    from tests.analytics.conftest import consent_cookie, pageview, send

    link = create_link(editor(app, "anna"))
    cookie = consent_cookie(app)
    public = app.test_client()

    def today_row() -> tuple[str, str]:
        html = public.get(f"/statistics/shared/{link}").get_data(as_text=True)
        rows = re.findall(r'<tr><th scope="row">[^<]*</th><td class="num">(\d+)</td>'
                          r'<td class="num">(\d+)</td>', html)  # fmt: skip
        pageviews = re.findall(r'<dd class="stats-card-figure">([^<]*)</dd>', html)[2]
        assert rows[-1][0] == pageviews
        return rows[-1]

    send(client, [pageview("/a"), pageview("/b")], cookie=cookie)
    assert today_row() == ("2", "1")  # this look rolls today up
    send(client, [pageview("/a"), pageview("/c"), pageview("/a")], cookie=cookie)
    assert today_row() == ("5", "1")  # within the rollup's interval: read live


def test_a_shared_link_shows_the_figures_without_sign_in(app: Flask) -> None:
    earlier_traffic(app)
    known_traffic(app)
    staff = editor(app, "anna")
    token = form_token(staff, "/admin/statistics/")
    staff.post("/admin/statistics/annotations",
               data={"csrf_token": token, "day": str(DAY), "text": "Ny startsida"})  # fmt: skip
    link = create_link(staff)
    assert link.startswith("csd_") and len(link) > 40
    with app.app_context():  # only the token's SHA-256 is stored
        stored = db.session.scalar(select(ShareLink.token_hash))
        assert stored == hashlib.sha256(link.encode()).hexdigest()
        dump = " ".join(str(v) for row in db.session.execute(
            text("SELECT * FROM analytics_share_links")) for v in row)  # fmt: skip
        assert link not in dump

    public = app.test_client()
    response = public.get(f"/statistics/shared/{link}?from={DAY}&to={DAY}&compare=previous",
                          headers={"Accept-Language": "sv"})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Logga ut" not in html and "/admin/" not in html  # no staff menu, no staff links
    figures = re.findall(r'<dd class="stats-card-figure">([^<]*)</dd>', html)
    assert figures == ["3", "4", "6", f"50{NBSP}%", f"10{NBSP}min 0{NBSP}s"]
    assert card_changes(html) == [
        f"+50{NBSP}% mot perioden före (2)",
        f"+100{NBSP}% mot perioden före (2)",
        f"+100{NBSP}% mot perioden före (3)",
        f"+0{NBSP}procentenheter mot perioden före (50{NBSP}%)",
        f"+300{NBSP}% mot perioden före (2{NBSP}min 30{NBSP}s)",
    ]
    assert "Ny startsida" in html and "anna" not in html  # notes, never who wrote them
    pages = html.split('id="pages-heading"')[1].split("</section>")[0]
    assert re.findall(r'<th scope="row">([^<]*)</th>', pages) == ["/a", "/b", "/c"]

    english = public.get(f"/statistics/shared/{link}?from={DAY}&to={DAY}&compare=year&lang=en")
    html = english.get_data(as_text=True)
    assert english.status_code == 200 and '<html lang="en"' in html
    assert "Visitor statistics for uppsala.se" in html
    assert (
        card_changes(html)[3]
        == f"+50{NBSP}percentage points against the same period last year (0%)"
    )
    assert card_changes(html)[4] == f"-50% against the same period last year (20{NBSP}min 0{NBSP}s)"
    assert public.get(f"/statistics/shared/{link}?from=2026-02-31").status_code == 400

    listed = staff.get("/admin/statistics/shares").get_data(as_text=True)
    link_id = re.search(r"/admin/statistics/shares/(\d+)/revoke", listed).group(1)
    revoked = staff.post(
        f"/admin/statistics/shares/{link_id}/revoke",
        data={"csrf_token": form_token(staff, "/admin/statistics/shares")},
    )
    assert revoked.status_code == 303
    gone = public.get(f"/statistics/shared/{link}")
    assert gone.status_code == 410 and "Länken gäller inte längre" in gone.get_data(as_text=True)
    assert gone.headers["Referrer-Policy"] == "no-referrer"
    assert "Återkallad" in staff.get("/admin/statistics/shares").get_data(as_text=True)
    with app.app_context():  # both in the staff access log, by whom
        logged = db.session.execute(
            select(AccessLogEntry.actor, AccessLogEntry.action)
            .where(AccessLogEntry.action.in_(("share_create", "share_revoke")))
            .order_by(AccessLogEntry.id)
        ).all()
    assert logged == [("anna", "share_create"), ("anna", "share_revoke")]
    unknown = public.get("/statistics/shared/csd_" + "x" * 43)
    assert unknown.status_code == 404 and "Länken finns inte" in unknown.get_data(as_text=True)
    assert public.get("/statistics/shared/nothing").status_code == 404


def test_an_expired_link_answers_410(app: Flask) -> None:
    with app.app_context():
        now = utcnow()
        new = sharing.create_link("uppsala.se", "Förra veckan", now - dt.timedelta(seconds=1),
                                  by="anna", now=now - dt.timedelta(days=7))  # fmt: skip
        assert sharing.look_up(new.token, now).state is sharing.LinkState.EXPIRED
    response = app.test_client().get(f"/statistics/shared/{new.token}?lang=en")
    assert response.status_code == 410
    assert "The link is no longer valid" in response.get_data(as_text=True)


def test_a_link_valid_until_a_day_ends_there(app: Flask) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Stockholm")
    ends = sharing.expiry("2026-03-02", dt.date(2026, 3, 1), zone)
    assert ends == dt.datetime(2026, 3, 2, 23, 0, tzinfo=dt.UTC)  # midnight in Stockholm


@pytest.mark.parametrize(
    ("label", "expires", "message"),
    [("", "", "Ge länken ett namn"),
     ("x" * 81, "", "Ge länken ett namn"),
     ("Kommunikation", "2001-01-01", "har redan varit"),
     ("Kommunikation", "i morgon", "Ange sista giltiga dag"),
     ("Kommunikation", "2999-01-01", "högst 366 dagar")],
)  # fmt: skip
def test_bad_links_are_refused_and_nothing_is_made(
    app: Flask, label: str, expires: str, message: str
) -> None:
    client = editor(app)
    token = form_token(client, "/admin/statistics/shares")
    response = client.post(
        "/admin/statistics/shares", data={"csrf_token": token, "label": label, "expires": expires}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html
    assert f'value="{expires}"' in html
    with app.app_context():
        assert sharing.list_links("uppsala.se") == []
    assert client.post("/admin/statistics/shares/99/revoke",
                       data={"csrf_token": token}).status_code == 404  # fmt: skip


# --- subscriptions --------------------------------------------------------------------------


def test_editors_subscribe_and_unsubscribe(app: Flask) -> None:
    client = editor(app)
    token = form_token(client, "/admin/statistics/reports")
    for data, message in [
        ({"email": "inte en adress", "frequency": "weekly", "language": "sv"}, "Ange en e-post"),
        ({"email": "a@uppsala.se, b@uppsala.se", "frequency": "weekly", "language": "sv"},
         "Ange en e-post"),
        ({"email": "anna@uppsala.se", "frequency": "daily", "language": "sv"}, "veckovis"),
        ({"email": "anna@uppsala.se", "frequency": "weekly", "language": "fi"}, "svenska"),
    ]:  # fmt: skip
        refused = client.post("/admin/statistics/reports", data={"csrf_token": token, **data})
        html = refused.get_data(as_text=True)
        assert refused.status_code == 400 and message in html
        assert f'value="{data["email"]}"' in html  # kept in the form
    assert "Du prenumererar inte" in client.get("/admin/statistics/reports").get_data(as_text=True)
    for frequency, language in (("weekly", "sv"), ("monthly", "en")):
        done = client.post("/admin/statistics/reports",
                           data={"csrf_token": token, "email": "anna@uppsala.se",
                                 "frequency": frequency, "language": language})  # fmt: skip
        assert done.status_code == 303
    html = client.get("/admin/statistics/reports").get_data(as_text=True)
    assert "Varje vecka" in html and "Varje månad" in html and "Engelska" in html
    ids = re.findall(r"/admin/statistics/reports/(\d+)/delete", html)
    assert len(ids) == 2
    other = editor(app, "bertil")  # someone else's subscription is not theirs to end
    assert other.post(f"/admin/statistics/reports/{ids[0]}/delete",
                      data={"csrf_token": form_token(other, "/admin/statistics/reports")}
                      ).status_code == 404  # fmt: skip
    assert client.post(f"/admin/statistics/reports/{ids[0]}/delete",
                       data={"csrf_token": token}).status_code == 303  # fmt: skip
    assert len(re.findall(r"/reports/\d+/delete", client.get(
        "/admin/statistics/reports").get_data(as_text=True))) == 1  # fmt: skip
