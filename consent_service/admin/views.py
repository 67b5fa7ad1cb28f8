"""Sign-in, sign-out and the admin start page (what each role can open)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.access import record_access
from consent_service.admin.auth import (
    blocked_message,
    check_password,
    count_failed_sign_in,
    current_user,
    role_required,
    sign_in,
    sign_in_blocked,
    sign_out,
)
from consent_service.admin.forms import SignInForm, SignOutForm
from consent_service.admin.models import Role, User
from consent_service.db import db
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
    blocked = sign_in_blocked(name)
    if blocked is not None:
        record_access(actor, "sign_in", outcome="limited", summary="för många försök")
        message = blocked_message(blocked)
        html = render_template("admin/sign_in.html", form=form, failed=False, limited=message)
        return html, 429, {"Retry-After": str(blocked.retry_after)}
    if not check_password(user, form.password.data or ""):
        count_failed_sign_in(name)
        record_access(actor, "sign_in", outcome="failed")
        return render_template("admin/sign_in.html", form=form, failed=True), 401
    assert user is not None
    record_access(user.name, "sign_in")
    sign_in(user)
    target = safe_next(form.next.data)
    if target is None or not target.startswith("/admin"):
        target = url_for("admin.home")
    return redirect(target, code=303)


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
