"""Staff: sign-in, roles, the admin shell and its menu, and the `users` commands."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sign-in pages, the admin shell's menu and context, `users` and a purger."""
    from consent_service.admin import account_views, views
    from consent_service.admin.cli import users_group
    from consent_service.admin.headers import register_staff_headers
    from consent_service.admin.models import Role
    from consent_service.admin.nav import add_nav_item, register_admin_context
    from consent_service.admin.sessions import purge_sessions
    from consent_service.retention import register_purger

    # account_views adds its pages to views.bp, so it is imported before the registration.
    del account_views
    app.register_blueprint(views.bp)
    register_admin_context(app)
    register_staff_headers(app)
    add_nav_item(app, "Användare", "admin.users_page", Role.ADMIN)
    add_nav_item(app, "Inställningar", "admin.settings_page", Role.ADMIN)
    app.cli.add_command(users_group)
    register_purger(app, "staff sessions", purge_sessions)
