"""A host page as the municipality would publish it, for trying the embeds locally."""

from __future__ import annotations

from flask import Blueprint, render_template

from consent_service.web.headers import allow_framing

bp = Blueprint("demo", __name__)


@bp.get("/")
@allow_framing("self")
def host_page() -> str:
    return render_template("demo/index.html")
