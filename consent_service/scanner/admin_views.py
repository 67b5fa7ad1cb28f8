"""Scans in the admin at /admin/scans: editors and privacy officers queue one and follow it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role
from consent_service.consent.services import current_policy
from consent_service.db import db
from consent_service.scanner.drafting import undeclared_cookies
from consent_service.scanner.jobs import (
    MAX_PAGES,
    STATUS_LABELS,
    ScanRefused,
    job_changes,
    job_evidence,
    queue_scan,
    recent_jobs,
    report_summary,
    stored_report,
)
from consent_service.scanner.models import ScanJob
from consent_service.scanner.report import KIND_LABELS_SV
from consent_service.scanner.services import CATEGORY_SV

bp = Blueprint("scanner_admin", __name__, url_prefix="/admin/scans")
STAFF = (Role.EDITOR, Role.PRIVACY_OFFICER)
DEFAULT_PAGES = 20


def _jobs_page(raw: dict[str, str], error: ScanRefused | None) -> str:
    return render_template(
        "admin/scanner/jobs.html",
        jobs=recent_jobs(db.session, current_policy().site),
        raw=raw,
        error=error,
        status_labels=STATUS_LABELS,
        max_pages=MAX_PAGES,
    )


@bp.get("/")
@role_required(*STAFF)
def jobs_page() -> str:
    return _jobs_page({"url": "", "pages": str(DEFAULT_PAGES)}, None)


@bp.post("/")
@role_required(*STAFF)
def queue_submit() -> BaseResponse | tuple[str, int]:
    raw = {"url": request.form.get("url", "")[:2000], "pages": request.form.get("pages", "")}
    user = current_user()
    assert user is not None  # role_required let only signed-in staff through
    pages = int(raw["pages"]) if raw["pages"].strip().isdecimal() else 0
    try:
        job = queue_scan(url=raw["url"], max_pages=pages, requested_by=user.name)
    except ScanRefused as exc:
        return _jobs_page(raw, exc), 400
    return redirect(url_for(".job_page", job_id=job.id), code=303)


def _job(job_id: int) -> ScanJob:
    job = db.session.get(ScanJob, job_id)
    if job is None or job.site != current_policy().site:
        abort(404)
    return job


@bp.get("/<int:job_id>")
@role_required(*STAFF)
def job_page(job_id: int) -> str:
    job = _job(job_id)
    previous, changes = job_changes(db.session, job)
    return render_template(
        "admin/scanner/job.html",
        job=job,
        status_labels=STATUS_LABELS,
        summary=report_summary(job),
        kind_labels=KIND_LABELS_SV,
        category_labels=CATEGORY_SV,
        previous=previous,
        changes=changes,
        evidence=job_evidence(db.session, job),
        undeclared=undeclared_cookies(stored_report(job.report_json)),
    )


def _download(body: str | None, mimetype: str, name: str) -> Response:
    if body is None:
        abort(404)
    response = Response(body, mimetype=mimetype)
    # A download, not a page of the admin: the report carries its own styles and images.
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/report.html")
@role_required(*STAFF)
def report_html(job_id: int) -> Response:
    job = _job(job_id)
    return _download(job.report_html, "text/html", f"kakskanning-{job.id}.html")


@bp.get("/<int:job_id>/report.en.html")
@role_required(*STAFF)
def report_html_en(job_id: int) -> Response:
    job = _job(job_id)
    return _download(job.report_html_en, "text/html", f"cookie-scan-{job.id}.html")


@bp.get("/<int:job_id>/report.json")
@role_required(*STAFF)
def report_json(job_id: int) -> Response:
    job = _job(job_id)
    return _download(job.report_json, "application/json", f"kakskanning-{job.id}.json")
