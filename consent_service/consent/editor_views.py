"""The policy editor: editors draft a site's next policy, a privacy officer who is not the
author approves, then it is published (consent/publishing.py holds the rules)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role, User
from consent_service.consent import editor, publishing
from consent_service.db import db
from consent_service.sites import store
from consent_service.sites.models import SitePolicy
from consent_service.sites.policy import CATEGORIES
from consent_service.sites.services import current_site

bp = Blueprint("policy_admin", __name__, url_prefix="/admin/policy")

STAFF = (Role.EDITOR, Role.PRIVACY_OFFICER)


def _user() -> User:
    user = current_user()
    if user is None:  # role_required has let only signed-in staff through
        abort(401)
    return user


def _overview(errors: list[str], status: int = 200) -> tuple[str, int]:
    site = current_site()
    drafts = store.drafts(db.session, site.domain)
    published = store.published_rows(db.session, site.domain)
    return render_template(
        "admin/policy/overview.html", site=site, drafts=drafts, published=published,
        errors=errors,
    ), status  # fmt: skip


@bp.get("")
@role_required(*STAFF)
def overview() -> tuple[str, int]:
    return _overview([])


@bp.post("/drafts")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def new_draft() -> BaseResponse | tuple[str, int]:
    upload = request.files.get("policy_file")
    try:
        document = store.parse_toml(upload.read(store.MAX_POLICY_BYTES + 1)) if (
            upload and upload.filename) else None  # fmt: skip
        draft = publishing.start_draft(current_site().domain, _user(), document)
    except store.DraftError as exc:
        return _overview([str(exc)], 400)
    return redirect(url_for("policy_admin.draft_page", draft_id=draft.id), 303)


@bp.get("/export.toml")
@role_required(*STAFF)
def export_published() -> Response:
    site = current_site()
    return _toml(store.document_of(site.policy), f"{site.domain}-v{site.policy.version}.toml")


def _toml(document: dict[str, Any], filename: str) -> Response:
    response = Response(store.to_toml(document), mimetype="application/toml")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _draft_or_404(draft_id: int) -> SitePolicy:
    try:
        return store.get_draft(db.session, draft_id, current_site().domain)
    except store.DraftError:
        abort(404)


def _draft_page(draft: SitePolicy, errors: list[str], status: int = 200) -> tuple[str, int]:
    site = current_site()
    document = store.draft_document(draft)
    languages = document.get("languages", [])
    return render_template(
        "admin/policy/draft.html",
        site=site,
        draft=draft,
        document=document,
        fields={lang: editor.text_fields(document, lang) for lang in languages},
        languages=languages,
        categories=CATEGORIES,
        changes=editor.diff(store.document_of(site.policy), document),
        declaration=editor.declaration_form(document, request.args.get("edit")),
        user=_user(),
        errors=errors,
    ), status  # fmt: skip


@bp.get("/drafts/<int:draft_id>")
@role_required(*STAFF)
def draft_page(draft_id: int) -> tuple[str, int]:
    return _draft_page(_draft_or_404(draft_id), [])


@bp.get("/drafts/<int:draft_id>/export.toml")
@role_required(*STAFF)
def export_draft(draft_id: int) -> Response:
    draft = _draft_or_404(draft_id)
    return _toml(store.draft_document(draft), f"{draft.site}-utkast-{draft.id}.toml")


def _save(draft_id: int, change: str) -> BaseResponse | tuple[str, int]:
    draft = _draft_or_404(draft_id)
    document = store.draft_document(draft)
    try:
        if change == "texts":
            document = editor.apply_texts(document, request.form)
        elif change == "add":
            document = editor.add_declaration(document, request.form)
        else:
            document = editor.remove_declaration(document, request.form.get("name", ""))
        store.save_draft(draft.id, draft.site, document, by=_user().name)
    except (editor.EditError, store.DraftError) as exc:
        db.session.rollback()
        return _draft_page(_draft_or_404(draft_id), [str(exc)], 400)
    anchor = "texts" if change == "texts" else "declarations"
    return redirect(url_for("policy_admin.draft_page", draft_id=draft_id) + "#" + anchor, 303)


@bp.post("/drafts/<int:draft_id>/texts")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def save_texts(draft_id: int) -> BaseResponse | tuple[str, int]:
    return _save(draft_id, "texts")


@bp.post("/drafts/<int:draft_id>/declarations")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def add_declaration(draft_id: int) -> BaseResponse | tuple[str, int]:
    return _save(draft_id, "add")


@bp.post("/drafts/<int:draft_id>/declarations/delete")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def remove_declaration(draft_id: int) -> BaseResponse | tuple[str, int]:
    return _save(draft_id, "remove")


def _act(draft_id: int, action: str) -> BaseResponse | tuple[str, int]:
    draft = _draft_or_404(draft_id)
    site = current_site().domain
    try:
        if action == "approve":
            publishing.approve(draft.id, site, _user())
        elif action == "publish":
            publishing.publish(draft.id, site, _user())
            return redirect(url_for("policy_admin.overview") + "#published", 303)
        else:
            with db.writing() as session:
                store.discard(session, store.get_draft(session, draft.id, site))
            return redirect(url_for("policy_admin.overview"), 303)
    except store.DraftError as exc:
        db.session.rollback()
        return _draft_page(_draft_or_404(draft_id), [str(exc)], 409)
    return redirect(url_for("policy_admin.draft_page", draft_id=draft_id), 303)


@bp.post("/drafts/<int:draft_id>/approve")
@role_required(Role.PRIVACY_OFFICER)
def approve(draft_id: int) -> BaseResponse | tuple[str, int]:
    return _act(draft_id, "approve")


@bp.post("/drafts/<int:draft_id>/publish")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def publish(draft_id: int) -> BaseResponse | tuple[str, int]:
    return _act(draft_id, "publish")


@bp.post("/drafts/<int:draft_id>/discard")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def discard(draft_id: int) -> BaseResponse | tuple[str, int]:
    return _act(draft_id, "discard")
