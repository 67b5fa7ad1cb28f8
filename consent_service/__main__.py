"""The `consent-service` console script: the Flask CLI of `create_app()`, plus `check`.

It sits above every domain (it builds the whole app), so nothing in the package imports it.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from consent_service import create_app
from consent_service.config import ConfigError
from consent_service.deploy_check import Issue, deploy_issues, report


def _create_app() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Operate the consent service."""


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


if __name__ == "__main__":
    main()
