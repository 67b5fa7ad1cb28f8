"""The admin's pages: staff accounts, one-time password links, and the deployment's settings.

Thin: each view loads its account or 404s, calls one rule in `accounts`, and shows the
result. Refused actions come back as the page with the reason and a 4xx status.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin import accounts, sessions
from consent_service.admin.auth import current_user, role_required
from consent_service.admin.facts import deployment_facts
from consent_service.admin.forms import (
    AccountActionForm,
    SetPasswordForm,
    UserChangeForm,
    UserCreateForm,
)
from consent_service.admin.models import Role, User
from consent_service.admin.passwords import MAX_LENGTH, MESSAGES_SV, MIN_LENGTH
from consent_service.admin.views import bp
from consent_service.db import db, utcnow
from consent_service.deploy_check import deploy_issues

FORM_PROBLEM = "Formuläret kunde inte skickas. Kontrollera fälten och försök igen."
Page = str | tuple[str, int]


def _actor() -> User:
    user = current_user()
    assert user is not None  # role_required let the request through
    return user


def _account(user_id: int) -> User:
    account = db.session.get(User, user_id)
    if account is None:
        abort(404)
    return account


def _form_errors(form: UserCreateForm | UserChangeForm | SetPasswordForm) -> list[str]:
    problems = [f"{form[name].label.text}: {msgs[0]}" for name, msgs in form.errors.items()
                if name != "csrf_token"]  # fmt: skip
    if "csrf_token" in form.errors:
        problems.insert(0, "Formuläret har gått ut. Ladda om sidan och försök igen.")
    return problems or [FORM_PROBLEM]


def _link_page(account: User, link: accounts.IssuedLink, *, created: bool) -> str:
    url = url_for("admin.set_password_page", token=link.token, _external=True)
    return render_template(
        "admin/user_link.html", account=account, url=url, expires_at=link.expires_at,
        created=created,
    )  # fmt: skip


def _users_page(form: UserCreateForm | None = None, problems: list[str] | None = None) -> str:
    return render_template(
        "admin/users.html", rows=accounts.account_rows(), form=form or UserCreateForm(),
        problems=problems or [],
    )  # fmt: skip


# The page's first address (/staff) is kept for bookmarks; url_for names the first
# registered rule, the innermost decorator.
@bp.get("/staff")
@bp.get("/users")
@role_required(Role.ADMIN)
def users_page() -> str:
    return _users_page()


@bp.post("/users")
@role_required(Role.ADMIN)
def user_create() -> Page:
    form = UserCreateForm()
    if not form.validate():
        return _users_page(form, _form_errors(form)), 400
    try:
        account, link = accounts.create_account(
            name=form.name.data or "", role=Role(form.role.data or ""), email=form.email.data,
            actor=_actor().name,
        )  # fmt: skip
    except accounts.AccountError as error:
        return _users_page(form, [error.sv]), 409 if error.code == "name_taken" else 400
    # Shown in this response only: no redirect, so the link is in no cookie or flash.
    return _link_page(account, link, created=True)


def _user_page(account: User, form: UserChangeForm | None = None,
               problems: list[str] | None = None) -> str:  # fmt: skip
    if form is None:
        form = UserChangeForm(data={"role": account.role, "email": account.email or ""})
    return render_template(
        "admin/user.html", account=account, form=form, problems=problems or [],
        has_password=accounts.has_password(account),
        link_expires_at=accounts.open_link_expiry(account.id),
        open_sessions=sessions.open_session_counts(utcnow()).get(account.id, 0),
        is_self=account.id == _actor().id,
    )  # fmt: skip


@bp.get("/users/<int:user_id>")
@role_required(Role.ADMIN)
def user_page(user_id: int) -> str:
    return _user_page(_account(user_id))


@bp.post("/users/<int:user_id>")
@role_required(Role.ADMIN)
def user_update(user_id: int) -> Page | BaseResponse:
    account = _account(user_id)
    form = UserChangeForm()
    if not form.validate():
        return _user_page(account, form, _form_errors(form)), 400
    try:
        changed = accounts.change_account(
            account, role=Role(form.role.data or ""), email=form.email.data, actor=_actor()
        )
    except accounts.AccountError as error:
        return _user_page(account, form, [error.sv]), 409 if error.code == "last_admin" else 400
    flash("Ändringarna är sparade." if changed else "Inget var ändrat.")
    return redirect(url_for("admin.user_page", user_id=account.id), code=303)


def _action_refused(account: User, error: accounts.AccountError) -> tuple[str, int]:
    return _user_page(account, None, [error.sv]), 409 if error.code == "last_admin" else 400


@bp.post("/users/<int:user_id>/disable")
@role_required(Role.ADMIN)
def user_disable(user_id: int) -> Page | BaseResponse:
    account = _account(user_id)
    if not AccountActionForm().validate():
        abort(400)
    try:
        ended = accounts.set_active(account, False, actor=_actor())
    except accounts.AccountError as error:
        return _action_refused(account, error)
    sessions_text = "1 session" if ended == 1 else f"{ended} sessioner"
    flash(f"{account.name} är avstängt. {sessions_text} avslutades.")
    return redirect(url_for("admin.user_page", user_id=account.id), code=303)


@bp.post("/users/<int:user_id>/enable")
@role_required(Role.ADMIN)
def user_enable(user_id: int) -> Page | BaseResponse:
    account = _account(user_id)
    if not AccountActionForm().validate():
        abort(400)
    accounts.set_active(account, True, actor=_actor())
    flash(f"{account.name} är aktiverat igen och kan logga in med sitt lösenord.")
    return redirect(url_for("admin.user_page", user_id=account.id), code=303)


@bp.post("/users/<int:user_id>/password-link")
@role_required(Role.ADMIN)
def user_password_link(user_id: int) -> Page:
    account = _account(user_id)
    if not AccountActionForm().validate():
        abort(400)
    try:
        link = accounts.issue_password_link(account, actor=_actor().name)
    except accounts.AccountError as error:
        return _action_refused(account, error)
    return _link_page(account, link, created=False)


# Public: the link is the credential. Its token is in the path, so the page sends no
# Referer anywhere and is never cached (admin blueprint: no-store).
def _set_password_page(account: User, form: SetPasswordForm, problems: list[str]) -> str:
    return render_template(
        "admin/set_password.html", account=account, form=form, problems=problems,
        min_length=MIN_LENGTH, max_length=MAX_LENGTH,
    )  # fmt: skip


def _link_gone() -> tuple[str, int, dict[str, str]]:
    html = render_template("admin/link_gone.html")
    return html, 404, {"Referrer-Policy": "no-referrer"}


@bp.get("/set-password/<token>")
def set_password_page(token: str) -> tuple[str, int, dict[str, str]]:
    try:
        account = accounts.link_account(token)
    except accounts.LinkInvalid:
        return _link_gone()
    return (
        _set_password_page(account, SetPasswordForm(), []),
        200,
        {"Referrer-Policy": "no-referrer"},
    )


@bp.post("/set-password/<token>")
def set_password_submit(token: str) -> tuple[str, int, dict[str, str]] | BaseResponse:
    try:
        account = accounts.link_account(token)
    except accounts.LinkInvalid:
        return _link_gone()
    headers = {"Referrer-Policy": "no-referrer"}
    form = SetPasswordForm()
    if not form.validate():
        return _set_password_page(account, form, _form_errors(form)), 400, headers
    new = form.new_password.data or ""
    if new != (form.new_password_again.data or ""):
        problems = ["De två lösenorden är inte lika."]
        return _set_password_page(account, form, problems), 400, headers
    try:
        problem = accounts.set_password_with_link(token, new)
    except accounts.LinkInvalid:
        return _link_gone()
    if problem is not None:
        return _set_password_page(account, form, [MESSAGES_SV[problem]]), 400, headers
    flash("Lösenordet är sparat. Logga in med ditt användarnamn och det nya lösenordet.")
    response = redirect(url_for("admin.sign_in_page"), code=303)
    response.headers.update(headers)
    return response


@bp.get("/settings")
@role_required(Role.ADMIN)
def settings_page() -> str:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real Flask app
    issues = deploy_issues(app)
    return render_template(
        "admin/settings.html", facts=deployment_facts(app),
        errors=[i for i in issues if i.level == "error"],
        warnings=[i for i in issues if i.level == "warning"],
    )  # fmt: skip
