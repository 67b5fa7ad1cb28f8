"""The demo host page: for trying the embeds locally, never served in production."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from tests.conftest import make_app


def test_the_demo_page_is_served_in_development(client: FlaskClient) -> None:
    assert client.get("/").status_code == 200


def test_the_demo_page_is_not_served_in_production(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        CONSENT_MODE="production",
        COOKIE_SECURE=True,
        PUBLIC_URL="https://samtycke.uppsala.test",
    )
    response = app.test_client().get("/", headers={"Accept": "text/html"})
    assert response.status_code == 404
