"""POST /api/v1/events: only a valid statistics consent stores anything; hostile input gets 4xx."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, Table, inspect, select

from consent_service.analytics.models import AnalyticsEvent, DroppedCount
from consent_service.db import db
from tests.analytics.conftest import BROWSER_UA, consent_cookie, pageview, send
from tests.conftest import choice_body, make_app


def stored(app: Flask) -> list[AnalyticsEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AnalyticsEvent).order_by(AnalyticsEvent.id)))


def dropped(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {d.reason: d.count for d in db.session.scalars(select(DroppedCount))}


def test_a_granted_batch_is_stored(app: Flask, client: FlaskClient, granted: str) -> None:
    response = send(
        client,
        [
            pageview("/bo-och-leva?personnummer=19121212-1212#top",
                     referrer="https://www.google.com/search?q=bygglov", screen="small"),
            {"type": "event", "name": "idea_opened", "path": "/ideer", "props": {"topic": "park"}},
        ],
        cookie=granted,
    )  # fmt: skip
    assert response.status_code == 202
    assert response.json == {"stored": 2}
    view, event = stored(app)
    assert (view.type, view.path, view.referrer_host, view.screen) == (
        "pageview", "/bo-och-leva", "www.google.com", "small",
    )  # fmt: skip
    assert (view.site, view.host, view.language) == ("uppsala.se", "www.uppsala.test", "sv")
    assert (view.browser, view.os, view.device) == ("chrome", "windows", "desktop")
    assert len(view.visitor) == 32 and view.visitor == event.visitor
    assert (event.name, json.loads(event.props or "")) == ("idea_opened", {"topic": "park"})
    assert dropped(app) == {}


OPTIONAL = ("referrer_host", "name", "props", "utm_source", "utm_medium", "utm_campaign",
            "utm_content", "utm_term", "search_term")  # fmt: skip


def optional_fields(event: AnalyticsEvent) -> dict[str, Any]:
    """The columns an event may leave empty, with what is stored (None for NULL)."""
    return {name: value for name in OPTIONAL if (value := getattr(event, name)) is not None}


IDEA = {"type": "event", "name": "idea_opened", "path": "/ideer", "props": {"topic": "park"}}


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        ([pageview("/a"), pageview("/b", referrer="https://www.google.com/")],
         [{}, {"referrer_host": "www.google.com"}]),
        ([pageview("/a"), {"type": "event", "name": "outbound", "path": "/a"}],
         [{}, {"name": "outbound"}]),
        ([pageview("/a?utm_source=nyhetsbrev"), pageview("/b")],
         [{"utm_source": "nyhetsbrev"}, {}]),
        ([pageview("/a"), IDEA,
          pageview("/sok?q=Bygglov&utm_medium=email", referrer="https://www.bing.com/")],
         [{}, {"name": "idea_opened", "props": '{"topic":"park"}'},
          {"referrer_host": "www.bing.com", "utm_medium": "email", "search_term": "bygglov"}]),
    ],
    ids=["page-views", "an-event", "a-campaign", "all-kinds"],
)  # fmt: skip
def test_what_an_event_does_not_have_is_stored_as_null(
    tmp_path: Any, batch: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    """Whatever else is in its batch, an event's absent fields are NULL, its present ones kept."""
    app = make_app(tmp_path, ANALYTICS_SEARCH_PARAMS={"*": ("q",)})
    response = send(app.test_client(), batch, cookie=consent_cookie(app))
    assert response.json == {"stored": len(batch)}
    assert [optional_fields(event) for event in stored(app)] == expected


def test_allow_listed_query_parameters_are_kept(tmp_path: Any) -> None:
    app = make_app(tmp_path, ANALYTICS_QUERY_PARAMS=["sok", "sida"])
    client = app.test_client()
    send(client, [pageview("/sok?q=namn&sok=bygglov&sida=2&email=a@b.se")],
         cookie=consent_cookie(app))  # fmt: skip
    assert [e.path for e in stored(app)] == ["/sok?sok=bygglov&sida=2"]


def test_a_referrer_on_the_same_host_is_no_referrer(
    app: Flask, client: FlaskClient, granted: str
) -> None:
    send(client, [pageview(referrer="https://www.uppsala.test/start")], cookie=granted)
    assert stored(app)[0].referrer_host is None


def _expired_cookie(app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    days = app.config["CHOICE_MAX_AGE_DAYS"] + 1
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: dt.datetime.now(dt.UTC).timestamp() - days * 86400)
        return consent_cookie(app)


