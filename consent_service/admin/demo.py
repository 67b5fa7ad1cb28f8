"""`consent-service users demo`: one demo account per role, so a newcomer can look around."""

from __future__ import annotations

import secrets

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from consent_service.admin.auth import create_user
from consent_service.admin.models import Role, User
from consent_service.db import db

DEMO_PREFIX = "demo-"


def demo_name(role: Role) -> str:
    return DEMO_PREFIX + role.value.replace("_", "-")


def create_demo_accounts() -> list[tuple[Role, str, str | None]]:
    """Create the missing demo accounts; return (role, name, password or None if it existed)."""
    created: list[tuple[Role, str, str | None]] = []
    for role in Role:
        name = demo_name(role)
        if db.session.scalar(select(User.id).where(User.name == name)) is not None:
            created.append((role, name, None))
            continue
        password = secrets.token_urlsafe(12)
        create_user(name, role, password)
        created.append((role, name, password))
    return created


@click.command("demo")
@with_appcontext
def users_demo() -> None:
    """Create a demo account per role with a random password, printed only this once."""
    from flask import current_app

    if current_app.config["CONSENT_MODE"] == "production":
        click.echo("error: demo accounts are for development only", err=True)
        raise SystemExit(1)
    accounts = create_demo_accounts()
    click.echo("Demo sign-in at /admin/sign-in:")
    for role, name, password in accounts:
        shown = password if password is not None else "(exists already; password shown before)"
        click.echo(f"  {role.value:<16} {name:<24} {shown}")
