"""Funnels and the content reports beside the statistics dashboard (editors only).

`/admin/statistics/funnels`: add, change and remove a site's funnels. The dashboard shows
them with the missing pages, downloads, outbound links, search terms and the visitors of the
last 30 minutes (`analytics_more` in its template); each table has a CSV under
`/admin/statistics/content/<table>.csv`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role
from consent_service.analytics import content, funnels, labels
from consent_service.analytics.reports import MAX_PERIOD_DAYS, Period
from consent_service.analytics.visitors import local_day
from consent_service.consent.services import current_policy
from consent_service.db import utcnow
from consent_service.web.spreadsheet import csv_rows

bp = Blueprint("analytics_reports", __name__, url_prefix="/admin/statistics")

CSV_TABLES = ("funnels", *content.TABLES)
# Headings and the CSV's columns of the content tables: (value column, counted column).
CONTENT_TITLES = {
    "not_found": "Sidor som inte finns (404)",
    "downloads": "Nedladdade filer",
    "outbound": "Utgående länkar",
    "search": "Sökord i webbplatsens sökning",
}
CONTENT_COLUMNS = {
    "not_found": ("Sökväg", "Träffar"),
    "downloads": ("Fil", "Nedladdningar"),
    "outbound": ("Länk", "Klick"),
    "search": ("Sökord", "Sökningar"),
}


@bp.app_context_processor
def _dashboard_helpers() -> dict[str, Any]:
    # A function, not figures: computed only when the dashboard's template calls it.
    return {"analytics_more": _more, "content_titles": CONTENT_TITLES,
            "content_columns": CONTENT_COLUMNS}  # fmt: skip


def _more(period: Period) -> content.ContentReport:
    return content.build(current_policy().site, period, utcnow(), labels.FUNNEL_STEPS)


def _editor_name() -> str:
    user = current_user()
    return user.name if user else ""


def _steps_of(funnel: Any) -> list[tuple[str, str]]:
    return [(s.kind, s.value) for s in funnels.parse_steps(funnel.steps)]


def _page(
    errors: list[str],
    *,
    funnel_id: int | None = None,
    name: str = "",
    steps: Sequence[tuple[str, str]] = (),
) -> tuple[str, int]:
    rows = list(steps) + [("event", "")] * (funnels.MAX_STEPS - len(steps))
    html = render_template(
        "admin/analytics/funnels.html",
        funnels=funnels.list_funnels(current_policy().site),
        steps_of=_steps_of,
        errors=errors,
        funnel_id=funnel_id,
        name=name,
        rows=rows[: funnels.MAX_STEPS],
        max_steps=funnels.MAX_STEPS,
        step_labels=labels.FUNNEL_STEPS,
    )
    return html, 400 if errors else 200


@bp.get("/funnels")
@role_required(Role.EDITOR)
def funnels_page() -> tuple[str, int]:
    return _page([])


@bp.get("/funnels/<int:funnel_id>")
@role_required(Role.EDITOR)
def funnel_edit(funnel_id: int) -> tuple[str, int]:
    funnel = funnels.get_funnel(current_policy().site, funnel_id)
    if funnel is None:
        abort(404)
    return _page([], funnel_id=funnel.id, name=funnel.name, steps=_steps_of(funnel))


def _save(funnel_id: int | None) -> BaseResponse | tuple[str, int]:
    name = request.form.get("name", "")[:200]
    kinds = request.form.getlist("kind")[: funnels.MAX_STEPS * 2]
    values = [v[:300] for v in request.form.getlist("value")[: funnels.MAX_STEPS * 2]]
    typed = [(k, v.strip()) for k, v in zip(kinds, values, strict=False) if v.strip()]
    try:
        steps = funnels.clean_steps(kinds, values)
        funnels.save_funnel(current_policy().site, funnel_id, name, steps,
                            by=_editor_name(), now=utcnow())  # fmt: skip
    except funnels.FunnelError as exc:
        return _page([str(exc)], funnel_id=funnel_id, name=name, steps=typed[: funnels.MAX_STEPS])
    return redirect(url_for("analytics_reports.funnels_page"), 303)


@bp.post("/funnels")
@role_required(Role.EDITOR)
def funnel_create() -> BaseResponse | tuple[str, int]:
    return _save(None)


@bp.post("/funnels/<int:funnel_id>")
@role_required(Role.EDITOR)
def funnel_update(funnel_id: int) -> BaseResponse | tuple[str, int]:
    if funnels.get_funnel(current_policy().site, funnel_id) is None:
        abort(404)
    return _save(funnel_id)


@bp.post("/funnels/<int:funnel_id>/delete")
@role_required(Role.EDITOR)
def funnel_delete(funnel_id: int) -> BaseResponse:
    if not funnels.remove_funnel(current_policy().site, funnel_id):
        abort(404)
    return redirect(url_for("analytics_reports.funnels_page"), 303)


def _period() -> Period:
    """The dashboard's period (`from`, `to`), or 400 with a clear message."""
    today = local_day(utcnow())
    try:
        end = dt.date.fromisoformat(request.args.get("to", "").strip() or today.isoformat())
        start = dt.date.fromisoformat(
            request.args.get("from", "").strip() or (end - dt.timedelta(days=29)).isoformat()
        )
    except ValueError:
        abort(400, description="Ange datum som 2025-01-31 (from och to).")
    if start > end or (end - start).days + 1 > MAX_PERIOD_DAYS:
        abort(400, description=f"Välj en period på högst {MAX_PERIOD_DAYS} dagar, start först.")
    return Period(start, end)


def _csv(name: str, header: list[str], rows: Iterable[Sequence[Any]]) -> Response:
    body = "".join(csv_rows(header, rows, for_people=True))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="statistik-{name}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


@bp.get("/content/<name>.csv")
@role_required(Role.EDITOR)
def content_csv(name: str) -> Response:
    if name not in CSV_TABLES:
        abort(404)
    period = _period()
    site = current_policy().site
    if name == "funnels":
        header = ["Tratt", "Steg", "Besök som nått steget", "Besökare",
                  "Andel av första steget (%)", "Bortfall från steget före",
                  "Bortfall (%)"]  # fmt: skip
        rows = [
            [f.name, step.label, step.visits, step.visitors, _percent(step.of_first),
             step.dropped, _percent(step.dropped_share)]
            for f in content.funnel_reports(site, period, labels.FUNNEL_STEPS)
            for step in f.steps
        ]  # fmt: skip
        return _csv(name, header, rows)
    table = content.content_tables(site, period, limit=None)[name]
    column, counted = CONTENT_COLUMNS[name]
    return _csv(name, [column, counted, "Besökare"],
                ([row.value, row.events, row.visitors] for row in table))  # fmt: skip
