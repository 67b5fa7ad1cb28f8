"""`consent-service policy export|import`: a site's policy as TOML, for migration and review."""

from __future__ import annotations

from typing import BinaryIO, TextIO

import click
from flask.cli import with_appcontext

policy_group = click.Group("policy", help="Sites' cookie policies as TOML files.")


@policy_group.command("export")
@click.option("--site", help="The site's domain (default: the deployment's default site).")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")  # fmt: skip
@with_appcontext
def export(site: str | None, output: TextIO) -> None:
    """Print the site's published policy as TOML."""
    from consent_service.sites import store
    from consent_service.sites.services import UnknownSite, default_site, site_config

    try:
        config = site_config(site) if site else default_site()
    except UnknownSite as exc:
        raise click.UsageError(str(exc)) from None
    output.write(store.to_toml(store.document_of(config.policy)))


@policy_group.command("import")
@click.argument("policy_file", type=click.File("rb"))
@click.option("--site", help="The site's domain (default: the deployment's default site).")
@with_appcontext
def import_(policy_file: BinaryIO, site: str | None) -> None:
    """Make a draft of the site's next policy from a TOML file (approve and publish it in the
    admin). The file's `site` and `version` are ignored: the version is assigned at publication."""
    from consent_service.cli import cli_actor
    from consent_service.sites import store
    from consent_service.sites.services import UnknownSite, default_site, site_config

    try:
        config = site_config(site) if site else default_site()
        document = store.parse_toml(policy_file.read())
        draft = store.create_draft(
            config.domain, document, based_on=config.policy.version, by=cli_actor()
        )
    except (UnknownSite, store.DraftError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Draft {draft.id} of {config.domain}'s policy saved: a privacy officer approves "
               "it in the admin (Kakpolicy), then it can be published.")  # fmt: skip
