"""The scan report as JSON (the contract) or as a printable HTML page in Swedish or English."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from babel.dates import format_timedelta
from flask import current_app

from consent_service.scanner.services import CATEGORY_SV, FINDING_KINDS, Report, ReportChanges

REPORT_LANGUAGES = ("sv", "en")

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

KIND_LABELS_BY_LANGUAGE = {"sv": KIND_LABELS_SV, "en": KIND_LABELS}

# What each kind means, for the report's closing section.
KIND_EXPLANATIONS = {
    "sv": {
        "before_consent": "En kaka eller lagrad nyckel som inte är deklarerad som nödvändig "
        "fanns efter ett första besök där inget val gjordes. Att strunta i bannern är inte "
        "samtycke.",
        "third_party_before_consent": "Innan något val gjordes skickade sidan ett anrop till "
        "en annan webbplats (en annan registrerbar domän), som då får veta besökarens adress "
        "och sidan.",
        "undeclared": "En kaka eller lagrad nyckel som syntes vid något av besöken men som "
        "ingen deklaration i kakpolicyn täcker. Den föreslagna kategorin kommer från en lista "
        "över välkända namn; policyn avgör.",
        "declared_not_seen": "En deklaration som ingen skannad sida satte, inte ens efter "
        "”Acceptera alla”: den kan vara inaktuell, eller sättas bara på sidor som skanningen "
        "inte nådde.",
    },
    "en": {
        "before_consent": "A cookie or storage key that is not declared as necessary was "
        "present after a first visit on which no choice was made. Ignoring the banner is not "
        "consent.",
        "third_party_before_consent": "Before any choice, the page sent a request to another "
        "site (a different registrable domain), which learns the visitor's address and the "
        "page.",
        "undeclared": "A cookie or storage key seen on either visit that no declaration in the "
        "cookie policy covers. The suggested category comes from a list of well-known names; "
        "the policy decides.",
        "declared_not_seen": "A declaration that no scanned page set, even after accepting "
        "all: it may be outdated, or set only on pages the scan did not reach.",
    },
}


# The report's words, by language; sentences with values live in the template.
UI_TEXTS = {
    "sv": {
        "title": "Kakskanning av", "finding": "anmärkning", "findings": "anmärkningar",
        "no_findings": "Inga anmärkningar", "findings_heading": "Anmärkningar",
        "page": "Sida", "subject": "Kaka, nyckel eller webbplats", "detail": "Beskrivning",
        "changes_heading": "Nytt sedan förra skanningen", "new_findings": "Nya anmärkningar",
        "resolved_findings": "Åtgärdade anmärkningar", "new_cookies": "Nya kakor",
        "none": "Inga.", "banner_heading": "Kakbannern som invånaren såg den",
        "cookies_heading": "Kakor", "name": "Namn", "domain": "Domän", "party": "Part",
        "first": "första", "third": "tredje", "before": "Före val", "yes": "ja", "no": "nej",
        "declared_as": "Deklarerad som", "not_declared": "inte deklarerad",
        "lifetime": "Livslängd", "set_by": "Satt av", "unknown": "okänt", "pages": "Sidor",
        "storage_heading": "Lagrade nycklar", "key": "Nyckel", "storage": "Lagring",
        "origin": "Ursprung", "hosts_heading": "Kontaktade webbplatser", "host": "Värd",
        "requests": "Anrop", "pages_heading": "Skannade sidor", "visit": "Besök",
        "status": "HTTP-status", "banner": "Banner", "problem": "Problem",
        "no_choice": "inget val", "accept_all": "acceptera alla",
        "opened": "öppnades", "opened_accepted": "öppnades, accepterades",
        "not_found": "hittades inte", "notes_heading": "Noteringar",
        "reading_heading": "Så läser du rapporten", "evidence_heading": "Bevis",
        "no_cookies": "Inga kakor.", "no_storage": "Inga lagrade nycklar.",
        "no_requests": "Inga anrop.", "session": "sessionskaka",
    },
    "en": {
        "title": "Cookie scan of", "finding": "finding", "findings": "findings",
        "no_findings": "No findings", "findings_heading": "Findings",
        "page": "Page", "subject": "Cookie, key or site", "detail": "Detail",
        "changes_heading": "New since the last scan", "new_findings": "New findings",
        "resolved_findings": "Resolved findings", "new_cookies": "New cookies",
        "none": "None.", "banner_heading": "The banner as a citizen saw it",
        "cookies_heading": "Cookies", "name": "Name", "domain": "Domain", "party": "Party",
        "first": "first", "third": "third", "before": "Before a choice", "yes": "yes",
        "no": "no", "declared_as": "Declared as", "not_declared": "not declared",
        "lifetime": "Lifetime", "set_by": "Set by", "unknown": "unknown", "pages": "Pages",
        "storage_heading": "Storage keys", "key": "Key", "storage": "Storage",
        "origin": "Origin", "hosts_heading": "Sites contacted", "host": "Host",
        "requests": "Requests", "pages_heading": "Pages scanned", "visit": "Visit",
        "status": "HTTP status", "banner": "Banner", "problem": "Problem",
        "no_choice": "no choice", "accept_all": "accept all",
        "opened": "opened", "opened_accepted": "opened, accepted",
        "not_found": "not found", "notes_heading": "Notes",
        "reading_heading": "How to read this report", "evidence_heading": "Evidence",
        "no_cookies": "No cookies.", "no_storage": "No storage keys.",
        "no_requests": "No requests.", "session": "session cookie",
    },
}  # fmt: skip


def describe_lifetime(seconds: int | None, language: str = "en") -> str:
    """`13 months`, `30 minutes` (sv `13 månader`), or a session cookie: from CLDR."""
    if seconds is None:
        return UI_TEXTS[language]["session"]
    # threshold 2: the largest unit that gives at least two of it (400 days → 13 months).
    return str(
        format_timedelta(dt.timedelta(seconds=seconds), threshold=2, format="long", locale=language)
    )


def category_label(category: str | None, language: str) -> str:
    if category is None:
        return UI_TEXTS[language]["not_declared"]
    return CATEGORY_SV.get(category, category) if language == "sv" else category


@dataclass(frozen=True)
class Evidence:
    """Where a report's hash was chained in the consent log."""

    seq: int | str  # a str only as a placeholder, replaced before the report is stored
    sha256: str


