"""The statistics API: read tokens, Plausible's parameters and shapes, exact figures, errors."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from consent_service.analytics import figures, tokens
from consent_service.analytics.models import ReadToken
from consent_service.db import db, utcnow
from tests.analytics.conftest import consent_cookie, pageview, send
from tests.analytics.test_visits import known_traffic

SITE = "uppsala.se"
DAY = "date=2026-03-02"
ALL = "metrics=visitors,visits,pageviews,views_per_visit,bounce_rate,visit_duration"


def create(runner: FlaskCliRunner, name: str = "intranatet", site: str = SITE) -> str:
    result = runner.invoke(args=["analytics", "token", "create", name, "--site", site])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("cst_") and len(token) > 40
    return token


@pytest.fixture
def token(runner: FlaskCliRunner) -> str:
    return create(runner)


def get(client: FlaskClient, path: str, token: str | None, **headers: str) -> tuple[int, object]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = client.get(f"/api/v1/stats/{path}", headers=headers)
    if response.status_code == 200:
        assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.json


def test_aggregate_gives_plausibles_metrics_for_known_traffic(
    app: Flask, client: FlaskClient, token: str
) -> None:
    known_traffic(app)
    status, body = get(client, f"aggregate?site={SITE}&period=day&{DAY}&{ALL}", token)
    assert status == 200
    assert body == {"results": {"visitors": 3, "visits": 4, "pageviews": 6,
                                "views_per_visit": 1.5, "bounce_rate": 50,
                                "visit_duration": 600}}  # fmt: skip
    # 7d and 30d end with `date`; custom takes two dates; the default metric is visitors.
    for period in ("period=7d&date=2026-03-08", "period=30d&date=2026-03-31",
                   "period=custom&date=2026-03-02,2026-03-02"):  # fmt: skip
        assert get(client, f"aggregate?site={SITE}&{period}", token)[1] == {
            "results": {"visitors": 3}
        }
    assert get(client, f"aggregate?site={SITE}&period=7d&date=2026-03-09", token)[1] == {
        "results": {"visitors": 0}
    }


def test_breakdown_lists_values_most_visitors_first(
    app: Flask, client: FlaskClient, token: str
) -> None:
    known_traffic(app)
    metrics = "metrics=visitors,visits,pageviews,bounce_rate,visit_duration"
    status, body = get(client, f"breakdown?site={SITE}&property=page&{DAY}&period=day&{metrics}",
                       token)  # fmt: skip
    assert status == 200
    assert body == {"results": [
        {"page": "/a", "visitors": 2, "visits": 3, "pageviews": 3, "bounce_rate": 67,
         "visit_duration": 200},
        {"page": "/b", "visitors": 2, "visits": 2, "pageviews": 2, "bounce_rate": 0,
         "visit_duration": 1200},
        {"page": "/c", "visitors": 1, "visits": 1, "pageviews": 1, "bounce_rate": 0,
         "visit_duration": 1800},
    ]}  # fmt: skip
    expected = {
        "entry_page": [("/a", 2), ("/b", 1)],
        "exit_page": [("/a", 2), ("/b", 1), ("/c", 1)],
        "source": [("Direct / None", 1), ("Facebook", 1), ("Google", 1), ("nyhetsbrev", 1)],
        "utm_source": [("nyhetsbrev", 1)],
        "utm_medium": [("email", 1)],
        "utm_campaign": [("vinter", 1)],
        "goal": [("idea_shown", 2), ("outbound", 1)],
    }
    for prop, rows in expected.items():
        _, body = get(client, f"breakdown?site={SITE}&property={prop}&period=day&{DAY}", token)
        assert body == {"results": [{prop: v, "visitors": n} for v, n in rows]}, prop
    _, body = get(client, f"breakdown?site={SITE}&property=page&period=day&{DAY}&limit=1&page=2",
                  token)  # fmt: skip
    assert body == {"results": [{"page": "/b", "visitors": 2}]}


def test_todays_figures_are_live(
    app: Flask, client: FlaskClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow machine must not turn this into a test of the reuse window for costly days
    # (figures.REUSE_SECONDS, within the 10 s promise): every change is recomputed here.
    monkeypatch.setattr(figures, "SLOW_SECONDS", float("inf"))
    cookie = consent_cookie(app)
    query = f"aggregate?site={SITE}&period=day&metrics=pageviews,visits"
    assert get(client, query, token)[1] == {"results": {"pageviews": 0, "visits": 0}}
    assert send(client, [pageview("/a")], cookie=cookie).status_code == 202
    # Counted the moment the batch is stored, with no rollup in between.
    assert get(client, query, token)[1] == {"results": {"pageviews": 1, "visits": 1}}
    send(client, [pageview("/b")], cookie=cookie)
    assert get(client, query, token)[1] == {"results": {"pageviews": 2, "visits": 1}}


def test_tokens_are_shown_once_stored_as_hashes_listed_and_revoked(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, token: str
) -> None:
    with app.app_context():
        row = db.session.execute(select(ReadToken)).scalar_one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {row.name, row.site, row.token_hash}
    listed = runner.invoke(args=["analytics", "token", "list"])
    assert listed.exit_code == 0 and "intranatet" in listed.output and "active" in listed.output
    assert token not in listed.output
    assert get(client, f"aggregate?site={SITE}", token)[0] == 200
    revoked = runner.invoke(args=["analytics", "token", "revoke", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    assert get(client, f"aggregate?site={SITE}", token)[0] == 401
    assert "revoked" in runner.invoke(args=["analytics", "token", "list"]).output
    unknown = runner.invoke(args=["analytics", "token", "create", "x", "--site", "example.org"])
    assert unknown.exit_code == 2 and "Unknown site 'example.org'" in unknown.output


def test_who_may_read(app: Flask, client: FlaskClient, token: str) -> None:
    with app.app_context():
        other = tokens.create_token("granne", "knivsta.se", frozenset({"knivsta.se"}), utcnow())
    query = f"aggregate?site={SITE}"
    for offered, status in [
        (None, 401),
        ("cst_not-a-token", 401),
        ("", 401),
        (other.token, 403),
        (token, 200),
    ]:
        code, body = get(client, query, offered)
        assert code == status, offered
        if status != 200:
            assert isinstance(body, dict) and set(body) == {"error", "message"}
    response = client.get(f"/api/v1/stats/{query}", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="stats"'
    # A page on another origin cannot read it with a visitor's browser (no CORS grant).
    code, body = get(client, query, token, Origin="https://evil.example")
    refused = {"error": "forbidden_origin", "message": "This origin may not use the consent API."}
    assert (code, body) == (403, refused)


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("aggregate?period=day", "site is required"),
        ("aggregate?site=knivsta.se", "not knivsta.se"),
        ("aggregate?site=uppsala.se&period=week", "period must be one of"),
        ("aggregate?site=uppsala.se&period=day&date=2026-13-01", "date must be a date"),
        ("aggregate?site=uppsala.se&period=custom&date=2026-03-01", "date=FIRST,LAST"),
        ("aggregate?site=uppsala.se&period=custom&date=2026-03-02,2026-03-01", "is after"),
        ("aggregate?site=uppsala.se&period=custom&date=2020-01-01,2026-03-01", "at most"),
        ("aggregate?site=uppsala.se&period=7d&date=2026-03-01,2026-03-02", "one date"),
        ("aggregate?site=uppsala.se&metrics=visitors,conversions", "conversions"),
        ("breakdown?site=uppsala.se", "property must be one of"),
        ("breakdown?site=uppsala.se&property=country", "property must be one of"),
        ("breakdown?site=uppsala.se&property=page&limit=0", "limit must be"),
        ("breakdown?site=uppsala.se&property=page&page=x", "page must be"),
    ],
)
def test_bad_parameters_answer_400_with_a_clear_message(
    client: FlaskClient, token: str, query: str, word: str
) -> None:
    code, body = get(client, query, token)
    assert isinstance(body, dict) and set(body) == {"error", "message"}
    expected = 403 if "knivsta" in query else 400
    assert code == expected and word in body["message"], body


def test_the_openapi_document_describes_the_statistics_api(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document is not None
    for path in ("/api/v1/stats/aggregate", "/api/v1/stats/breakdown"):
        assert document["paths"][path]["get"]["security"] == [{"readToken": []}]
    assert document["components"]["securitySchemes"]["readToken"]["scheme"] == "bearer"
