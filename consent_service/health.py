"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from consent_service.db import db
from consent_service.web.errors import RETRY_AFTER_SECONDS, json_error

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        response = json_error(
            503, "database_unavailable", f"database unreachable ({exc.__class__.__name__})"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return jsonify({"status": "ready"})