@dataclass(frozen=True)
class PreviousScan:
    """The scan a report is compared with."""

    job_id: int
    started_at: dt.datetime | None


def as_json_text(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"


def as_html(
    report: Report,
    policy_version: int,
    *,
    language: str = "sv",
    changes: ReportChanges | None = None,
    previous: PreviousScan | None = None,
    evidence: Evidence | None = None,
) -> str:
    """A standalone page: styles inline, screenshots as data: URIs, printable.

    `changes` against `previous` adds a "new since the last scan" section; `evidence` names
    the consent-log entry that holds the JSON report's hash.
    """
    if language not in REPORT_LANGUAGES:
        raise ValueError(f"the report is written in {', '.join(REPORT_LANGUAGES)}")
    screenshots = [
        {"page": v.page, "data": base64.b64encode(v.screenshot).decode("ascii")}
        for v in report.visits
        if v.screenshot
    ]
    grouped = [
        (kind, [f for f in report.findings if f.kind == kind])
        for kind in FINDING_KINDS
        if any(f.kind == kind for f in report.findings)
    ]
    # The app's Jinja environment without its request-time context: a scan runs from the
    # command line, and the page links nothing of the service.
    template = current_app.jinja_env.get_template("scanner/report.html")
    return template.render(
        report=report,
        language=language,
        started=report.started_at.astimezone(dt.UTC),
        screenshots=screenshots,
        grouped=grouped,
        kinds=KIND_LABELS_BY_LANGUAGE[language],
        explanations=KIND_EXPLANATIONS[language],
        t=UI_TEXTS[language],
        lifetime=lambda seconds: describe_lifetime(seconds, language),
        category=lambda value: category_label(value, language),
        policy_version=policy_version,
        changes=changes,
        previous=previous,
        evidence=evidence,
    )
