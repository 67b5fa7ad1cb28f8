"""`consent-service scan URL`: the compliance scanner's command line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from consent_service.consent.policy import CATEGORIES
from consent_service.consent.services import current_policy
from consent_service.scanner.crawler import BrowserSettings, Limits, ScanError, crawl
from consent_service.scanner.report import as_html, as_json_text
from consent_service.scanner.services import build_report, declarations_from_policy, load_known


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
    policy = current_policy()
    settings = BrowserSettings(
        executable_path=current_app.config["CHROMIUM_PATH"],
        # Not a setting: tests map their host names to 127.0.0.1 (--host-resolver-rules).
        extra_args=tuple(current_app.config.get("SCANNER_CHROMIUM_ARGS", ())),
        accept_labels=tuple(policy.texts[lang]["accept_all"] for lang in policy.languages),
    )
    try:
        observations = asyncio.run(crawl(url, settings, Limits(pages=pages)))
    except ScanError as exc:
        click.echo(f"error: could not scan: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the browser or its driver failing: could not scan either
        click.echo(f"error: could not scan: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    report = build_report(
        observations, declarations_from_policy(policy.cookies), load_known(), CATEGORIES
    )
    text = as_json_text(report) if output_format == "json" else as_html(report, policy.version)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    click.echo(
        f"{len(report.findings)} finding(s) on {len(report.pages)} page(s) of {report.url}",
        err=True,
    )
    sys.exit(report.exit_code)
