"""JSON API for the banner and for integrations: read the policy, record and withdraw choices."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, jsonify, request

from consent_service.audit.models import API_SOURCES, REQUEST_ID, REQUEST_ID_RULE, Source
from consent_service.audit.services import receipt
from consent_service.consent import services
from consent_service.consent.cookie import (
    clear_choice_cookie,
    current_choice,
    expire_cookies,
    set_choice_cookie,
)
from consent_service.consent.services import (
    Decision,
    ReplaysLimited,
    RequestIdConflict,
    StalePolicy,
)
from consent_service.db import db
from consent_service.web.errors import ApiError, json_error
from consent_service.web.json_input import Field, json_body, validate_object
from consent_service.web.languages import accepted_language

bp = Blueprint("consent_api", __name__, url_prefix="/api/v1")

CHOICE_SCHEMA = {
    "functional": Field(bool),
    "statistics": Field(bool),
    "policy_version": Field(int),
    "language": Field(str, max_length=35),
    "source": Field(str, choices=tuple(API_SOURCES)),
    "request_id": Field(
        str,
        required=False,
        check=lambda v: REQUEST_ID.fullmatch(v) is not None,
        check_message=REQUEST_ID_RULE,
    ),
}


# DELETE's optional body: what the banner showed when the citizen withdrew.
WITHDRAW_SCHEMA = {
    name: replace(CHOICE_SCHEMA[name], required=False)
    for name in ("language", "source", "request_id")
}


def decision_body(decision: Decision) -> dict[str, Any]:
    return {
        "consent_id": decision.choice.consent_id,
        "choices": decision.choice.choices,
        "policy_version": decision.choice.policy_version,
        "expires_at": decision.expires_at.isoformat(timespec="seconds"),
    }


def request_language() -> str:
    policy = services.current_policy()
    return accepted_language(policy.languages, policy.default_language)


def gpc_signal() -> bool:
    return request.headers.get("Sec-GPC", "").strip() == "1"


@bp.after_request
def _not_stored(response: Response) -> Response:
    """Deny caching by default: these answers depend on the consent cookie (errors too).

    A view whose answer is the same for everyone (the policy) sets its own Cache-Control.
    """
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/policy")
def policy_document() -> Response:
    response = jsonify(services.current_policy().public())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.post("/consent")
def record_consent() -> Response:
    data = json_body(CHOICE_SCHEMA)
    try:
        decision = services.record_choice(
            functional=data["functional"],
            statistics=data["statistics"],
            policy_version=data["policy_version"],
            language=data["language"],
            source=Source(data["source"]),
            previous=current_choice(),
            request_id=data.get("request_id"),
            gpc=gpc_signal(),
        )
    except StalePolicy as exc:
        raise ApiError(409, "policy_outdated", f"{exc}. Reload the policy and ask again.") from None
    except (RequestIdConflict, ReplaysLimited) as exc:
        raise _replay_error(exc) from None
    response = jsonify(decision_body(decision))
    response.status_code = 201
    set_choice_cookie(response, decision.choice)
    expire_cookies(response, services.refused_cookies(request.cookies, decision.choice))
    return response


@bp.get("/consent")
def show_consent() -> Response:
    choice = current_choice()
    if choice is None:
        return json_error(404, "no_consent", "No valid consent cookie was sent.")
    current = choice.policy_version == services.current_policy().version
    return jsonify(
        {
            "consent_id": choice.consent_id,
            "choices": choice.choices,
            "policy_version": choice.policy_version,
            "current": current,
        }
    )


def _replay_error(exc: RequestIdConflict | ReplaysLimited) -> ApiError:
    if isinstance(exc, ReplaysLimited):
        return ApiError(
            429,
            "too_many_requests",
            "Too many retries with known request IDs.",
            {"Retry-After": str(exc.retry_after)},
        )
    return ApiError(409, "request_id_conflict", f"{str(exc).capitalize()}.")


def _withdraw_body() -> dict[str, Any]:
    """The optional DELETE body; ?source= is still read for clients that predate the body."""
    # An empty body (Content-Length 0 or none at all) is the older clients' request.
    has_body = bool(request.get_data(cache=True))
    data = json_body(WITHDRAW_SCHEMA, allow_text_plain=True) if has_body else {}
    if "source" not in data and "source" in request.args:
        data["source"] = validate_object(
            {"source": request.args["source"]}, {"source": CHOICE_SCHEMA["source"]}, "query"
        )["source"]
    return data


@bp.delete("/consent")
def withdraw_consent() -> Response:
    data = _withdraw_body()
    choice = current_choice()
    if choice is None:
        response = json_error(404, "no_consent", "No valid consent cookie was sent.")
        clear_choice_cookie(response)
        return response
    try:
        decision = services.withdraw_choice(
            choice,
            language=data.get("language") or request_language(),
            source=Source(data.get("source", Source.API)),
            request_id=data.get("request_id"),
        )
    except (RequestIdConflict, ReplaysLimited) as exc:
        raise _replay_error(exc) from None
    # The cookie is cleared, so the receipt comes with the answer: the citizen can keep the
    # proof of the withdrawal (and of every earlier decision) without it.
    body: dict[str, Any] = {"consent_id": decision.choice.consent_id, "action": "withdraw"}
    body["receipt"] = receipt(db.session, decision.choice.consent_id)
    response = jsonify(body)
    clear_choice_cookie(response)
    expire_cookies(response, services.refused_cookies(request.cookies, None))
    return response


@bp.get("/consent/receipt")
def consent_receipt() -> Response:
    """This consent's entries, each with its leaf and inclusion proof (or promise).

    Any validly signed cookie of the consent answers, also one kept after a withdrawal.
    """
    choice = current_choice()
    if choice is None:
        return json_error(404, "no_consent", "No valid consent cookie was sent.")
    response = jsonify(receipt(db.session, choice.consent_id))
    response.headers["Cache-Control"] = "no-store"
    return response
