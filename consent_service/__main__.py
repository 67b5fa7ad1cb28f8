"""The `consent-service` console script: the Flask CLI of `create_app()`, plus `check`.

It sits above every domain (it builds the whole app), so nothing in the package imports it.
"""

from __future__ import annotations

import functools
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, ScriptInfo

from consent_service import create_app
from consent_service.config import ConfigError
from consent_service.deploy_check import Issue, deploy_issues, report


def _create_app() -> Flask:
    try:
        return create_app()
    except ConfigError as exc:
        # A clear one-line error (exit 1) instead of a traceback, for every command.
        raise click.ClickException(f"the service refuses to start: {exc}") from exc


@functools.cache
def _command_catalogue() -> Flask:
    """The app built with placeholder settings, only to learn which commands exist.

    Production refuses to start without its keys, so `--help` on a machine not yet
    configured could not load the app and listed none of the domains' commands. The
    catalogue lists them; running one still loads the real app, which then refuses with
    the configuration error. `create_app` touches no database and writes no file.
    """
    placeholder = {
        "CONSENT_ENV": "testing",
        "CONSENT_SECRET_KEY": "placeholder-for-listing-commands-only-0123456789",
        "CONSENT_DATABASE_URL": "sqlite://",
    }
    return create_app({"ENVIRON": placeholder})


class ServiceGroup(FlaskGroup):
    """Flask's command group, listing the app's commands even when the app refuses to start."""

    def _loaded_app(self, ctx: click.Context) -> Flask | None:
        try:
            app: Flask = ctx.ensure_object(ScriptInfo).load_app()
        except click.ClickException:
            return None
        return app

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        names = set(AppGroup.list_commands(self, ctx))
        app = self._loaded_app(ctx) or _command_catalogue()
        names.update(app.cli.list_commands(ctx))
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load_plugin_commands()
        command = AppGroup.get_command(self, ctx, name)
        if command is not None:
            return command
        app = self._loaded_app(ctx)
        if app is None:
            # Its help works; running it loads the app (with_appcontext) and fails there.
            return _command_catalogue().cli.get_command(ctx, name)
        if not current_app or current_app._get_current_object() is not app:  # type: ignore[attr-defined]
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, name)


@click.group(cls=ServiceGroup, create_app=_create_app, add_default_commands=True)
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
        app = create_app()
    except ConfigError as exc:
        issues = [Issue("error", "consent.E001", f"The service refuses to start: {exc}")]
    else:
        issues = deploy_issues(app) if deploy else []
    click.echo(report(issues), err=bool(issues))
    failing = {"error"} if fail_level == "error" else {"error", "warning"}
    sys.exit(1 if any(i.level in failing for i in issues) else 0)


if __name__ == "__main__":
    main()
