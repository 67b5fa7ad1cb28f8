"""Security headers, health checks and error pages."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from tests.conftest import choice_body, make_app


def test_html_pages_carry_a_nonce_csp_and_strict_headers(client: FlaskClient) -> None:
    # Staff pages: nobody may frame them (other pages: tests/ops/test_framing.py).
    response = client.get("/admin/sign-in")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    other = client.get("/admin/sign-in").headers["Content-Security-Policy"]
    assert other != csp  # a fresh nonce per response


def test_demo_page_embeds_the_banner_with_the_nonce(client: FlaskClient) -> None:
    response = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    html = response.get_data(as_text=True)
    assert nonce and f'src="/embed/consent.js" defer nonce="{nonce.group(1)}"' in html
    assert "data-consent-open" in html and 'type="text/plain" data-consent="statistics"' in html


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz").json
    assert ready is not None and ready["status"] == "ready"
    # The consent log reports its integration backlog without failing on it.
    assert ready["consent_log"] == {"pending": 0, "lag_seconds": 0.0}


def test_readiness_reports_an_unreachable_database(tmp_path: Path) -> None:
    unreachable = make_app(
        tmp_path, migrate=False, DATABASE_URL=f"sqlite:///{tmp_path}/missing-dir/x/y.sqlite3"
    )
    response = unreachable.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json and response.json["error"] == "database_unavailable"
    # A write against the unreachable database is a clear 503 as well, never a 500.
    write = unreachable.test_client().post(
        "/api/v1/consent",
        json=choice_body(statistics=True),
    )  # fmt: skip
    assert write.status_code == 503 and write.json and write.json["error"] == "unavailable"


def test_html_errors_are_pages_not_json(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_a_method_not_allowed_names_the_allowed_ones(client: FlaskClient) -> None:
    page = client.open("/consent", method="TRACE", headers={"Accept": "text/html"})
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert set(page.headers["Allow"].split(", ")) >= {"GET", "POST"}
    api = client.open("/api/v1/consent", method="PATCH")
    assert api.status_code == 405 and "DELETE" in api.headers["Allow"]
