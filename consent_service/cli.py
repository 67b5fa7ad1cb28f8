"""The `consent-service` command line (the Flask CLI of this app)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from consent_service.consent.services import PolicyTextChanged


def _create_app() -> Flask:
    from consent_service import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Operate the consent service."""


db_group = click.Group("db", help="Database schema.")
audit_group = click.Group("audit", help="The consent log: verification, checkpoints, exports.")
users_group = click.Group("users", help="Staff accounts.")


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations and archive the current policy texts."""
    from flask import current_app

    from consent_service.schema import upgrade_database

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        stored = upgrade_database(app, revision)
    except PolicyTextChanged as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"database at {revision}; {stored} policy text(s) archived")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Generate a migration from the models (review it by hand)."""
    from flask import current_app

    from consent_service.schema import new_revision

    new_revision(current_app._get_current_object(), message)  # type: ignore[attr-defined]


@users_group.command("create")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "editor", "innovation", "privacy_officer"])
)
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
@with_appcontext
def users_create(role: str, name: str, password_stdin: bool) -> None:
    """Create a staff account; the password is asked for (or read from stdin)."""
    from sqlalchemy import select

    from consent_service.admin.auth import create_user
    from consent_service.admin.models import Role, User
    from consent_service.db import db

    if not 1 <= len(name) <= 64 or not name.isprintable():
        raise click.BadParameter("1 to 64 printable characters", param_hint="NAME")
    if db.session.scalar(select(User).where(User.name == name)) is not None:
        click.echo(f"error: a user named {name!r} exists already", err=True)
        sys.exit(1)
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        click.echo("error: the password must be at least 12 characters", err=True)
        sys.exit(1)
    create_user(name, Role(role), password)
    click.echo(f"created {role} {name}")


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Remove everything past its retention period (every domain's rules)."""
    from flask import current_app

    from consent_service.retention import run_purgers

    for name, outcome in run_purgers(current_app._get_current_object()):  # type: ignore[attr-defined]
        click.echo(f"{name}: {outcome}")


@main.command("check", with_appcontext=False)
@click.option("--deploy", is_flag=True, help="Also check what production needs.")
@click.option(
    "--fail-level",
    type=click.Choice(["error", "warning"]),
    default="error",
    show_default=True,
    help="Exit 1 from issues of this level up.",
)
def check(deploy: bool, fail_level: str) -> None:
    """Check the configuration (from the environment); --deploy for production readiness."""
    from consent_service.config import ConfigError
    from consent_service.deploy_check import Issue, deploy_issues, report

    # Not under the app context: a configuration the app refuses must be reported, not raised.
    try:
        app = _create_app()
    except ConfigError as exc:
        issues = [Issue("error", "consent.E001", f"The service refuses to start: {exc}")]
    else:
        issues = deploy_issues(app) if deploy else []
    click.echo(report(issues), err=bool(issues))
    failing = {"error"} if fail_level == "error" else {"error", "warning"}
    sys.exit(1 if any(i.level in failing for i in issues) else 0)


def register_commands(app: Flask) -> None:
    from consent_service.admin.demo import users_demo
    from consent_service.audit.cli import register_audit_commands
    from consent_service.audit.retention import purge_consent_log
    from consent_service.ratelimit import purge_expired
    from consent_service.retention import register_purger

    register_purger(app, "consent log", purge_consent_log)
    register_audit_commands(audit_group)
    users_group.add_command(users_demo)

    register_purger(app, "rate limits", lambda: f"{purge_expired()} expired counters removed")
    app.cli.add_command(purge)
    app.cli.add_command(db_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(users_group)
