"""The settings page that works without JavaScript: `GET/POST /consent`."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from itsdangerous import BadData, URLSafeTimedSerializer
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

# A withdrawal without JavaScript clears the cookie before the citizen could fetch the receipt,
# so the status page it lands on carries a signed, short-lived link to it instead.
RECEIPT_LINK_SALT = "consent-receipt-link"
RECEIPT_LINK_SECONDS = 3600


def _receipt_links() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SIGNING_KEYS"], salt=RECEIPT_LINK_SALT)


def receipt_link_token(consent_id: str) -> str:
    return str(_receipt_links().dumps(consent_id))


def consent_of_link(token: str | None) -> str | None:
    """The consent ID of a valid, unexpired receipt link, else None."""
    if not token or len(token) > 200:
        return None
    try:
        consent_id = _receipt_links().loads(token, max_age=RECEIPT_LINK_SECONDS)
    except BadData:
        return None
    return consent_id if isinstance(consent_id, str) else None


def _receipt_subject() -> tuple[str | None, str | None]:
    """(consent ID, link token) from the cookie, or from a receipt link after a withdrawal."""
    choice = current_choice()
    if choice is not None:
        return choice.consent_id, None
    token = request.args.get("receipt")
    consent_id = consent_of_link(token)
    return (consent_id, token) if consent_id else (None, None)


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
        receipt_link=request.args.get("receipt")
        if status == "withdrawn" and consent_of_link(request.args.get("receipt"))
        else None,
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
    receipt_token = None
    if action == "withdraw":
        if previous is not None:
            services.withdraw_choice(previous, language=language, source=Source.NOJS)
            receipt_token = receipt_link_token(previous.consent_id)
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
        if receipt_token is not None:
            query["receipt"] = receipt_token
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
    consent_id, link = _receipt_subject()
    body = receipt(db.session, consent_id) if consent_id else None
    texts = archived_texts(db.session, [e["text_hash"] for e in body["entries"]]) if body else {}
    html = render_template(
        "consent/mine.html",
        language=language,
        texts=policy.rendered(language),
        other_languages=[lang for lang in policy.languages if lang != language],
        receipt=body,
        receipt_link=link,
        archived=texts,
        verifier=transparency.published_key(),
    )
    response = current_app.make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/consent/mine/receipt.json")
def my_receipt_download() -> Response:
    """The receipt as a file to keep (the same JSON as GET /api/v1/consent/receipt)."""
    consent_id, _ = _receipt_subject()
    if consent_id is None:
        return json_error(404, "no_consent", "No valid consent cookie or receipt link was sent.")
    response = jsonify(receipt(db.session, consent_id))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="consent-receipt-{consent_id}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
