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
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consent_service.sites.policy import CATEGORIES
from consent_service.consent.services import current_policy
from consent_service.db import db, utcnow
from consent_service.scanner.crawler import BrowserSettings, Limits, ScanError, crawl, normalise
from consent_service.scanner.models import ScanJob
from consent_service.scanner.report import as_html, as_json_text
from consent_service.scanner.services import (
    Report,
    build_report,
    declarations_from_policy,
    load_known,
    site_of,
)

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
    checked = scannable_url(url, current_app.config["ALLOWED_ORIGINS"])
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
    db.session.rollback()  # no read transaction held open through a minutes-long scan
    values: dict[str, object]
    try:
        report = run_scan(url, max_pages, lambda done, total: record_progress(job_id, done, total))
    except ScanError as exc:
        values = {"status": "failed", "exit_code": 2, "error": str(exc)}
    except Exception as exc:  # the browser or its driver failing: could not scan either
        values = {"status": "failed", "exit_code": 2, "error": f"{type(exc).__name__}: {exc}"}
    else:
        values = {
            "status": "done",
            "exit_code": report.exit_code,
            "findings": len(report.findings),
            "pages_done": len(report.pages),
            "report_json": as_json_text(report),
            "report_html": as_html(report, current_policy().version),
        }
    with db.writing() as session:
        session.execute(
            update(ScanJob).where(ScanJob.id == job_id).values(finished_at=utcnow(), **values)
        )
    db.session.rollback()  # end the read transaction: see the row just written
    finished = db.session.get(ScanJob, job_id)
    assert finished is not None
    return finished


def report_summary(job: ScanJob) -> dict[str, int]:
    """Findings per kind, from the stored JSON report."""
    if not job.report_json:
        return {}
    counts: dict[str, int] = {}
    for finding in json.loads(job.report_json)["findings"]:
        counts[finding["kind"]] = counts.get(finding["kind"], 0) + 1
    return counts
