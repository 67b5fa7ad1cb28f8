"""Staff: sign-in, roles, the admin shell and its menu, and the `users` commands."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sign-in pages, the admin shell's template context and `users`."""
    from consent_service.admin import views
    from consent_service.admin.cli import users_group
    from consent_service.admin.nav import register_admin_context

    app.register_blueprint(views.bp)
    register_admin_context(app)
    app.cli.add_command(users_group)
