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


# Error pages speak Swedish first, then English: they answer citizens and staff alike, and
# a failed request may not say which language its page was in. (title, text) per language.
PAGE_TEXTS: dict[int, dict[str, tuple[str, str]]] = {
    400: {
        "sv": ("Felaktig begäran", "Begäran kunde inte behandlas. Ladda om sidan och försök igen."),
        "en": ("Bad request", "The request could not be processed. Reload the page and try again."),
    },
    401: {
        "sv": ("Inloggning krävs", "Logga in för att se sidan."),
        "en": ("Sign-in required", "Sign in to see this page."),
    },
    403: {
        "sv": (
            "Åtkomst nekad",
            "Du har inte behörighet att se den här sidan. Behöver du den, be en "
            "administratör om rätt roll.",
        ),
        "en": (
            "Access denied",
            "You do not have access to this page. If you need it, ask an administrator for "
            "the right role.",
        ),
    },
    404: {
        "sv": ("Sidan finns inte", "Kontrollera att adressen är rätt."),
        "en": ("Page not found", "Check that the address is correct."),
    },
    405: {
        "sv": ("Metoden är inte tillåten", "Sidan kan inte användas på det här sättet."),
        "en": ("Method not allowed", "This page cannot be used this way."),
    },
    413: {
        "sv": ("För mycket data", "Det som skickades är för stort."),
        "en": ("Request too large", "What was sent is too large."),
    },
    415: {
        "sv": ("Fel format", "Det som skickades har ett format som tjänsten inte tar emot."),
        "en": ("Unsupported format", "What was sent has a format the service does not accept."),
    },
    429: {
        "sv": ("För många förfrågningar", "Vänta en stund och försök igen."),
        "en": ("Too many requests", "Wait a moment and try again."),
    },
    500: {
        "sv": ("Något gick fel", "Ett oväntat fel inträffade. Försök igen om en stund."),
        "en": ("Something went wrong", "An unexpected error occurred. Please try again shortly."),
    },
    503: {
        "sv": (
            "Tjänsten är inte tillgänglig just nu",
            "Tjänsten når inte sin databas. Försök igen om en stund.",
        ),
        "en": (
            "Service unavailable",
            "The service cannot reach its database right now. Please try again shortly.",
        ),
    },
}


def error_page(status: int, detail: str | None = None) -> str:
    """The HTML error page: Swedish, then English, and the view's own detail if it gave one."""
    texts = PAGE_TEXTS.get(status) or PAGE_TEXTS[500 if status >= 500 else 400]
    return render_template("error.html", status=status, texts=texts, detail=detail)


def _detail(exc: HTTPException) -> str | None:
    """A description the view gave (abort(400, "…")), not Werkzeug's generic English one."""
    description = exc.description
    return description if description and description != type(exc).description else None


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
            response = app.make_response((error_page(status, _detail(exc)), status))
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
            response = app.make_response((error_page(503), 503))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
