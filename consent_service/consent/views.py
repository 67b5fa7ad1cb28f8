"""The settings page that works without JavaScript: `GET/POST /consent`."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from consent_service.audit import transparency
from consent_service.audit.models import Source
from consent_service.audit.services import archived_texts, receipt
from consent_service.consent import services
from consent_service.consent.api import gpc_signal, request_language
from consent_service.consent.cookie import (
    clear_choice_cookie,
    current_choice,
    expire_cookies,
    set_choice_cookie,
)
from consent_service.consent.forms import ConsentForm
from consent_service.db import db
from consent_service.web.errors import json_error
from consent_service.web.headers import allow_framing
from consent_service.web.origins import safe_next

bp = Blueprint("consent_page", __name__)


def page_language() -> str:
    policy = services.current_policy()
    requested = request.values.get("lang")
    if requested and policy.language_for(requested) == requested:
        return requested
    return request_language()


def _render(form: ConsentForm, language: str, status: str | None, code: int = 200) -> Response:
    policy = services.current_policy()
    choice = current_choice()
    current = choice if choice and choice.policy_version == policy.version else None
    if request.method == "GET":
        form.functional.data = bool(current and current.functional)
        form.statistics.data = bool(current and current.statistics)
    other_languages = [lang for lang in policy.languages if lang != language]
    html = render_template(
        "consent/settings.html",
        form=form,
        texts=policy.rendered(language),
        language=language,
        other_languages={lang: policy.rendered(lang) for lang in other_languages},
        choice=current,
        status=status,
        next_url=safe_next(form.next.data),
        gpc=gpc_signal(),
    )
    response = current_app.make_response((html, code))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/consent")
@allow_framing("hosts")  # a municipality may show the settings inside its cookie page
def settings_page() -> Response:
    form = ConsentForm(data={"next": request.args.get("next", ""), "lang": page_language()})
    return _render(form, page_language(), request.args.get("status"))


@bp.post("/consent")
@allow_framing("hosts")
def settings_submit() -> Response | BaseResponse:
    form = ConsentForm()
    language = page_language()
    if not form.validate():
        return _render(form, language, "error", 400)
    action = form.action.data
    previous = current_choice()
    policy = services.current_policy()
    if action == "withdraw":
        if previous is not None:
            services.withdraw_choice(previous, language=language, source=Source.NOJS)
        status = "withdrawn"
    else:
        chosen = action == "save"
        decision = services.record_choice(
            functional=action == "accept_all" or (chosen and bool(form.functional.data)),
            statistics=action == "accept_all" or (chosen and bool(form.statistics.data)),
            policy_version=policy.version,
            language=language,
            source=Source.NOJS,
            previous=previous,
            gpc=gpc_signal(),
            # Accept all is not a statistics toggle switched on by hand: GPC keeps it off.
            explicit=chosen,
        )
        status = "saved"
    target = safe_next(form.next.data)
    if target is None:
        query = {"status": status, "lang": language}
        target = f"/consent?{urlencode(query)}"
    response = redirect(target, code=303)
    if action == "withdraw":
        clear_choice_cookie(response)
        expire_cookies(response, services.refused_cookies(request.cookies, None))
    else:
        set_choice_cookie(response, decision.choice)
        expire_cookies(response, services.refused_cookies(request.cookies, decision.choice))
    return response


@bp.get("/consent/mine")
@allow_framing("hosts")
def my_consent_page() -> Response:
    """The page "Mitt samtycke": this browser's decisions, texts shown, receipt and proofs."""
    policy = services.current_policy()
    language = page_language()
    choice = current_choice()
    body = receipt(db.session, choice.consent_id) if choice else None
    texts = archived_texts(db.session, [e["text_hash"] for e in body["entries"]]) if body else {}
    html = render_template(
        "consent/mine.html",
        language=language,
        texts=policy.rendered(language),
        other_languages=[lang for lang in policy.languages if lang != language],
        choice=choice,
        receipt=body,
        archived=texts,
        verifier=transparency.published_key(),
    )
    response = current_app.make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/consent/mine/receipt.json")
def my_receipt_download() -> Response:
    """The receipt as a file to keep (the same JSON as GET /api/v1/consent/receipt)."""
    choice = current_choice()
    if choice is None:
        return json_error(404, "no_consent", "No valid consent cookie was sent.")
    response = jsonify(receipt(db.session, choice.consent_id))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{choice.consent_id}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
