"""The admin menu: each domain adds its pages with the roles that may open them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request, url_for

from consent_service.admin.auth import current_user
from consent_service.admin.models import Role

ROLE_LABELS = {
    Role.ADMIN.value: "administratör",
    Role.EDITOR.value: "webbredaktör",
    Role.INNOVATION.value: "innovationsteamet",
    Role.PRIVACY_OFFICER.value: "dataskyddsombud",
}


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[Role, ...]


def nav_items(app: Flask) -> list[NavItem]:
    items: list[NavItem] = app.extensions.setdefault("admin_nav", [])
    return items


def add_nav_item(app: Flask, label: str, endpoint: str, *roles: Role) -> None:
    nav_items(app).append(NavItem(label, endpoint, roles))


def register_admin_context(app: Flask) -> None:
    @app.context_processor
    def _admin_context() -> dict[str, Any]:
        if not request.path.startswith("/admin"):
            return {}
        user = current_user()
        items = []
        if user is not None:
            for item in nav_items(app):
                if user.role_enum in item.roles:
                    url = url_for(item.endpoint)
                    items.append({"label": item.label, "url": url, "current": request.path == url})
        return {"current_user": user, "admin_nav": items, "role_labels": ROLE_LABELS}
