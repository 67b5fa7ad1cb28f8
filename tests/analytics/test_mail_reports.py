"""E-mailed weekly and monthly reports through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, update

from consent_service.admin.models import Role, User
from consent_service.analytics import mailreports
from consent_service.analytics.editor_models import SentReport
from consent_service.analytics.reports import Period
from consent_service.db import db
from tests.analytics.test_editor_tools import earlier_traffic
from tests.analytics.test_visits import day_start, known_traffic
from tests.conftest import make_app
from tests.helpers.servers import free_port
from tests.helpers.smtp import Mailbox
from tests.helpers.staff import make_staff

NBSP = "\u00a0"
SITE = "uppsala.se"
# Monday 9 March 2026, 07:00 in Stockholm: last week is 2-8 March, the week before 23 Feb-1 Mar.
MONDAY = day_start(dt.date(2026, 3, 9)) + dt.timedelta(hours=7)
APRIL = day_start(dt.date(2026, 4, 1)) + dt.timedelta(hours=7)


def mail_app(tmp_path: Path, port: int) -> Flask:
    return make_app(tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none",
                    SMTP_FROM="Besöksstatistik <statistik@uppsala.test>",
                    PUBLIC_URL="https://samtycke.uppsala.test")  # fmt: skip


def subscribe(app: Flask, name: str, email_address: str, frequency: str, language: str) -> int:
    user_id = make_staff(app, name, Role.EDITOR)
    with app.app_context():
        mailreports.subscribe(SITE, user_id, email_address, frequency, language, MONDAY)
    return user_id


def figures_of(body: str) -> dict[str, str]:
    """'Besök                     4 (+100 %; 2)' → {'Besök': '4 (+100 %; 2)'}."""
    lines = {}
    for line in body.splitlines():
        name, sep, rest = line.partition("  ")
        if sep and rest.strip() and not line[:1].isdigit():
            lines[name.strip()] = rest.strip()
    return lines


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    # Mail lines end in CRLF on the wire.
    return str(plain.get_content()).replace("\r\n", "\n"), str(html.get_content())


def test_report_periods() -> None:
    weekly = mailreports.report_periods("weekly", dt.date(2026, 3, 11))  # a Wednesday
    assert weekly == (Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8)),
                      Period(dt.date(2026, 2, 23), dt.date(2026, 3, 1)))  # fmt: skip
    monthly = mailreports.report_periods("monthly", dt.date(2026, 3, 1))
    assert monthly == (Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
                       Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)))  # fmt: skip


def test_subscribers_get_their_figures_once_in_their_language(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = mail_app(tmp_path, port)
    earlier_traffic(app)  # 1 March (the week before) and a year earlier
    known_traffic(app)  # 2 March
    subscribe(app, "anna", "anna@uppsala.test", "weekly", "sv")
    subscribe(app, "bob", "bob@uppsala.test", "monthly", "en")

    with app.app_context():
        outcome = mailreports.send_reports(MONDAY)
    assert sorted(outcome.sent) == ["anna@uppsala.test 2026-03-02", "bob@uppsala.test 2026-02-01"]
    weekly = next(m for to, m in box.mails if to == ["anna@uppsala.test"])
    assert weekly["Subject"] == "Besöksstatistik för uppsala.se, vecka 10"
    assert weekly["From"] == "Besöksstatistik <statistik@uppsala.test>"
    plain, html = parts(weekly)
    assert "2 mars 2026 \u2013 8 mars 2026, jämfört med veckan före" in plain
    # 2-8 March: 3 visitors, 4 visits, 6 views, 2 bounces, 600 s per visit;
    # 23 Feb-1 Mar: 2 visitors, 2 visits, 3 views, 1 bounce, 150 s per visit.
    assert figures_of(plain) == {
        "Besökare (summa per dag)": f"3 (+50{NBSP}%; 2)",
        "Besök": f"4 (+100{NBSP}%; 2)",
        "Sidvisningar": f"6 (+100{NBSP}%; 3)",
        "Avvisningsfrekvens": f"50{NBSP}% (+0{NBSP}procentenheter; 50{NBSP}%)",
        "Genomsnittlig besökstid": f"10{NBSP}min 0{NBSP}s (+300{NBSP}%; 2{NBSP}min 30{NBSP}s)",
    }
    assert "Mest besökta sidor (besökare)\n1. /a  2\n2. /b  2\n3. /c  1\n" in plain
    assert ("https://samtycke.uppsala.test/admin/statistics/?from=2026-03-02&to=2026-03-08"
            "&compare=previous") in plain  # fmt: skip
    assert '<html lang="sv">' in html and f"+300{NBSP}%" in html and "/a</th>" in html

    monthly = next(m for to, m in box.mails if to == ["bob@uppsala.test"])
    assert monthly["Subject"] == "Visitor statistics for uppsala.se, February 2026"
    plain, html = parts(monthly)
    assert figures_of(plain)["Visits"] == "0 (\u2013; 0)"  # nothing in February or January
    assert "No page views in the period." in plain and '<html lang="en">' in html

    # A rerun the same day (or a second host) sends nothing twice.
    with app.app_context():
        again = mailreports.send_reports(MONDAY + dt.timedelta(hours=3))
    assert again.sent == [] and again.skipped == 2 and len(box.mails) == 2

    # On 1 April: March for the monthly subscriber, in English, against an empty February.
    with app.app_context():
        april = mailreports.send_reports(APRIL)
    assert sorted(april.sent) == ["anna@uppsala.test 2026-03-23", "bob@uppsala.test 2026-03-01"]
    plain, _ = parts(next(m for to, m in box.mails[2:] if to == ["bob@uppsala.test"]))
    assert "March 1, 2026 \u2013 March 31, 2026, compared with the month before" in plain
    # 1 and 2 March: 5 visitors, 6 visits, 9 views, 3 bounces, (300 + 2400) s / 6 visits;
    # /a seen by 2 visitors each day, /b by 1 and 2, /c by 1.
    assert figures_of(plain) == {
        "Visitors (sum per day)": "5 (new; 0)",
        "Visits": "6 (new; 0)",
        "Page views": "9 (new; 0)",
        "Bounce rate": "50% (new; 0%)",
        "Average visit duration": f"7{NBSP}min 30{NBSP}s (new; 0{NBSP}s)",
    }
    assert "Top pages (visitors)\n1. /a  4\n2. /b  3\n3. /c  1\n" in plain
    with app.app_context():
        recorded = db.session.scalar(select(func.count()).select_from(SentReport)
                                     .where(SentReport.sent_at.is_not(None)))  # fmt: skip
    assert recorded == 4


def test_a_failed_delivery_is_tried_again(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    closed = free_port()  # nothing listens here
    app = mail_app(tmp_path, closed)
    subscribe(app, "anna", "anna@uppsala.test", "weekly", "sv")
    with app.app_context():
        failed = mailreports.send_reports(MONDAY)
        assert failed.failed == ["anna@uppsala.test 2026-03-02"] and failed.sent == []
        assert db.session.scalar(select(func.count()).select_from(SentReport)) == 0
    app.config["SMTP_PORT"] = port
    with app.app_context():
        assert mailreports.send_reports(MONDAY).sent == ["anna@uppsala.test 2026-03-02"]
    assert len(box.mails) == 1


def test_closed_accounts_and_other_roles_get_nothing(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = mail_app(tmp_path, port)
    closed = subscribe(app, "anna", "anna@uppsala.test", "weekly", "sv")
    moved = subscribe(app, "bob", "bob@uppsala.test", "weekly", "sv")
    with app.app_context():
        with db.writing() as session:
            session.execute(update(User).where(User.id == closed).values(active=False))
            session.execute(update(User).where(User.id == moved).values(role="innovation"))
        assert mailreports.send_reports(MONDAY).sent == []
    assert box.mails == []


def test_the_command(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    app = mail_app(tmp_path, port)
    subscribe(app, "anna", "anna@uppsala.test", "weekly", "en")
    result = app.test_cli_runner().invoke(args=["analytics", "send-reports"])
    assert result.exit_code == 0, result.output
    assert "1 report(s) sent, 0 already sent, 0 failed" in result.output
    assert len(box.mails) == 1 and box.mails[0][1]["Subject"].startswith("Visitor statistics")
    again = app.test_cli_runner().invoke(args=["analytics", "send-reports"])
    assert "0 report(s) sent, 1 already sent" in again.output and len(box.mails) == 1
    (tmp_path / "plain").mkdir()
    without = make_app(tmp_path / "plain")
    refused = without.test_cli_runner().invoke(args=["analytics", "send-reports"])
    assert refused.exit_code == 1 and "CONSENT_SMTP_HOST is not set" in refused.output


def test_purge_forgets_old_records_of_sent_reports(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    _, port = mailbox
    app = mail_app(tmp_path, port)
    subscribe(app, "anna", "anna@uppsala.test", "weekly", "sv")
    with app.app_context():
        assert mailreports.send_reports(MONDAY).sent == ["anna@uppsala.test 2026-03-02"]
        # The week ended 8 March 2026; 400 days later it is still kept, a day after not.
        kept = day_start(dt.date(2027, 4, 12)) + dt.timedelta(hours=7)
        assert mailreports.purge_sent_records(kept).startswith("0 record(s)")
        result = app.test_cli_runner().invoke(args=["purge"])
        assert result.exit_code == 0 and "statistics reports" in result.output
        gone = kept + dt.timedelta(days=1)
        assert mailreports.purge_sent_records(gone).startswith("1 record(s)")
        assert db.session.scalar(select(func.count()).select_from(SentReport)) == 0
