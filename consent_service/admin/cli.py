"""`consent-service users ...`: staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from consent_service.admin import accounts
from consent_service.admin.access import cli_actor, record_access
from consent_service.admin.auth import create_user
from consent_service.admin.demo import users_demo
from consent_service.admin.models import Role, User
from consent_service.admin.passwords import MESSAGES_EN, password_problem
from consent_service.db import db

users_group = click.Group("users", help="Staff accounts.")
users_group.add_command(users_demo)


@users_group.command("create")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
@click.option("--email", default=None, help="Where notifications to this person can go.")
@click.option(
    "--link",
    is_flag=True,
    help="Ask for no password: print a one-time link (72 h) where the person chooses one.",
)
@with_appcontext
def users_create(role: str, name: str, password_stdin: bool, email: str | None, link: bool) -> None:
    """Create a staff account; the password is asked for (or read from stdin), or --link."""
    if link:
        try:
            _, issued = accounts.create_account(
                name=name, role=Role(role), email=email, actor=cli_actor()
            )
        except accounts.AccountError as error:
            click.echo(f"error: {error.en}", err=True)
            sys.exit(1)
        click.echo(f"created {role} {name}")
        _print_link(issued)
        return
    try:
        address = accounts.clean_email(email)
    except accounts.AccountError as error:
        raise click.BadParameter(error.en, param_hint="--email") from None
    if not 1 <= len(name) <= 64 or not name.isprintable():
        raise click.BadParameter("1 to 64 printable characters", param_hint="NAME")
    if db.session.scalar(select(User).where(User.name == name)) is not None:
        click.echo(f"error: a user named {name!r} exists already", err=True)
        sys.exit(1)
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, name)
    if problem is not None:
        click.echo(f"error: {MESSAGES_EN[problem]}", err=True)
        sys.exit(1)
    user = create_user(name, Role(role), password)
    if address is not None:
        user.email = address
        db.session.commit()
    record_access(cli_actor(), "create_user", {"user": name, "role": role})
    click.echo(f"created {role} {name}")


def _print_link(issued: accounts.IssuedLink) -> None:
    from flask import current_app, url_for

    if current_app.config.get("PUBLIC_URL"):
        path = url_for("admin.set_password_page", token=issued.token, _external=True)
    else:  # development without a public address: the path, to put after the host
        with current_app.test_request_context():
            path = url_for("admin.set_password_page", token=issued.token)
    click.echo(f"one-time set-password link (valid until {issued.expires_at:%Y-%m-%d %H:%M} UTC):")
    click.echo(path)


def _account(name: str) -> User:
    user = db.session.scalar(select(User).where(User.name == name))
    if user is None:
        click.echo(f"error: no user named {name!r}", err=True)
        sys.exit(1)
    return user


@users_group.command("disable")
@click.argument("name")
@with_appcontext
def users_disable(name: str) -> None:
    """Disable an account: it cannot sign in, and its sessions and links end now."""
    try:
        ended = accounts.set_active(_account(name), False, actor=cli_actor())
    except accounts.AccountError as error:
        click.echo(f"error: {error.en}", err=True)
        sys.exit(1)
    click.echo(f"disabled {name} ({ended} sessions ended)")


@users_group.command("enable")
@click.argument("name")
@with_appcontext
def users_enable(name: str) -> None:
    """Enable a disabled account again (it signs in with its password)."""
    accounts.set_active(_account(name), True, actor=cli_actor())
    click.echo(f"enabled {name}")


@users_group.command("link")
@click.argument("name")
@with_appcontext
def users_link(name: str) -> None:
    """Print a new one-time set-password link for an account (a reset); older ones end."""
    try:
        issued = accounts.issue_password_link(_account(name), actor=cli_actor())
    except accounts.AccountError as error:
        click.echo(f"error: {error.en}", err=True)
        sys.exit(1)
    _print_link(issued)
