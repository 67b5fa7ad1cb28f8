"""Every staff response is kept out of caches and search engines; the cookie in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.admin.test_auth import PASSWORD, sign_in
from tests.admin.test_permissions import calls
from tests.conftest import SECRET, make_app


def staff_urls(app: Flask) -> list[str]:
    return sorted(
        {url for _, method, url in calls(app) if method == "GET" and url.startswith("/admin")}
    )


@pytest.mark.parametrize(
    "role", [None, Role.ADMIN, Role.EDITOR, Role.INNOVATION, Role.PRIVACY_OFFICER]
)
def test_no_staff_response_is_stored_or_indexed(app: Flask, role: Role | None) -> None:
    client = app.test_client()
    if role is not None:
        with app.app_context():
            create_user("staff", role, PASSWORD)
        assert sign_in(client, "staff") == 303
    urls = staff_urls(app)
    assert "/admin/sign-in" in urls and "/admin/staff" in urls and len(urls) > 10
    for url in urls:
        # Pages, redirects to sign-in, 403s and 400s alike.
        response = client.get(url)
        assert response.headers.get("Cache-Control") == "no-store", (url, response.status_code)
        assert "noindex" in response.headers.get("X-Robots-Tag", ""), url
        if response.mimetype == "text/html" and response.status_code == 200:
            html = response.get_data(as_text=True)
            assert '<meta name="robots" content="noindex, nofollow">' in html, url


def test_citizen_pages_stay_cacheable(app: Flask) -> None:
    response = app.test_client().get("/embed/consent.js")
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "X-Robots-Tag" not in response.headers


def production_app(tmp_path: Path) -> Flask:
    return make_app(
        tmp_path,
        ENVIRON={
            "CONSENT_ENV": "production",
            "CONSENT_SECRET_KEY": SECRET,
            "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.test",
        },
    )


def test_the_session_cookie_is_host_prefixed_in_production(tmp_path: Path) -> None:
    app = production_app(tmp_path)
    response = app.test_client().get("/admin/sign-in", base_url="https://samtycke.uppsala.test")
    header = next(h for h in response.headers.getlist("Set-Cookie") if "session" in h)
    assert header.startswith("__Host-consent_session=")
    attributes = [part.strip().lower() for part in header.split(";")[1:]]
    assert "secure" in attributes and "path=/" in attributes and "httponly" in attributes
    assert not any(a.startswith("domain=") for a in attributes)


def test_the_plain_name_stays_in_development(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_NAME"] == "consent_session"
    response = app.test_client().get("/admin/sign-in")
    assert any(h.startswith("consent_session=") for h in response.headers.getlist("Set-Cookie"))


def test_the_device_cookie_is_host_prefixed_in_production(tmp_path: Path) -> None:
    from consent_service.admin.devices import cookie_name

    with production_app(tmp_path).test_request_context():
        assert cookie_name() == "__Host-consent_device"
