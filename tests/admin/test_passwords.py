"""The password rule (common, simple, the user's or the service's name) and changing one's own."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.auth import create_user
from consent_service.admin.models import AccessLogEntry, Role
from consent_service.admin.passwords import common_passwords, password_problem
from consent_service.db import db
from tests.admin.test_auth import PASSWORD, form_token, sign_in

GOOD = "blå kaffekopp vid fönstret"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("kort", "too_short"),
        ("x" * 257, "too_long"),
        # Common words with digits, a year or symbols added, letters swapped for look-alikes.
        ("password1234", "common"),
        ("Password123!", "common"),
        ("P@ssw0rd2024!", "common"),
        ("Sommar2024!!", "common"),
        ("Lösenord2024!", "common"),
        ("iloveyou1234", "common"),
        ("Jennifer1990!", "common"),
        ("correct horse battery staple", "common"),
        ("summersummer", "common"),  # a common word twice
        ("passwordqwerty", "common"),  # two common words joined
        ("qwertyuiop12", "common"),
        # Runs and repetitions.
        ("123456789012", "too_simple"),
        ("abcdefghijkl", "too_simple"),
        ("zyxw!zyxw!zyxw", "too_simple"),
        # The account's own name, the municipality's and the service's.
        ("webbred2026!!", "contains_name"),
        ("Web-Bred is me 1", "contains_name"),
        ("Uppsala2026!x", "contains_service"),
        ("samtycke-2026-ok", "contains_service"),
        ("uppsala kommun rocks", "contains_service"),
        # Good ones: several words of one's own, or random characters.
        (GOOD, None),
        ("tjugosju hästar springer", None),
        ("Zq8Wm3Xk5Pn1", None),
        ("kaffe och kanelbulle", None),
    ],
)
def test_the_password_rule(password: str, problem: str | None) -> None:
    assert password_problem(password, "webbred") == problem


def test_the_bundled_list_is_folded_and_large_enough() -> None:
    common = common_passwords()
    assert len(common) > 900
    assert all(word == word.casefold() and word.isascii() for word in common)
    assert {"123456", "password", "qwerty", "losenord", "sommar"} <= common


def test_users_create_applies_the_rule(app: Flask) -> None:
    runner = app.test_cli_runner()
    for password, message in [
        ("Sommar2024!!", "too common"),
        ("webbred-och-kaffe", "user name"),
        ("Uppsala-2026-ok", "municipality"),
        ("short", "at least 12"),
    ]:
        result = runner.invoke(
            args=["users", "create", "--role", "editor", "webbred"], input=password + "\n"
        )
        assert result.exit_code == 1 and message in result.output, result.output
    ok = runner.invoke(args=["users", "create", "--role", "editor", "webbred"], input=GOOD + "\n")
    assert ok.exit_code == 0, ok.output


def change(
    client: FlaskClient, current: str, new: str, again: str | None = None
) -> tuple[int, str]:
    token = form_token(client, "/admin/password")
    response = client.post(
        "/admin/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
    )
    return response.status_code, response.get_data(as_text=True)


def test_staff_change_their_own_password(app: Flask) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    here, elsewhere = app.test_client(), app.test_client()
    assert sign_in(here, "ed") == 303 and sign_in(elsewhere, "ed") == 303
    page = here.get("/admin/password")
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.get_data(as_text=True)
    assert 'href="/admin/password"' in here.get("/admin/").get_data(as_text=True)

    assert change(here, "not my password 1", GOOD)[0] == 400
    assert change(here, PASSWORD, GOOD, again=GOOD + "x")[0] == 400
    status, html = change(here, PASSWORD, "Sommar2024!!")
    assert status == 400 and "för vanligt" in html
    assert change(here, PASSWORD, "Jennifer1990!")[0] == 400

    status, _ = change(here, PASSWORD, GOOD)
    assert status == 303
    # This browser stays signed in; every other session of the account has ended.
    assert here.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302
    assert sign_in(app.test_client(), "ed", PASSWORD) == 401
    assert sign_in(app.test_client(), "ed", GOOD) == 303
    with app.app_context():
        rows = list(
            db.session.scalars(
                select(AccessLogEntry).where(AccessLogEntry.action == "change_password")
            )
        )
    assert [(r.actor, r.outcome) for r in rows] == [("ed", "failed"), ("ed", "ok")]
    assert rows[-1].details == {"other_sessions_ended": 1}
    assert all(GOOD not in str(r.details) + r.summary for r in rows)


def test_changing_the_password_needs_the_form_token(app: Flask) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    client = app.test_client()
    sign_in(client, "ed")
    response = client.post(
        "/admin/password",
        data={"current_password": PASSWORD, "new_password": GOOD, "new_password_again": GOOD},
    )
    assert response.status_code == 400
    assert sign_in(app.test_client(), "ed", PASSWORD) == 303


def test_guessing_the_current_password_is_limited(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.conftest import make_app

    app = make_app(tmp_path_factory.mktemp("guess"), SIGN_IN_LIMIT_ACCOUNT=3)
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    client = app.test_client()
    sign_in(client, "ed")
    statuses = [change(client, f"guess number {i}", GOOD)[0] for i in range(4)]
    assert statuses == [400, 400, 400, 429]
    status, html = change(client, PASSWORD, GOOD)
    assert status == 429 and re.search(r"försök igen om \d+ minut", html)
