"""The statistics dashboard at /admin/statistics and its CSV exports.

Editors see everything; privacy officers see the aggregate consent figures only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role
from consent_service.analytics import figures, goals, labels, reports, rollup
from consent_service.analytics.estimates import corrected
from consent_service.analytics.reports import Filters, Period, Report
from consent_service.analytics.visitors import local_day
from consent_service.consent.services import current_policy
from consent_service.db import utcnow
from consent_service.web.charts import LineChart, Series, line_chart
from consent_service.web.spreadsheet import csv_rows

bp = Blueprint("analytics_admin", __name__, url_prefix="/admin/statistics")

DEFAULT_DAYS = 30
EXPORTS = ("daily", *reports.TABLE_DIMENSIONS, *reports.VISIT_DIMENSIONS, "funnel", "consent",
           "dropped")  # fmt: skip


def parse_filters(args: Mapping[str, str], today: dt.date) -> tuple[Filters, list[str]]:
    """Read the date range, page and comparison from the query string; say what was wrong."""
    errors: list[str] = []

    def date(name: str, default: dt.date) -> dt.date:
        raw = args.get(name, "").strip()
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            errors.append(f"{raw[:40]} är inte ett datum som 2025-01-31.")
            return default

    end = date("to", today)
    start = date("from", end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        errors.append("Startdatumet ligger efter slutdatumet.")
        start, end = today - dt.timedelta(days=DEFAULT_DAYS - 1), today
    elif (end - start).days + 1 > reports.MAX_PERIOD_DAYS:
        errors.append(f"Välj en period på högst {reports.MAX_PERIOD_DAYS} dagar.")
        start = end - dt.timedelta(days=reports.MAX_PERIOD_DAYS - 1)
    page: str | None = args.get("page", "").strip() or None
    if page is not None and (not page.startswith("/") or len(page.encode()) > 1024):
        errors.append("En sida anges som en sökväg som börjar med /, till exempel /bo-och-leva.")
        page = None
    compare = args.get("compare") in ("1", "on", "true")
    return Filters(Period(start, end), page, compare), errors


def _editor() -> bool:
    user = current_user()
    return user is not None and user.role_enum is Role.EDITOR


def _report(filters: Filters, *, full: bool, table_limit: int | None = 10) -> Report:
    site = current_policy().site
    period = filters.period
    if full:
        first = period.previous().start if filters.compare else period.start
        rollup.refresh(site, first, period.end, utcnow())
        report = reports.build_report(site, filters, table_limit)
        # The statistics API's definitions and service functions: one set of figures.
        report.visits = visits = figures.aggregate(site, period)
        report.visit_tables = {
            prop: figures.breakdown(site, prop, period, limit=table_limit)
            for prop in reports.VISIT_DIMENSIONS
        }
        if filters.compare:
            report.previous_visits = figures.aggregate(site, period.previous())
        rate = report.consent
        report.estimates = {
            name: (counted, corrected(counted, rate.with_statistics, rate.decisions))
            for name, counted in (("Besökare (summa per dag)", visits.visitors),
                                  ("Besök", visits.visits), ("Sidvisningar", visits.pageviews))
        }  # fmt: skip
        return report
    # Privacy officers: the consent figures alone.
    report = Report(filters, [], reports.Totals(0, 0, 0), {}, [],
                    reports.consent_rate(site, period), [])  # fmt: skip
    if filters.compare:
        report.previous_consent = reports.consent_rate(site, period.previous())
    return report


def _chart(report: Report) -> LineChart:
    series = [
        Series("Sidvisningar", "stats-pageviews", [p.pageviews for p in report.series]),
        Series("Besökare", "stats-visitors", [p.visitors for p in report.series]),
    ]
    if report.previous_series is not None:
        series += [
            Series("Sidvisningar, föregående period", "stats-pageviews stats-previous",
                   [p.pageviews for p in report.previous_series]),
            Series("Besökare, föregående period", "stats-visitors stats-previous",
                   [p.visitors for p in report.previous_series]),
        ]  # fmt: skip
    return line_chart([p.day.isoformat() for p in report.series], series)


@bp.get("/")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def dashboard() -> tuple[str, int]:
    today = local_day(utcnow())
    filters, errors = parse_filters(request.args, today)
    full = _editor()
    report = _report(filters, full=full)
    query = {"from": filters.period.start.isoformat(), "to": filters.period.end.isoformat()}
    if filters.page:
        query["page"] = filters.page
    if filters.compare:
        query["compare"] = "1"
    html = render_template(
        "admin/analytics/dashboard.html",
        report=report,
        chart=_chart(report) if full else None,
        errors=errors,
        full=full,
        query=query,
        today=today,
        presets=[(label, today - dt.timedelta(days=n - 1), today)
                 for label, n in (("7 dagar", 7), ("30 dagar", 30), ("12 månader", 365))],
        labels=labels,
        rollup_minutes=max(1, current_app.config["ANALYTICS_ROLLUP_SECONDS"] // 60),
    )  # fmt: skip
    return html, 400 if errors else 200


def _csv(name: str, header: list[str], rows: Iterable[Sequence[Any]]) -> Response:
    # For people: opened in Excel by editors, so Swedish names and values and a BOM.
    body = "".join(csv_rows(header, rows, for_people=True))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="statistik-{name}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _share(rate: reports.ConsentRate) -> float | None:
    """The share in percent with one decimal, written "66,7" in the file."""
    return None if rate.share is None else round(rate.share * 100, 1)


@bp.get("/export/<name>.csv")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def export_csv(name: str) -> Response:
    if name not in EXPORTS:
        abort(404)
    full = _editor()
    if not full and name != "consent":
        abort(403)
    filters, errors = parse_filters(request.args, local_day(utcnow()))
    if errors:
        abort(400, description=" ".join(errors))
    report = _report(filters, full=full, table_limit=None)
    period = filters.period
    if name == "consent":
        rows = [[period.start, period.end, report.consent.decisions,
                 report.consent.with_statistics, _share(report.consent)]]  # fmt: skip
        if report.previous_consent is not None:
            before = period.previous()
            rows.append([before.start, before.end, report.previous_consent.decisions,
                         report.previous_consent.with_statistics,
                         _share(report.previous_consent)])  # fmt: skip
        header = ["Från och med", "Till och med", "Val", "Med statistik",
                  "Andel med statistik (%)"]  # fmt: skip
        return _csv(name, header, rows)
    if name == "daily":
        return _csv(name, ["Dag", "Sidvisningar", "Besökare"],
                    ([p.day, p.pageviews, p.visitors] for p in report.series))  # fmt: skip
    if name == "funnel":
        return _csv(name, ["Steg", "Händelser", "Besökare som nådde steget"],
                    ([labels.FUNNEL_STEPS.get(s.name, s.name), s.events, s.visitors]
                     for s in report.funnel))  # fmt: skip
    if name == "dropped":
        return _csv(name, ["Orsak", "Händelser"],
                    ([labels.REASONS.get(r.value, r.value), r.events]
                     for r in report.dropped))  # fmt: skip
    if name in reports.VISIT_DIMENSIONS:
        header = [labels.VISIT_COLUMN[name], "Besökare", "Besök", "Sidvisningar",
                  "Avvisningsfrekvens (%)", "Genomsnittlig besökstid (s)"]  # fmt: skip
        return _csv(name, header,
                    ([labels.value_label(name, value), f.visitors, f.visits, f.pageviews,
                      f.bounce_rate, f.visit_duration]
                     for value, f in report.visit_tables[name]))  # fmt: skip
    if name == "prop":
        return _csv(
            name,
            ["Händelse", "Egenskap", "Värde", "Händelser", "Besökare"],
            ([*labels.prop_parts(r.value), r.events, r.visitors] for r in report.tables[name]),
        )
    counted = "Händelser" if name == "event" else "Sidvisningar"
    return _csv(name, [labels.COLUMN.get(name, name), counted, "Besökare"],
                ([labels.value_label(name, r.value), r.events, r.visitors]
                 for r in report.tables[name]))  # fmt: skip


@bp.get("/goals")
@role_required(Role.EDITOR)
def goals_page() -> str:
    return _goals_page([])[0]


def _goals_page(errors: list[str], kind: str = "event", value: str = "") -> tuple[str, int]:
    html = render_template(
        "admin/analytics/goals.html",
        goals=goals.list_goals(current_policy().site),
        errors=errors,
        kind=kind,
        value=value,
    )
    return html, 400 if errors else 200


@bp.post("/goals")
@role_required(Role.EDITOR)
def goal_create() -> BaseResponse | tuple[str, int]:
    kind = request.form.get("kind", "")
    value = request.form.get("value", "")[:300]
    user = current_user()
    try:
        goals.add_goal(current_policy().site, kind, value,
                       by=user.name if user else "", now=utcnow())  # fmt: skip
    except goals.GoalError as exc:
        return _goals_page([str(exc)], kind, value)
    return redirect(url_for("analytics_admin.goals_page"), 303)


@bp.post("/goals/<int:goal_id>/delete")
@role_required(Role.EDITOR)
def goal_delete(goal_id: int) -> BaseResponse:
    if not goals.remove_goal(current_policy().site, goal_id):
        abort(404)
    return redirect(url_for("analytics_admin.goals_page"), 303)
