"""The consent API: recording, reading, withdrawing, idempotent retries, hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from consent_service.audit.filters import ACTIONS, SOURCES, parse_filter
from consent_service.audit.models import REQUEST_ID, Action, ConsentEntry, Source
from consent_service.audit.views import AUDIT_LABELS
from consent_service.consent.cookie import COOKIE_NAME
from consent_service.consent.services import statistics_allowed
from consent_service.db import db
from tests.conftest import HOST_ORIGIN, POLICY_VERSION, choice_body, make_app


def entries(app: Flask) -> list[ConsentEntry]:
    with app.app_context():
        return list(db.session.scalars(select(ConsentEntry).order_by(ConsentEntry.seq)))


def entry_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ConsentEntry)) or 0


def test_record_sets_signed_cookie_and_logs_a_grant(app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/v1/consent", json=choice_body(statistics=True))
    assert response.status_code == 201
    body = response.json
    assert body is not None
    assert body["choices"] == {"functional": True, "statistics": True}
    assert body["policy_version"] == POLICY_VERSION
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None and cookie.value.count(".") == 2
    assert cookie.same_site == "Lax" and not cookie.http_only
    [entry] = entries(app)
    assert (entry.consent_id, entry.action, entry.source) == (body["consent_id"], "grant", "banner")
    assert entry.text_hash == app.extensions["sites"].file_policy.text_hash("sv")


def test_change_keeps_the_consent_id_and_appends(app: Flask, client: FlaskClient) -> None:
    first = client.post("/api/v1/consent", json=choice_body()).json
    second = client.post("/api/v1/consent", json=choice_body(functional=False)).json
    assert first and second and first["consent_id"] == second["consent_id"]
    assert [(e.action, e.functional) for e in entries(app)] == [("grant", True), ("update", False)]


def test_get_returns_the_cookie_choice(client: FlaskClient) -> None:
    assert client.get("/api/v1/consent").status_code == 404
    recorded = client.post("/api/v1/consent", json=choice_body()).json
    current = client.get("/api/v1/consent").json
    assert recorded and current
    assert current["consent_id"] == recorded["consent_id"] and current["current"] is True


def test_withdraw_appends_and_clears_cookie(app: Flask, client: FlaskClient) -> None:
    client.post("/api/v1/consent", json=choice_body(statistics=True))
    response = client.delete("/api/v1/consent?source=settings")
    assert response.status_code == 200
    assert client.get_cookie(COOKIE_NAME) is None
    assert [(e.action, e.statistics) for e in entries(app)] == [
        ("grant", True),
        ("withdraw", False),
    ]
    assert client.delete("/api/v1/consent").status_code == 404


def test_retry_with_same_request_id_stores_once(app: Flask, client: FlaskClient) -> None:
    body = choice_body(request_id="retry-0123456789")
    first = client.post("/api/v1/consent", json=body)
    client.delete_cookie(COOKIE_NAME)  # a lost response: the client never saw the cookie
    second = client.post("/api/v1/consent", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert entry_count(app) == 1


def test_outdated_policy_version_is_refused(app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/v1/consent", json=choice_body(policy_version=0))
    assert response.status_code == 409
    assert response.json and response.json["error"] == "policy_outdated"
    assert entry_count(app) == 0


def test_gpc_keeps_statistics_off_unless_switched_on_in_settings(
    app: Flask, client: FlaskClient
) -> None:
    banner = client.post(
        "/api/v1/consent", json=choice_body(statistics=True), headers={"Sec-GPC": "1"}
    ).json
    assert banner and banner["choices"]["statistics"] is False
    settings = client.post(
        "/api/v1/consent",
        json=choice_body(statistics=True, source="settings"),
        headers={"Sec-GPC": "1"},
    ).json
    assert settings and settings["choices"]["statistics"] is True


HOSTILE_BODIES = [
    ("not json", "text/plain", 415, "unsupported_media_type"),
    ("{not json", "application/json", 400, "invalid_json"),
    ("[1, 2]", "application/json", 400, "invalid_json"),
    ('"just a string"', "application/json", 400, "invalid_json"),
    (json.dumps(choice_body(extra=1)), "application/json", 400, "unknown_field"),
    (json.dumps(choice_body(functional="yes")), "application/json", 400, "invalid_type"),
    (json.dumps(choice_body(functional=1)), "application/json", 400, "invalid_type"),
    (json.dumps(choice_body(policy_version=True)), "application/json", 400, "invalid_type"),
    (json.dumps(choice_body(policy_version=1.5)), "application/json", 400, "invalid_type"),
    (json.dumps(choice_body(source="cookiewall")), "application/json", 400, "invalid_value"),
    (json.dumps(choice_body(language="x" * 36)), "application/json", 400, "too_long"),
    ('{"functional": true, "statistics": false, "policy_version": 1, "language": "\\ud800",'
     ' "source": "banner"}', "application/json", 400, "invalid_text"),
    (json.dumps(choice_body(language="sv\x00")), "application/json", 400, "invalid_text"),
    (json.dumps(choice_body(request_id="'; DROP TABLE x; --")), "application/json", 400,
     "invalid_value"),
    (json.dumps(choice_body(request_id="short")), "application/json", 400, "invalid_value"),
    (json.dumps(choice_body(request_id="retry-0123456789\n")), "application/json", 400,
     "invalid_value"),
    ("[" * 100_000 + "]" * 100_000, "application/json", 413, "too_large"),
    ("[" * 5_000 + "]" * 5_000, "application/json", 400, "invalid_json"),
    (b"\xff\xfe{}", "application/json", 400, "invalid_json"),
    (json.dumps({k: v for k, v in choice_body().items() if k != "source"}), "application/json",
     400, "missing_field"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type", "status", "code"), HOSTILE_BODIES)
def test_hostile_bodies_get_clear_errors_and_store_nothing(
    app: Flask, client: FlaskClient, body: str | bytes, content_type: str, status: int, code: str
) -> None:
    client.post("/api/v1/consent", json=choice_body())
    response = client.post("/api/v1/consent", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.json is not None
    assert response.json["error"] == code
    assert response.json["message"]
    assert entry_count(app) == 1


def test_unknown_path_and_method_answer_json(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json and missing.json["error"] == "not_found"
    wrong = client.put("/api/v1/consent", json={})
    assert wrong.status_code == 405 and wrong.json and wrong.json["error"] == "method_not_allowed"


class TestOrigins:
    def test_allowed_origin_gets_exact_cors_with_credentials(self, client: FlaskClient) -> None:
        response = client.post(
            "/api/v1/consent", json=choice_body(), headers={"Origin": HOST_ORIGIN}
        )
        assert response.status_code == 201
        assert response.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        assert "Origin" in response.headers["Vary"]

    @pytest.mark.parametrize(
        "origin",
        [
            "https://evil.test",
            "null",
            "https://www.uppsala.test.evil.test",
            "http://www.uppsala.test",
        ],
    )
    def test_foreign_origins_are_refused(
        self, app: Flask, client: FlaskClient, origin: str
    ) -> None:
        response = client.post("/api/v1/consent", json=choice_body(), headers={"Origin": origin})
        assert response.status_code == 403
        assert response.json and response.json["error"] == "forbidden_origin"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert entry_count(app) == 0

    def test_preflight_for_allowed_origin(self, client: FlaskClient) -> None:
        response = client.options(
            "/api/v1/consent",
            headers={
                "Origin": HOST_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
        assert "POST" in response.headers["Access-Control-Allow-Methods"]

    def test_cross_site_request_without_origin_is_refused(self, client: FlaskClient) -> None:
        response = client.post(
            "/api/v1/consent", json=choice_body(), headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert response.status_code == 403


def test_policy_document(client: FlaskClient) -> None:
    policy = client.get("/api/v1/policy").json
    assert policy is not None
    assert policy["version"] == POLICY_VERSION
    assert [c["id"] for c in policy["categories"]] == ["necessary", "functional", "statistics"]
    assert set(policy["texts"]) == {"sv", "en"}
    assert policy["texts"]["sv"]["accept_all"] == "Acceptera alla"
    assert {c["category"] for c in policy["cookies"]} == {"necessary", "functional", "statistics"}


def test_openapi_document_is_served(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document and document["openapi"].startswith("3.1")
    assert "/api/v1/consent" in document["paths"]


class TestReplayScope:
    """A request_id answers the stored decision only to the consent that made it."""

    def test_another_visitors_request_id_gets_a_conflict(
        self, app: Flask, client: FlaskClient
    ) -> None:
        victim = client.post("/api/v1/consent", json=choice_body(request_id="victim-0123456789"))
        assert victim.status_code == 201
        other = app.test_client()
        response = other.post(
            "/api/v1/consent",
            json=choice_body(statistics=True, request_id="victim-0123456789"),
        )
        assert response.status_code == 409
        assert response.json and response.json["error"] == "request_id_conflict"
        assert victim.json and victim.json["consent_id"] not in response.get_data(as_text=True)
        assert other.get_cookie(COOKIE_NAME) is None
        assert entry_count(app) == 1

    def test_the_same_body_under_another_consent_is_a_conflict(
        self, app: Flask, client: FlaskClient
    ) -> None:
        client.post("/api/v1/consent", json=choice_body(request_id="victim-0123456789"))
        other = app.test_client()
        own = other.post("/api/v1/consent", json=choice_body()).json
        response = other.post("/api/v1/consent", json=choice_body(request_id="victim-0123456789"))
        assert response.status_code == 409
        cookie = other.get_cookie(COOKIE_NAME)
        assert own and cookie is not None and own["consent_id"] in _payload(cookie.value)
        assert entry_count(app) == 2

    def test_a_retry_carrying_the_same_consent_answers_the_stored_decision(
        self, app: Flask, client: FlaskClient
    ) -> None:
        client.post("/api/v1/consent", json=choice_body())
        body = choice_body(statistics=True, request_id="update-0123456789")
        first = client.post("/api/v1/consent", json=body)
        second = client.post("/api/v1/consent", json=body)
        assert first.status_code == second.status_code == 201
        assert first.json == second.json
        assert [e.action for e in entries(app)] == ["grant", "update"]

    def test_replays_are_rate_limited(self, tmp_path: Path) -> None:
        app = make_app(tmp_path, REPLAY_RATE_LIMIT=2)
        client = app.test_client()
        body = choice_body(request_id="retry-0123456789")
        assert client.post("/api/v1/consent", json=body).status_code == 201
        for _ in range(2):
            assert client.post("/api/v1/consent", json=body).status_code == 201
        limited = client.post("/api/v1/consent", json=body)
        assert limited.status_code == 429
        assert limited.json and limited.json["error"] == "too_many_requests"
        assert int(limited.headers["Retry-After"]) >= 1
        assert entry_count(app) == 1


def _payload(cookie_value: str) -> str:
    import base64

    data = cookie_value.split(".")[0]
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()


class TestWithdrawBody:
    """DELETE takes an optional body: the language shown, a retry key and the source."""

    def test_the_given_language_is_logged_not_accept_language(
        self, app: Flask, client: FlaskClient
    ) -> None:
        client.post("/api/v1/consent", json=choice_body(language="en"))
        response = client.delete(
            "/api/v1/consent",
            json={"language": "en", "source": "banner"},
            headers={"Accept-Language": "sv"},
        )
        assert response.status_code == 200
        withdrawal = entries(app)[-1]
        assert (withdrawal.action, withdrawal.language, withdrawal.source) == (
            "withdraw",
            "en",
            "banner",
        )
        assert withdrawal.text_hash == app.extensions["sites"].file_policy.text_hash("en")

    def test_a_text_plain_body_is_accepted(self, app: Flask, client: FlaskClient) -> None:
        client.post("/api/v1/consent", json=choice_body())
        response = client.delete(
            "/api/v1/consent", data=json.dumps({"language": "en"}), content_type="text/plain"
        )
        assert response.status_code == 200
        assert entries(app)[-1].language == "en"

    def test_without_a_body_accept_language_still_decides(
        self, app: Flask, client: FlaskClient
    ) -> None:
        client.post("/api/v1/consent", json=choice_body())
        response = client.delete("/api/v1/consent", headers={"Accept-Language": "en-GB"})
        assert response.status_code == 200
        assert entries(app)[-1].language == "en"

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"language": "en", "reason": "x"}, "unknown_field"),
            ({"source": "cookiewall"}, "invalid_value"),
            ({"source": "nojs"}, "invalid_value"),
            ({"request_id": "retry-0123456789\n"}, "invalid_value"),
            ({"language": 1}, "invalid_type"),
        ],
    )
    def test_a_bad_body_is_refused_and_nothing_logged(
        self, app: Flask, client: FlaskClient, body: dict[str, object], code: str
    ) -> None:
        client.post("/api/v1/consent", json=choice_body())
        response = client.delete("/api/v1/consent", json=body)
        assert response.status_code == 400
        assert response.json and response.json["error"] == code
        assert client.get_cookie(COOKIE_NAME) is not None
        assert entry_count(app) == 1

    def test_a_withdrawal_retry_logs_nothing_new(self, app: Flask, client: FlaskClient) -> None:
        client.post("/api/v1/consent", json=choice_body())
        cookie = client.get_cookie(COOKIE_NAME)
        assert cookie is not None
        body = {"language": "sv", "request_id": "withdraw-0123456789"}
        first = client.delete("/api/v1/consent", json=body)
        client.set_cookie(COOKIE_NAME, cookie.value)  # the response was lost
        second = client.delete("/api/v1/consent", json=body)
        assert first.status_code == second.status_code == 200
        assert first.json == second.json
        assert client.get_cookie(COOKIE_NAME) is None
        assert [e.action for e in entries(app)] == ["grant", "withdraw"]

    def test_a_withdrawal_with_another_consents_request_id_is_a_conflict(
        self, app: Flask, client: FlaskClient
    ) -> None:
        client.post("/api/v1/consent", json=choice_body())
        client.delete("/api/v1/consent", json={"request_id": "withdraw-0123456789"})
        other = app.test_client()
        other.post("/api/v1/consent", json=choice_body())
        response = other.delete("/api/v1/consent", json={"request_id": "withdraw-0123456789"})
        assert response.status_code == 409
        assert response.json and response.json["error"] == "request_id_conflict"
        assert other.get_cookie(COOKIE_NAME) is not None
        assert [e.action for e in entries(app)] == ["grant", "withdraw", "grant"]

    def test_a_grants_request_id_does_not_replay_as_a_withdrawal(
        self, app: Flask, client: FlaskClient
    ) -> None:
        client.post("/api/v1/consent", json=choice_body(request_id="grant-0123456789"))
        response = client.delete("/api/v1/consent", json={"request_id": "grant-0123456789"})
        assert response.status_code == 409
        assert client.get_cookie(COOKIE_NAME) is not None
        assert [e.action for e in entries(app)] == ["grant"]


def test_the_openapi_document_takes_the_logs_vocabulary(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document
    schemas = document["components"]["schemas"]
    assert schemas["ChoiceIn"]["properties"]["source"]["enum"] == ["banner", "settings", "api"]
    assert schemas["ChoiceIn"]["properties"]["request_id"]["pattern"] == REQUEST_ID.pattern
    entry = schemas["Receipt"]["properties"]["entries"]["items"]["properties"]
    assert entry["action"]["enum"] == [str(a) for a in Action]
    delete = document["paths"]["/api/v1/consent"]["delete"]
    body = delete["requestBody"]["content"]
    assert set(body) == {"application/json", "text/plain"}
    withdraw_in = schemas["WithdrawIn"]
    assert set(withdraw_in["properties"]) == {"language", "source", "request_id"}
    assert withdraw_in["additionalProperties"] is False and "required" not in withdraw_in


def test_the_audit_filter_takes_the_logs_vocabulary() -> None:
    assert tuple(Action) == ACTIONS
    assert tuple(Source) == SOURCES
    assert parse_filter({"source": "nojs", "action": "withdraw"}).source == Source.NOJS
    # The privacy officer's pages name every action and source, and find a row's text.
    assert set(AUDIT_LABELS["actions"]) == set(Action)
    assert set(AUDIT_LABELS["sources"]) == set(Source)
    assert AUDIT_LABELS["sources"]["nojs"] == AUDIT_LABELS["sources"][Source.NOJS]


def _expired(response: TestResponse) -> set[str]:
    """The cookies a response deletes."""
    return {
        header.split("=", 1)[0]
        for header in response.headers.getlist("Set-Cookie")
        if "Max-Age=0" in header or "1970" in header
    }


def test_a_withdrawal_expires_the_statistics_cookies_the_request_carries(
    client: FlaskClient,
) -> None:
    client.post("/api/v1/consent", json=choice_body(statistics=True))
    for name in ("_pk_id.1.1fff", "_pk_ses.1.1fff", "uppsala_prefs", "consent_session"):
        client.set_cookie(name, "x")
    response = client.delete("/api/v1/consent")
    assert _expired(response) == {COOKIE_NAME, "_pk_id.1.1fff", "_pk_ses.1.1fff", "uppsala_prefs"}


def test_only_necessary_expires_the_refused_categories_cookies(client: FlaskClient) -> None:
    client.set_cookie("_pk_id.1.1fff", "x")
    client.set_cookie("uppsala_prefs", "x")
    response = client.post("/api/v1/consent", json=choice_body(functional=True))
    assert _expired(response) == {"_pk_id.1.1fff"}


class TestCaching:
    """Answers that depend on the cookie are never stored by a cache; the policy may be."""

    def test_consent_answers_are_not_stored(self, client: FlaskClient) -> None:
        assert client.get("/api/v1/consent").headers["Cache-Control"] == "no-store"  # 404
        posted = client.post("/api/v1/consent", json=choice_body())
        assert posted.headers["Cache-Control"] == "no-store"
        assert client.get("/api/v1/consent").headers["Cache-Control"] == "no-store"
        assert client.get("/api/v1/consent/receipt").headers["Cache-Control"] == "no-store"
        assert client.delete("/api/v1/consent").headers["Cache-Control"] == "no-store"
        assert client.delete("/api/v1/consent").headers["Cache-Control"] == "no-store"  # 404

    def test_errors_are_not_stored_either(self, client: FlaskClient) -> None:
        refused = client.post("/api/v1/consent", json=choice_body(policy_version=0))
        assert refused.status_code == 409 and refused.headers["Cache-Control"] == "no-store"

    def test_the_policy_stays_cacheable(self, client: FlaskClient) -> None:
        assert "public" in client.get("/api/v1/policy").headers["Cache-Control"]


@pytest.mark.parametrize(
    ("statistics", "gpc", "explicit", "allowed"),
    [
        (True, False, False, True),  # Accept all without GPC
        (True, True, False, False),  # Accept all with GPC: statistics stays off
        (True, True, True, True),  # switched on by hand in the settings
        (False, False, True, False),  # never switched on by the rule itself
    ],
)
def test_the_one_gpc_rule(statistics: bool, gpc: bool, explicit: bool, allowed: bool) -> None:
    assert statistics_allowed(statistics, gpc=gpc, explicit=explicit) is allowed


def test_a_withdrawal_with_an_empty_json_body_is_an_old_clients_request(
    app: Flask, client: FlaskClient
) -> None:
    client.post("/api/v1/consent", json=choice_body())
    response = client.delete("/api/v1/consent", data=b"", content_type="application/json")
    assert response.status_code == 200
    assert [e.action for e in entries(app)] == ["grant", "withdraw"]
