"""The compliance scanner: crawl a site in headless Chromium and check it against its policy."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register `scan` and `worker` (Playwright loads only when a scan runs) and the admin pages."""
    from consent_service.admin.models import Role
    from consent_service.admin.nav import add_nav_item
    from consent_service.scanner import (
        admin_views,
        draft_views,  # noqa: F401 - joins admin_views.bp
    )
    from consent_service.scanner.cli import scan, worker

    app.cli.add_command(scan)
    app.cli.add_command(worker)
    app.register_blueprint(admin_views.bp)
    add_nav_item(app, "Kakskanning", "scanner_admin.jobs_page", Role.EDITOR, Role.PRIVACY_OFFICER)
