"""Sign-in, sign-out, the admin start page (what each role can open) and the staff list."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin import sessions
from consent_service.admin.access import record_access
from consent_service.admin.auth import (
    blocked_message,
    change_password,
    check_password,
    count_password_check,
    count_sign_in_attempt,
    current_session_id,
    current_user,
    refund_sign_in_attempt,
    role_required,
    sign_in,
    sign_out,
)
from consent_service.admin.devices import remember_device
from consent_service.admin.forms import (
    EndSessionsForm,
    PasswordChangeForm,
    SignInForm,
    SignOutForm,
)
from consent_service.admin.models import Role, User
from consent_service.admin.passwords import MAX_LENGTH, MESSAGES_SV, MIN_LENGTH, password_problem
from consent_service.db import db, utcnow
from consent_service.web.origins import safe_next

bp = Blueprint("admin", __name__, url_prefix="/admin")

ALL_ROLES = tuple(Role)


@bp.get("/sign-in")
def sign_in_page() -> str:
    form = SignInForm(data={"next": request.args.get("next", "")})
    return render_template("admin/sign_in.html", form=form, failed=False)


@bp.post("/sign-in")
def sign_in_submit() -> str | BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = SignInForm()
    if not form.validate():
        return render_template("admin/sign_in.html", form=form, failed=False), 400
    name = form.name.data or ""
    user = db.session.scalar(select(User).where(User.name == name))
    actor = user.name if user is not None else "(okänt konto)"
    attempt = count_sign_in_attempt(name)
    if attempt.blocked is not None:
        record_access(actor, "sign_in", outcome="limited", summary="för många försök")
        message = blocked_message(attempt.blocked)
        html = render_template("admin/sign_in.html", form=form, failed=False, limited=message)
        return html, 429, {"Retry-After": str(attempt.blocked.retry_after)}
    if not check_password(user, form.password.data or ""):
        record_access(actor, "sign_in", outcome="failed")
        return render_template("admin/sign_in.html", form=form, failed=True), 401
    assert user is not None
    refund_sign_in_attempt(attempt)
    record_access(user.name, "sign_in")
    sign_in(user)
    target = safe_next(form.next.data)
    if target is None or not target.startswith("/admin"):
        target = url_for("admin.home")
    response = redirect(target, code=303)
    remember_device(response, user.name)
    return response


@bp.post("/sign-out")
def sign_out_submit() -> BaseResponse:
    form = SignOutForm()
    if not form.validate():
        abort(400)
    sign_out()
    return redirect(url_for("admin.sign_in_page"), code=303)


@bp.get("/")
@role_required(*ALL_ROLES)
def home() -> str:
    user = current_user()
    assert user is not None
    return render_template("admin/home.html", user=user)


# The account pages (/admin/users, /admin/settings, the set-password links) are in
# account_views.py, on this blueprint.


@bp.post("/staff/<int:user_id>/end-sessions")
@bp.post("/users/<int:user_id>/end-sessions")
@role_required(Role.ADMIN)
def end_sessions(user_id: int) -> BaseResponse:
    if not EndSessionsForm().validate():
        abort(400)
    account = db.session.get(User, user_id)
    if account is None:
        abort(404)
    actor = current_user()
    assert actor is not None  # role_required let the request through
    # An admin ending their own sessions ends this one too: that is what the button says.
    ended = sessions.end_sessions_of(account.id, utcnow())
    record_access(actor.name, "end_sessions", {"user": account.name, "ended": ended})
    message = f"{ended} {'session' if ended == 1 else 'sessioner'} för {account.name} avslutade."
    flash(message)
    if request.form.get("back") == "account":
        return redirect(url_for("admin.user_page", user_id=account.id), code=303)
    return redirect(url_for("admin.users_page"), code=303)


def _password_page(form: PasswordChangeForm, problems: list[str]) -> str:
    return render_template(
        "admin/password.html", form=form, problems=problems, min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
    )  # fmt: skip


@bp.get("/password")
@role_required(*ALL_ROLES)
def password_page() -> str:
    return _password_page(PasswordChangeForm(), [])


@bp.post("/password")
@role_required(*ALL_ROLES)
def password_submit() -> str | BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    user = current_user()
    assert user is not None  # role_required let the request through
    form = PasswordChangeForm()
    if not form.validate():
        problem = "Formuläret kunde inte skickas. Fyll i alla fält och försök igen."
        return _password_page(form, [problem]), 400
    current, new = form.current_password.data or "", form.new_password.data or ""
    # Someone at an unlocked computer must not get unlimited guesses at the password.
    attempt = count_password_check(user)
    if attempt.blocked is not None:
        record_access(user.name, "change_password", outcome="limited")
        page = _password_page(form, [blocked_message(attempt.blocked)])
        return page, 429, {"Retry-After": str(attempt.blocked.retry_after)}
    if not check_password(user, current):
        record_access(user.name, "change_password", outcome="failed")
        return _password_page(form, ["Det nuvarande lösenordet stämmer inte."]), 400
    refund_sign_in_attempt(attempt)
    problems = []
    if new != (form.new_password_again.data or ""):
        problems.append("De två nya lösenorden är inte lika.")
    elif new == current:
        problems.append("Det nya lösenordet måste skilja sig från det nuvarande.")
    elif (problem_key := password_problem(new, user.name)) is not None:
        problems.append(MESSAGES_SV[problem_key])
    if problems:
        return _password_page(form, problems), 400
    ended = change_password(user, new, keep_session=current_session_id())
    record_access(user.name, "change_password", {"other_sessions_ended": ended})
    flash("Lösenordet är bytt. Du är utloggad i alla andra webbläsare.")
    return redirect(url_for("admin.password_page"), code=303)
