"""The admin's account rules: one-time password links, disabling, roles, the last admin."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.admin import accounts
from consent_service.admin.accounts import AccountError, LinkInvalid
from consent_service.admin.models import AccessLogEntry, PasswordLink, Role, User
from consent_service.db import db, utcnow
from tests.helpers.forms import csrf_token_in, form_token
from tests.helpers.staff import make_staff, sign_in

NEW_PASSWORD = "Gröna-Ekoln-Kvarn-31"


def account(app: Flask, name: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.name == name))
        assert user is not None
        db.session.expunge(user)
        return user


def actions(app: Flask) -> list[tuple[str, str, dict[str, object]]]:
    with app.app_context():
        rows = db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id))
        return [(row.actor, row.action, row.details) for row in rows]


def new_account(app: Flask, name: str = "nyanställd", role: Role = Role.EDITOR) -> str:
    """Create an account through the rule; return its link's token."""
    with app.app_context():
        _, link = accounts.create_account(name=name, role=role, email=None, actor="boss")
        return link.token


# --- the rules, without HTTP ---------------------------------------------------------


def test_a_new_account_has_no_password_until_its_link_is_used(app: Flask) -> None:
    with app.app_context():
        user, link = accounts.create_account(
            name="nyanställd", role=Role.EDITOR, email="ny@uppsala.test", actor="boss"
        )
        assert link.expires_at - utcnow() <= accounts.LINK_LIFETIME
        assert link.expires_at - utcnow() > accounts.LINK_LIFETIME - dt.timedelta(minutes=1)
        stored = db.session.scalars(select(PasswordLink)).one()
        # Only the token's digest is kept.
        assert stored.token_hash != link.token and link.token not in stored.token_hash
        assert not accounts.has_password(db.session.get(User, user.id))  # type: ignore[arg-type]
    client = app.test_client()
    assert sign_in(client, "nyanställd", "!unset") == 401
    with app.app_context():
        assert accounts.set_password_with_link(link.token, NEW_PASSWORD) is None
    assert sign_in(client, "nyanställd", NEW_PASSWORD) == 303
    logged = actions(app)
    assert ("boss", "create_user", {"user": "nyanställd", "role": "editor"}) in logged
    assert ("nyanställd", "set_password", {"sessions_ended": 0}) in logged


def test_a_link_works_once(app: Flask) -> None:
    token = new_account(app)
    with app.app_context():
        assert accounts.set_password_with_link(token, NEW_PASSWORD) is None
    # Each request has its own session, as here each app context.
    with app.app_context(), pytest.raises(LinkInvalid):
        accounts.set_password_with_link(token, "Ett-annat-lösenord-42")
    with app.app_context(), pytest.raises(LinkInvalid):
        accounts.link_account(token)
    assert sign_in(app.test_client(), "nyanställd", NEW_PASSWORD) == 303


