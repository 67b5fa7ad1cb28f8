"""Funnels and the content reports: known traffic in, exact figures out (API, dashboard, CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.models import Role
from consent_service.analytics import content, figures, funnels, rollup
from consent_service.analytics.goals import GoalSpec
from consent_service.analytics.models import AnalyticsEvent
from consent_service.analytics.reports import Period
from consent_service.config import ConfigError, load_settings
from consent_service.consent.cookie import Choice, ChoiceCookie
from consent_service.db import db
from tests.analytics.conftest import pageview, send
from tests.analytics.test_visits import DAY, SITE, at, event, ingest, view
from tests.conftest import POLICY_VERSION, make_app
from tests.helpers.forms import csrf_token_in, form_token
from tests.helpers.staff import sign_in_as

V1, V2, V3, V4, V5 = (f"7f1c2d3e-0000-4000-8000-0000000000f{n}" for n in range(1, 6))
STEPS = [("page", "/a"), ("page", "/b*"), ("event", "signup")]
DAY_QUERY = f"from={DAY}&to={DAY}"


def props(name: str, page: str, **values: Any) -> dict[str, Any]:
    return {**event(name, page), "props": values}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    # The site search's parameter is `q` on every site.
    return make_app(tmp_path, ANALYTICS_SEARCH_PARAMS={"*": ("q",)})


def editor(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in_as(app, client, Role.EDITOR, name="redaktor")
    return client


def known_traffic(app: Flask) -> None:
    """Five visitors, one visit each (minutes after 09:00):

    V1 /a, /b/ansok, signup, 404 /gammal-sida, download taxa.pdf     funnel: 3 steps
    V2 /a, /b, 404 /gammal-sida, outbound click skatteverket.se       funnel: 2 steps
    V3 /b, /a (wrong order), search "bygglov altan", tracker outbound  funnel: 1 step
    V4 /c, search "Bygglov  Altan", 404 /saknas                      funnel: none
    V5 signup, /a (the event before the page), search "soptunna"      funnel: 1 step
    """
    ingest(app, at(0), V1, view("/a"), view("/b/ansok"), event("signup", "/b/ansok"),
           props("404", "/gammal-sida", path="/gammal-sida"),
           props("File Download", "/a", url="https://www.uppsala.se/files/taxa.pdf"))  # fmt: skip
    ingest(app, at(0), V2, view("/a"), view("/b"), props("404", "/x", path="/gammal-sida"),
           props("Outbound Link: Click", "/b", url="https://www.skatteverket.se/"))  # fmt: skip
    ingest(app, at(0), V3, view("/b"), view("/a"), view("/sok?q=bygglov%20altan"),
           props("outbound", "/a", host="www.1177.se"))  # fmt: skip
    ingest(app, at(0), V4, view("/c"), view("/sok?q=Bygglov++Altan&sida=2"),
           props("404", "/saknas", path="/saknas"))  # fmt: skip
    ingest(app, at(0), V5, event("signup", "/a"), view("/a"), view("/sok?q=soptunna"))


def add_funnel(app: Flask) -> None:
    with app.test_request_context():
        funnels.save_funnel(SITE, None, "Ansökan", STEPS, by="test", now=at(0))


def test_a_visit_reaches_the_steps_it_took_in_order() -> None:
    steps = (GoalSpec("page", "/a"), GoalSpec("page", "/b*"), GoalSpec("event", "signup"))
    assert funnels.reached(steps, [(True, "/a"), (False, "x"), (True, "/b/c"), (False, "signup")])
    assert funnels.reached(steps, [(True, "/b"), (True, "/a")]) == 1
    assert funnels.reached(steps, [(False, "signup"), (True, "/a"), (True, "/a?q=1")]) == 1
    assert funnels.reached(steps, [(True, "/c")]) == 0
    # A step's key names the steps up to it: a changed later step keeps the earlier keys.
    changed = funnels.step_keys((*steps[:2], GoalSpec("event", "other")))
    assert changed[:2] == funnels.step_keys(steps)[:2] and changed[2] != funnels.step_keys(steps)[2]


def test_funnel_conversion_and_drop_off_live_and_rolled_up(app: Flask) -> None:
    add_funnel(app)
    known_traffic(app)
    period = Period(DAY, DAY)

    def check() -> None:
        with app.test_request_context():
            report = next(f for f in content.funnel_reports(SITE, period, {})
                          if f.name == "Ansökan")  # fmt: skip
            got = [(s.visits, s.visitors, s.of_first, s.of_all, s.dropped, s.dropped_share)
                   for s in report.steps]  # fmt: skip
            # Four of five visits viewed /a first; two went on to /b*; one signed up after.
            assert got == [(4, 4, 1.0, 0.8, 0, 0.0), (2, 2, 0.5, 0.4, 2, 0.5),
                           (1, 1, 0.25, 0.2, 1, 0.5)]  # fmt: skip
            assert report.conversion == 0.25
            assert figures.aggregate(SITE, period).visits == 5

    check()  # the open day, computed from its events
    with app.test_request_context():
        assert rollup.rollup_day(SITE, DAY, at(24 * 60), final=True)
    check()  # final, from analytics_daily_visits


def test_the_dashboard_and_csv_show_funnels_and_content_reports(app: Flask) -> None:
    add_funnel(app)
    known_traffic(app)
    client = editor(app)
    html = client.get(f"/admin/statistics/?{DAY_QUERY}").get_data(as_text=True)
    nbsp = "\u00a0"
    assert 'id="funnel-heading"' in html and "Ansökan" in html
    assert f"Konvertering från första till sista steget: <strong>25{nbsp}%</strong>" in html
    # The seeded idea funnel is a configured funnel like any other (no idea events here).
    assert funnels.DEFAULT_NAME in html and "Öppnade idéformuläret" in html
    for text in (
        "/gammal-sida",
        "/saknas",
        "https://www.uppsala.se/files/taxa.pdf",
        "https://www.skatteverket.se/",
        "www.1177.se",
        "bygglov altan",
        "soptunna",
    ):
        assert text in html, text  # fmt: skip

    def table(name: str) -> list[list[str]]:
        response = client.get(f"/admin/statistics/content/{name}.csv?{DAY_QUERY}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))

    rows = table("funnels")
    assert rows[0][:4] == ["Tratt", "Steg", "Besök som nått steget", "Besökare"]
    ours = [r for r in rows if r[0] == "Ansökan"]
    assert [(r[1], r[2], r[4], r[5], r[6]) for r in ours] == [
        ("Besök /a", "4", "100", "0", "0"),
        ("Besök /b*", "2", "50", "2", "50"),
        ("signup", "1", "25", "1", "50"),
    ]
    assert table("not_found")[1:] == [["/gammal-sida", "2", "2"], ["/saknas", "1", "1"]]
    assert table("downloads")[1:] == [["https://www.uppsala.se/files/taxa.pdf", "1", "1"]]
    assert table("outbound")[1:] == [["https://www.skatteverket.se/", "1", "1"],
                                     ["www.1177.se", "1", "1"]]  # fmt: skip
    assert table("search")[1:] == [["bygglov altan", "2", "2"], ["soptunna", "1", "1"]]
    assert client.get(f"/admin/statistics/content/nope.csv?{DAY_QUERY}").status_code == 404
    bad = client.get("/admin/statistics/content/search.csv?from=igår")
    assert bad.status_code == 400 and "2025-01-31" in bad.get_data(as_text=True)


def test_the_search_term_is_kept_at_ingest_and_the_path_stays_clean(app: Flask) -> None:
    ingest(app, at(0), V1, view("/sok?q=%20Bygglov%0A%20Altan&sida=2"), view("/sok?q="))
    with app.app_context():
        rows = db.session.execute(select(AnalyticsEvent.path, AnalyticsEvent.search_term)).all()
    # A newline in the term is whitespace like any other; an empty search is no term.
    assert [tuple(r) for r in rows] == [("/sok", "bygglov altan"), ("/sok", None)]


def test_without_a_search_setting_nothing_is_kept(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    ingest(app, at(0), V1, view("/sok?q=hemligt"))
    with app.app_context():
        assert db.session.scalars(select(AnalyticsEvent.search_term)).all() == [None]


def test_realtime_counts_the_last_30_minutes(app: Flask, client: FlaskClient) -> None:
    for n in (1, 2):  # two visitors (consent IDs), two page views each, just now
        send(client, [pageview("/nu"), pageview("/nu/mer")], cookie=_cookie(app, n))
    html = editor(app).get("/admin/statistics/").get_data(as_text=True)
    assert 'id="realtime-visitors">2<' in html
    assert 'id="realtime-pageviews">4<' in html
    with app.test_request_context():
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
        assert content.realtime(SITE, later).visitors == 0


def _cookie(app: Flask, n: int) -> str:
    signer = ChoiceCookie(app.config["SIGNING_KEYS"], 3600)
    return signer.encode(Choice(f"7f1c2d3e-0000-4000-8000-00000000010{n}", POLICY_VERSION, True,
                                True))  # fmt: skip


def test_editors_add_change_and_remove_funnels(app: Flask) -> None:
    client = editor(app)
    page = client.get("/admin/statistics/funnels")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert funnels.DEFAULT_NAME in html  # seeded once for the site
    token = csrf_token_in(html)
    form = {"csrf_token": token, "name": "Ansökan", "kind": ["page", "page", "event", "event"],
            "value": ["/a", "/b*", "signup", ""]}  # fmt: skip
    assert client.post("/admin/statistics/funnels", data=form).status_code == 303
    with app.app_context():
        made = [f for f in funnels.list_funnels(SITE) if f.name == "Ansökan"]
    assert len(made) == 1
    funnel_id = made[0].id
    edit = client.get(f"/admin/statistics/funnels/{funnel_id}").get_data(as_text=True)
    assert 'value="/b*"' in edit and "Spara ändringarna" in edit
    changed = {**form, "name": "Ansökan om bygglov", "value": ["/a", "/b*", "sent", ""]}
    assert client.post(f"/admin/statistics/funnels/{funnel_id}", data=changed).status_code == 303
    with app.app_context():
        stored = funnels.get_funnel(SITE, funnel_id)
        assert stored is not None and stored.name == "Ansökan om bygglov"
        assert funnels.parse_steps(stored.steps)[2] == GoalSpec("event", "sent")
    delete = client.post(f"/admin/statistics/funnels/{funnel_id}/delete",
                         data={"csrf_token": token})  # fmt: skip
    assert delete.status_code == 303
    assert client.post(f"/admin/statistics/funnels/{funnel_id}/delete",
                       data={"csrf_token": token}).status_code == 404  # fmt: skip
    # Removing the seeded funnel does not bring it back.
    with app.app_context():
        seeded = funnels.list_funnels(SITE)[0].id
    client.post(f"/admin/statistics/funnels/{seeded}/delete", data={"csrf_token": token})
    with app.app_context():
        assert funnels.list_funnels(SITE) == []


@pytest.mark.parametrize(
    ("kinds", "values", "name", "message"),
    [
        (["page"], ["/a"], "En", "2 till 8 steg"),
        (["page"] * 9, [f"/s{n}" for n in range(9)], "Nio", "2 till 8 steg"),
        (["page", "page"], ["/a", "ingen-sökväg"], "Fel", "Steg 2: en sida är en sökväg"),
        (["event", "event"], ["ok", "har/snedstreck"], "Fel", "Steg 2: en händelse heter"),
        (["event", "bogus"], ["ok", "ok2"], "Fel", "Steg 2: välj om steget"),
        (["event", "event"], ["a", "b"], " ", "Ge tratten ett namn"),
    ],
)
def test_bad_funnels_are_refused_with_a_message(
    app: Flask, kinds: list[str], values: list[str], name: str, message: str
) -> None:
    client = editor(app)
    token = form_token(client, "/admin/statistics/funnels")
    response = client.post("/admin/statistics/funnels",
                           data={"csrf_token": token, "name": name, "kind": kinds,
                                 "value": values})  # fmt: skip
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html
    # What was typed is kept in the form.
    assert f'value="{values[0]}"' in html


def test_a_second_funnel_of_the_same_name_is_refused(app: Flask) -> None:
    add_funnel(app)
    client = editor(app)
    token = form_token(client, "/admin/statistics/funnels")
    response = client.post("/admin/statistics/funnels",
                           data={"csrf_token": token, "name": "Ansökan",
                                 "kind": ["page", "page"], "value": ["/x", "/y"]})  # fmt: skip
    assert response.status_code == 400
    assert "Det finns redan en tratt med det namnet." in response.get_data(as_text=True)


def test_funnel_forms_need_a_csrf_token(app: Flask) -> None:
    client = editor(app)
    response = client.post(
        "/admin/statistics/funnels",
        data={"name": "X", "kind": ["page", "page"], "value": ["/a", "/b"]},
    )
    assert response.status_code == 400
    with app.app_context():
        assert all(f.name != "X" for f in funnels.list_funnels(SITE))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {}),
        ("q, sok", {"*": ("q", "sok")}),
        ('{"uppsala.se": "q", "kultur.uppsala.se": ["sok", "s"]}',
         {"uppsala.se": ("q",), "kultur.uppsala.se": ("sok", "s")}),
    ],
)  # fmt: skip
def test_search_settings(tmp_path: Path, raw: str, expected: dict[str, tuple[str, ...]]) -> None:
    env = {"CONSENT_ENV": "development", "CONSENT_ANALYTICS_SEARCH_PARAMS": raw}
    assert load_settings(tmp_path, env)["ANALYTICS_SEARCH_PARAMS"] == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("q,bad name", "not a query parameter"), ('{"uppsala.se": 3}', "must name parameters"),
     ("{nope", "not valid JSON")],
)  # fmt: skip
def test_bad_search_settings_refuse_to_start(tmp_path: Path, raw: str, message: str) -> None:
    env = {"CONSENT_ENV": "development", "CONSENT_ANALYTICS_SEARCH_PARAMS": raw}
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, env)


def test_the_banner_sends_the_search_parameter_to_the_service(app: Flask) -> None:
    """The tracker drops every query parameter it is not given: the embed gives it the search's."""
    from consent_service.consent.services import current_policy
    from consent_service.embed.views import consent_config

    app.config["ANALYTICS_QUERY_PARAMS"] = ["sida"]
    with app.test_request_context():
        config = consent_config(current_policy(), "https://samtycke.uppsala.test")
    assert config["query_params"] == ["sida", "q"]


