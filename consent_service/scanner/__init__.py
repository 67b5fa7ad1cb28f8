"""The compliance scanner: crawl a site in headless Chromium and check it against its policy."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the `scan` command (Playwright loads only when a scan runs)."""
    from consent_service.scanner.cli import scan

    app.cli.add_command(scan)
