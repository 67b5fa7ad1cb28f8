"""Failed sign-ins are limited per account and per client, across workers and instances."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin.auth import create_user
from consent_service.admin.models import AccessLogEntry, Role
from consent_service.db import db
from tests.conftest import make_app
from tests.helpers.forms import form_token
from tests.helpers.staff import PASSWORD, sign_in


def attempt(client: FlaskClient, name: str, password: str, address: str) -> tuple[int, str]:
    environ = {"REMOTE_ADDR": address}
    token = form_token(client, "/admin/sign-in")
    response = client.post(
        "/admin/sign-in",
        data={"csrf_token": token, "name": name, "password": password},
        environ_base=environ,
    )
    return response.status_code, response.get_data(as_text=True)


def limited_app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, SIGN_IN_LIMIT_ACCOUNT=3, SIGN_IN_LIMIT_CLIENT=5)
    with app.app_context():
        create_user("dso", Role.PRIVACY_OFFICER, PASSWORD)
        create_user("ed", Role.EDITOR, PASSWORD)
    return app


def test_an_account_is_locked_after_failures_from_any_client(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    for i in range(3):
        assert attempt(app.test_client(), "dso", "wrong password!", f"10.0.0.{i}")[0] == 401
    # The right password from a new client is refused too, with a clear message.
    status, html = attempt(app.test_client(), "DSO".lower(), PASSWORD, "10.0.0.9")
    assert status == 429
    assert "För många misslyckade inloggningsförsök" in html and "försök igen om" in html
    # Other accounts are not affected.
    assert attempt(app.test_client(), "ed", PASSWORD, "10.0.0.9")[0] == 303


def test_a_client_is_limited_across_accounts(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    client = app.test_client()
    for i in range(5):
        assert attempt(client, f"guess{i}", "wrong password!", "192.0.2.1")[0] == 401
    status, _ = attempt(client, "ed", PASSWORD, "192.0.2.1")
    assert status == 429
    assert attempt(app.test_client(), "ed", PASSWORD, "192.0.2.2")[0] == 303


def test_the_limit_holds_across_instances_sharing_the_database(tmp_path: Path) -> None:
    first = limited_app(tmp_path)
    second = make_app(tmp_path, migrate=False, SIGN_IN_LIMIT_ACCOUNT=3, SIGN_IN_LIMIT_CLIENT=5)
    for app in (first, second, first):
        assert attempt(app.test_client(), "dso", "wrong password!", "10.1.1.1")[0] == 401
    response = second.test_client()
    status, _ = attempt(response, "dso", PASSWORD, "10.1.1.2")
    assert status == 429


def test_the_limited_answer_carries_retry_after(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    client = app.test_client()
    for _ in range(3):
        attempt(client, "dso", "wrong password!", "10.2.2.2")
    token = form_token(client, "/admin/sign-in")
    response = client.post(
        "/admin/sign-in", data={"csrf_token": token, "name": "dso", "password": PASSWORD}
    )
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_sign_ins_are_in_the_access_log_without_addresses(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    attempt(app.test_client(), "dso", "wrong password!", "203.0.113.7")
    attempt(app.test_client(), "no-such-user", "wrong password!", "203.0.113.7")
    attempt(app.test_client(), "dso", PASSWORD, "203.0.113.7")
    with app.app_context():
        rows = list(db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))
    assert [(r.actor, r.action, r.outcome) for r in rows] == [
        ("dso", "sign_in", "failed"),
        ("(okänt konto)", "sign_in", "failed"),
        ("dso", "sign_in", "ok"),
    ]
    assert all("203.0.113" not in str(r.details) + r.summary for r in rows)


def test_hostile_sign_in_input_is_a_clear_4xx(app: Flask, client: FlaskClient) -> None:
    for name, password in [("x" * 5000, "y"), ("\x00", "y"), ("'; DROP TABLE users; --", "y"),
                           ("dso", "p" * 10000), ("\u202e", "\u202e")]:  # fmt: skip
        assert sign_in(client, name, password) in (400, 401), name[:20]


DEVICE = "consent_device"


def sign_out(client: FlaskClient) -> None:
    token = form_token(client, "/admin/")
    assert client.post("/admin/sign-out", data={"csrf_token": token}).status_code == 303


def test_a_successful_sign_in_marks_the_device(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    client = app.test_client()
    assert attempt(client, "dso", PASSWORD, "10.3.3.3")[0] == 303
    cookie = client.get_cookie(DEVICE)
    assert cookie is not None and cookie.http_only and cookie.path == "/"
    # Long-lived: it outlasts the session by far.
    assert cookie.max_age is not None and cookie.max_age >= 90 * 86400
    # A failed or refused sign-in marks nothing.
    other = app.test_client()
    attempt(other, "dso", "wrong password!", "10.3.3.4")
    assert other.get_cookie(DEVICE) is None


def test_a_known_device_is_not_locked_out_by_others_failures(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    device = app.test_client()
    assert attempt(device, "dso", PASSWORD, "10.4.4.4")[0] == 303
    sign_out(device)
    # Someone elsewhere tries to lock the account out, with the right password at the end.
    for i in range(3):
        assert attempt(app.test_client(), "dso", "wrong password!", f"198.51.100.{i}")[0] == 401
    assert attempt(app.test_client(), "dso", PASSWORD, "198.51.100.9")[0] == 429
    # The staff member's own computer still signs in.
    assert attempt(device, "dso", PASSWORD, "10.4.4.4")[0] == 303


def test_a_known_devices_failures_count_on_their_own(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    device = app.test_client()
    assert attempt(device, "dso", PASSWORD, "10.5.5.5")[0] == 303
    sign_out(device)
    for _ in range(3):
        assert attempt(device, "dso", "wrong password!", "10.5.5.5")[0] == 401
    # The device has used up its own attempts ...
    assert attempt(device, "dso", PASSWORD, "10.5.5.5")[0] == 429
    # ... which did not count against the account elsewhere.
    assert attempt(app.test_client(), "dso", PASSWORD, "10.5.5.6")[0] == 303


def test_a_device_known_for_another_account_or_forged_is_not_trusted(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    device = app.test_client()
    assert attempt(device, "ed", PASSWORD, "10.6.6.6")[0] == 303
    sign_out(device)
    for i in range(3):
        attempt(app.test_client(), "dso", "wrong password!", f"198.51.100.{i}")
    assert attempt(device, "dso", PASSWORD, "10.6.6.6")[0] == 429
    forged = app.test_client()
    forged.set_cookie(DEVICE, '{"u": "dso", "n": "x"}.AAAA.BBBB')
    assert attempt(forged, "dso", PASSWORD, "10.6.6.7")[0] == 429


def test_successful_sign_ins_use_up_no_attempts(tmp_path: Path) -> None:
    app = limited_app(tmp_path)
    # Colleagues behind one address sign in many times a day.
    for _ in range(8):
        client = app.test_client()
        assert attempt(client, "ed", PASSWORD, "192.0.2.50")[0] == 303
