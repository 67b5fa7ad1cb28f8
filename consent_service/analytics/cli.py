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
