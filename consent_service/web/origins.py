"""Cross-origin rules for the JSON API: an exact allow-list, credentials, never `null`.

Flask-WTF's CSRF protects the service's own HTML forms. The API is called from other
hosts of the same site (www.uppsala.se → samtycke.uppsala.se), where a form token cannot
travel; there the browser-set `Origin` and `Sec-Fetch-Site` headers decide.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from consent_service.web.errors import ApiError

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def own_origin() -> str:
    public: str | None = current_app.config.get("PUBLIC_URL")
    return public or request.host_url.rstrip("/")


def allowed_origin(origin: str | None) -> bool:
    if not origin or origin == "null":
        return False
    return origin == own_origin() or origin in current_app.config["ALLOWED_ORIGINS"]


def safe_next(target: str | None) -> str | None:
    """Return `target` if it points to this service or an allowed origin, else None."""
    if not target or len(target) > 2000 or any(c in target for c in "\r\n\\"):
        return None
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc:
        return target if target.startswith("/") and not target.startswith("//") else None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return target if allowed_origin(f"{parts.scheme}://{parts.netloc}") else None


def check_api_origin() -> None:
    """Refuse state-changing API calls from origins that are not on the allow-list.

    A request without `Origin` comes from a non-browser client (browsers always send it on
    POST and DELETE), which carries no ambient cookie authority to abuse.
    """
    origin = request.headers.get("Origin")
    if origin is not None and not allowed_origin(origin):
        raise ApiError(403, "forbidden_origin", "This origin may not use the consent API.")
    if (
        origin is None
        and request.method not in SAFE_METHODS
        and request.headers.get("Sec-Fetch-Site") in {"cross-site", "same-site"}
    ):
        raise ApiError(403, "forbidden_origin", "Cross-site requests must carry an Origin.")


def add_cors_headers(response: Response) -> Response:
    if not request.path.startswith("/api/"):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if origin and allowed_origin(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Request-ID"
            response.headers["Access-Control-Max-Age"] = "600"
    return response


def register_origin_rules(app: Flask) -> None:
    @app.before_request
    def _check_origin() -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        check_api_origin()
        if request.method == "OPTIONS":
            return app.make_response(("", 204))
        return None

    app.after_request(add_cors_headers)