def _tampered_cookie(app: Flask) -> str:
    refused = consent_cookie(app, statistics=False)
    _, stamp, signature = refused.split(".")
    granted = consent_cookie(app, statistics=True).split(".")[0]
    return f"{granted}.{stamp}.{signature}"


@pytest.mark.parametrize(
    ("make_cookie", "reason"),
    [
        (lambda app, mp: None, "no_consent"),
        (lambda app, mp: consent_cookie(app, keys=["someone-elses-key-0123456789abcdef"]),
         "no_consent"),
        (lambda app, mp: _tampered_cookie(app), "no_consent"),
        (lambda app, mp: "garbage.not.signed", "no_consent"),
        (_expired_cookie, "no_consent"),
        (lambda app, mp: consent_cookie(app, version=0), "old_policy"),
        (lambda app, mp: consent_cookie(app, statistics=False), "no_statistics"),
    ],
    ids=["none", "forged", "tampered", "garbage", "expired", "old-policy", "refused"],
)  # fmt: skip
def test_without_a_valid_statistics_consent_nothing_is_stored(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, make_cookie: Any,
    reason: str,
) -> None:  # fmt: skip
    response = send(client, [pageview(), pageview("/b")], cookie=make_cookie(app, monkeypatch))
    assert response.status_code == 202
    assert response.json == {"stored": 0, "dropped": 2, "reason": reason}
    assert stored(app) == []
    assert dropped(app) == {reason: 2}


@pytest.mark.parametrize(
    "user_agent",
    [
        "",
        "curl/8.5.0",
        "python-requests/2.32",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (Macintosh) AppleWebKit/537.36 Chrome-Lighthouse",
        "Mozilla/5.0 " + "x" * 600,
    ],
)
def test_bots_are_not_counted(
    app: Flask, client: FlaskClient, granted: str, user_agent: str
) -> None:
    response = send(client, [pageview()], cookie=granted, user_agent=user_agent)
    assert response.json == {"stored": 0, "dropped": 1, "reason": "bot"}
    assert stored(app) == []


def test_only_allow_listed_hosts_are_counted(app: Flask, client: FlaskClient, granted: str) -> None:
    assert send(client, [pageview()], cookie=granted, origin=None).json == {
        "stored": 0, "dropped": 1, "reason": "unknown_host",
    }  # fmt: skip
    foreign = send(client, [pageview()], cookie=granted, origin="https://evil.example")
    assert foreign.status_code == 403
    assert send(client, [pageview()], cookie=granted, origin="null").status_code == 403
    own = send(client, [pageview()], cookie=granted, origin="http://localhost")
    assert own.json == {"stored": 1}
    assert [e.host for e in stored(app)] == ["localhost"]


BAD_EVENTS: list[tuple[Any, str]] = [
    ("not an object", "invalid_json"),
    ({"type": "pageview"}, "missing_field"),
    ({"type": "click", "path": "/"}, "invalid_value"),
    ({"type": "pageview", "path": "/", "user": "x"}, "unknown_field"),
    ({"type": "pageview", "path": 7}, "invalid_type"),
    ({"type": "pageview", "path": "https://evil.example/"}, "invalid_path"),
    ({"type": "pageview", "path": "//evil.example/x"}, "invalid_path"),
    ({"type": "pageview", "path": "/a\nb"}, "invalid_path"),
    ({"type": "pageview", "path": "/\ud800"}, "invalid_text"),
    ({"type": "pageview", "path": "/" + "å" * 600}, "too_long"),
    ({"type": "pageview", "path": "/", "referrer": "javascript:alert(1)"}, "invalid_referrer"),
    ({"type": "pageview", "path": "/", "screen": "huge"}, "invalid_value"),
    ({"type": "pageview", "path": "/", "name": "x"}, "unexpected_field"),
    ({"type": "event", "path": "/"}, "missing_field"),
    ({"type": "event", "path": "/", "name": "två ord"}, "invalid_value"),
    ({"type": "event", "path": "/", "name": "x", "props": {f"k{i}": i for i in range(6)}},
     "invalid_props"),
    ({"type": "event", "path": "/", "name": "x", "props": {"a": {"nested": 1}}}, "invalid_props"),
    ({"type": "event", "path": "/", "name": "x", "props": {"a": "y" * 101}}, "invalid_props"),
    ({"type": "event", "path": "/", "name": "x", "props": {"bad key": 1}}, "invalid_props"),
    ({"type": "event", "path": "/", "name": "x", "props": {"a": float("nan")}}, "invalid_props"),
]  # fmt: skip


