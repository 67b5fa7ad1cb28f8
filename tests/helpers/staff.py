"""Staff accounts for tests: create one, sign a test client in."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role
from tests.helpers.forms import form_token

# Long, and on no list of common passwords.
PASSWORD = "Tallrik-Fyrisån-7-Domkyrkan"


def make_staff(app: Flask, name: str, role: Role, password: str = PASSWORD) -> int:
    """Create a staff account; return its id."""
    with app.app_context():
        return create_user(name, role, password).id


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD) -> int:
    """Sign in through the real form; return the response status (303 on success)."""
    token = form_token(client, "/admin/sign-in")
    response = client.post(
        "/admin/sign-in", data={"csrf_token": token, "name": name, "password": password}
    )
    return response.status_code


def sign_in_as(app: Flask, client: FlaskClient, role: Role, name: str | None = None) -> str:
    """Create an account with `role` and sign `client` in as it; return the account's name."""
    name = name or f"user-{role.value}"
    make_staff(app, name, role)
    assert sign_in(client, name) == 303
    return name
