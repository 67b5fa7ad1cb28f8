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

from consent_service.admin.access import record_access
from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role
from consent_service.analytics import (
    chart_notes,
    charting,
    figures,
    goals,
    labels,
    mailreports,
    reports,
    rollup,
    sharing,
)
from consent_service.analytics.estimates import corrected
from consent_service.analytics.reports import Filters, Period, Report
from consent_service.analytics.visitors import local_day, zone
from consent_service.consent.services import current_policy
from consent_service.db import utcnow
from consent_service.web.charts import LineChart
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
    raw_compare = args.get("compare", "").strip()
    compare = "previous" if raw_compare in ("1", "on", "true") else raw_compare or None
    if compare is not None and compare not in reports.COMPARE_MODES:
        errors.append("Jämför med perioden före eller med samma period förra året.")
        compare = None
    return Filters(Period(start, end), page, compare), errors


def _editor() -> bool:
    user = current_user()
    return user is not None and user.role_enum is Role.EDITOR


def _report(filters: Filters, *, full: bool, table_limit: int | None = 10) -> Report:
    site = current_policy().site
    period = filters.period
    if full:
        first = min(filters.before().start, period.start) if filters.compare else period.start
        rollup.refresh(site, first, period.end, utcnow())
        report = reports.build_report(site, filters, table_limit, figures.daily_points)
        # The statistics API's definitions and service functions: one set of figures.
        report.visits = visits = figures.aggregate(site, period)
        report.visit_tables = {
            prop: figures.breakdown(site, prop, period, limit=table_limit)
            for prop in reports.VISIT_DIMENSIONS
        }
        if filters.compare:
            report.previous_visits = figures.aggregate(site, filters.before())
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
        report.previous_consent = reports.consent_rate(site, filters.before())
    return report


def _chart(report: Report) -> LineChart:
    compared = labels.COMPARISONS[report.filters.compare or "previous"]
    return charting.daily_chart(report.series, report.previous_series, compared)