def test_of_two_simultaneous_uses_of_a_link_one_wins(app: Flask) -> None:
    token = new_account(app)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def use(password: str) -> None:
        with app.app_context():
            start.wait()
            try:
                outcomes.append("set" if accounts.set_password_with_link(token, password) is None
                                else "refused")  # fmt: skip
            except LinkInvalid:
                outcomes.append("invalid")

    threads = [threading.Thread(target=use, args=(p,)) for p in (NEW_PASSWORD, NEW_PASSWORD + "x")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["invalid", "set"]
    with app.app_context():
        assert db.session.scalars(select(PasswordLink)).one().closed_at is not None


def test_a_link_expires_after_72_hours(app: Flask) -> None:
    token = new_account(app)
    with app.app_context():
        later = utcnow() + dt.timedelta(hours=71, minutes=59)
        assert accounts.link_account(token, later).name == "nyanställd"
        expired = utcnow() + dt.timedelta(hours=72, seconds=1)
        with pytest.raises(LinkInvalid):
            accounts.link_account(token, expired)
        with pytest.raises(LinkInvalid):
            accounts.set_password_with_link(token, NEW_PASSWORD, expired)


def test_a_refused_password_leaves_the_link_open(app: Flask) -> None:
    token = new_account(app, "kalle")
    with app.app_context():
        assert accounts.set_password_with_link(token, "Sommar2024!!") == "common"
        assert accounts.set_password_with_link(token, "kalle-har-en-cykel") == "contains_name"
        assert accounts.set_password_with_link(token, NEW_PASSWORD) is None


def test_a_new_link_closes_the_old_and_a_reset_ends_sessions(app: Flask) -> None:
    make_staff(app, "ed", Role.EDITOR)
    client = app.test_client()
    assert sign_in(client, "ed") == 303
    ed = account(app, "ed")
    with app.app_context():
        first = accounts.issue_password_link(ed, actor="boss")
        second = accounts.issue_password_link(ed, actor="boss")
    with app.app_context(), pytest.raises(LinkInvalid):
        accounts.link_account(first.token)
    # Until the link is used, the old password still works.
    assert client.get("/admin/").status_code == 200
    with app.app_context():
        assert accounts.set_password_with_link(second.token, NEW_PASSWORD) is None
    assert client.get("/admin/").status_code == 302
    assert sign_in(app.test_client(), "ed") == 401
    assert sign_in(app.test_client(), "ed", NEW_PASSWORD) == 303


@pytest.mark.parametrize("token", ["", "x" * 43, "a" * 42, "a" * 44, "ä" * 43, "../" * 15])
def test_forged_tokens_find_nothing(app: Flask, token: str) -> None:
    new_account(app)
    with app.app_context(), pytest.raises(LinkInvalid):
        accounts.link_account(token)


def test_a_disabled_account_is_refused_and_its_sessions_end(app: Flask) -> None:
    make_staff(app, "boss", Role.ADMIN)
    make_staff(app, "ed", Role.EDITOR)
    ed_browser, ed_laptop = app.test_client(), app.test_client()
    assert sign_in(ed_browser, "ed") == 303 and sign_in(ed_laptop, "ed") == 303
    boss = account(app, "boss")
    with app.app_context():
        link = accounts.issue_password_link(account(app, "ed"), actor="boss")
        assert accounts.set_active(account(app, "ed"), False, actor=boss) == 2
    assert ed_browser.get("/admin/").status_code == 302
    assert ed_laptop.get("/admin/").status_code == 302
    assert sign_in(app.test_client(), "ed") == 401
    with app.app_context():
        with pytest.raises(LinkInvalid):
            accounts.link_account(link.token)
        with pytest.raises(AccountError):
            accounts.issue_password_link(account(app, "ed"), actor="boss")
        accounts.set_active(account(app, "ed"), True, actor=boss)
    assert sign_in(app.test_client(), "ed") == 303
    logged = [(actor, action) for actor, action, _ in actions(app)]
    assert ("boss", "disable_user") in logged and ("boss", "enable_user") in logged


def test_an_admin_cannot_disable_or_demote_themselves(app: Flask) -> None:
    make_staff(app, "boss", Role.ADMIN)
    make_staff(app, "boss2", Role.ADMIN)
    boss = account(app, "boss")
    with app.app_context():
        with pytest.raises(AccountError) as disabling:
            accounts.set_active(boss, False, actor=boss)
        assert disabling.value.code == "self"
        with pytest.raises(AccountError) as demoting:
            accounts.change_account(boss, role=Role.EDITOR, email=None, actor=boss)
        assert demoting.value.code == "self"
    assert account(app, "boss").active and account(app, "boss").role == "admin"


def test_the_last_admin_stays(app: Flask) -> None:
    make_staff(app, "boss", Role.ADMIN)
    make_staff(app, "boss2", Role.ADMIN)
    boss, boss2 = account(app, "boss"), account(app, "boss2")
    with app.app_context():
        # Two admins: one may take the role from the other.
        accounts.change_account(boss2, role=Role.EDITOR, email=None, actor=boss)
        # From the command line (no account) the last admin can be neither demoted nor disabled.
        with pytest.raises(AccountError) as demoting:
            accounts.change_account(boss, role=Role.EDITOR, email=None, actor="cli:root")
        assert demoting.value.code == "last_admin"
        with pytest.raises(AccountError) as disabling:
            accounts.set_active(boss, False, actor="cli:root")
        assert disabling.value.code == "last_admin"
        # A disabled admin does not count: the one active admin is still the last.
        accounts.change_account(account(app, "boss2"), role=Role.ADMIN, email=None, actor=boss)
        accounts.set_active(account(app, "boss2"), False, actor=boss)
        with pytest.raises(AccountError):
            accounts.set_active(account(app, "boss"), False, actor="cli:root")
    assert account(app, "boss").active and account(app, "boss").role == "admin"


def test_names_and_addresses_are_checked(app: Flask) -> None:
    make_staff(app, "Ed", Role.EDITOR)
    with app.app_context():
        for name in ["", " ed2", "x" * 65, "tab\there"]:
            with pytest.raises(AccountError):
                accounts.create_account(name=name, role=Role.EDITOR, email=None, actor="boss")
        with pytest.raises(AccountError) as taken:
            accounts.create_account(name="ed", role=Role.EDITOR, email=None, actor="boss")
        assert taken.value.code == "name_taken"
        for email in ["no-at-sign", "a@b", "a b@c.se", "a@" + "b" * 260 + ".se"]:
            with pytest.raises(AccountError):
                accounts.create_account(name="ny", role=Role.EDITOR, email=email, actor="boss")
        assert db.session.scalar(select(User).where(User.name == "ny")) is None


# --- the pages -------------------------------------------------------------------------


def admin_client(app: Flask) -> FlaskClient:
    make_staff(app, "boss", Role.ADMIN)
    client = app.test_client()
    assert sign_in(client, "boss") == 303
    return client


def create_through_page(client: FlaskClient, **fields: str) -> tuple[int, str]:
    token = form_token(client, "/admin/users")
    data = {"csrf_token": token, "name": "nyanställd", "role": "editor", "email": "", **fields}
    response = client.post("/admin/users", data=data)
    return response.status_code, response.get_data(as_text=True)


def link_in(html: str) -> str:
    match = re.search(r'value="(http://localhost/admin/set-password/[A-Za-z0-9_-]{43})"', html)
    assert match, html
    return match.group(1).removeprefix("http://localhost")


def test_an_admin_creates_an_account_and_its_owner_sets_a_password(app: Flask) -> None:
    admin = admin_client(app)
    status, html = create_through_page(admin, email="ny@uppsala.test")
    assert status == 200 and "Kontot nyanställd (webbredaktör) är skapat" in html
    path = link_in(html)
    # The link page shows nothing of the admin's and sends no Referer.
    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    token = csrf_token_in(page.get_data())
    mismatch = newcomer.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD,
                                         "new_password_again": NEW_PASSWORD + "x"})  # fmt: skip
    assert mismatch.status_code == 400 and "inte lika" in mismatch.get_data(as_text=True)
    done = newcomer.post(path, data={"csrf_token": token, "new_password": NEW_PASSWORD,
                                     "new_password_again": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/sign-in")
    # Setting the password signs nobody in.
    assert newcomer.get("/admin/").status_code == 302
    assert "Lösenordet är sparat" in newcomer.get("/admin/sign-in").get_data(as_text=True)
    assert sign_in(newcomer, "nyanställd", NEW_PASSWORD) == 303
    # Used: the same link now finds nothing.
    assert newcomer.get(path).status_code == 404
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert "nyanställd" in listing and "aktivt" in listing


def test_the_set_password_page_refuses_bad_input(app: Flask) -> None:
    token = new_account(app)
    client = app.test_client()
    path = f"/admin/set-password/{token}"
    csrf = form_token(client, path)
    good = {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    # No form token: nothing happens and the link stays open.
    assert client.post(path, data=good).status_code == 400
    too_long = {"csrf_token": csrf, "new_password": "x" * 300, "new_password_again": "x" * 300}
    assert client.post(path, data=too_long).status_code == 400
    nul = {"csrf_token": csrf, "new_password": "a\x00" * 8, "new_password_again": "a\x00" * 8}
    assert client.post(path, data=nul).status_code == 400
    weak = {
        "csrf_token": csrf,
        "new_password": "Sommar2024!!",
        "new_password_again": "Sommar2024!!",
    }
    refused = client.post(path, data=weak)
    assert refused.status_code == 400 and "för vanligt" in refused.get_data(as_text=True)
    for forged in ["A" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 5000]:
        assert client.get(f"/admin/set-password/{forged}").status_code == 404
        forged_post = client.post(
            f"/admin/set-password/{forged}", data={"csrf_token": csrf, **good}
        )
        assert forged_post.status_code == 404
    assert client.post(path, data={"csrf_token": csrf, **good}).status_code == 303


def test_an_expired_link_page_is_gone(app: Flask) -> None:
    token = new_account(app)
    with app.app_context(), db.writing() as session:
        link = session.scalars(select(PasswordLink)).one()
        link.expires_at = utcnow() - dt.timedelta(seconds=1)
    client = app.test_client()
    page = client.get(f"/admin/set-password/{token}")
    assert page.status_code == 404 and "Länken gäller inte" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"name": "x" * 65}, 400, "Användarnamn"),
        ({"name": "x" * 10_000}, 400, "Användarnamn"),
        ({"name": "x" * 100_000}, 413, "för stort"),
        ({"name": ""}, 400, "Användarnamn"),
        ({"name": "nul\x00"}, 400, "otillåtna tecken"),
        ({"role": "superuser"}, 400, "Okänd roll"),
        ({"email": "inte-en-adress"}, 400, "E-postadressen"),
        ({"name": "boss"}, 409, "Det finns redan"),
        ({"name": "BOSS"}, 409, "Det finns redan"),
    ],
)
def test_bad_account_forms_are_refused(
    app: Flask, fields: dict[str, str], status: int, message: str
) -> None:
    admin = admin_client(app)
    got, html = create_through_page(admin, **fields)
    assert got == status and message in html, html
    with app.app_context():
        assert db.session.scalar(select(User).where(User.name == "nyanställd")) is None


