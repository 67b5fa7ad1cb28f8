"""The built embeds (`consent.js`, `ideas.js`) served with the site's policy inlined."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register `/embed/…`."""
    from consent_service.embed import views

    app.register_blueprint(views.bp)
