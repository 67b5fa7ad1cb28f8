"""`consent-service scan URL` and `consent-service worker`: the scanner's command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from consent_service.admin.access import cli_actor
from consent_service.consent.services import current_policy
from consent_service.db import DatabaseUnavailable, db, utcnow
from consent_service.scanner.crawler import ScanError
from consent_service.scanner.jobs import (
    MAX_PAGES,
    ScanRefused,
    claim_job,
    claim_next,
    previous_job,
    queue_scan,
    record_scan_report,
    run_job,
    run_scan,
    stored_report,
)
from consent_service.scanner.notify import notify_if_changed
from consent_service.scanner.report import (
    REPORT_LANGUAGES,
    Evidence,
    PreviousScan,
    as_html,
    as_json_text,
)
from consent_service.scanner.services import Report, ReportChanges, compare_reports


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
    "--language",
    type=click.Choice(REPORT_LANGUAGES),
    default="sv",
    show_default=True,
    help="The HTML report's language.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report to this file instead of standard output.",
)
@click.option(
    "--scheduled",
    is_flag=True,
    help="Keep the scan with the admin's scans and e-mail the site's privacy officers when "
    "its findings differ from the previous scan of the same address (for the timer).",
)
@with_appcontext
def scan(
    url: str, pages: int, output_format: str, language: str, output: Path | None, scheduled: bool
) -> None:
    """Scan a site's pages for cookies, storage and requests before and after consent.

    Exits 0 without findings, 1 with findings, 2 when the site could not be scanned. The
    JSON report's SHA-256 is recorded in the consent log as evidence.
    """
    if scheduled:
        _scheduled_scan(url, pages, output_format, language, output)
        return
    try:
        report = run_scan(url, pages)
    except ScanError as exc:
        click.echo(f"error: could not scan: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the browser or its driver failing: could not scan either
        click.echo(f"error: could not scan: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    report_json = as_json_text(report)
    evidence, changes, previous = _record_cli_scan(report, report_json)
    if output_format == "json":
        text = report_json
    else:
        text = as_html(
            report, current_policy().version, language=language, changes=changes,
            previous=previous, evidence=evidence,
        )  # fmt: skip
    _write(text, output)
    click.echo(
        f"{len(report.findings)} finding(s) on {len(report.pages)} page(s) of {report.url}",
        err=True,
    )
    sys.exit(report.exit_code)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def _record_cli_scan(
    report: Report, report_json: str
) -> tuple[Evidence | None, ReportChanges | None, PreviousScan | None]:
    """Chain the report's hash (subject "cli", the operator as actor); compare with the
    latest completed scan of the same address in the admin. A database that cannot be
    reached costs the evidence, not the scan: the report is still written."""
    site = current_policy().site
    try:
        with db.writing() as session:
            event = record_scan_report(
                session, report, report_json, site=site, subject="cli", actor=cli_actor()
            )
            evidence = Evidence(event.seq, event.evidence_sha256)
            previous = previous_job(session, site, report.url)
            if previous is None or not previous.report_json:
                return evidence, None, None
            changes = compare_reports(report.as_json(), stored_report(previous.report_json))
            return evidence, changes, PreviousScan(previous.id, previous.started_at)
    except (SQLAlchemyError, DatabaseUnavailable) as exc:
        click.echo(f"warning: the report's hash is not in the consent log: {exc}", err=True)
        return None, None, None


def _scheduled_scan(
    url: str, pages: int, output_format: str, language: str, output: Path | None
) -> None:
    """Queue, run and keep the scan as the admin's scans are kept; notify on changes."""
    try:
        job = queue_scan(url=url, max_pages=min(pages, MAX_PAGES), requested_by=cli_actor())
    except ScanRefused as exc:
        click.echo(f"error: could not scan: {exc}", err=True)
        sys.exit(2)
    if not claim_job(job.id, utcnow()):
        click.echo(f"error: scan {job.id} was taken by a worker", err=True)
        sys.exit(2)
    done = run_job(job.id)
    if done.status != "done":
        click.echo(f"error: could not scan: {done.error}", err=True)
        sys.exit(2)
    html = done.report_html if language == "sv" else done.report_html_en
    text = done.report_json if output_format == "json" else html
    assert text is not None
    _write(text, output)
    sent = notify_if_changed(done)
    click.echo(
        f"scan {done.id}: {done.findings} finding(s) on {done.pages_done} page(s) of {done.url}"
        + (f"; {sent} privacy officer(s) e-mailed about changed findings" if sent else ""),
        err=True,
    )
    sys.exit(done.exit_code if done.exit_code is not None else 2)


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
