"""Scans as jobs: queued by staff in the admin, run one at a time by `consent-service worker`.

A scan takes minutes and a browser, so it never runs inside a web request. The admin queues
a row; the worker claims it (a conditional update, so two workers never run the same one),
records progress page by page and stores both reports.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import json
import secrets
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consent_service.audit.events import events_for, evidence_digest, record_event
from consent_service.audit.models import EventKind, LogEvent
from consent_service.consent.services import current_policy
from consent_service.db import db, utcnow
from consent_service.scanner.crawler import BrowserSettings, Limits, ScanError, crawl, normalise
from consent_service.scanner.models import ScanJob
from consent_service.scanner.report import Evidence, PreviousScan, as_html, as_json_text
from consent_service.scanner.services import (
    Report,
    ReportChanges,
    build_report,
    compare_reports,
    declarations_from_policy,
    load_known,
    site_of,
)
from consent_service.sites.policy import CATEGORIES
from consent_service.sites.services import UnknownSite, current_site, site_config, use_site

MAX_PAGES = 100
# A running job not finished after this long lost its worker (the scan itself stops at 10 min).
STALE_AFTER = dt.timedelta(minutes=30)
STATUS_LABELS = {
    "queued": "I kö",
    "running": "Pågår",
    "done": "Klar",
    "failed": "Kunde inte skanna",
}


T = TypeVar("T")


class ScanRefused(ValueError):
    """The scan cannot be queued; the message says why, for the form field it names."""

    def __init__(self, message: str, field: str = "url") -> None:
        super().__init__(message)
        self.field = field


def run_scan(
    url: str, max_pages: int, progress: Callable[[int, int], None] | None = None
) -> Report:
    """Crawl and decide, with the app's policy and browser; raises ScanError (exit 2)."""
    policy = current_policy()
    settings = BrowserSettings(
        executable_path=current_app.config["CHROMIUM_PATH"],
        # Not a setting: tests map their host names to 127.0.0.1 (--host-resolver-rules).
        extra_args=tuple(current_app.config.get("SCANNER_CHROMIUM_ARGS", ())),
        accept_labels=tuple(policy.texts[lang]["accept_all"] for lang in policy.languages),
    )
    observations = _run_to_completion(
        lambda: crawl(url, settings, Limits(pages=max_pages), progress)
    )
    return build_report(
        observations, declarations_from_policy(policy.cookies), load_known(), CATEGORIES
    )


