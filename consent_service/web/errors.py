"""Every JSON error is `{"error": code, "message": text}` with its status."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from consent_service.db import DatabaseUnavailable

RETRY_AFTER_SECONDS = 5


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def json_error(status: int, code: str, message: str, **extra: Any) -> Response:
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        response = json_error(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _CODES.get(status, "error")
        message = exc.description or exc.name
        if status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"The request body is larger than {limit} bytes."
        if _wants_json():
            response = json_error(status, code, message)
        else:
            response = app.make_response(
                (render_template("error.html", status=status, message=message), status)
            )
        if status == 405 and exc.response is None:
            # RFC 9110: a 405 names the methods the resource does allow (pages too).
            response.headers["Allow"] = ", ".join(getattr(exc, "valid_methods", None) or [])
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    @app.errorhandler(DatabaseUnavailable)
    def _database_unavailable(exc: Exception) -> Response | tuple[str, int]:
        app.logger.warning("database unavailable: %s", exc.__class__.__name__)
        message = "The service cannot reach its database right now. Please try again shortly."
        if _wants_json():
            response = json_error(503, "unavailable", message)
        else:
            response = app.make_response(
                (render_template("error.html", status=503, message=message), 503)
            )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
