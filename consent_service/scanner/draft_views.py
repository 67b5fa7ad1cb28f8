"""`POST /admin/scans/<id>/declare`: an undeclared cookie of a scan into the policy draft."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role
from consent_service.db import utcnow
from consent_service.scanner.admin_views import _job, bp
from consent_service.scanner.drafting import add_to_draft, undeclared_cookies
from consent_service.scanner.jobs import stored_report


@bp.post("/<int:job_id>/declare")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def declare_cookie(job_id: int) -> BaseResponse:
    job = _job(job_id)
    name = request.form.get("name", "")[:300]
    found = {c.name: c for c in undeclared_cookies(stored_report(job.report_json))}
    user = current_user()
    if name not in found or user is None:
        abort(404)
    draft_id = add_to_draft(found[name], user, utcnow().date())
    return redirect(url_for("policy_admin.draft_page", draft_id=draft_id) + "#declarations", 303)
