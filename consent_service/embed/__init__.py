"""The built embeds (`consent.js`, `ideas.js`) served with the site's policy inlined; the
sites' staff pages and the snippet generator (they use both `sites` and `admin`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register `/embed/…`, the policy drafts' preview, the sites' pages and the snippet."""
    from consent_service.embed import preview_views, views
    from consent_service.web.csrf import csrf

    app.register_blueprint(views.bp)
    # The sites' pages, the site switcher in the admin shell and the snippet generator.
    from consent_service.admin.models import Role
    from consent_service.admin.nav import add_nav_item
    from consent_service.embed import admin_views

    app.register_blueprint(admin_views.bp)
    app.context_processor(admin_views.switcher_context)
    add_nav_item(app, "Webbplatser", "embed_admin.sites_page", Role.ADMIN)
    add_nav_item(app, "Inbäddning", "embed_admin.snippet_page", Role.EDITOR, Role.ADMIN)
    app.register_blueprint(preview_views.bp)
    # The preview's banner answers its own refusal; it never changes anything.
    csrf.exempt(preview_views.api_consent)
