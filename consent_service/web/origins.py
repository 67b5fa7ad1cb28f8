"""Cross-origin rules for the JSON API: an exact allow-list, credentials, never `null`.

Flask-WTF's CSRF protects the service's own HTML forms. The API is called from other
hosts of the same site (www.uppsala.se → samtycke.uppsala.se), where a form token cannot
travel; there the browser-set `Origin` and `Sec-Fetch-Site` headers decide.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, g, has_request_context, request
from werkzeug.routing import MapAdapter

from consent_service.web.errors import ApiError

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def own_origin() -> str:
    """The service's public origin: CONSENT_PUBLIC_URL, or the request's host in development.

    Production refuses to start without CONSENT_PUBLIC_URL (config.py); should it be missing
    anyway, this fails rather than hand out an address taken from the Host header.
    """
    public: str | None = current_app.config.get("PUBLIC_URL")
    if public:
        return public
    if current_app.config["CONSENT_MODE"] in {"development", "testing"}:
        return request.host_url.rstrip("/")
    raise RuntimeError("CONSENT_PUBLIC_URL is not set: no address is built from the Host header")


def public_url(path: str = "") -> str:
    """An absolute URL of this service for `path` (which starts with /), e.g. for e-mail."""
    return own_origin() + path


def build_external_urls_on_public_url(app: Flask) -> None:
    """Make url_for(_external=True) and redirects name CONSENT_PUBLIC_URL, never Host.

    Flask builds external URLs from the request's Host and scheme. Setting SERVER_NAME would
    fix the host but not the scheme, and changes the test client's defaults; instead the URL
    adapter keeps matching routes as before and only builds on the public origin. Outside a
    request (commands, background threads) the same origin is used, so e-mail links work there.
    """
    public = app.config.get("PUBLIC_URL")
    if not public:
        return
    parts = urlsplit(public)
    bind_for_request = app.create_url_adapter

    def create_url_adapter(req: Request | None) -> MapAdapter | None:
        if req is None:
            return app.url_map.bind(
                parts.netloc,
                script_name=app.config["APPLICATION_ROOT"],
                url_scheme=parts.scheme,
            )
        adapter = bind_for_request(req)
        if adapter is not None:
            # Matching uses the subdomain, not server_name (no host matching here).
            adapter.server_name = parts.netloc
            adapter.url_scheme = parts.scheme
        return adapter

    # An instance attribute, like ProxyFix on wsgi_app: only this app builds this way.
    # mypy sees an unbound method's signature (with self); the bound one has none.
    app.create_url_adapter = create_url_adapter  # type: ignore[method-assign,assignment]


def site_origins() -> tuple[str, ...]:
    """The request's site's allowed origins (set when the site is resolved), else the
    deployment's CONSENT_ALLOWED_ORIGINS."""
    resolved: tuple[str, ...] | None = g.get("site_origins") if has_request_context() else None
    return resolved if resolved is not None else tuple(current_app.config["ALLOWED_ORIGINS"])


def allowed_origin(origin: str | None) -> bool:
    if not origin or origin == "null":
        return False
    return origin == own_origin() or origin in site_origins()


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
    build_external_urls_on_public_url(app)

    @app.before_request
    def _check_origin() -> Response | None:
        if not request.path.startswith("/api/"):
            return None
        check_api_origin()
        if request.method == "OPTIONS":
            return app.make_response(("", 204))
        return None

    app.after_request(add_cors_headers)
