"""`consent-service analytics ...`: export the raw events, bring the daily rollups up to date."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TextIO

import click
from flask.cli import with_appcontext

analytics_group = click.Group("analytics", help="Consent-gated statistics.")


@analytics_group.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "ndjson"]), default="ndjson", show_default=True
)
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="File to write (default: standard output).",
)
@with_appcontext
def export(fmt: str, start: dt.datetime | None, end: dt.datetime | None, output: TextIO) -> None:
    """Export the raw events (no addresses or user agents: none are stored)."""
    from consent_service.analytics.export import count_events, export_events

    first = start.date() if start else None
    last = end.date() if end else None
    total = count_events(first, last)
    with click.progressbar(length=total, label="events", file=sys.stderr,
                           show_pos=True) as bar:  # fmt: skip
        written = export_events(output, fmt, first, last, bar.update)
    output.flush()
    click.echo(f"{written} event(s) exported as {fmt}", err=True)


@analytics_group.command("rollup")
@with_appcontext
def rollup_command() -> None:
    """Roll up the days with new events (run it from cron, e.g. every few minutes)."""
    from consent_service.analytics import rollup
    from consent_service.consent.services import current_policy
    from consent_service.db import utcnow

    now = utcnow()
    done = rollup.finalize_closed_days(now)
    done += rollup.refresh(current_policy().site, dt.date.min, dt.date.max, now)
    click.echo(f"{done} day(s) rolled up")


@analytics_group.command("recount-visits")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (YYYY-MM-DD).")
@with_appcontext
def recount_visits_command(start: dt.datetime | None, end: dt.datetime | None) -> None:
    """Recount the visit figures of past days from their raw events (after goals change)."""
    from consent_service.analytics import rollup
    from consent_service.consent.services import current_policy

    first = start.date() if start else dt.date.min
    last = end.date() if end else dt.date.max
    done = rollup.recount_visits(current_policy().site, first, last)
    click.echo(f"{done} day(s) recounted")


token_group = click.Group("token", help="Read tokens for the statistics API (/api/v1/stats).")
analytics_group.add_command(token_group)


@token_group.command("create")
@click.argument("name")
@click.option("--site", required=True, help="The site's domain name the token may read.")
@with_appcontext
def token_create(name: str, site: str) -> None:
    """Create a read token for one site and print it (it is shown only this once)."""
    from consent_service.analytics import tokens
    from consent_service.db import utcnow
    from consent_service.sites.services import all_sites

    try:
        served = frozenset(s.domain for s in all_sites())
        new = tokens.create_token(name, site, served, utcnow())
    except tokens.TokenError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(new.token)
    click.echo(
        f"Token {new.id} ({new.name}) reads {new.site}. Store it now: only its hash is kept.",
        err=True,
    )


@token_group.command("list")
@with_appcontext
def token_list() -> None:
    """List the read tokens (never the tokens themselves)."""
    from consent_service.analytics import tokens

    for token in tokens.list_tokens():
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
        click.echo(f"{token.id}\t{token.site}\t{token.name}\t"
                   f"created {token.created_at:%Y-%m-%d %H:%M}\t{state}")  # fmt: skip


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int) -> None:
    """Revoke a read token by its id (see `list`); it stops working at once."""
    from consent_service.analytics import tokens
    from consent_service.db import utcnow

    try:
        token = tokens.revoke_token(token_id, utcnow())
    except tokens.TokenError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Token {token.id} ({token.name}, {token.site}) revoked.")


@analytics_group.command("send-reports")
@with_appcontext
def send_reports_command() -> None:
    """E-mail the weekly and monthly summaries that are due (each one once; run it daily)."""
    from flask import current_app

    from consent_service.analytics import mailreports
    from consent_service.db import utcnow

    if not current_app.config.get("SMTP_HOST"):
        raise click.ClickException("CONSENT_SMTP_HOST is not set: no report can be sent.")
    outcome = mailreports.send_reports(utcnow())
    for sent in outcome.sent:
        click.echo(f"sent {sent}")
    for failed in outcome.failed:
        click.echo(f"failed {failed} (tried again at the next run)", err=True)
    click.echo(
        f"{len(outcome.sent)} report(s) sent, {outcome.skipped} already sent, "
        f"{len(outcome.failed)} failed",
        err=True,
    )
    if outcome.failed:
        sys.exit(1)
