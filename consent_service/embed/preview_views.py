"""A policy draft previewed by the real `consent.js`: the first layer and the settings layer in
each language, at phone and desktop width, before anyone is asked with it.

The preview's banner reads the draft from `…/preview/api/policy`, keeps its choice under a
cookie of its own name and is refused (409) if it tries to record one: nothing is saved.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request, url_for

from consent_service.admin.auth import role_required
from consent_service.admin.models import Role
from consent_service.db import db
from consent_service.embed.views import _bundle, consent_config, read_built, serve_bundle
from consent_service.sites import store
from consent_service.sites.policy import Policy, PolicyError, parse_policy
from consent_service.sites.services import current_site
from consent_service.web.errors import json_error
from consent_service.web.headers import allow_framing
from consent_service.web.origins import own_origin

bp = Blueprint("policy_preview", __name__, url_prefix="/admin/policy/drafts/<int:draft_id>/preview")

STAFF = (Role.EDITOR, Role.PRIVACY_OFFICER)
# Widths the preview shows the banner at: a small phone and a desktop window.
WIDTHS = (("Mobil", 360, 640), ("Dator", 1024, 640))
PREVIEW_COOKIE = "consent-preview"


def _draft_policy(draft_id: int) -> Policy:
    try:
        draft = store.get_draft(db.session, draft_id, current_site().domain)
        document = store.draft_document(draft)
        return parse_policy(document)
    except (store.DraftError, PolicyError):
        abort(404)


def _language(policy: Policy) -> str:
    lang = request.args.get("lang", policy.default_language)
    return lang if lang in policy.languages else policy.default_language


@bp.get("")
@role_required(*STAFF)
def preview_page(draft_id: int) -> str:
    policy = _draft_policy(draft_id)
    return render_template(
        "admin/policy/preview.html", draft_id=draft_id, policy=policy,
        preview_language=_language(policy), widths=WIDTHS,
    )  # fmt: skip


@bp.get("/frame")
@role_required(*STAFF)
@allow_framing("self")
def frame(draft_id: int) -> str:
    policy = _draft_policy(draft_id)
    return render_template(
        "admin/policy/preview_frame.html", draft_id=draft_id, policy=policy,
        language=_language(policy), settings=request.args.get("layer") == "settings",
    )  # fmt: skip


@bp.get("/consent.js")
@role_required(*STAFF)
def consent_js(draft_id: int) -> Response:
    policy = _draft_policy(draft_id)
    config = consent_config(policy, own_origin())
    config["api"] = (
        own_origin() + url_for("policy_preview.preview_page", draft_id=draft_id) + "/api"
    )
    config["cookie"] = PREVIEW_COOKIE
    config_json = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    return serve_bundle(_bundle(read_built("consent.js"), config_json))


@bp.get("/api/policy")
@role_required(*STAFF)
def api_policy(draft_id: int) -> Response:
    response = Response(json.dumps(_draft_policy(draft_id).public(), ensure_ascii=False),
                        mimetype="application/json")  # fmt: skip
    return response


@bp.route("/api/consent", methods=["POST", "DELETE"])
@role_required(*STAFF)
def api_consent(draft_id: int) -> Response:
    _draft_policy(draft_id)
    return json_error(409, "preview", "This is a preview of a draft: no choice is recorded.")
