"""The built embeds (`consent.js`, `ideas.js`) served with the site's policy inlined."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register `/embed/…` and the policy drafts' preview."""
    from consent_service.embed import preview_views, views
    from consent_service.web.csrf import csrf

    app.register_blueprint(views.bp)
    app.register_blueprint(preview_views.bp)
    # The preview's banner answers its own refusal; it never changes anything.
    csrf.exempt(preview_views.api_consent)
