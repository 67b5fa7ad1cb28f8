"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, Flask, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from consent_service.db import db
from consent_service.web.errors import RETRY_AFTER_SECONDS, json_error

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


def _unwritable_sqlite_file() -> str | None:
    """The SQLite file (or its folder) that cannot be written, if any.

    `SELECT 1` still succeeds on a database that has become read-only (a full or read-only
    file system, a file made immutable), while every write fails: readiness must say so.
    os.access asks the kernel, which answers no for read-only mounts and immutable files
    even to root.
    """
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    for path in (database, Path(f"{database}-wal"), database.parent):
        if path.exists() and not os.access(path, os.W_OK):
            return path.name
    return None


def _not_ready(code: str, message: str) -> Response:
    response = json_error(503, code, message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@bp.get("/readyz")
def readyz() -> Response:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return _not_ready(
            "database_unavailable", f"database unreachable ({exc.__class__.__name__})"
        )
    unwritable = _unwritable_sqlite_file()
    if unwritable is not None:
        return _not_ready("database_read_only", f"database not writable ({unwritable})")
    return jsonify({"status": "ready"})


def init_app(app: Flask) -> None:
    """Register `/healthz` and `/readyz`."""
    app.register_blueprint(bp)
