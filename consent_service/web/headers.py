"""Security headers on every response and a fresh CSP nonce per request."""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g, request


def csp_nonce() -> str:
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def _csp(embeddable: bool) -> str:
    nonce = csp_nonce()
    form_targets = " ".join(["'self'", *current_app.config["ALLOWED_ORIGINS"]])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            # The no-JS settings form redirects back to the host page it came from.
            f"form-action {form_targets}",
            "frame-ancestors " + (form_targets if embeddable else "'none'"),
        ]
    )


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    )
    embed = request.path.startswith("/embed/") or request.path.startswith("/api/")
    # Embeds and the API are loaded by the municipality's pages on other hosts.
    headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin" if embed else "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", _csp(embeddable=False))
        headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
