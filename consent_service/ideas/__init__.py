"""Ideas from citizens: the embeddable widget's API, the no-JS form, the status link, and the
innovation team's board, portfolio and evaluation."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the idea pages, the admin menu entries and the retention rule."""
    from consent_service.admin.models import Role
    from consent_service.admin.nav import add_nav_item
    from consent_service.ideas import admin_views, api, openapi, views
    from consent_service.ideas.catalog import DEFAULT_AREAS_FILE, load_catalog
    from consent_service.ideas.cli import ideas_group
    from consent_service.ideas.gallring import check_rules, purge_ideas
    from consent_service.ideas.search import fill_missing_stems
    from consent_service.ideas.services import purge_contacts
    from consent_service.retention import register_purger
    from consent_service.schema import register_upgrade_hook
    from consent_service.web.csrf import csrf
    from consent_service.web.openapi import add_openapi

    areas_file = app.config["IDEAS_AREAS_FILE"] or DEFAULT_AREAS_FILE
    app.extensions["ideas_catalog"] = load_catalog(areas_file)
    # Its pages (the team's mail settings, the archive file) join admin_views.bp.
    from consent_service.ideas import team_views  # noqa: F401

    for bp in (api.bp, views.bp, admin_views.bp):
        app.register_blueprint(bp)
    # The team's pages see the ideas of the site they work on (staff scoped per site).
    from consent_service.ideas import site_scope

    site_scope.install()
    app.add_template_filter(admin_views.idea_date, "idea_date")
    # The JSON API is protected by the Origin allow-list; it carries no cookies.
    csrf.exempt(api.bp)
    add_openapi(app, openapi.PATHS, openapi.SCHEMAS)
    # The citizen pages check their form tokens in the view (FlaskForm.validate), so that a
    # stale token shows the form again with everything the citizen wrote still in it.
    csrf.exempt(views.bp)
    add_nav_item(app, "Idéer", "ideas_admin.inbox", Role.INNOVATION)
    add_nav_item(app, "Idétavla", "ideas_admin.board_page", Role.INNOVATION)
    add_nav_item(app, "Idéportfölj", "ideas_admin.portfolio", Role.INNOVATION)
    add_nav_item(app, "Utvärdering", "ideas_admin.evaluation_page", Role.INNOVATION)
    register_purger(
        app,
        "idea contacts",
        lambda: f"{purge_contacts()} contact record(s) of closed ideas removed",
    )
    register_upgrade_hook(app, "idea search words", fill_missing_stems)
    app.cli.add_command(ideas_group)
    check_rules(app.config.get("IDEAS_RETENTION") or {})
    register_purger(app, "ideas", lambda: purge_ideas().summary())
    add_nav_item(app, "Mina aviseringar", "ideas_admin.mail_settings", Role.INNOVATION)