@bp.get("/")
@role_required(Role.EDITOR, Role.PRIVACY_OFFICER)
def dashboard() -> tuple[str, int]:
    today = local_day(utcnow())
    filters, errors = parse_filters(request.args, today)
    full = _editor()
    report = _report(filters, full=full)
    chart = _chart(report) if full else None
    notes = chart_notes.annotations_in(current_policy().site, filters.period) if full else []
    query = {"from": filters.period.start.isoformat(), "to": filters.period.end.isoformat()}
    if filters.page:
        query["page"] = filters.page
    if filters.compare:
        query["compare"] = filters.compare
    html = render_template(
        "admin/analytics/dashboard.html",
        report=report,
        chart=chart,
        notes=notes,
        markers=charting.note_markers(chart, filters.period, notes) if chart else (),
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
            before = filters.before()
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


def _editor_name() -> str:
    user = current_user()
    return user.name if user else ""


def _back_to_dashboard(form: Mapping[str, str]) -> BaseResponse:
    """To the dashboard's notes, with the period the editor came from (if it reads well)."""
    filters, errors = parse_filters(form, local_day(utcnow()))
    query: dict[str, Any] = {}
    if not errors and form.get("from"):
        query = {"from": filters.period.start.isoformat(), "to": filters.period.end.isoformat()}
        if filters.compare:
            query["compare"] = filters.compare
    return redirect(url_for("analytics_admin.dashboard", **query, _anchor="notes-heading"), 303)


def _note_page(
    errors: list[str], *, note_id: int | None, day: str, text: str, form: Mapping[str, str]
) -> tuple[str, int]:
    html = render_template("admin/analytics/annotation.html", errors=errors, note_id=note_id,
                           day=day, text=text, back={k: form.get(k, "") for k in
                                                     ("from", "to", "compare")})  # fmt: skip
    return html, 400 if errors else 200


@bp.post("/annotations")
@role_required(Role.EDITOR)
def annotation_create() -> BaseResponse | tuple[str, int]:
    day, text = request.form.get("day", "")[:40], request.form.get("text", "")[:1000]
    try:
        chart_notes.add_annotation(current_policy().site, day, text, by=_editor_name(),
                                   now=utcnow())  # fmt: skip
    except chart_notes.AnnotationError as exc:
        return _note_page([str(exc)], note_id=None, day=day, text=text, form=request.form)
    return _back_to_dashboard(request.form)


@bp.get("/annotations/<int:note_id>")
@role_required(Role.EDITOR)
def annotation_page(note_id: int) -> tuple[str, int]:
    note = chart_notes.get_annotation(current_policy().site, note_id)
    if note is None:
        abort(404)
    return _note_page([], note_id=note.id, day=note.day.isoformat(), text=note.text,
                      form=request.args)  # fmt: skip


@bp.post("/annotations/<int:note_id>")
@role_required(Role.EDITOR)
def annotation_update(note_id: int) -> BaseResponse | tuple[str, int]:
    day, text = request.form.get("day", "")[:40], request.form.get("text", "")[:1000]
    try:
        note = chart_notes.update_annotation(current_policy().site, note_id, day, text,
                                             by=_editor_name(), now=utcnow())  # fmt: skip
    except chart_notes.AnnotationError as exc:
        return _note_page([str(exc)], note_id=note_id, day=day, text=text, form=request.form)
    if note is None:
        abort(404)
    return _back_to_dashboard(request.form)


@bp.post("/annotations/<int:note_id>/delete")
@role_required(Role.EDITOR)
def annotation_delete(note_id: int) -> BaseResponse:
    if not chart_notes.remove_annotation(current_policy().site, note_id):
        abort(404)
    return _back_to_dashboard(request.form)


def _shares_page(
    errors: list[str], *, label: str = "", expires: str = "", new_url: str | None = None
) -> tuple[str, int]:
    now = utcnow()
    links = sharing.list_links(current_policy().site)
    html = render_template(
        "admin/analytics/shares.html",
        links=[(link, sharing.state_of(link, now)) for link in links],
        states=sharing.LinkState,
        errors=errors,
        label=label,
        expires=expires,
        new_url=new_url,
        today=local_day(now),
        max_days=sharing.MAX_DAYS,
    )
    return html, 400 if errors else (201 if new_url else 200)


@bp.get("/shares")
@role_required(Role.EDITOR)
def shares_page() -> tuple[str, int]:
    return _shares_page([])


@bp.post("/shares")
@role_required(Role.EDITOR)
def share_create() -> tuple[str, int]:
    label, expires = request.form.get("label", "")[:200], request.form.get("expires", "")[:40]
    now, site = utcnow(), current_policy().site
    try:
        ends = sharing.expiry(expires, local_day(now), zone())
        new = sharing.create_link(site, label, ends, by=_editor_name(), now=now)
    except sharing.ShareError as exc:
        return _shares_page([str(exc)], label=label, expires=expires)
    # A link opens the figures to people without an account: it belongs in the access log.
    record_access(_editor_name(), "share_create", {"link": new.id, "site": site,
                  "expires": ends.isoformat() if ends else None})  # fmt: skip
    # Shown this once: only the token's hash is kept.
    url = url_for("analytics_shared.shared_dashboard", token=new.token, _external=True)
    return _shares_page([], new_url=url)


@bp.post("/shares/<int:link_id>/revoke")
@role_required(Role.EDITOR)
def share_revoke(link_id: int) -> BaseResponse:
    site = current_policy().site
    if not sharing.revoke_link(site, link_id, by=_editor_name(), now=utcnow()):
        abort(404)
    record_access(_editor_name(), "share_revoke", {"link": link_id, "site": site})
    return redirect(url_for("analytics_admin.shares_page"), 303)


def _reports_page(
    errors: list[str], *, email: str = "", frequency: str = "weekly", language: str = "sv"
) -> tuple[str, int]:
    user = current_user()
    subscriptions = (
        mailreports.subscriptions_of(current_policy().site, user.id) if user is not None else []
    )
    html = render_template(
        "admin/analytics/reports.html",
        subscriptions=subscriptions,
        errors=errors,
        email=email,
        frequency=frequency,
        # Not `language`: that names the page's own language for the number filters.
        mail_language=language,
        mail_enabled=bool(current_app.config.get("SMTP_HOST")),
    )
    return html, 400 if errors else 200


@bp.get("/reports")
@role_required(Role.EDITOR)
def reports_page() -> tuple[str, int]:
    return _reports_page([])


@bp.post("/reports")
@role_required(Role.EDITOR)
def report_subscribe() -> BaseResponse | tuple[str, int]:
    form = request.form
    email, frequency = form.get("email", "")[:300], form.get("frequency", "")[:20]
    language = form.get("language", "")[:20]
    user = current_user()
    assert user is not None  # role_required signed someone in
    try:
        mailreports.subscribe(current_policy().site, user.id, email, frequency, language,
                              utcnow())  # fmt: skip
    except mailreports.SubscriptionError as exc:
        return _reports_page([str(exc)], email=email, frequency=frequency, language=language)
    return redirect(url_for("analytics_admin.reports_page"), 303)


@bp.post("/reports/<int:subscription_id>/delete")
@role_required(Role.EDITOR)
def report_unsubscribe(subscription_id: int) -> BaseResponse:
    user = current_user()
    assert user is not None  # role_required signed someone in
    if not mailreports.unsubscribe(current_policy().site, user.id, subscription_id):
        abort(404)
    return redirect(url_for("analytics_admin.reports_page"), 303)
