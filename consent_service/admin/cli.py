"""`consent-service users ...`: staff accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

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
@with_appcontext
def users_create(role: str, name: str, password_stdin: bool) -> None:
    """Create a staff account; the password is asked for (or read from stdin)."""
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
    create_user(name, Role(role), password)
    click.echo(f"created {role} {name}")
