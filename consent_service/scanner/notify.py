"""E-mail to a site's privacy officers when a scheduled scan's findings changed.

Off unless `CONSENT_SMTP_HOST` is set. Every active privacy officer with an e-mail address
who works on the scanned site (or on every site) gets one message of their own: what is new,
what was resolved, and a link to the scan in the admin. A failed delivery is logged; the scan
and its evidence stay as they are.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, url_for
from sqlalchemy import select

from consent_service.admin.models import Role, User
from consent_service.db import db
from consent_service.mail import send
from consent_service.scanner.jobs import job_changes, stored_report
from consent_service.scanner.models import ScanJob
from consent_service.scanner.report import KIND_LABELS, KIND_LABELS_SV
from consent_service.scanner.services import ReportChanges


def findings_changed(job: ScanJob, changes: ReportChanges | None) -> bool:
    """Against the previous scan of the address; a first scan changed if it found anything."""
    if changes is None:
        return bool(job.findings)
    return changes.findings_changed


def privacy_officers(site: str) -> list[User]:
    """Active privacy officers with an address who work on `site` (or on every site)."""
    users = db.session.scalars(
        select(User)
        .where(User.role == Role.PRIVACY_OFFICER.value, User.active.is_(True))
        .order_by(User.id)
    )
    return [u for u in users if u.email and (not u.site_list or site in u.site_list)]


def job_link(job: ScanJob) -> str:
    if current_app.config.get("PUBLIC_URL"):
        return url_for("scanner_admin.job_page", job_id=job.id, _external=True)
    with current_app.test_request_context():  # development without a public address
        return url_for("scanner_admin.job_page", job_id=job.id)


def _lines(items: list[dict[str, str]], labels: dict[str, str]) -> str:
    return "".join(
        f"  - {labels.get(f.get('kind', ''), f.get('kind', ''))}: "
        f"{f.get('name') or f.get('host') or ''} ({f.get('page', '')})\n"
        for f in items
    )


def compose(job: ScanJob, changes: ReportChanges | None, to: str, link: str) -> EmailMessage:
    """The message: Swedish first, then English; plain text."""
    if changes is None:
        current = stored_report(job.report_json).get("findings", [])
        changes = ReportChanges(new_findings=current, resolved_findings=[], new_cookies=[])
    new, resolved = changes.new_findings, changes.resolved_findings
    mail = EmailMessage()
    mail["Subject"] = (
        f"Kakskanning {job.id} av {job.url}: {len(new)} nya och {len(resolved)} åtgärdade "
        "anmärkningar"
    )
    mail["From"] = current_app.config["SMTP_FROM"]
    mail["To"] = to
    mail["Message-ID"] = make_msgid(domain="scanner.invalid")
    cookies = "".join(f"  - {c.get('name')} ({c.get('domain')})\n" for c in changes.new_cookies)
    none_sv, none_en = "  inga\n", "  none\n"
    mail.set_content(
        f"Hej!\n\nDen schemalagda kakskanningen av {job.url} (skanning {job.id}) har andra "
        "anmärkningar än förra skanningen av samma adress.\n\n"
        f"Nya anmärkningar ({len(new)}):\n{_lines(new, KIND_LABELS_SV) or none_sv}\n"
        f"Åtgärdade anmärkningar ({len(resolved)}):\n"
        f"{_lines(resolved, KIND_LABELS_SV) or none_sv}\n"
        f"Nya kakor ({len(changes.new_cookies)}):\n{cookies or none_sv}\n"
        f"Hela rapporten, med skärmbilder och bevis i samtyckesloggen:\n{link}\n\n"
        "Du får det här brevet som dataskyddsombud för webbplatsen.\n\n"
        "-- In English --\n\n"
        f"The scheduled cookie scan of {job.url} (scan {job.id}) has findings that differ "
        "from the previous scan of the same address.\n\n"
        f"New findings ({len(new)}):\n{_lines(new, KIND_LABELS) or none_en}\n"
        f"Resolved findings ({len(resolved)}):\n{_lines(resolved, KIND_LABELS) or none_en}\n"
        f"The whole report, with screenshots and its evidence in the consent log:\n{link}\n"
    )
    return mail


def notify_if_changed(job: ScanJob) -> int:
    """E-mail the site's privacy officers when the finished job's findings changed; the
    number of messages delivered."""
    if job.status != "done" or not current_app.config.get("SMTP_HOST"):
        return 0
    _, changes = job_changes(db.session, job)
    if not findings_changed(job, changes):
        return 0
    link = job_link(job)
    sent = 0
    for officer in privacy_officers(job.site):
        assert officer.email is not None
        try:
            send(compose(job, changes, officer.email, link), officer.email)
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning(
                "scan %s: e-mail to %s failed: %s", job.id, officer.name, exc
            )
    return sent
