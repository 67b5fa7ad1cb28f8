"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
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


# A domain's own readiness: details to report, and a problem (503) or None. Readiness
# reports them all; a check that raises a database error counts as the database being down.
ReadinessCheck = Callable[[], tuple[dict[str, Any], str | None]]


def register_readiness_check(app: Flask, name: str, check: ReadinessCheck) -> None:
    checks: dict[str, ReadinessCheck] = app.extensions.setdefault("readiness_checks", {})
    checks[name] = check


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
    report: dict[str, Any] = {"status": "ready"}
    checks: dict[str, ReadinessCheck] = current_app.extensions.get("readiness_checks", {})
    for name, check in checks.items():
        try:
            details, problem = check()
        except SQLAlchemyError as exc:
            return _not_ready(
                "database_unavailable", f"database unreachable ({exc.__class__.__name__})"
            )
        if problem is not None:
            return _not_ready(f"{name}_not_ready", problem)
        report[name] = details
    return jsonify(report)


def init_app(app: Flask) -> None:
    """Register `/healthz` and `/readyz`."""
    app.register_blueprint(bp)
