"""A host page as the municipality would publish it, for trying the embeds locally."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the demo host page at `/`."""
    from consent_service.demo import views

    app.register_blueprint(views.bp)
