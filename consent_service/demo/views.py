"""A host page as the municipality would publish it, for trying the embeds locally."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("demo", __name__)


@bp.get("/")
def host_page() -> str:
    return render_template("demo/index.html")
