"""The platform's commands: `db upgrade`, `db revision` and `purge`.

Each domain adds its own command groups in its `init_app`; the console script itself is
`consent_service.__main__:main`.
"""

from __future__ import annotations

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from consent_service.retention import run_purgers
from consent_service.schema import UpgradeRefused, new_revision, upgrade_database

db_group = click.Group("db", help="Database schema.")


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations and archive the current policy texts."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        reports = upgrade_database(app, revision)
    except UpgradeRefused as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo("; ".join([f"database at {revision}", *reports]))


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Generate a migration from the models (review it by hand)."""
    new_revision(current_app._get_current_object(), message)  # type: ignore[attr-defined]


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Remove everything past its retention period (every domain's rules)."""
    for name, outcome in run_purgers(current_app._get_current_object()):  # type: ignore[attr-defined]
        click.echo(f"{name}: {outcome}")


def init_app(app: Flask) -> None:
    """Register the platform's commands; domains add theirs in their own `init_app`."""
    app.cli.add_command(db_group)
    app.cli.add_command(purge)


def cli_actor() -> str:
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = "okänd"
    return f"cli:{name}"[:80]