def test_the_statistics_api_keeps_its_contract_beside_funnels(app: Flask) -> None:
    """Funnels add no API property; visits and goals read as before for the same traffic."""
    add_funnel(app)
    known_traffic(app)
    runner = app.test_cli_runner()
    token = runner.invoke(args=["analytics", "token", "create", "t", "--site", SITE]).stdout.strip()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    query = f"site={SITE}&period=day&date={DAY}"
    aggregate = client.get(f"/api/v1/stats/aggregate?{query}&metrics=visitors,visits,pageviews",
                           headers=auth)  # fmt: skip
    assert aggregate.json == {"results": {"visitors": 5, "visits": 5, "pageviews": 11}}
    goals = client.get(f"/api/v1/stats/breakdown?{query}&property=goal&metrics=visitors,visits",
                       headers=auth)  # fmt: skip
    assert goals.json == {"results": [
        {"goal": "404", "visitors": 3, "visits": 3},
        {"goal": "signup", "visitors": 2, "visits": 2},
        {"goal": "File Download", "visitors": 1, "visits": 1},
        {"goal": "Outbound Link: Click", "visitors": 1, "visits": 1},
        {"goal": "outbound", "visitors": 1, "visits": 1},
    ]}  # fmt: skip
    funnel = client.get(f"/api/v1/stats/breakdown?{query}&property=funnel", headers=auth)
    assert funnel.status_code == 400 and "property must be one of" in funnel.json["message"]
