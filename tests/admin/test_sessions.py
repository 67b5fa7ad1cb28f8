"""Staff sessions are kept in the database: sign-out, lifetimes and an admin can end them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin import auth
from consent_service.admin.auth import create_user
from consent_service.admin.models import AccessLogEntry, Role, StaffSession
from consent_service.db import db
from tests.admin.test_auth import PASSWORD, form_token, sign_in

SESSION = "consent_session"


def copy_session(source: FlaskClient, target: FlaskClient) -> None:
    cookie = source.get_cookie(SESSION)
    assert cookie is not None
    target.set_cookie(SESSION, cookie.value)


class Clock:
    """Stands in for `utcnow` in the sign-in code, so a test can move time forward."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(auth, "utcnow", fake)
    return fake


def test_a_copied_session_stops_working_after_sign_out(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        create_user("dso", Role.PRIVACY_OFFICER, PASSWORD)
    assert sign_in(client, "dso") == 303
    copy = app.test_client()
    copy_session(client, copy)
    assert copy.get("/admin/").status_code == 200
    token = form_token(client, "/admin/")
    assert client.post("/admin/sign-out", data={"csrf_token": token}).status_code == 303
    # The copy was made before sign-out and still carries a validly signed cookie.
    assert copy.get("/admin/").status_code == 302


def test_a_session_in_use_still_ends_after_its_absolute_lifetime(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    assert sign_in(client, "ed") == 303
    # Used every 20 minutes (never idle for 30) for just under ten hours: still signed in.
    for _ in range(29):
        clock.advance(minutes=20)
        assert client.get("/admin/").status_code == 200
    clock.advance(minutes=20)  # 10 h after sign-in
    assert client.get("/admin/").status_code == 302


def test_the_absolute_lifetime_is_a_setting(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.conftest import make_app

    app = make_app(tmp_path_factory.mktemp("short"), ENVIRON={"CONSENT_ADMIN_SESSION_HOURS": "2"})
    assert app.config["ADMIN_SESSION_HOURS"] == 2
    default = make_app(tmp_path_factory.mktemp("default"))
    assert default.config["ADMIN_SESSION_HOURS"] == 10


def test_an_idle_session_ends(app: Flask, client: FlaskClient, clock: Clock) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    assert sign_in(client, "ed") == 303
    clock.advance(minutes=29)
    assert client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/admin/").status_code == 302
    # Ended for good: coming back within the idle time of the last use does not revive it.
    clock.advance(minutes=-31)
    assert client.get("/admin/").status_code == 302


def test_sessions_are_rows_that_sign_out_ends(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    sign_in(client, "ed")
    with app.app_context():
        rows = list(db.session.scalars(select(StaffSession)))
        assert len(rows) == 1 and rows[0].ended_at is None
    # The cookie holds a random id, not the account.
    with app.test_request_context():
        cookie = client.get_cookie(SESSION)
        assert cookie is not None
        data = app.session_interface.get_signing_serializer(app).loads(cookie.value)  # type: ignore[attr-defined]
    assert "user_id" not in data and len(data["sid"]) >= 32
    token = form_token(client, "/admin/")
    client.post("/admin/sign-out", data={"csrf_token": token})
    with app.app_context():
        row = db.session.scalars(select(StaffSession)).one()
        assert row.ended_at is not None


def test_an_admin_ends_a_staff_members_sessions(app: Flask) -> None:
    with app.app_context():
        create_user("boss", Role.ADMIN, PASSWORD)
        ed = create_user("ed", Role.EDITOR, PASSWORD)
        ed_id = ed.id
    admin, editor, editor_elsewhere = app.test_client(), app.test_client(), app.test_client()
    for client, name in [(admin, "boss"), (editor, "ed"), (editor_elsewhere, "ed")]:
        assert sign_in(client, name) == 303
    page = admin.get("/admin/staff")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "ed" in html and "webbredaktör" in html and "Avsluta sessioner" in html
    assert re.search(r">ed</a></th>.*?<td>2</td>", html, re.S), html  # two open sessions

    token = form_token(admin, "/admin/staff")
    # Without the form's token nothing happens.
    assert admin.post(f"/admin/staff/{ed_id}/end-sessions").status_code == 400
    assert editor.get("/admin/").status_code == 200
    response = admin.post(f"/admin/staff/{ed_id}/end-sessions", data={"csrf_token": token})
    assert response.status_code == 303
    assert editor.get("/admin/").status_code == 302
    assert editor_elsewhere.get("/admin/").status_code == 302
    assert admin.get("/admin/").status_code == 200
    with app.app_context():
        logged = db.session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.action == "end_sessions")
        ).one()
    assert logged.actor == "boss" and logged.details == {"user": "ed", "ended": 2}


def test_the_staff_page_is_for_admins_only(app: Flask) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    client = app.test_client()
    sign_in(client, "ed")
    assert client.get("/admin/staff").status_code == 403
    assert client.post("/admin/staff/1/end-sessions").status_code in (400, 403)


def test_an_admin_sees_a_page_of_their_own(app: Flask) -> None:
    with app.app_context():
        create_user("boss", Role.ADMIN, PASSWORD)
    client = app.test_client()
    sign_in(client, "boss")
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/users"' in html and 'href="/admin/settings"' in html


def test_purge_removes_sessions_long_over(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    sign_in(client, "ed")  # alive: stays
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=45)
    with app.app_context(), db.writing() as session:
        user_id = session.scalars(select(StaffSession.user_id)).one()
        session.add(StaffSession(id="a" * 64, user_id=user_id, created_at=long_ago,
                                 last_seen_at=long_ago, ended_at=long_ago))  # fmt: skip
        session.add(
            StaffSession(id="b" * 64, user_id=user_id, created_at=long_ago, last_seen_at=long_ago)
        )  # fmt: skip  (never signed out)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "staff sessions: 2 old staff sessions removed" in result.output, result.output
    assert client.get("/admin/").status_code == 200


def test_signing_in_again_ends_the_earlier_session(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        create_user("ed", Role.EDITOR, PASSWORD)
    sign_in(client, "ed")
    copy = app.test_client()
    copy_session(client, copy)
    assert sign_in(client, "ed") == 303
    assert client.get("/admin/").status_code == 200
    assert copy.get("/admin/").status_code == 302
