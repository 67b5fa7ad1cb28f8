"""Consent-gated statistics: ingest, the daily visitor key, rollups and the dashboard."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the ingest and statistics APIs, the dashboard and its menu, purger and CLI."""
    from consent_service.admin.models import Role
    from consent_service.admin.nav import add_nav_item
    from consent_service.analytics import (
        admin_views,
        api,
        mailreports,
        openapi,
        rollup,
        shared_views,
        stats_api,
    )
    from consent_service.analytics.cli import analytics_group
    from consent_service.db import utcnow
    from consent_service.retention import register_purger
    from consent_service.web.csrf import csrf
    from consent_service.web.openapi import add_openapi

    app.register_blueprint(api.bp)
    # Read with a site's token (Authorization: Bearer), never with a cookie.
    app.register_blueprint(stats_api.bp)
    app.register_blueprint(admin_views.bp)
    # Funnels and the content reports beside the dashboard (editors).
    from consent_service.analytics import report_views

    app.register_blueprint(report_views.bp)
    # Read-only dashboards for holders of a link an editor made (the token is in the path).
    app.register_blueprint(shared_views.bp)
    # The JSON API is protected by the Origin allow-list, not by form tokens.
    csrf.exempt(api.bp)
    add_openapi(app, openapi.PATHS, security_schemes=openapi.SCHEMES)
    add_nav_item(
        app, "Besöksstatistik", "analytics_admin.dashboard", Role.EDITOR, Role.PRIVACY_OFFICER
    )
    register_purger(app, "analytics", lambda: rollup.purge(utcnow()))
    register_purger(app, "statistics reports", lambda: mailreports.purge_sent_records(utcnow()))
    app.cli.add_command(analytics_group)
