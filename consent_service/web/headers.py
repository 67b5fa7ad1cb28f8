"""Security headers on every response and a fresh CSP nonce per request.

Who may frame a page is decided per view: nothing may frame a page (`'none'`) unless its
view says otherwise with `@allow_framing("self")` (the demo host page) or
`@allow_framing("hosts")` (pages a municipality may show inside its own pages, such as the
no-JS settings page: the service itself and `CONSENT_ALLOWED_ORIGINS`). Staff pages keep
`'none'`, so they can never be clickjacked from a host page.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Literal, TypeVar

from flask import Flask, Response, current_app, g, request

from consent_service.web.origins import site_origins

Framing = Literal["none", "self", "hosts"]
_View = TypeVar("_View", bound=Callable[..., object])


def allow_framing(by: Literal["self", "hosts"]) -> Callable[[_View], _View]:
    """Let this view's pages be framed by the service itself or also by the host pages."""

    def mark(view: _View) -> _View:
        view.consent_framing = by  # type: ignore[attr-defined]
        return view

    return mark


def framing() -> Framing:
    """Who may frame the current response: the view's declaration, else nobody."""
    if request.endpoint is None:
        return "none"
    view = current_app.view_functions.get(request.endpoint)
    declared: Framing = getattr(view, "consent_framing", "none")
    return declared


def frame_ancestors(policy: Framing) -> str:
    if policy == "none":
        return "'none'"
    if policy == "self":
        return "'self'"
    return " ".join(["'self'", *site_origins()])


def csp_nonce() -> str:
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def _csp(policy: Framing) -> str:
    nonce = csp_nonce()
    form_targets = " ".join(["'self'", *site_origins()])
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
            "frame-ancestors " + frame_ancestors(policy),
        ]
    )


_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    # What a view set itself wins. Looked up once: werkzeug's setdefault raises and catches
    # a KeyError for every header it adds, on every response.
    present = {name.lower() for name, _ in headers}
    wanted = list(_ALWAYS)
    embed = request.path.startswith("/embed/") or request.path.startswith("/api/")
    # Embeds and the API are loaded by the municipality's pages on other hosts.
    wanted.append(("Cross-Origin-Resource-Policy", "cross-origin" if embed else "same-origin"))
    if response.mimetype == "text/html":
        policy = framing()
        wanted.append(("Content-Security-Policy", _csp(policy)))
        # X-Frame-Options for browsers without frame-ancestors; it cannot name other origins.
        if policy == "none":
            wanted.append(("X-Frame-Options", "DENY"))
        elif policy == "self":
            wanted.append(("X-Frame-Options", "SAMEORIGIN"))
    if current_app.config["COOKIE_SECURE"]:
        wanted.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
