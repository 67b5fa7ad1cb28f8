"""Who may frame which page: staff pages nobody, the demo itself, the settings page the hosts."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.conftest import HOST_ORIGIN


def frame_ancestors(client: FlaskClient, path: str) -> tuple[str, str | None]:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.mimetype == "text/html", path
    match = re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"])
    assert match, path
    return match.group(1), response.headers.get("X-Frame-Options")


def test_staff_pages_cannot_be_framed(client: FlaskClient) -> None:
    assert frame_ancestors(client, "/admin/sign-in") == ("'none'", "DENY")


def test_error_pages_cannot_be_framed(client: FlaskClient) -> None:
    assert frame_ancestors(client, "/no-such-page") == ("'none'", "DENY")


def test_the_demo_page_can_be_framed_by_the_service_only(client: FlaskClient) -> None:
    assert frame_ancestors(client, "/") == ("'self'", "SAMEORIGIN")


def test_the_settings_page_can_be_framed_by_the_host_pages(client: FlaskClient) -> None:
    ancestors, legacy = frame_ancestors(client, "/consent")
    assert ancestors == f"'self' {HOST_ORIGIN}"
    # X-Frame-Options cannot name another origin; frame-ancestors decides alone.
    assert legacy is None
