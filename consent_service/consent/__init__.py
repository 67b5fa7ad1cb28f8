"""Citizens' choices: the policy, the signed cookie, the JSON API and the no-JS settings page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API and the settings page, archive texts at upgrade."""
    from consent_service.admin.models import Role
    from consent_service.admin.nav import add_nav_item
    from consent_service.consent import api, editor_views, openapi, views
    from consent_service.consent.cli import policy_group
    from consent_service.consent.services import archive_current_policy_texts
    from consent_service.schema import register_upgrade_hook
    from consent_service.web.csrf import csrf
    from consent_service.web.openapi import add_openapi

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(editor_views.bp)
    # The JSON API is protected by the Origin allow-list, not by form tokens.
    csrf.exempt(api.bp)
    add_openapi(app, openapi.PATHS, openapi.SCHEMAS)
    register_upgrade_hook(app, "policy texts", archive_current_policy_texts)
    app.cli.add_command(policy_group)
    add_nav_item(app, "Kakpolicy", "policy_admin.overview", Role.EDITOR, Role.PRIVACY_OFFICER)
