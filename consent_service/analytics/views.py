"""The statistics dashboard at /admin/statistics (editors; privacy officers see consent figures)."""

from __future__ import annotations

from flask import Blueprint, Flask

from consent_service.admin.auth import role_required
from consent_service.admin.models import Role
from consent_service.admin.nav import add_nav_item
from consent_service.analytics import rollup
from consent_service.db import utcnow
from consent_service.retention import register_purger

bp = Blueprint("analytics", __name__, url_prefix="/admin/statistics")


@bp.get("/")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def dashboard() -> str:
    return "todo"


def register(app: Flask) -> None:
    from consent_service.analytics.cli import analytics_group

    add_nav_item(app, "Statistik", "analytics.dashboard", Role.EDITOR, Role.PRIVACY_OFFICER)
    register_purger(app, "analytics", lambda: rollup.purge(utcnow()))
    app.cli.add_command(analytics_group)
