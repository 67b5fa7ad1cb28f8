"""HTTP plumbing shared by every domain: JSON errors, input validation, origins, headers."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Install the Origin rules, the security headers, the JSON/HTML error handlers and the
    files every site serves (robots.txt, favicon)."""
    from consent_service.web.errors import register_error_handlers
    from consent_service.web.headers import register_security_headers
    from consent_service.web.origins import register_origin_rules
    from consent_service.web.sessions import init_app as register_sessions
    from consent_service.web.site_files import init_app as register_site_files

    register_sessions(app)
    register_origin_rules(app)
    register_security_headers(app)
    register_error_handlers(app)
    register_site_files(app)