def test_invalid_events_are_rejected_one_by_one(
    app: Flask, client: FlaskClient, granted: str
) -> None:
    events = [pageview("/ok-1"), *(bad for bad, _ in BAD_EVENTS), pageview("/ok-2")]
    # NaN is not JSON; Python writes it anyway and the service must still answer.
    response = send(client, body=json.dumps({"events": events}), cookie=granted)
    assert response.status_code == 202
    body = response.json
    assert body is not None and body["stored"] == 2
    assert [(r["index"], r["error"]) for r in body["rejected"]] == [
        (i + 1, code) for i, (_, code) in enumerate(BAD_EVENTS)
    ]
    assert all(r["message"] for r in body["rejected"])
    assert [e.path for e in stored(app)] == ["/ok-1", "/ok-2"]
    assert dropped(app) == {"invalid": len(BAD_EVENTS)}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "text/plain", 400, "invalid_json"),
        ('["events"]', "text/plain", 400, "invalid_json"),
        ('{"events": {}}', "text/plain", 400, "invalid_type"),
        ('{"events": [], "extra": 1}', "text/plain", 400, "unknown_field"),
        ("{}", "text/plain", 400, "missing_field"),
        (json.dumps({"events": [pageview()] * 101}), "text/plain", 400, "too_many_events"),
        ("events=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (json.dumps({"events": [pageview("/" + "a" * 1000)] * 70}), "text/plain", 413,
         "too_large"),
    ],
)  # fmt: skip
def test_malformed_batches_get_a_clear_4xx(
    app: Flask, client: FlaskClient, granted: str, body: str, content_type: str, status: int,
    code: str,
) -> None:  # fmt: skip
    response = send(client, body=body, cookie=granted, content_type=content_type)
    assert response.status_code == status
    assert response.json is not None and response.json["error"] == code
    assert stored(app) == []


def test_json_bodies_and_empty_batches(app: Flask, client: FlaskClient, granted: str) -> None:
    assert send(client, [], cookie=granted).json == {"stored": 0}
    response = send(client, [pageview()], cookie=granted, content_type="application/json")
    assert response.json == {"stored": 1}


def test_no_address_or_user_agent_anywhere_in_the_database(
    app: Flask, client: FlaskClient, granted: str
) -> None:
    from consent_service.analytics import rollup
    from consent_service.db import utcnow

    address = "198.51.100.23"
    marker = "UniqueMarker/9.8.7"
    user_agent = BROWSER_UA + " " + marker
    send(client, [pageview(), {"type": "event", "name": "idea_opened", "path": "/"}],
         cookie=granted, user_agent=user_agent, address=address)  # fmt: skip
    send(client, [pageview(), {"bad": 1}], cookie=granted, user_agent=user_agent, address=address)
    send(client, [pageview()], cookie=None, user_agent=user_agent, address=address)
    client.post(
        "/api/v1/consent",
        json=choice_body(statistics=True),
        headers={"User-Agent": user_agent},
        environ_base={"REMOTE_ADDR": address},
    )
    with app.test_request_context():
        now = utcnow()
        site = app.extensions["sites"].file_policy.site
        rollup.refresh(site, now.date() - dt.timedelta(days=1), now.date() + dt.timedelta(days=1),
                       now)  # fmt: skip
    needles = [address, "198.51.100", marker, "Windows NT 10.0", "AppleWebKit", "Chrome/131"]
    found = []
    with app.app_context(), db.engine.connect() as conn:
        scanned = 0
        for name in inspect(conn).get_table_names():
            table = Table(name, MetaData(), autoload_with=conn)
            for row in conn.execute(select(table)).mappings():
                scanned += 1
                for column, value in row.items():
                    cell = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    found += [(name, column, n) for n in needles if n in cell]
    assert scanned > 10  # the scan saw the events, rollups, keys, counters and consent log
    assert found == []


def test_a_batch_the_database_refuses_is_a_503_and_nothing_of_it_is_stored(
    app: Flask, client: FlaskClient, granted: str
) -> None:
    """The insert goes to the driver directly on SQLite: its errors still end as a 503."""
    send(client, [pageview("/first")], cookie=granted)  # the day's key exists from here on
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON analytics_events "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON analytics_events "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    response = send(client, [pageview("/a"), pageview("/b")], cookie=granted)
    assert response.status_code == 503
    assert response.json is not None and response.json["error"] == "unavailable"
    assert response.headers["Retry-After"]
    assert [event.path for event in stored(app)] == ["/first"]
