"""What browsers and crawlers ask every site for, and the error pages, in both languages."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.admin.test_auth import PASSWORD, sign_in


def test_robots_txt_keeps_crawlers_out_of_the_admin(client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines and "Disallow: /admin" in lines
    assert "max-age" in response.headers.get("Cache-Control", "")


def test_the_favicon_is_served(client: FlaskClient) -> None:
    for path in ("/favicon.ico", "/static/favicon.svg"):
        response = client.get(path)
        body = response.get_data()
        response.close()
        assert response.status_code == 200, path
        assert response.mimetype == "image/svg+xml" and b"<svg" in body
    html = client.get("/admin/sign-in").get_data(as_text=True)
    assert 'rel="icon"' in html


def test_the_403_page_speaks_swedish_then_english(app: Flask) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    client = app.test_client()
    sign_in(client, "ed")
    response = client.get("/admin/staff")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    swedish, english = html.index("Du har inte behörighet"), html.index("You do not have access")
    assert swedish < english
    assert 'lang="en"' in html and '<html lang="sv"' in html


def test_the_404_page_speaks_both_languages(client: FlaskClient) -> None:
    html = client.get("/no-such-page", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Sidan finns inte" in html and "Page not found" in html


def test_json_errors_are_unchanged(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
