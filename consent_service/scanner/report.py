"""The scan report as JSON (the contract) or as a printable HTML page."""

from __future__ import annotations

import base64
import json
from datetime import UTC

from flask import current_app

from consent_service.scanner.services import Report, describe_lifetime

KIND_LABELS = {
    "before_consent": "Set before consent",
    "third_party_before_consent": "Third party contacted before consent",
    "undeclared": "Not declared",
    "declared_not_seen": "Declared, not seen",
}

# The same kinds in the admin's language.
KIND_LABELS_SV = {
    "before_consent": "Satt före samtycke",
    "third_party_before_consent": "Tredje part kontaktad före samtycke",
    "undeclared": "Inte deklarerad",
    "declared_not_seen": "Deklarerad men inte sedd",
}


def as_json_text(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"


def as_html(report: Report, policy_version: int) -> str:
    """A standalone page: styles inline, screenshots as data: URIs, printable."""
    screenshots = [
        {"page": v.page, "data": base64.b64encode(v.screenshot).decode("ascii")}
        for v in report.visits
        if v.screenshot
    ]
    # The app's Jinja environment without its request-time context: a scan runs from the
    # command line, and the page links nothing of the service.
    template = current_app.jinja_env.get_template("scanner/report.html")
    return template.render(
        report=report,
        started=report.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        screenshots=screenshots,
        kinds=KIND_LABELS,
        lifetime=describe_lifetime,
        policy_version=policy_version,
    )
