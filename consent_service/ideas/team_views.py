"""The team's own mail settings and an idea's archive file (on the board's blueprint)."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.access import record_access
from consent_service.admin.auth import role_required
from consent_service.admin.models import Role
from consent_service.ideas import archive, mail, notify
from consent_service.ideas.admin_views import _actor, _idea_or_404, _render, bp
from consent_service.ideas.forms import MailSettingsForm
from consent_service.ideas.records import DIGEST_CHOICES


def _settings_page(
    form: MailSettingsForm, problem: str | None = None, status: int = 200
) -> tuple[str, int]:
    return _render(
        "admin/ideas/mail_settings.html",
        form=form,
        problem=problem,
        choices=DIGEST_CHOICES,
        mail_enabled=mail.mail_enabled(),
    ), status


@bp.get("/settings")
@role_required(Role.INNOVATION)
def mail_settings() -> tuple[str, int]:
    settings = notify.settings_for(_actor().id)
    form = MailSettingsForm(
        data={
            "email": settings.email if settings else "",
            "digest": settings.digest if settings else "none",
            "mention": settings.mention if settings else False,
        }
    )
    return _settings_page(form)


@bp.post("/settings")
@role_required(Role.INNOVATION)
def mail_settings_submit() -> BaseResponse | tuple[str, int]:
    form = MailSettingsForm()
    if not form.validate():
        problem = "Formuläret kunde inte skickas. Ladda om sidan och försök igen."
        return _settings_page(form, problem, 400)
    try:
        notify.save_settings(
            _actor(),
            email=form.email.data or "",
            digest=form.digest.data or "none",
            mention=bool(form.mention.data),
        )
    except notify.SettingsError as exc:
        return _settings_page(form, str(exc), 400)
    flash("Dina aviseringar är sparade.", "ok")
    return redirect(url_for(".mail_settings"), code=303)


@bp.get("/<reference>/archive.html")
@role_required(Role.INNOVATION)
def archive_file(reference: str) -> Response:
    idea = _idea_or_404(reference)
    actor = _actor()
    html = render_template("admin/ideas/archive.html", **archive.archive_context(idea, actor))
    record_access(
        actor.name, "export", {"idea": idea.reference, "kind": "idea_archive"},
        summary=f"arkivfil för {idea.reference}",
    )  # fmt: skip
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Disposition"] = f'attachment; filename="{idea.reference}-arkiv.html"'
    response.headers["Cache-Control"] = "no-store"
    return response