def test_account_forms_need_their_token(app: Flask) -> None:
    admin = admin_client(app)
    make_staff(app, "ed", Role.EDITOR)
    ed_id = account(app, "ed").id
    assert admin.post("/admin/users", data={"name": "ny", "role": "editor"}).status_code == 400
    for action in ["disable", "enable", "password-link", "end-sessions"]:
        assert admin.post(f"/admin/users/{ed_id}/{action}").status_code == 400
    assert admin.post(f"/admin/users/{ed_id}", data={"role": "admin"}).status_code == 400
    assert account(app, "ed").active and account(app, "ed").role == "editor"
    assert admin.post("/admin/users/999/disable").status_code in (400, 404)
    token = form_token(admin, "/admin/users")
    assert admin.post("/admin/users/999/disable", data={"csrf_token": token}).status_code == 404


def test_the_admin_disables_changes_and_resets_through_the_pages(app: Flask) -> None:
    admin = admin_client(app)
    make_staff(app, "ed", Role.EDITOR)
    ed = app.test_client()
    assert sign_in(ed, "ed") == 303
    ed_id = account(app, "ed").id
    page = f"/admin/users/{ed_id}"
    token = form_token(admin, page)
    changed = admin.post(page, data={"csrf_token": token, "role": "innovation",
                                     "email": "ed@uppsala.test"})  # fmt: skip
    assert changed.status_code == 303
    assert account(app, "ed").role == "innovation"
    assert account(app, "ed").email == "ed@uppsala.test"
    reset = admin.post(f"{page}/password-link", data={"csrf_token": token})
    assert reset.status_code == 200 and "Tidigare länkar för ed" in reset.get_data(as_text=True)
    disabled = admin.post(f"{page}/disable", data={"csrf_token": token})
    assert disabled.status_code == 303
    shown = admin.get(page).get_data(as_text=True)
    assert "ed är avstängt. 1 session avslutades." in shown and "Aktivera kontot" in shown
    assert ed.get("/admin/").status_code == 302
    # A disabled account gets no new link.
    assert admin.post(f"{page}/password-link", data={"csrf_token": token}).status_code == 400
    assert admin.post(f"{page}/enable", data={"csrf_token": token}).status_code == 303
    assert sign_in(app.test_client(), "ed") == 303
    logged = [(actor, action, details) for actor, action, details in actions(app)]
    change = {"user": "ed", "role": ["editor", "innovation"], "email": "changed"}
    assert ("boss", "change_user", change) in logged
    assert ("boss", "password_link", {"user": "ed"}) in logged
    assert ("boss", "disable_user", {"user": "ed", "sessions_ended": 1}) in logged


