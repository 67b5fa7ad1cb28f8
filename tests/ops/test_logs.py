"""Request IDs on every response and in every log line; JSON logs without personal data."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import choice_body, make_app

CLIENT = {"REMOTE_ADDR": "203.0.113.77"}
AGENT = {"User-Agent": "Mozilla/5.0 (Private-Agent-Marker)"}


def log_stream(app: Flask) -> io.StringIO:
    """Point the app's JSON handler at a buffer and return it."""
    stream = io.StringIO()
    [handler] = [h for h in app.logger.handlers if getattr(h, "consent_json", False)]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def test_a_request_id_is_generated_and_echoed(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_proxy_request_id_is_propagated(client: FlaskClient) -> None:
    rid = "0f8e4c0a9d6b4e3f8a1b2c3d4e5f6a7b"
    response = client.post("/api/v1/consent", json=choice_body(), headers={"X-Request-ID": rid})
    assert response.headers["X-Request-ID"] == rid
    # Refused requests carry it too.
    refused = client.post("/api/v1/consent", data="x", headers={"X-Request-ID": rid})
    assert refused.status_code == 415 and refused.headers["X-Request-ID"] == rid


@pytest.mark.parametrize(
    "offered", ["short", "has spaces in it", "x" * 200, '"},{"level":"forged', "ünïcödé-id-1"]
)
def test_a_hostile_request_id_is_replaced(client: FlaskClient, offered: str) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    assert echoed != offered and len(echoed) == 32


def test_logs_are_json_with_the_request_id_and_no_personal_data(tmp_path: Path) -> None:
    # A database that cannot be reached makes the app log a warning during the request.
    app = make_app(tmp_path, migrate=False, DATABASE_URL=f"sqlite:///{tmp_path}/no/dir/x.db")
    stream = log_stream(app)
    client = app.test_client()
    response = client.post(
        "/api/v1/consent?next=https://www.uppsala.test/private-query-marker",
        json=choice_body(),
        headers={**AGENT, "X-Request-ID": "req-0123456789"},
        environ_base=CLIENT,
    )
    assert response.status_code == 503
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "the database failure was not logged"
    warning = lines[-1]
    assert warning["level"] == "warning" and warning["request_id"] == "req-0123456789"
    assert warning["logger"] == "consent_service" and "time" in warning
    text = stream.getvalue()
    for private in ("203.0.113.77", "Private-Agent-Marker", "private-query-marker"):
        assert private not in text


def test_successful_requests_log_nothing_personal(app: Flask, client: FlaskClient) -> None:
    stream = log_stream(app)
    app.logger.setLevel(logging.DEBUG)
    recorded = client.post(
        "/api/v1/consent", json=choice_body(), headers=AGENT, environ_base=CLIENT
    ).json
    client.delete("/api/v1/consent", headers=AGENT, environ_base=CLIENT)
    assert recorded
    text = stream.getvalue()
    for private in ("203.0.113.77", "Private-Agent-Marker", recorded["consent_id"]):
        assert private not in text
