"""Staff sign-in: roles, sessions, CSRF, the users command."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from consent_service.admin.models import Role
from tests.helpers.forms import form_token
from tests.helpers.staff import PASSWORD, make_staff, sign_in


def test_sign_in_and_out(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "dso", Role.PRIVACY_OFFICER)
    assert client.get("/admin/").status_code == 302
    assert sign_in(client, "dso") == 303
    home = client.get("/admin/")
    assert home.status_code == 200 and "dataskyddsombud" in home.get_data(as_text=True)
    session_cookie = client.get_cookie("consent_session")
    assert session_cookie is not None and session_cookie.http_only
    token = form_token(client, "/admin/")
    assert client.post("/admin/sign-out", data={"csrf_token": token}).status_code == 303
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(("name", "password"), [("dso", "wrong password!"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_refused_alike(
    app: Flask, client: FlaskClient, name: str, password: str
) -> None:
    make_staff(app, "dso", Role.PRIVACY_OFFICER)
    assert sign_in(client, name, password) == 401
    assert client.get("/admin/").status_code == 302


def test_sign_in_rotates_the_session(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "ed", Role.EDITOR)
    form_token(client, "/admin/sign-in")
    before = client.get_cookie("consent_session")
    sign_in(client, "ed")
    after = client.get_cookie("consent_session")
    assert before is not None and after is not None and before.value != after.value


def test_sign_in_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "ed", Role.EDITOR)
    response = client.post("/admin/sign-in", data={"name": "ed", "password": PASSWORD})
    assert response.status_code == 400


def test_users_create_command(app: Flask) -> None:
    runner = app.test_cli_runner()
    # The famous example passphrase is refused now (tests/admin/test_passwords.py): too common.
    good = "tjugosju hästar springer"
    result = runner.invoke(
        args=["users", "create", "--role", "editor", "webbred"], input=good + "\n"
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["users", "create", "--role", "editor", "webbred"], input=good)
    assert again.exit_code == 1 and "exists already" in again.output
    short = runner.invoke(args=["users", "create", "--role", "editor", "x"], input="short\n")
    assert short.exit_code == 1
    bad_role = runner.invoke(args=["users", "create", "--role", "root", "y"], input=PASSWORD)
    assert bad_role.exit_code == 2
