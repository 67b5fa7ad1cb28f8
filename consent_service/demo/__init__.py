"""A host page as the municipality would publish it, for trying the embeds locally."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the demo host page at `/`, in development and testing only.

    In production `/` answers 404: the municipality's own pages embed the banner, and a page
    of sample content on the consent host would only be mistaken for the real site.
    """
    from consent_service.demo import views

    if app.config["CONSENT_MODE"] in {"development", "testing"}:
        app.register_blueprint(views.bp)
