"""The consent service: cookie consent with a verifiable log, for municipal websites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from consent_service.config import load_settings
from consent_service.db import db

csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config → extensions → blueprints → errors → CLI. Touches no database."""
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    env = None
    if test_config and "CONSENT_MODE" in test_config:
        # Tests describe their environment explicitly instead of inheriting the shell's.
        env = {
            "CONSENT_ENV": test_config["CONSENT_MODE"],
            "CONSENT_SECRET_KEY": test_config.get("SECRET_KEY", ""),
            **test_config.get("ENVIRON", {}),
        }
    settings = load_settings(instance, env)
    app.config.update(settings)
    if test_config:
        app.config.update(test_config)

    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from consent_service.consent.policy import load_policy

    app.extensions["consent_policy"] = load_policy(app.config["POLICY_FILE"])

    from consent_service import metrics
    from consent_service.web.logs import configure_logging

    # Before any other hook (CSRF, origins) that may refuse a request: refused requests get
    # a request ID and are counted and timed too.
    configure_logging(app)
    metrics.init_app(app)
    db.init_app(app)
    csrf.init_app(app)

    from consent_service import health
    from consent_service.admin import views as admin_views
    from consent_service.analytics import api as analytics_api
    from consent_service.analytics import views as analytics_views
    from consent_service.consent import api as consent_api
    from consent_service.consent import views as consent_views
    from consent_service.demo import views as demo_views
    from consent_service.embed import views as embed_views
    from consent_service.openapi import bp as openapi_bp

    for bp in (
        consent_api.bp,
        consent_views.bp,
        embed_views.bp,
        demo_views.bp,
        health.bp,
        openapi_bp,
        admin_views.bp,
        analytics_api.bp,
        analytics_views.bp,
    ):
        app.register_blueprint(bp)
    # The JSON API is protected by the Origin allow-list, not by form tokens.
    csrf.exempt(consent_api.bp)
    csrf.exempt(analytics_api.bp)

    from consent_service.ideas import init_ideas

    init_ideas(app)

    from consent_service.audit import receipt
    from consent_service.audit import views as audit_views

    app.register_blueprint(receipt.bp)
    audit_views.register_audit_pages(app)

    from consent_service.admin.nav import register_admin_context
    from consent_service.web.errors import register_error_handlers
    from consent_service.web.headers import register_security_headers
    from consent_service.web.origins import register_origin_rules

    register_admin_context(app)
    register_origin_rules(app)
    register_security_headers(app)
    register_error_handlers(app)

    from consent_service.cli import register_commands

    register_commands(app)
    analytics_views.register(app)  # menu item, purger, `analytics` commands
    return app
