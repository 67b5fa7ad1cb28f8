"""/admin/statistics: who sees what, the consent rate beside the figures, filters, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from tests.analytics.conftest import consent_cookie, pageview, send
from tests.conftest import choice_body
from tests.helpers.forms import form_token
from tests.helpers.staff import sign_in_as


def signed_in(app: Flask, role: Role) -> FlaskClient:
    """A new client signed in as a new account named after `role`."""
    client = app.test_client()
    sign_in_as(app, client, role, name=role.value)
    return client


@pytest.fixture
def with_data(app: Flask, client: FlaskClient) -> None:
    # Three decisions in the consent log, two with statistics: a 67 % consent rate.
    for statistics in (True, True, False):
        client.delete_cookie("consent")
        client.post("/api/v1/consent", json=choice_body(statistics=statistics))
    cookie = consent_cookie(app)
    send(client, [pageview("/bo-och-leva", referrer="https://www.google.com/"),
                  pageview("=HYPERLINK(\"x\")".replace("=", "/=")),
                  {"type": "event", "name": "idea_opened", "path": "/ideer"}],
         cookie=cookie)  # fmt: skip
    send(client, [pageview()], cookie=None)


def test_editor_sees_the_figures_beside_the_consent_rate(app: Flask, with_data: None) -> None:
    editor = signed_in(app, Role.EDITOR)
    response = editor.get("/admin/statistics/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Bara de som sagt ja till statistik räknas" in html
    assert "67\u00a0%" in html and "2 av 3 val" in html
    assert "/bo-och-leva" in html and "www.google.com" in html
    assert "<svg" in html and 'role="img"' in html
    assert "Öppnade idéformuläret" in html
    assert "Inget giltigt samtycke" in html  # the dropped batch, as a number
    assert '<a href="/admin/statistics/" aria-current="page">Besöksstatistik</a>' in html  # menu


def test_privacy_officer_sees_only_the_consent_figures(app: Flask, with_data: None) -> None:
    officer = signed_in(app, Role.PRIVACY_OFFICER)
    html = officer.get("/admin/statistics/").get_data(as_text=True)
    assert "2 av 3 val" in html
    assert "/bo-och-leva" not in html and "<svg" not in html
    assert officer.get("/admin/statistics/export/consent.csv").status_code == 200
    assert officer.get("/admin/statistics/export/page.csv").status_code == 403


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INNOVATION])
def test_other_roles_are_refused(app: Flask, role: Role) -> None:
    assert signed_in(app, role).get("/admin/statistics/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/statistics/")
    assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    "query",
    ["from=2025-13-01", "from=2026-02-01&to=2026-01-01", "from=2020-01-01&to=2026-01-01",
     "page=no-slash", "page=/" + "x" * 2000, "from=%00&to=%ED%A0%80"],
)  # fmt: skip
def test_bad_filters_answer_400_with_the_reason(app: Flask, query: str) -> None:
    response = signed_in(app, Role.EDITOR).get(f"/admin/statistics/?{query}")
    assert response.status_code == 400
    assert "Filtret kunde inte användas" in response.get_data(as_text=True)


def test_page_filter_and_comparison(app: Flask, with_data: None) -> None:
    editor = signed_in(app, Role.EDITOR)
    html = editor.get("/admin/statistics/?page=/bo-och-leva&compare=1").get_data(as_text=True)
    assert "Sammanfattning för /bo-och-leva" in html
    assert "Sidvisningar, perioden före" in html  # the compared period's line


def test_csv_exports_neutralise_formulas(app: Flask, with_data: None) -> None:
    editor = signed_in(app, Role.EDITOR)
    response = editor.get("/admin/statistics/export/page.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data()[:3] == b"\xef\xbb\xbf"  # for people: a BOM for Excel
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Sida", "Sidvisningar", "Besökare"]
    assert ["/bo-och-leva", "1", "1"] in rows
    consent_csv = editor.get("/admin/statistics/export/consent.csv?compare=1").get_data()
    consent = list(csv.reader(io.StringIO(consent_csv.decode("utf-8-sig"))))
    assert consent[0][-1] == "Andel med statistik (%)"
    assert consent[1][2:] == ["3", "2", "66,7"] and len(consent) == 3  # Swedish decimals
    assert editor.get("/admin/statistics/export/nope.csv").status_code == 404
    assert editor.get("/admin/statistics/export/page.csv?from=x").status_code == 400


def test_formula_cells_get_a_quote() -> None:
    from consent_service.web.spreadsheet import neutralise as _cell

    assert [_cell(v) for v in ["=1+1", "+1", "-2", "@x", "\tx", "/ok", 5]] == [
        "'=1+1", "'+1", "'-2", "'@x", "'\tx", "/ok", 5,
    ]  # fmt: skip


def test_visits_sources_and_campaigns_match_the_api(app: Flask) -> None:
    from tests.analytics.test_visits import known_traffic

    known_traffic(app)
    editor = signed_in(app, Role.EDITOR)
    html = editor.get("/admin/statistics/?from=2026-03-02&to=2026-03-02").get_data(as_text=True)
    nbsp = "\u00a0"
    # Four visits, 6 / 4 views, two bounces of four, (600 + 1800) s / 4 visits.
    for figure in ("<dd class=\"stats-card-figure\">4</dd>", "1,5", f"50{nbsp}%",
                   f"10{nbsp}min 0{nbsp}s"):  # fmt: skip
        assert figure in html, figure
    assert "Sökmotorer" in html and "Sociala medier" in html and "nyhetsbrev" in html
    assert "Kampanjer (utm_campaign)" in html and "vinter" in html
    sources = editor.get("/admin/statistics/export/source.csv?from=2026-03-02&to=2026-03-02")
    rows = list(csv.reader(io.StringIO(sources.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Källa" and len(rows) == 5
    assert ["Facebook", "1", "1", "2", "0", "1800"] in [r[:6] for r in rows]


def test_consent_corrected_estimates_are_labelled(app: Flask, client: FlaskClient) -> None:
    # Four decisions today, one with statistics: a 25 % consent rate.
    for statistics in (True, False, False, False):
        client.delete_cookie("consent")
        client.post("/api/v1/consent", json=choice_body(statistics=statistics))
    send(client, [pageview("/a"), pageview("/b")], cookie=consent_cookie(app))
    html = signed_in(app, Role.EDITOR).get("/admin/statistics/").get_data(as_text=True)
    section = html.split('id="estimate-heading"')[1].split("</section>")[0]
    # 2 page views ÷ 0.25 = 8; Wilson 95 % for 1 of 4: 0.0456 to 0.6994 → 3 to 44.
    assert '<td class="num">8 (uppskattning)</td>' in section
    assert "3\u201344" in section and "Uppskattning:" in section  # an en dash


def test_editors_set_goals_and_the_dashboard_counts_them(app: Flask) -> None:
    from tests.analytics.test_visits import known_traffic

    known_traffic(app)
    editor = signed_in(app, Role.EDITOR)
    token = form_token(editor, "/admin/statistics/goals")
    bad = {"kind": "page", "value": "bo-och-leva", "csrf_token": token}
    refused = editor.post("/admin/statistics/goals", data=bad)
    assert refused.status_code == 400 and "sökväg som börjar med /" in refused.get_data(
        as_text=True
    )
    added = editor.post("/admin/statistics/goals",
                        data={"kind": "page", "value": "/b*", "csrf_token": token})  # fmt: skip
    assert added.status_code == 303
    listed = editor.get("/admin/statistics/goals").get_data(as_text=True)
    assert "<code>/b*</code>" in listed
    html = editor.get("/admin/statistics/?from=2026-03-02&to=2026-03-02").get_data(as_text=True)
    goal_section = html.split('id="goal-table-heading"')[1].split("</section>")[0]
    # Two of the four visits viewed a page under /b.
    assert "Visit /b*" in goal_section and "50\u00a0%" in goal_section
    goal_id = listed.split("/admin/statistics/goals/")[1].split("/delete")[0]
    removed = editor.post(f"/admin/statistics/goals/{goal_id}/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert "Inga mål ännu" in editor.get("/admin/statistics/goals").get_data(as_text=True)


def test_today_in_the_daily_series_counts_as_live_as_the_cards(
    app: Flask, client: FlaskClient
) -> None:
    # The first look rolls today up; the rollup is then kept for ANALYTICS_ROLLUP_SECONDS,
    # but the daily series (chart, table, export) reads an open day live, as the cards do.
    cookie = consent_cookie(app)
    editor = signed_in(app, Role.EDITOR)

    def today(query: str = "") -> list[str]:
        response = editor.get(f"/admin/statistics/export/daily.csv{query}")
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))[-1][1:]

    send(client, [pageview("/a"), pageview("/b")], cookie=cookie)
    assert today() == ["2", "1"]
    send(client, [pageview("/a"), pageview("/c"), pageview("/a")], cookie=cookie)
    assert today() == ["5", "1"]
    assert today("?page=/a") == ["3", "1"]
    html = editor.get("/admin/statistics/").get_data(as_text=True)
    cards = html.split("stats-card-figure")
    assert any(part.startswith('">5<') for part in cards), "the cards count five page views"
    # The page table still shows the rollup (/a and /b once each): its shares are of the
    # rollup's two page views, so they add up to 100 %, not of the five counted live.
    pages = html.split('id="table-page"')[1].split("</section>")[0]
    assert pages.count(">50\u00a0%<") == 2, pages
