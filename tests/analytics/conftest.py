"""Helpers for the analytics tests: signed consent cookies and event batches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from consent_service.consent.cookie import Choice, ChoiceCookie
from tests.conftest import HOST_ORIGIN, POLICY_VERSION

BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CLIENT_IP = "203.0.113.77"


def consent_cookie(
    app: Flask,
    *,
    statistics: bool = True,
    version: int = POLICY_VERSION,
    keys: list[str] | None = None,
) -> str:
    signer = ChoiceCookie(keys or app.config["SIGNING_KEYS"], 3600)
    return signer.encode(Choice("7f1c2d3e-0000-4000-8000-000000000001", version, True, statistics))


def pageview(path: str = "/bo-och-leva", **extra: Any) -> dict[str, Any]:
    return {"type": "pageview", "path": path, **extra}


def send(
    client: FlaskClient,
    events: list[Any] | None = None,
    *,
    body: Any = None,
    cookie: str | None = None,
    user_agent: str = BROWSER_UA,
    origin: str | None = HOST_ORIGIN,
    content_type: str = "text/plain;charset=UTF-8",
    address: str = CLIENT_IP,
) -> TestResponse:
    """POST a batch the way the tracker's sendBeacon does."""
    if cookie is not None:
        client.set_cookie("consent", cookie)
    else:
        client.delete_cookie("consent")
    headers = {"User-Agent": user_agent, "Accept-Language": "sv-SE,sv;q=0.9,en;q=0.8"}
    if origin is not None:
        headers["Origin"] = origin
    data = body if body is not None else json.dumps({"events": events or []})
    return client.post(
        "/api/v1/events",
        data=data,
        content_type=content_type,
        headers=headers,
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def granted(app: Flask) -> str:
    return consent_cookie(app)
