"""JSON API for the idea widget: the form's areas and limits, and submitting an idea.

Cross-origin calls come from the municipality's pages (www.uppsala.se → samtycke.uppsala.se).
The `/api/*` Origin allow-list and `Sec-Fetch-Site` check (web/origins.py) refuse browsers on
other sites; the widget sends no cookies, so there is no ambient authority to borrow.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from consent_service import ratelimit
from consent_service.consent.services import current_policy
from consent_service.ideas import challenges, receipts, services
from consent_service.ideas.catalog import current_catalog
from consent_service.ideas.views import status_url
from consent_service.web.errors import ApiError, json_error
from consent_service.web.json_input import Field, json_body

bp = Blueprint("ideas_api", __name__, url_prefix="/api/v1/ideas")

IDEA_SCHEMA = {
    "title": Field(str),
    "body": Field(str),
    "area": Field(str, max_length=64),
    "topic": Field(str, required=False),
    "page": Field(str, required=False),
    "name": Field(str, required=False),
    "email": Field(str, required=False),
    "contact_ok": Field(bool, required=False),
    "language": Field(str, required=False, max_length=35),
    # The signed time stamp from GET /form: proves the form was shown a while ago.
    "form_token": Field(str, required=False, max_length=200),
    # The honeypot: an input people never see. Anything in it sends the idea to the spam queue.
    "website": Field(str, required=False, max_length=2000),
    # The slug of the challenge (utmaning) the idea answers: data-challenge on the widget.
    "challenge": Field(str, required=False, max_length=64),
    "request_id": Field(
        str,
        required=False,
        check=lambda v: services.REQUEST_ID.fullmatch(v) is not None,
        check_message="must be 8 to 64 letters, digits, '-' or '_'",
    ),
}


def form_document(
    language: str, challenge: dict[str, Any] | None = None, variant: str | None = None
) -> dict[str, Any]:
    catalog = current_catalog()
    return {
        "challenge": challenge,
        "language": language,
        "variant": variant,
        "areas": catalog.form_areas(language),
        "limits": services.limits(),
        "texts": catalog.widget_texts(language, variant),
        "dir": catalog.direction(language),
        "form_token": services.issue_form_token(),
    }


@bp.get("/form")
def idea_form() -> Response:
    catalog = current_catalog()
    language = catalog.language_for(request.args.get("lang"))
    # ?lang=sv-lattlast: the same Swedish form in easy Swedish (lättläst).
    variant = catalog.variant(request.args.get("lang"))
    challenge = None
    slug = request.args.get("challenge")
    if slug:
        found = challenges.find(current_policy().site, slug)
        if found is None:
            message = challenges.ChallengeUnavailable("unknown").message(language)
            return json_error(404, "challenge_unknown", message)
        # Shown even before it opens or after it closes, with `open` false and a message.
        challenge = challenges.public_view(found, language)
    response = jsonify(form_document(language, challenge, variant))
    # The form token is a time stamp: every answer is fresh.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("")
def submit_idea() -> Response:
    data = json_body(IDEA_SCHEMA)
    catalog = current_catalog()
    language = catalog.language_for(data.get("language"))
    try:
        submitted = services.submit_idea(
            title=data["title"],
            body=data["body"],
            area=data["area"],
            language=language,
            client=ratelimit.client_key(),
            topic=data.get("topic"),
            page=data.get("page"),
            name=data.get("name"),
            email=data.get("email"),
            contact_ok=data.get("contact_ok", False),
            website=data.get("website"),
            form_token=data.get("form_token"),
            request_id=data.get("request_id"),
            challenge=data.get("challenge"),
        )
    except services.InvalidIdea as exc:
        texts = catalog.widget_texts(language, catalog.variant(data.get("language")))
        limits = services.limits()
        messages = [
            texts[code].format(max=limits.get(field, ""), n="")
            for field, code in exc.errors.items()
        ]
        return json_error(400, "invalid_idea", " ".join(messages), fields=exc.errors)
    except challenges.ChallengeUnavailable as exc:
        status = 400 if exc.reason == "unknown" else 409
        return json_error(status, f"challenge_{exc.reason}", exc.message(language))
    except services.RequestIdReused:
        message = catalog.page_texts(language)["request_id_reused"]
        return json_error(409, "request_id_reused", message)
    except services.TooManyIdeas as exc:
        message = catalog.widget_texts(language)["limited"].format(minutes=exc.minutes)
        raise ApiError(
            429, "too_many_ideas", message, {"Retry-After": str(exc.retry_after)}
        ) from None
    response = jsonify(
        {"reference": submitted.reference, "status_url": status_url(submitted.reference)}
    )
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    if not submitted.replayed:
        receipts.deliver_after(response, submitted.reference)
    return response
