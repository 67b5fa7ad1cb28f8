"""Scheduled scans e-mail the site's privacy officers when findings change, through a real
SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from consent_service.admin.models import Role, User
from consent_service.consent.services import current_policy
from consent_service.db import db
from consent_service.scanner.notify import notify_if_changed, privacy_officers
from tests.conftest import make_app
from tests.helpers.servers import free_port
from tests.helpers.smtp import Mailbox
from tests.helpers.staff import make_staff
from tests.scanner.test_reports import PIXEL, finished_job, stored
from tests.scanner.test_services import CLEAN, CLEAN_STORAGE, cookie


def staff(app: Flask, name: str, role: Role, email_address: str | None, **values: Any) -> None:
    user_id = make_staff(app, name, role)
    with app.app_context(), db.writing() as session:
        session.execute(
            update(User).where(User.id == user_id).values(email=email_address, **values)
        )


@pytest.fixture
def mail_app(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Flask:
    app = make_app(
        tmp_path,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=mailbox[1],
        SMTP_SECURITY="none",
        SMTP_FROM="Samtyckestjänsten <samtycke@uppsala.test>",
        PUBLIC_URL="https://samtycke.uppsala.test",
    )
    with app.app_context():
        site = current_policy().site
    staff(app, "dso", Role.PRIVACY_OFFICER, "dso@uppsala.test")
    staff(app, "dso-har", Role.PRIVACY_OFFICER, "dso-har@uppsala.test", sites=site)
    staff(app, "dso-annan", Role.PRIVACY_OFFICER, "dso@annan.test", sites="annan.test")
    staff(app, "dso-slutat", Role.PRIVACY_OFFICER, "slutat@uppsala.test", active=False)
    staff(app, "dso-utan-adress", Role.PRIVACY_OFFICER, None)
    staff(app, "redaktor", Role.EDITOR, "redaktor@uppsala.test")
    return app


def notify(app: Flask, job_id: int) -> int:
    with app.app_context():
        return notify_if_changed(stored(app, job_id))


def test_only_the_sites_active_privacy_officers_with_an_address_are_told(
    mail_app: Flask,
) -> None:
    with mail_app.app_context():
        names = [u.name for u in privacy_officers(current_policy().site)]
    assert names == ["dso", "dso-har"]


def test_changed_findings_are_mailed_with_a_summary_and_a_link(
    mail_app: Flask, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    first = finished_job(
        mail_app, "cli:consent", cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE
    )
    assert notify(mail_app, first) == 2  # the first scan: everything it found is news
    box.mails.clear()
    second = finished_job(
        mail_app, "cli:consent", cookies=CLEAN, storage=CLEAN_STORAGE, requests=[PIXEL]
    )
    assert notify(mail_app, second) == 2
    assert sorted(rcpt for rcpt, _ in box.mails) == [
        ["dso-har@uppsala.test"],
        ["dso@uppsala.test"],
    ]
    recipients, mail = box.mails[0]
    assert mail["To"] == recipients[0]  # one message per officer, to that officer only
    assert mail["Subject"] == (
        f"Kakskanning {second} av https://www.uppsala.test/: 1 nya och 2 åtgärdade anmärkningar"
    )
    body = mail.get_content().replace("\r\n", "\n")
    assert "Nya anmärkningar (1):\n  - Tredje part kontaktad före samtycke: px.example.com" in body
    assert "Åtgärdade anmärkningar (2):\n  - Satt före samtycke: _ga" in body
    assert "Resolved findings (2):\n  - Set before consent: _ga" in body
    assert f"https://samtycke.uppsala.test/admin/scans/{second}" in body


def test_nothing_is_mailed_when_findings_are_unchanged_or_absent(
    mail_app: Flask, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    clean = finished_job(mail_app, cookies=CLEAN, storage=CLEAN_STORAGE)
    assert notify(mail_app, clean) == 0  # a first scan without findings
    findings = [*CLEAN, cookie("_ga", "accept_all")]
    notify(mail_app, finished_job(mail_app, cookies=findings, storage=CLEAN_STORAGE))
    box.mails.clear()
    # The same findings again, with a new cookie that is declared: no change in findings.
    again = finished_job(
        mail_app,
        cookies=[*findings, cookie("_pk_id.2.cd", "accept_all")],
        storage=CLEAN_STORAGE,
    )
    assert notify(mail_app, again) == 0 and box.mails == []


def test_an_unreachable_mail_server_costs_the_mail_not_the_scan(tmp_path: Path) -> None:
    app = make_app(
        tmp_path,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=free_port(),  # nobody listens
        SMTP_SECURITY="none",
        SMTP_FROM="samtycke@uppsala.test",
        PUBLIC_URL="https://samtycke.uppsala.test",
    )
    staff(app, "dso", Role.PRIVACY_OFFICER, "dso@uppsala.test")
    job_id = finished_job(app, cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE)
    assert notify(app, job_id) == 0
    assert stored(app, job_id).status == "done"


def test_without_smtp_nothing_is_sent(app: Flask) -> None:
    job_id = finished_job(app, cookies=[*CLEAN, cookie("_ga", "no_choice")], storage=CLEAN_STORAGE)
    assert notify(app, job_id) == 0
