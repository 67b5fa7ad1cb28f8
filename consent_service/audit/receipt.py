"""`GET /api/v1/consent/receipt`: a citizen's own consent receipt, from their signed cookie."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from consent_service.audit.services import receipt
from consent_service.consent.api import current_choice
from consent_service.db import db
from consent_service.web.errors import json_error

bp = Blueprint("audit_receipt", __name__, url_prefix="/api/v1")


@bp.get("/consent/receipt")
def consent_receipt() -> Response:
    """What this browser's consent ID chose, when, under which text, with each entry's hash."""
    choice = current_choice()
    if choice is None:
        return json_error(404, "no_consent", "No valid consent cookie was sent.")
    response = jsonify(receipt(db.session, choice.consent_id))
    response.headers["Cache-Control"] = "no-store"
    return response