def _run_to_completion(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end, also when this thread already runs an event loop.

    Playwright's sync API (the browser tests, a notebook) keeps a loop running in the
    calling thread, where `asyncio.run` refuses to start; the crawl then gets a thread of its
    own, with this thread's context (the app context) copied so progress can be recorded.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, lambda: asyncio.run(make())).result()


def scannable_url(raw: str, allowed_origins: Sequence[str]) -> str:
    """A page of the site itself: staff may not point the server's browser elsewhere."""
    url = normalise(raw.strip())
    if url is None or len(url) > 2000:
        raise ScanRefused("Ange en sidadress som börjar med https:// eller http://.")
    sites = {site_of(urlsplit(origin).hostname or "") for origin in allowed_origins}
    if site_of(urlsplit(url).hostname or "") not in sites:
        listed = ", ".join(sorted(sites)) or "inga (CONSENT_ALLOWED_ORIGINS är tom)"
        raise ScanRefused(f"Bara webbplatsens egna sidor kan skannas: {listed}.")
    return url


def queue_scan(*, url: str, max_pages: int, requested_by: str) -> ScanJob:
    if not 1 <= max_pages <= MAX_PAGES:
        raise ScanRefused(f"Antalet sidor ska vara ett heltal från 1 till {MAX_PAGES}.", "pages")
    checked = scannable_url(url, list(current_site().origins))
    job = ScanJob(
        site=current_policy().site,
        url=checked,
        max_pages=max_pages,
        requested_by=requested_by[:80],
        status="queued",
        pages_done=0,
        pages_total=0,
        created_at=utcnow(),
    )
    with db.writing() as session:
        session.add(job)
        session.flush()
        session.expunge(job)
    return job


def recent_jobs(session: Session, site: str, limit: int = 20) -> list[ScanJob]:
    stmt = select(ScanJob).where(ScanJob.site == site).order_by(ScanJob.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def claim_job(job_id: int, now: dt.datetime) -> bool:
    """Take one queued job (a scheduled scan runs the job it just queued)."""
    with db.writing() as session:
        claimed = session.execute(
            update(ScanJob)
            .where(ScanJob.id == job_id, ScanJob.status == "queued")
            .values(status="running", started_at=now)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def claim_next(now: dt.datetime) -> int | None:
    """Give up on jobs whose worker died, then take the oldest queued job; its id or None."""
    with db.writing() as session:
        session.execute(
            update(ScanJob)
            .where(ScanJob.status == "running", ScanJob.started_at < now - STALE_AFTER)
            .values(status="failed", exit_code=2, finished_at=now, error="the worker stopped")
        )
        job_id = session.scalar(
            select(ScanJob.id).where(ScanJob.status == "queued").order_by(ScanJob.id).limit(1)
        )
        if job_id is None:
            return None
        claimed = session.execute(
            update(ScanJob)
            .where(ScanJob.id == job_id, ScanJob.status == "queued")
            .values(status="running", started_at=now)
        )
        return job_id if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


def record_progress(job_id: int, done: int, total: int) -> None:
    with db.writing() as session:
        session.execute(
            update(ScanJob).where(ScanJob.id == job_id).values(pages_done=done, pages_total=total)
        )


def run_job(job_id: int) -> ScanJob:
    """Run a claimed job to its end and store the outcome; never raises for a bad site."""
    job = db.session.get(ScanJob, job_id)
    if job is None:
        raise LookupError(job_id)
    url, max_pages = job.url, job.max_pages
    try:
        use_site(site_config(job.site))  # its declarations and texts, in this app context
    except UnknownSite:
        return fail_job(job_id, f"Webbplatsen {job.site} finns inte längre i tjänsten.")
    db.session.rollback()  # no read transaction held open through a minutes-long scan
    try:
        report = run_scan(url, max_pages, lambda done, total: record_progress(job_id, done, total))
    except ScanError as exc:
        return fail_job(job_id, str(exc))
    except Exception as exc:  # the browser or its driver failing: could not scan either
        return fail_job(job_id, f"{type(exc).__name__}: {exc}")
    return finish_job(job_id, report)


def fail_job(job_id: int, error: str) -> ScanJob:
    with db.writing() as session:
        session.execute(
            update(ScanJob)
            .where(ScanJob.id == job_id)
            .values(status="failed", exit_code=2, error=error, finished_at=utcnow())
        )
    return _reread(job_id)


def finish_job(job_id: int, report: Report) -> ScanJob:
    """Store a finished scan: its reports, and its JSON report's hash in the consent log.

    One transaction: the job is done exactly when its evidence is chained. The HTML reports
    (Swedish and English) compare with the previous completed scan of the same start
    address and name the consent-log entry.
    """
    report_json = as_json_text(report)
    job = db.session.get(ScanJob, job_id)
    if job is None:
        raise LookupError(job_id)
    site, subject, actor = job.site, str(job.id), job.requested_by
    previous = previous_job(db.session, job.site, job.url, before=job.id)
    changes = (
        compare_reports(report.as_json(), stored_report(previous.report_json))
        if previous is not None and previous.report_json
        else None
    )
    # Rendered before the write transaction, which holds the consent log's chain (and on
    # SQLite the database's write lock): two pages with embedded screenshots take longer
    # than the append. Only the entry's number is unknown until then: a placeholder that no
    # page address or cookie name in the report can contain.
    placeholder = f"\u2063{secrets.token_hex(16)}\u2063"
    html = {
        language: as_html(
            report,
            current_policy().version,
            language=language,
            changes=changes,
            previous=PreviousScan(previous.id, previous.started_at) if previous else None,
            evidence=Evidence(placeholder, evidence_digest(report_json)),
        )
        for language in ("sv", "en")
    }
    db.session.rollback()
    with db.writing() as session:
        event = record_scan_report(
            session, report, report_json, site=site, subject=subject, actor=actor
        )
        seq = str(event.seq)
        session.execute(
            update(ScanJob)
            .where(ScanJob.id == job_id)
            .values(
                status="done",
                exit_code=report.exit_code,
                findings=len(report.findings),
                pages_done=len(report.pages),
                finished_at=utcnow(),
                report_json=report_json,
                report_html=html["sv"].replace(placeholder, seq),
                report_html_en=html["en"].replace(placeholder, seq),
            )
        )
    return _reread(job_id)


def _reread(job_id: int) -> ScanJob:
    db.session.rollback()  # end the read transaction: see the row just written
    finished = db.session.get(ScanJob, job_id)
    assert finished is not None
    return finished


def record_scan_report(
    session: Session, report: Report, report_json: str, *, site: str, subject: str, actor: str
) -> LogEvent:
    """Chain the JSON report's SHA-256 with what was checked (address, pages) and by whom."""
    return record_event(
        session,
        EventKind.SCAN_REPORT,
        site=site,
        subject=subject,
        evidence=report_json,
        actor=actor[:80],
        details={
            "url": report.url,
            "started_at": report.as_json()["started_at"],
            "pages": list(report.pages),
            "findings": len(report.findings),
        },
    )


def previous_job(
    session: Session, site: str, url: str, *, before: int | None = None
) -> ScanJob | None:
    """The latest completed scan of the same site and start address (before job `before`)."""
    stmt = select(ScanJob).where(ScanJob.site == site, ScanJob.url == url, ScanJob.status == "done")
    if before is not None:
        stmt = stmt.where(ScanJob.id < before)
    return session.scalar(stmt.order_by(ScanJob.id.desc()).limit(1))


def job_changes(session: Session, job: ScanJob) -> tuple[ScanJob | None, ReportChanges | None]:
    """The previous completed scan and what changed since, for a finished job."""
    if job.status != "done" or not job.report_json:
        return None, None
    previous = previous_job(session, job.site, job.url, before=job.id)
    if previous is None or not previous.report_json:
        return None, None
    return previous, compare_reports(
        stored_report(job.report_json), stored_report(previous.report_json)
    )


@dataclass(frozen=True)
class JobEvidence:
    """The consent-log entry holding a job's report hash, and whether the stored report
    still has that hash."""

    seq: int
    sha256: str
    matches: bool


def job_evidence(session: Session, job: ScanJob) -> JobEvidence | None:
    if not job.report_json:
        return None
    events = events_for(session, EventKind.SCAN_REPORT, job.site, str(job.id))
    if not events:
        return None
    event = events[-1]
    return JobEvidence(
        event.seq, event.evidence_sha256, evidence_digest(job.report_json) == event.evidence_sha256
    )


def report_summary(job: ScanJob) -> dict[str, int]:
    """Findings per kind, from the stored JSON report."""
    counts: dict[str, int] = {}
    for finding in stored_report(job.report_json).get("findings", []):
        kind = str(finding.get("kind", "")) if isinstance(finding, dict) else ""
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def stored_report(text: str | None) -> dict[str, Any]:
    """A stored JSON report, or {} when there is none or it was damaged: a page shows what
    it can (the evidence section then says the hash no longer matches), never a 500."""
    try:
        report = json.loads(text or "{}")
    except ValueError:
        return {}
    return report if isinstance(report, dict) else {}
