"""Mail around the ideas through a real SMTP server (aiosmtpd): the team's digest, the mention
on assignment, the citizen's receipt, and the team member's own settings page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from consent_service.admin.models import User
from consent_service.db import db
from consent_service.ideas import notify, receipts
from consent_service.ideas.models import Idea, IdeaEvent
from consent_service.ideas.records import IdeaDigest, IdeaOutbox
from tests.conftest import make_app
from tests.helpers.servers import free_port
from tests.helpers.smtp import Mailbox
from tests.ideas.conftest import csrf_token, make_staff, sign_in, submit
from tests.ideas.test_mail import mail_app
from tests.ideas.test_nojs import post

PUBLIC = "https://samtycke.uppsala.test"


def team_app(tmp_path: Path, port: int) -> Flask:
    """The mail app with a public address: commands build their links on it."""
    return make_app(
        tmp_path,
        IDEAS_MIN_FILL_SECONDS=0,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_SECURITY="none",
        SMTP_FROM="Innovationsteamet <innovation@uppsala.test>",
        PUBLIC_URL=PUBLIC,
    )


def save_settings(client: FlaskClient, **data: str) -> tuple[int, str]:
    token = csrf_token(client, "/admin/ideas/settings")
    response = client.post("/admin/ideas/settings", data={"csrf_token": token, **data})
    return response.status_code, response.get_data(as_text=True)


def member(app: Flask, name: str, **settings: str) -> FlaskClient:
    client = app.test_client()
    make_staff(app, name)
    sign_in(client, name)
    if settings:
        assert save_settings(client, **settings)[0] == 303
    return client


def subjects(box: Mailbox, to: str) -> list[str]:
    return [str(m["Subject"]) for rcpt, m in box.mails if rcpt == [to]]


def mail_to(box: Mailbox, to: str, word: str) -> str:
    (text,) = [m.get_content() for rcpt, m in box.mails if rcpt == [to] and word in m["Subject"]]
    return str(text)


def sent(response: Any) -> Any:
    """Close the response as a WSGI server does once the answer is out (the receipt goes then)."""
    response.close()
    return response


def run_digest(app: Flask, now: dt.datetime) -> notify.DigestRun:
    with app.app_context():
        return notify.send_digests(now)


# --- the settings page ----------------------------------------------------------------------


def test_a_member_sets_address_and_digest_on_their_own_page(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    app = team_app(tmp_path, mailbox[1])
    client = member(app, "ada")
    page = client.get("/admin/ideas/settings").get_data(as_text=True)
    assert "Mina aviseringar" in page and 'value="weekly"' in page
    assert save_settings(client, email="ada@uppsala.test", digest="weekly", mention="y")[0] == 303
    page = client.get("/admin/ideas/settings").get_data(as_text=True)
    assert "Dina aviseringar är sparade." in page and 'value="ada@uppsala.test"' in page
    assert 'id="digest-weekly" name="digest" value="weekly" checked' in page


def test_bad_settings_are_refused_with_a_message_and_change_nothing(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    app = team_app(tmp_path, mailbox[1])
    client = member(app, "ada", email="ada@uppsala.test", digest="daily")
    cases = [
        ({"email": "ada@uppsala.test", "digest": "hourly"}, "Välj hur ofta"),
        ({"email": "a@b.se,postmaster", "digest": "daily"}, "Skriv en e-postadress"),
        ({"email": "x" * 300 + "@uppsala.test", "digest": "daily"}, "Skriv en e-postadress"),
        ({"email": "", "digest": "daily"}, "Skriv din e-postadress"),
        ({"email": "", "digest": "none", "mention": "y"}, "Skriv din e-postadress"),
    ]
    for data, message in cases:
        status, page = save_settings(client, **data)
        assert status == 400 and message in page, data
    no_token = client.post("/admin/ideas/settings", data={"email": "b@uppsala.test"})
    assert no_token.status_code == 400
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.name == "ada"))
        settings = notify.settings_for(user_id or 0)
        assert settings is not None
        assert (settings.email, settings.digest) == ("ada@uppsala.test", "daily")


# --- the digest -------------------------------------------------------------------------------


def test_the_digest_lists_new_ideas_masked_once_per_period(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = team_app(tmp_path, port)
    citizen = app.test_client()
    submit(citizen, title="Gammal idé före prenumerationen")
    member(app, "ada", email="ada@uppsala.test", digest="daily")
    member(app, "bo", email="bo@uppsala.test", digest="weekly")
    member(app, "cy", email="cy@uppsala.test", digest="none")
    first = submit(citizen, title="Ring mig på 070-123 45 67 om bänkarna").json["reference"]
    second = submit(citizen, title="Fler cykelställ vid stationen").json["reference"]
    submit(citizen, title="Skräp", website="http://spam.example")  # the spam queue

    monday = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)
    run = run_digest(app, monday)
    assert (run.sent, run.failed) == (2, 0)
    text = mail_to(box, "ada@uppsala.test", "Nya idéer")
    assert first in text and second in text and "[telefonnummer borttaget]" in text
    assert "070-123" not in text and "Gammal idé" not in text and "Skräp" not in text
    assert f"{PUBLIC}/admin/ideas/{first}" in text and f"{PUBLIC}/admin/ideas" in text
    assert subjects(box, "bo@uppsala.test") == ["Nya idéer: 2 (2026-W49)"]
    assert subjects(box, "cy@uppsala.test") == []

    # A rerun in the same period sends nothing twice.
    again = run_digest(app, monday + dt.timedelta(hours=2))
    assert (again.sent, again.already) == (0, 2) and len(box.mails) == 2

    # The next day: the daily reader gets only what is new; the weekly one waits for its week.
    third = submit(citizen, title="Belysning i parken").json["reference"]
    run_digest(app, monday + dt.timedelta(days=1))
    text = mail_to(box, "ada@uppsala.test", ": 1 (")
    assert third in text and first not in text
    assert len(subjects(box, "bo@uppsala.test")) == 1
    run_digest(app, monday + dt.timedelta(days=7))
    assert subjects(box, "bo@uppsala.test")[-1] == "Nya idéer: 1 (2026-W50)"
    with app.app_context():
        recorded = db.session.scalars(select(IdeaDigest.period).order_by(IdeaDigest.id)).all()
    assert recorded.count("2026-11-30") == 1 and recorded.count("2026-W49") == 1


def test_a_refused_digest_is_sent_on_the_next_run(tmp_path: Path) -> None:
    port = free_port()  # nothing listens yet
    app = team_app(tmp_path, port)
    member(app, "ada", email="ada@uppsala.test", digest="daily")
    submit(app.test_client())
    now = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)
    assert run_digest(app, now).failed == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdeaDigest)) == 0
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run_digest(app, now + dt.timedelta(hours=1)).sent == 1
    finally:
        controller.stop()
    assert subjects(box, "ada@uppsala.test") == ["Nya idéer: 1 (2026-12-02)"]


def test_the_digest_command(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    app = team_app(tmp_path, port)
    member(app, "ada", email="ada@uppsala.test", digest="daily")
    submit(app.test_client())
    result = app.test_cli_runner().invoke(args=["ideas", "digest"])
    assert result.exit_code == 0, result.output
    assert "1 digest(s) sent" in result.output and len(box.mails) == 1
    again = app.test_cli_runner().invoke(args=["ideas", "digest"])
    assert "0 digest(s) sent" in again.output and "1 already sent" in again.output
    app.config["SMTP_HOST"] = None
    off = app.test_cli_runner().invoke(args=["ideas", "digest"])
    assert off.exit_code == 2 and "CONSENT_SMTP_HOST" in off.output


# --- the mention --------------------------------------------------------------------------


def test_the_new_owner_is_told_but_not_when_they_take_it_themselves(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = team_app(tmp_path, port)
    ada = member(app, "ada", email="ada@uppsala.test", digest="none", mention="y")
    member(app, "bo", email="bo@uppsala.test", digest="none")  # no mention wanted
    reference = submit(app.test_client(), title="Mitt personnummer 19121212-1212").json["reference"]
    with app.app_context():
        ids = {name: id_ for name, id_ in db.session.execute(select(User.name, User.id))}

    def assign(client: FlaskClient, owner: str) -> None:
        token = csrf_token(client, f"/admin/ideas/{reference}")
        data = {"csrf_token": token, "owner": str(ids[owner])}
        assert client.post(f"/admin/ideas/{reference}/owner", data=data).status_code == 303

    assign(ada, "ada")  # took it herself: no mail
    assert box.mails == []
    assign(ada, "bo")  # bo does not want mentions
    assert box.mails == []
    bo = app.test_client()
    sign_in(bo, "bo")
    assign(bo, "ada")
    text = mail_to(box, "ada@uppsala.test", reference)
    assert "bo har gjort dig till ägare" in text and "[personnummer borttaget]" in text
    assert "19121212" not in text and f"{PUBLIC}/admin/ideas/{reference}" in text


# --- the citizen's receipt ------------------------------------------------------------------


def test_a_submission_with_an_address_gets_a_receipt_in_its_language(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = mail_app(tmp_path, port)
    client = app.test_client()
    sv = sent(submit(client, name="Ada", email="ada@example.se", contact_ok=True)).json
    en = sent(
        submit(client, title="Benches", email="bo@example.se", contact_ok=True, language="en")
    )
    sent(submit(client, title="Utan adress", name="Cy"))
    sent(submit(client, title="Skräp", email="victim@example.se", contact_ok=True, website="x"))
    assert sorted(rcpt[0] for rcpt, _ in box.mails) == ["ada@example.se", "bo@example.se"]
    text = mail_to(box, "ada@example.se", "Vi har tagit emot")
    assert sv["reference"] in text and sv["status_url"] in text and "Hej Ada!" in text
    assert "allmän handling" in text and "Vad händer nu?" in text and "Ringa in" in text
    english = mail_to(box, "bo@example.se", "We have received")
    assert en.json["reference"] in english and "public record" in english
    with app.app_context():
        kinds = db.session.scalars(select(IdeaEvent.kind)).all()
        assert kinds.count("receipt_sent") == 2
        assert db.session.scalar(select(func.count()).select_from(IdeaOutbox)) == 2


def test_the_no_js_form_sends_the_receipt_too(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    app = mail_app(tmp_path, port)
    response = sent(post(app.test_client(), email="nojs@example.se", contact_ok="y"))
    assert response.status_code == 303
    assert subjects(box, "nojs@example.se")[0].startswith("Vi har tagit emot din idé IDE-")


def test_an_unreachable_mail_server_never_fails_the_submission(tmp_path: Path) -> None:
    port = free_port()
    app = team_app(tmp_path, port)
    response = sent(submit(app.test_client(), email="ada@example.se", contact_ok=True))
    assert response.status_code == 201
    with app.app_context():
        (row,) = db.session.scalars(select(IdeaOutbox)).all()
        assert (row.attempts, row.done_at) == (1, None)
        due = row.next_attempt_at
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # Not yet due: the command leaves it; once due, it goes out with the public link.
        assert (
            "0 receipt(s) sent" in app.test_cli_runner().invoke(args=["ideas", "send-mail"]).output
        )
        with app.app_context():
            done = receipts.deliver_receipts(now=due)
    finally:
        controller.stop()
    assert done.sent == 1
    assert f"{PUBLIC}/ideas/status/" in mail_to(box, "ada@example.se", "Vi har tagit emot")


def test_a_receipt_gives_up_after_its_attempts_and_says_so(tmp_path: Path) -> None:
    app = team_app(tmp_path, free_port())
    response = sent(submit(app.test_client(), email="ada@example.se", contact_ok=True))
    reference = response.json["reference"]
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        for _ in range(2 * receipts.MAX_ATTEMPTS):
            now += dt.timedelta(days=2)
            receipts.deliver_receipts(now=now)
        row = db.session.scalars(select(IdeaOutbox)).one()
        assert (row.outcome, row.attempts) == ("failed", receipts.MAX_ATTEMPTS)
        idea_id = db.session.scalar(select(Idea.id).where(Idea.reference == reference))
        kinds = db.session.scalars(select(IdeaEvent.kind).where(IdeaEvent.idea_id == idea_id))
        assert list(kinds)[-1] == "receipt_failed"
    page = team_page(app, reference)
    assert "Kvitto kunde inte skickas" in page


def team_page(app: Flask, reference: str) -> str:
    client = member(app, "inno")
    return str(client.get(f"/admin/ideas/{reference}").get_data(as_text=True))


def test_without_a_mail_server_no_receipt_is_queued(app: Flask, client: FlaskClient) -> None:
    """A receipt queued now would arrive long after the submission once SMTP is set up."""
    assert sent(submit(client, email="ada@example.se", contact_ok=True)).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdeaOutbox)) == 0
