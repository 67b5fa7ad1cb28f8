"""`/embed/consent.js` as served: policy injected, size budget, caching and compression."""

from __future__ import annotations

import gzip
import json
import re

from flask.testing import FlaskClient

from tests.conftest import POLICY_VERSION

BUDGET_GZIP_BYTES = 6000


def served(client: FlaskClient, **headers: str) -> bytes:
    response = client.get("/embed/consent.js", headers=headers)
    assert response.status_code == 200
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body


def test_bundle_carries_the_current_policy(client: FlaskClient) -> None:
    body = served(client).decode()
    assert "__CONSENT_CONFIG__" not in body
    match = re.search(r'\{"api":\s*"(http://localhost)/api/v1"', body)
    assert match, body[:300]
    assert f'"version": {POLICY_VERSION}' in body and '"Acceptera alla"' in body
    # Only the default language is inlined; others come from /api/v1/policy when needed.
    assert '"Accept all"' not in body


def test_bundle_stays_within_its_size_budget(client: FlaskClient) -> None:
    size = len(gzip.compress(served(client), 9))
    assert size <= BUDGET_GZIP_BYTES, f"consent.js is {size} B gzip -9 (budget 6,000 B)"


def test_bundle_is_gzipped_cached_and_revalidated(client: FlaskClient) -> None:
    response = client.get("/embed/consent.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age=" in response.headers["Cache-Control"]
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    etag = response.headers["ETag"]
    again = client.get("/embed/consent.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()


def test_bundle_config_is_valid_json(client: FlaskClient) -> None:
    body = served(client).decode()
    start = body.index('{"api"')
    config, _ = json.JSONDecoder().raw_decode(body[start:])
    assert config["cookie"] == "consent" and config["languages"] == ["sv", "en"]
    # Declarations ending in `*` are prefixes: the banner clears every cookie they match.
    assert config["cookies"]["statistics"][:2] == ["_pk_id.*", "_pk_ses.*"]


def test_config_inlines_what_the_first_layer_and_clearing_need(client: FlaskClient) -> None:
    body = served(client).decode()
    config, _ = json.JSONDecoder().raw_decode(body[body.index('{"api"') :])
    texts = config["texts"]["sv"]
    # Declarations' details and the placeholders' texts come from /api/v1/policy when needed.
    for lazy in ("cookies", "cookie_purpose", "cookies_heading", "embed_notice", "embed_once"):
        assert lazy not in texts, lazy
    assert texts["categories"]["functional"]["label"] == "Funktionella"
    assert config["switch"] == {"sv": "På svenska", "en": "In English"}
    assert set(config["cookies"]) == set(config["storage"]) == {"functional", "statistics"}
    assert config["page"] == "http://localhost/embed/consent-page.js"


def test_page_parts_are_served_apart_gzipped_and_cached(client: FlaskClient) -> None:
    response = client.get("/embed/consent-page.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "max-age=" in response.headers["Cache-Control"]
    assert len(response.get_data()) < 2500
    assert b"__CONSENT_CONFIG__" not in gzip.decompress(response.get_data())
    etag = response.headers["ETag"]
    again = client.get("/embed/consent-page.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
