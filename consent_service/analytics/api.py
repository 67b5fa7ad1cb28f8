"""`POST /api/v1/events`: the tracker's batches, stored only with a valid statistics consent."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from consent_service.analytics import services
from consent_service.consent.cookie import current_choice
from consent_service.consent.services import current_policy
from consent_service.db import utcnow
from consent_service.web.errors import ApiError
from consent_service.web.json_input import Field, json_body

bp = Blueprint("analytics_api", __name__, url_prefix="/api/v1")

BATCH_SCHEMA = {"events": Field(list)}


def sender() -> services.Sender:
    return services.Sender(
        choice=current_choice(),
        origin_host=services.host_of_origin(request.headers.get("Origin")),
        address=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
        accept_language=request.headers.get("Accept-Language", ""),
    )


def own_host() -> str | None:
    """The service's own host name (cheaper than building our whole origin per request)."""
    public = current_app.config.get("PUBLIC_URL")
    return services.host_of_origin(public or "//" + request.host)


@bp.post("/events")
def record_events() -> Response:
    # text/plain too: the tracker sends it with sendBeacon, which needs no CORS preflight.
    events = json_body(BATCH_SCHEMA, allow_text_plain=True)["events"]
    policy = current_policy()
    try:
        result = services.ingest(
            events,
            sender(),
            site=policy.site,
            policy_version=policy.version,
            hosts=services.allowed_hosts(own_host()),
            now=utcnow(),
        )
    except services.InvalidBatch as exc:
        raise ApiError(400, exc.code, exc.message) from None
    except services.TooManyEvents as exc:
        raise ApiError(
            429,
            "too_many_requests",
            f"Too many events from this client; {exc.dropped} were not stored. "
            f"Try again in {exc.retry_after} seconds.",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    response = jsonify(result.public())
    response.status_code = 202
    response.headers["Cache-Control"] = "no-store"
    return response
