"""E-mailed weekly and monthly summaries for subscribed editors.

`consent-service analytics send-reports` (a systemd timer, deploy/systemd) sends each
subscriber the last complete week (Monday to Sunday) or calendar month of their site, in
their language: visitors, visits, page views, bounce rate, visit duration and the top
pages, each with the change against the week or month before — the statistics API's
figures (figures.py). A report is claimed in `analytics_sent_reports` before it is handed
to the SMTP server, so a rerun, or a second host running the timer, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from consent_service.admin.models import Role, User
from consent_service.analytics import figures, labels
from consent_service.analytics.editor_models import ReportSubscription, SentReport
from consent_service.analytics.reports import Period
from consent_service.analytics.visitors import local_day
from consent_service.analytics.visits import Figures
from consent_service.db import db
from consent_service.mail import send
from consent_service.web.formatting import (
    format_change,
    format_date,
    format_number,
    format_percent,
    format_points,
)

FREQUENCIES = ("weekly", "monthly")
LANGUAGES = ("sv", "en")
TOP_PAGES = 5
# Records of sent reports (with the address) are kept this long: a rerun only ever needs the
# last week's and month's, the rest answers "did I get the March report?" for a year.
SENT_RECORD_DAYS = 400
# One address, no list: a subscriber's own, typed by them.
EMAIL = re.compile(r"[^@\s,;<>\"()\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}")

TEXT = {
    "sv": {
        "subject_weekly": "Besöksstatistik för {site}, vecka {week}",
        "subject_monthly": "Besöksstatistik för {site}, {month}",
        "title": "Besöksstatistik för {site}",
        "period": "{start} \u2013 {end}, jämfört med {before}",
        "before_weekly": "veckan före",
        "before_monthly": "månaden före",
        "visitors": "Besökare (summa per dag)",
        "visits": "Besök",
        "pageviews": "Sidvisningar",
        "bounce_rate": "Avvisningsfrekvens",
        "visit_duration": "Genomsnittlig besökstid",
        "points": "procentenheter",
        "new": "ny",
        "figure": "Siffra",
        "now": "Perioden",
        "then": "Perioden före",
        "change": "Förändring",
        "top_pages": "Mest besökta sidor",
        "visitors_word": "besökare",
        "page": "Sida",
        "no_pages": "Inga sidvisningar under perioden.",
        "only_consent": "Bara besökare som sagt ja till statistik räknas; en besökare räknas "
        "per dag.",
        "dashboard": "Hela statistiken",
        "why": "Du får det här brevet för att du prenumererar på besöksstatistiken. "
        "Avsluta prenumerationen här",
    },
    "en": {
        "subject_weekly": "Visitor statistics for {site}, week {week}",
        "subject_monthly": "Visitor statistics for {site}, {month}",
        "title": "Visitor statistics for {site}",
        "period": "{start} \u2013 {end}, compared with {before}",
        "before_weekly": "the week before",
        "before_monthly": "the month before",
        "visitors": "Visitors (sum per day)",
        "visits": "Visits",
        "pageviews": "Page views",
        "bounce_rate": "Bounce rate",
        "visit_duration": "Average visit duration",
        "points": "percentage points",
        "new": "new",
        "figure": "Figure",
        "now": "This period",
        "then": "Period before",
        "change": "Change",
        "top_pages": "Top pages",
        "visitors_word": "visitors",
        "page": "Page",
        "no_pages": "No page views in the period.",
        "only_consent": "Only visitors who allowed statistics are counted; a visitor is counted "
        "per day.",
        "dashboard": "All statistics",
        "why": "You receive this because you subscribed to the visitor statistics. "
        "Unsubscribe here",
    },
}


class SubscriptionError(ValueError):
    """The subscription cannot be saved as given; the message says why (in Swedish)."""


@dataclass(frozen=True)
class Line:
    """One figure of the summary: its name, this period's and the earlier one's text, change."""

    name: str
    now: str
    then: str
    change: str


@dataclass(frozen=True)
class Summary:
    site: str
    frequency: str
    language: str
    period: Period
    before: Period
    lines: list[Line]
    pages: list[tuple[str, str, str]]  # page, visitors, page views (as text)
    subject: str
    dashboard_url: str
    settings_url: str


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)  # "address period_start"
    skipped: int = 0  # already sent (or claimed) for the period
    failed: list[str] = field(default_factory=list)


# --- subscriptions --------------------------------------------------------------------------


def subscribe(
    site: str, user_id: int, email: str, frequency: str, language: str, now: dt.datetime
) -> ReportSubscription:
    """Subscribe an editor (or change the address and language of the same frequency)."""
    email = email.strip()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise SubscriptionError("Ange en e-postadress, till exempel namn@uppsala.se.")
    if frequency not in FREQUENCIES:
        raise SubscriptionError("Välj veckovis eller månadsvis.")
    if language not in LANGUAGES:
        raise SubscriptionError("Välj svenska eller engelska.")
    with db.writing() as session:
        row = session.scalar(
            select(ReportSubscription)
            .where(ReportSubscription.site == site, ReportSubscription.user_id == user_id,
                   ReportSubscription.frequency == frequency)
            .with_for_update()
        )  # fmt: skip
        if row is None:
            row = ReportSubscription(site=site, user_id=user_id, email=email, frequency=frequency,
                                     language=language, created_at=now)  # fmt: skip
            session.add(row)
        else:
            row.email, row.language = email, language
        session.flush()
        session.expunge(row)
    return row


def subscriptions_of(site: str, user_id: int) -> list[ReportSubscription]:
    rows = list(
        db.session.scalars(
            select(ReportSubscription)
            .where(ReportSubscription.site == site, ReportSubscription.user_id == user_id)
            .order_by(ReportSubscription.id)
        )
    )
    for row in rows:
        db.session.expunge(row)
    db.session.rollback()
    return rows


def unsubscribe(site: str, user_id: int, subscription_id: int) -> bool:
    with db.writing() as session:
        result = session.execute(
            delete(ReportSubscription).where(
                ReportSubscription.site == site,
                ReportSubscription.user_id == user_id,
                ReportSubscription.id == subscription_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))


# --- the periods ----------------------------------------------------------------------------


def report_periods(frequency: str, today: dt.date) -> tuple[Period, Period]:
    """The last complete week (Monday to Sunday) or calendar month before `today`, and the one
    before it."""
    if frequency == "weekly":
        monday = today - dt.timedelta(days=today.weekday())
        period = Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))
        return period, period.previous()
    first = today.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    period = Period(last_month_end.replace(day=1), last_month_end)
    before_end = period.start - dt.timedelta(days=1)
    return period, Period(before_end.replace(day=1), before_end)


# --- the summary ----------------------------------------------------------------------------


def _lines(now: Figures, then: Figures, language: str) -> list[Line]:
    t = TEXT[language]

    def number(n: float) -> str:
        return format_number(n, None, language)

    def change(a: float, b: float) -> str:
        shown = format_change(a, b, language)
        return shown if shown is not None else (t["new"] if a else "\u2013")

    rate_change = f"{format_points(now.bounce_rate, then.bounce_rate, language)}\u00a0{t['points']}"
    return [
        Line(t["visitors"], number(now.visitors), number(then.visitors),
             change(now.visitors, then.visitors)),
        Line(t["visits"], number(now.visits), number(then.visits), change(now.visits, then.visits)),
        Line(t["pageviews"], number(now.pageviews), number(then.pageviews),
             change(now.pageviews, then.pageviews)),
        Line(t["bounce_rate"], format_percent(now.bounce_rate / 100, 0, language),
             format_percent(then.bounce_rate / 100, 0, language),
             rate_change if then.visits else change(now.visits, 0)),
        Line(t["visit_duration"], labels.duration(now.visit_duration, language),
             labels.duration(then.visit_duration, language),
             change(now.visit_duration, then.visit_duration)),
    ]  # fmt: skip


def summarise(site: str, frequency: str, language: str, today: dt.date) -> Summary:
    """The figures of the subscriber's last complete period, in their language."""
    t = TEXT[language]
    period, before = report_periods(frequency, today)
    now, then = figures.aggregate(site, period), figures.aggregate(site, before)
    pages = [
        (
            page,
            format_number(f.visitors, None, language),
            format_number(f.pageviews, None, language),
        )
        for page, f in figures.breakdown(site, "page", period, limit=TOP_PAGES)
    ]
    if frequency == "weekly":
        subject = t["subject_weekly"].format(site=site, week=period.start.isocalendar().week)
    else:
        month = format_date(period.start, "LLLL y", language)
        subject = t["subject_monthly"].format(site=site, month=month)
    base = current_app.config.get("PUBLIC_URL") or "http://localhost"
    query = urlencode({"from": period.start.isoformat(), "to": period.end.isoformat(),
                       "compare": "previous"})  # fmt: skip
    return Summary(
        site=site,
        frequency=frequency,
        language=language,
        period=period,
        before=before,
        lines=_lines(now, then, language),
        pages=pages,
        subject=subject,
        dashboard_url=f"{base}/admin/statistics/?{query}",
        settings_url=f"{base}/admin/statistics/reports",
    )


