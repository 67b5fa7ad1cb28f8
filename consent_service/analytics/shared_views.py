"""The shared dashboard: one site's statistics, read-only, for anyone holding a link.

No sign-in, no staff menu, nothing that names an editor. The token is the only authority;
the page asks not to be indexed and sends no referrer, so the link does not leak from it.
A revoked or expired link answers 410 Gone, an unknown one 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import Blueprint, Response, make_response, render_template, request

from consent_service.analytics import (
    chart_notes,
    charting,
    figures,
    labels,
    reports,
    rollup,
    sharing,
)
from consent_service.analytics.reports import Filters, Period
from consent_service.analytics.visitors import local_day
from consent_service.db import utcnow
from consent_service.web.formatting import format_number, format_percent
from consent_service.web.languages import accepted_language, language_for

bp = Blueprint("analytics_shared", __name__, url_prefix="/statistics/shared")

LANGUAGES = ("sv", "en")
DEFAULT_DAYS = 30
TABLE_LIMIT = 10

TEXT = {
    "sv": {
        "title": "Besöksstatistik för {site}",
        "about": "En delad, skrivskyddad vy av besöksstatistiken. Bara besökare som sagt ja "
        "till statistik räknas, och en besökare räknas per dag.",
        "valid_until": "Länken gäller till och med {day}.",
        "other_language": "In English",
        "errors": "Filtret kunde inte användas som det var:",
        "shows_instead": "Sidan visar i stället {start} \u2013 {end}.",
        "bad_date": "{raw} är inte ett datum som 2025-01-31.",
        "start_after_end": "Startdatumet ligger efter slutdatumet.",
        "too_long": "Välj en period på högst {days} dagar.",
        "bad_compare": "Jämför med perioden före eller med samma period förra året.",
        "filter": "Period",
        "from": "Från och med",
        "to": "Till och med",
        "compare": "Jämför med",
        "compare_none": "Ingen jämförelse",
        "show": "Visa",
        "summary": "Sammanfattning",
        "visitors": "Besökare (summa per dag)",
        "visits": "Besök",
        "pageviews": "Sidvisningar",
        "bounce_rate": "Avvisningsfrekvens",
        "visit_duration": "Genomsnittlig besökstid",
        "against": "mot {what}",
        "points": "procentenheter",
        "new": "ny",
        "chart": "Sidvisningar och besökare per dag",
        "chart_title": "Sidvisningar och besökare per dag, {start} till {end}",
        "chart_desc": "Linjediagram. Samma siffror finns i tabellen under diagrammet.",
        "chart_scroll": "Diagram, går att rulla i sidled",
        "notes": "Anteckningar",
        "table": "Tabell: sidvisningar och besökare per dag",
        "day": "Dag",
        "day_before": "Dag, {what}",
        "pages": "Mest besökta sidor",
        "page": "Sida",
        "sources": "Källor",
        "source": "Källa",
        "nothing": "Inget att visa för perioden.",
        "table_word": "(tabell)",
        "skip": "Hoppa till innehållet",
        "previous": "perioden före",
        "year": "samma period förra året",
        "direct": "Direkt, bokmärke eller okänd",
    },
    "en": {
        "title": "Visitor statistics for {site}",
        "about": "A shared, read-only view of the visitor statistics. Only visitors who "
        "allowed statistics are counted, and a visitor is counted per day.",
        "valid_until": "The link is valid until {day}.",
        "other_language": "På svenska",
        "errors": "The filter could not be used as it was:",
        "shows_instead": "The page shows {start} \u2013 {end} instead.",
        "bad_date": "{raw} is not a date such as 2025-01-31.",
        "start_after_end": "The first day is after the last.",
        "too_long": "Choose a period of at most {days} days.",
        "bad_compare": "Compare with the period before or with the same period last year.",
        "filter": "Period",
        "from": "From",
        "to": "To",
        "compare": "Compare with",
        "compare_none": "No comparison",
        "show": "Show",
        "summary": "Summary",
        "visitors": "Visitors (sum per day)",
        "visits": "Visits",
        "pageviews": "Page views",
        "bounce_rate": "Bounce rate",
        "visit_duration": "Average visit duration",
        "against": "against {what}",
        "points": "percentage points",
        "new": "new",
        "chart": "Page views and visitors per day",
        "chart_title": "Page views and visitors per day, {start} to {end}",
        "chart_desc": "Line chart. The same figures are in the table below the chart.",
        "chart_scroll": "Chart, scrolls sideways",
        "notes": "Notes",
        "table": "Table: page views and visitors per day",
        "day": "Day",
        "day_before": "Day, {what}",
        "pages": "Top pages",
        "page": "Page",
        "sources": "Sources",
        "source": "Source",
        "nothing": "Nothing to show for the period.",
        "table_word": "(table)",
        "skip": "Skip to content",
        "previous": "the period before",
        "year": "the same period last year",
        "direct": "Direct, bookmark or unknown",
    },
}
GONE = {
    "sv": ("Länken gäller inte längre",
           "Den delade länken till besöksstatistiken har återkallats eller gått ut. Be den "
           "som gav dig länken om en ny."),
    "en": ("The link is no longer valid",
           "The shared link to the visitor statistics has been revoked or has expired. Ask "
           "whoever gave you the link for a new one."),
}  # fmt: skip
UNKNOWN = {
    "sv": ("Länken finns inte",
           "Det finns ingen delad besöksstatistik med den här adressen. Kontrollera att hela "
           "länken kom med."),
    "en": ("No such link",
           "There are no shared visitor statistics at this address. Check that the whole "
           "link was copied."),
}  # fmt: skip


def _language() -> str:
    asked = request.args.get("lang")
    if asked:
        return language_for(asked, LANGUAGES, "sv")
    return accepted_language(LANGUAGES, "sv")


def _filters(
    args: Mapping[str, str], today: dt.date, t: Mapping[str, str]
) -> tuple[Filters, list[str]]:
    errors: list[str] = []

    def date(name: str, default: dt.date) -> dt.date:
        raw = args.get(name, "").strip()
        if not raw:
            return default
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            errors.append(t["bad_date"].format(raw=raw[:40]))
            return default

    end = date("to", today)
    start = date("from", end - dt.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        errors.append(t["start_after_end"])
        start, end = today - dt.timedelta(days=DEFAULT_DAYS - 1), today
    elif (end - start).days + 1 > reports.MAX_PERIOD_DAYS:
        errors.append(t["too_long"].format(days=reports.MAX_PERIOD_DAYS))
        start = end - dt.timedelta(days=reports.MAX_PERIOD_DAYS - 1)
    compare: str | None = args.get("compare", "").strip() or None
    if compare is not None and compare not in reports.COMPARE_MODES:
        errors.append(t["bad_compare"])
        compare = None
    return Filters(Period(start, end), None, compare), errors


def _private(response: Response) -> Response:
    # The token is in the address: send it nowhere, keep it out of caches and indexes.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<token>")
def shared_dashboard(token: str) -> Response:
    now = utcnow()
    language = _language()
    link = sharing.look_up(token, now)
    if link.state is not sharing.LinkState.VALID or link.site is None:
        status = 404 if link.state is sharing.LinkState.UNKNOWN else 410
        texts = UNKNOWN if status == 404 else GONE
        return _private(make_response(render_template("error.html", status=status, texts=texts,
                                                      detail=None), status))  # fmt: skip
    t = TEXT[language]
    site = link.site
    today = local_day(now)
    filters, errors = _filters(request.args, today, t)
    period = filters.period
    before = filters.before() if filters.compare else None
    rollup.refresh(site, min(before.start, period.start) if before else period.start,
                   period.end, now)  # fmt: skip
    series = figures.daily_points(site, period)
    previous_series = figures.daily_points(site, before) if before else None
    visits = figures.aggregate(site, period)
    was = figures.aggregate(site, before) if before else None
    compared = t[filters.compare] if filters.compare else ""
    chart = charting.daily_chart(series, previous_series, compared, language)
    notes = chart_notes.annotations_in(site, period)

    def number(n: float) -> str:
        return format_number(n, None, language)

    def percent(share: float) -> str:
        return format_percent(share, 0, language)

    cards = [
        (t["visitors"], number(visits.visitors), was and number(was.visitors),
         was and labels.change(visits.visitors, was.visitors, language)),
        (t["visits"], number(visits.visits), was and number(was.visits),
         was and labels.change(visits.visits, was.visits, language)),
        (t["pageviews"], number(visits.pageviews), was and number(was.pageviews),
         was and labels.change(visits.pageviews, was.pageviews, language)),
        (t["bounce_rate"], percent(visits.bounce_rate / 100),
         was and percent(was.bounce_rate / 100),
         # In points, as Plausible shows it; nothing to compare when there were no visits.
         was and (labels.point_change(visits.bounce_rate, was.bounce_rate, language)
                  if was.visits else labels.change(visits.visits, 0, language))),
        (t["visit_duration"], labels.duration(visits.visit_duration, language),
         was and labels.duration(was.visit_duration, language),
         was and labels.change(visits.visit_duration, was.visit_duration, language)),
    ]  # fmt: skip
    query = {"from": period.start.isoformat(), "to": period.end.isoformat(), "lang": language}
    if filters.compare:
        query["compare"] = filters.compare
    html = render_template(
        "analytics/shared.html",
        language=language,
        other_language="en" if language == "sv" else "sv",
        t=t,
        token=token,
        site=site,
        link=link,
        filters=filters,
        errors=errors,
        cards=cards,
        compared=compared,
        chart=chart,
        series=series,
        previous_series=previous_series,
        notes=notes,
        markers=charting.note_markers(chart, period, notes),
        pages=figures.breakdown(site, "page", period, limit=TABLE_LIMIT),
        sources=figures.breakdown(site, "source", period, limit=TABLE_LIMIT),
        number=number,
        query=query,
        expires_day=local_day(link.expires_at - dt.timedelta(seconds=1))
        if link.expires_at
        else None,
    )
    return _private(make_response(html, 400 if errors else 200))
