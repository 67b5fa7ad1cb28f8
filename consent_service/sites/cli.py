"""`consent-service sites add|list`: the sites one deployment serves."""

from __future__ import annotations

from typing import BinaryIO

import click
from flask.cli import with_appcontext

sites_group = click.Group("sites", help="The sites this deployment serves.")


@sites_group.command("add")
@click.argument("domain")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="An exact origin whose pages embed the banner, e.g. https://www.knivsta.se "
    "(repeat for several).",
)
@click.option("--cookie-domain", help="Domain of the consent cookie, e.g. .knivsta.se.")
@click.option(
    "--time-zone",
    default="Europe/Stockholm",
    show_default=True,
    help="The zone whose calendar days the site's statistics count.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.File("rb"),
    help="A policy TOML file (default: a copy of the default site's policy).",
)
@with_appcontext
def add(
    domain: str,
    origins: tuple[str, ...],
    cookie_domain: str | None,
    time_zone: str,
    policy_file: BinaryIO | None,
) -> None:
    """Add a site; it answers at once with its policy published as version 1."""
    from consent_service.cli import cli_actor
    from consent_service.sites import store

    try:
        document = store.parse_toml(policy_file.read()) if policy_file else None
        site = store.add_site(
            domain,
            list(origins),
            cookie_domain=cookie_domain,
            time_zone=time_zone,
            policy=document,
            by=cli_actor(),
        )
    except (store.SiteError, store.DraftError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Added {site.domain}: embed it with /embed/consent.js?site={site.domain}")


@sites_group.command("list")
@with_appcontext
def list_sites() -> None:
    """List the sites: domain, policy version, origins, cookie domain, time zone."""
    from consent_service.sites.services import all_sites

    for site in all_sites():
        mark = " (default: from the settings)" if site.default else ""
        click.echo(
            f"{site.domain}{mark}\tversion {site.policy.version}\t"
            f"{' '.join(site.origins) or '-'}\t{site.cookie_domain or '-'}\t"
            f"{site.time_zone.key}"
        )