def test_the_admin_cannot_lock_themselves_out_through_the_pages(app: Flask) -> None:
    admin = admin_client(app)
    boss_id = account(app, "boss").id
    page = f"/admin/users/{boss_id}"
    token = form_token(admin, page)
    assert "Stäng av kontot" not in admin.get(page).get_data(as_text=True)
    refused = admin.post(f"{page}/disable", data={"csrf_token": token})
    assert refused.status_code == 400 and "ditt eget konto" in refused.get_data(as_text=True)
    demoted = admin.post(page, data={"csrf_token": token, "role": "editor"})
    assert demoted.status_code == 400
    assert "din egen administratörsroll" in demoted.get_data(as_text=True)
    assert admin.get("/admin/users").status_code == 200


def test_the_users_commands(app: Flask) -> None:
    make_staff(app, "boss", Role.ADMIN)
    make_staff(app, "ed", Role.EDITOR)
    runner = app.test_cli_runner()
    ed = app.test_client()
    assert sign_in(ed, "ed") == 303
    result = runner.invoke(args=["users", "disable", "ed"])
    assert result.exit_code == 0 and "disabled ed (1 sessions ended)" in result.output
    assert ed.get("/admin/").status_code == 302
    assert runner.invoke(args=["users", "enable", "ed"]).exit_code == 0
    last = runner.invoke(args=["users", "disable", "boss"])
    assert last.exit_code == 1 and "only active admin" in last.output
    assert runner.invoke(args=["users", "disable", "nobody"]).exit_code == 1
    created = runner.invoke(
        args=["users", "create", "--role", "privacy_officer", "--link", "--email",
              "dso@uppsala.test", "dso"]
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    path = re.search(r"/admin/set-password/[A-Za-z0-9_-]{43}", created.output)
    assert path is not None
    assert app.test_client().get(path.group(0)).status_code == 200
    assert account(app, "dso").email == "dso@uppsala.test"
    link = runner.invoke(args=["users", "link", "dso"])
    assert link.exit_code == 0
    assert app.test_client().get(path.group(0)).status_code == 404
    actors = {actor for actor, _, _ in actions(app)}
    assert any(actor.startswith("cli:") for actor in actors)
