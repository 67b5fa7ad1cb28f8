"""Absolute URLs name CONSENT_PUBLIC_URL, never the Host header, outside development."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask, url_for

from consent_service.web import origins
from consent_service.web.origins import own_origin
from tests.conftest import make_app

PUBLIC = "https://samtycke.uppsala.test"
FORGED_HOST = "evil.test"


def embed_config(app: Flask, host: str) -> dict[str, object]:
    body = app.test_client().get("/embed/consent.js", headers={"Host": host}).get_data(as_text=True)
    config, _ = json.JSONDecoder().raw_decode(body[body.index('{"api"') :])
    assert isinstance(config, dict)
    return config


def test_the_embed_names_the_public_url_whatever_the_host(tmp_path: Path) -> None:
    app = make_app(tmp_path, PUBLIC_URL=PUBLIC)
    config = embed_config(app, FORGED_HOST)
    assert config["api"] == f"{PUBLIC}/api/v1"
    assert config["settings_url"] == f"{PUBLIC}/consent"


def test_external_url_for_follows_the_public_url(tmp_path: Path) -> None:
    app = make_app(tmp_path, PUBLIC_URL=PUBLIC)
    with app.test_request_context("/", base_url=f"http://{FORGED_HOST}/"):
        assert url_for("consent_page.settings_page", _external=True) == f"{PUBLIC}/consent"
        assert url_for("consent_page.settings_page") == "/consent"
        assert origins.public_url("/consent") == f"{PUBLIC}/consent"
    # Outside a request too (e-mail sent by a command or a background thread).
    with app.app_context():
        assert url_for("consent_page.settings_page", _external=True) == f"{PUBLIC}/consent"


def test_development_follows_the_request_host(app: Flask) -> None:
    assert app.config["PUBLIC_URL"] is None
    with app.test_request_context("/", base_url="http://127.0.0.1:8000/"):
        assert own_origin() == "http://127.0.0.1:8000"
        assert url_for("consent_page.settings_page", _external=True) == (
            "http://127.0.0.1:8000/consent"
        )


def test_production_without_a_public_url_never_trusts_the_host(tmp_path: Path) -> None:
    # load_settings refuses this; the helper still fails closed if the setting goes missing.
    app = make_app(tmp_path, CONSENT_MODE="production", PUBLIC_URL=None, COOKIE_SECURE=True)
    with (
        app.test_request_context("/", base_url=f"https://{FORGED_HOST}/"),
        pytest.raises(RuntimeError, match="CONSENT_PUBLIC_URL"),
    ):
        own_origin()
    response = app.test_client().get("/embed/consent.js", headers={"Host": FORGED_HOST})
    assert FORGED_HOST not in response.get_data(as_text=True)