def plain_text(summary: Summary) -> str:
    t, language = TEXT[summary.language], summary.language
    period = t["period"].format(
        start=format_date(summary.period.start, "long", language),
        end=format_date(summary.period.end, "long", language),
        before=t[f"before_{summary.frequency}"],
    )
    out = [t["title"].format(site=summary.site), period, ""]
    width = max(len(line.name) for line in summary.lines)
    for line in summary.lines:
        out.append(f"{line.name:<{width}}  {line.now} ({line.change}; {line.then})")
    out += ["", f"{t['top_pages']} ({t['visitors_word']})"]
    if summary.pages:
        out += [
            f"{n}. {page}  {visitors}" for n, (page, visitors, _) in enumerate(summary.pages, 1)
        ]
    else:
        out.append(t["no_pages"])
    out += ["", t["only_consent"], "", f"{t['dashboard']}: {summary.dashboard_url}", "",
            f"{t['why']}: {summary.settings_url}", ""]  # fmt: skip
    return "\n".join(out)


def compose(summary: Summary, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = summary.subject
    mail["From"] = current_app.config["SMTP_FROM"]
    mail["To"] = to
    mail["Message-ID"] = make_msgid(domain="statistics.invalid")
    mail["Content-Language"] = summary.language
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(plain_text(summary))
    # Without the page context processors: the command runs outside any request.
    html = current_app.jinja_env.get_template("analytics/report_mail.html").render(
        summary=summary, t=TEXT[summary.language], language=summary.language
    )
    mail.add_alternative(html, subtype="html")
    return mail


def purge_sent_records(now: dt.datetime) -> str:
    """Forget which reports went to which address once their period is long past."""
    oldest = local_day(now) - dt.timedelta(days=SENT_RECORD_DAYS)
    with db.writing() as session:
        result = session.execute(delete(SentReport).where(SentReport.period_end < oldest))
        removed = int(getattr(result, "rowcount", 0) or 0)
    return f"{removed} record(s) of sent statistics reports older than {SENT_RECORD_DAYS} days"


# --- sending --------------------------------------------------------------------------------


def _claim(sub: ReportSubscription, period: Period, now: dt.datetime) -> int | None:
    """Record that this address's report for the period is being sent; None if it was."""
    try:
        with db.writing() as session:
            row = SentReport(site=sub.site, email=sub.email.lower(), frequency=sub.frequency,
                             period_start=period.start, period_end=period.end,
                             claimed_at=now)  # fmt: skip
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        return None


def send_reports(now: dt.datetime) -> Outcome:
    """Send every due report once: the last complete week or month of each subscription."""
    outcome = Outcome()
    today = local_day(now)
    subscriptions = list(
        db.session.scalars(
            select(ReportSubscription)
            .join(User, User.id == ReportSubscription.user_id)
            # Only editors still active: a closed account or a changed role stops the mail.
            .where(User.active.is_(True), User.role == Role.EDITOR.value)
            .order_by(ReportSubscription.id)
        )
    )
    for sub in subscriptions:
        db.session.expunge(sub)
    db.session.rollback()
    for sub in subscriptions:
        period, _ = report_periods(sub.frequency, today)
        claim = _claim(sub, period, now)
        if claim is None:
            outcome.skipped += 1
            continue
        try:
            send(compose(summarise(sub.site, sub.frequency, sub.language, today), sub.email),
                  sub.email)  # fmt: skip
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("statistics report to subscription %s failed: %s",
                                       sub.id, exc)  # fmt: skip
            with db.writing() as session:
                session.execute(delete(SentReport).where(SentReport.id == claim))
            outcome.failed.append(f"{sub.email} {period.start}")
            continue
        with db.writing() as session:
            row = session.get(SentReport, claim)
            if row is not None:
                row.sent_at = now
        outcome.sent.append(f"{sub.email} {period.start}")
    return outcome
