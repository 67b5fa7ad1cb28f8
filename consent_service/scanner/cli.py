"""`consent-service scan URL` and `consent-service worker`: the scanner's command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from consent_service.consent.services import current_policy
from consent_service.db import utcnow
from consent_service.scanner.crawler import ScanError
from consent_service.scanner.jobs import claim_next, run_job, run_scan
from consent_service.scanner.report import as_html, as_json_text


@click.command("scan")
@click.argument("url")
@click.option(
    "--pages",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Scan at most this many pages: the start page, its same-site links, the sitemap's.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "html"]),
    default="json",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@with_appcontext
def scan(url: str, pages: int, output_format: str, output: Path | None) -> None:
    """Scan a site's pages for cookies, storage and requests before and after consent.

    Exits 0 without findings, 1 with findings, 2 when the site could not be scanned.
    """
    try:
        report = run_scan(url, pages)
    except ScanError as exc:
        click.echo(f"error: could not scan: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the browser or its driver failing: could not scan either
        click.echo(f"error: could not scan: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    if output_format == "json":
        text = as_json_text(report)
    else:
        text = as_html(report, current_policy().version)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    click.echo(
        f"{len(report.findings)} finding(s) on {len(report.pages)} page(s) of {report.url}",
        err=True,
    )
    sys.exit(report.exit_code)


@click.command("worker")
@click.option("--once", is_flag=True, help="Run the queued scans, then stop.")
@click.option(
    "--poll-seconds",
    type=click.FloatRange(0.1, 3600),
    default=5.0,
    show_default=True,
    help="How often to look for a queued scan.",
)
@with_appcontext
def worker(once: bool, poll_seconds: float) -> None:
    """Run the scans staff queued in the admin, one at a time."""
    while True:
        job_id = claim_next(utcnow())
        if job_id is None:
            if once:
                return
            time.sleep(poll_seconds)
            continue
        job = run_job(job_id)
        click.echo(f"scan {job.id} of {job.url}: {job.status}, exit {job.exit_code}", err=True)
