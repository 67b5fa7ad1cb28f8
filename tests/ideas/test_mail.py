"""Status e-mail to the citizen, through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consent_service.db import db
from consent_service.ideas.models import IdeaEvent
from tests.conftest import make_app
from tests.helpers.servers import free_port
from tests.helpers.smtp import Mailbox
from tests.ideas.conftest import csrf_token, make_staff, sign_in, submit


def mail_app(tmp_path: Path, port: int) -> Flask:
    return make_app(
        tmp_path,
        IDEAS_MIN_FILL_SECONDS=0,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_SECURITY="none",
        SMTP_FROM="Innovationsteamet <innovation@uppsala.test>",
    )


def team_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    make_staff(app, "inno")
    sign_in(client, "inno")
    return client


def move(client: FlaskClient, ref: str, **data: str) -> None:
    token = csrf_token(client, f"/admin/ideas/{ref}")
    response = client.post(f"/admin/ideas/{ref}/move", data={"csrf_token": token, **data})
    assert response.status_code == 303


def status_mails(box: Mailbox) -> list[tuple[str, list[str], EmailMessage]]:
    """The status e-mails, without the receipt every submission with an address also gets."""
    return [m for m in box.envelopes if "status" in m[2]["Subject"]]


def events(app: Flask) -> list[str]:
    with app.app_context():
        return [e.kind for e in db.session.scalars(select(IdeaEvent).order_by(IdeaEvent.id))]


def test_a_public_change_is_mailed_with_consent(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = mail_app(tmp_path, port)
    client = team_client(app)
    receipt = submit(client, name="Ada", email="ada@example.se", contact_ok=True).json
    move(client, receipt["reference"], stage="undersoka", message="Vi pratar med skolorna.")
    ((sender, recipients, mail),) = status_mails(box)
    assert sender == "innovation@uppsala.test" and recipients == ["ada@example.se"]
    assert mail["Subject"] == f"Ny status för din idé {receipt['reference']}"
    text = mail.get_content()
    assert "Hej Ada!" in text and "Undersöka" in text and "Vi pratar med skolorna." in text
    assert receipt["status_url"] in text
    assert events(app)[-1] == "mail_sent"


def test_no_mail_without_consent_or_after_the_contact_is_deleted(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    app = mail_app(tmp_path, port)
    client = team_client(app)
    quiet = submit(client, name="Anonym").json
    move(client, quiet["reference"], stage="ringa_in")
    told = submit(client, title="Annan idé", email="b@example.se", contact_ok=True).json
    path = told["status_url"].removeprefix("http://localhost")
    citizen = app.test_client()
    token = csrf_token(citizen, path)
    citizen.post(path + "/contact/delete", data={"csrf_token": token})
    move(client, told["reference"], stage="ringa_in")
    assert status_mails(box) == []


def test_an_unreachable_mail_server_does_not_undo_the_move(tmp_path: Path) -> None:
    app = mail_app(tmp_path, free_port())  # nothing listens there
    client = team_client(app)
    receipt = submit(client, email="c@example.se", contact_ok=True).json
    move(client, receipt["reference"], stage="fokusera")
    page = client.get(f"/admin/ideas/{receipt['reference']}").get_data(as_text=True)
    assert "E-post om ny status kunde inte skickas" in page
    assert events(app)[-2:] == ["moved", "mail_failed"]


def test_a_board_operation_mails_the_citizen_without_http(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    from consent_service.admin.models import User
    from consent_service.ideas import board
    from consent_service.ideas.models import Idea

    box, port = mailbox
    app = mail_app(tmp_path, port)
    client = team_client(app)
    reference = submit(client, email="d@example.se", contact_ok=True).json["reference"]
    with app.app_context():
        idea = db.session.scalar(select(Idea).where(Idea.reference == reference))
        actor = db.session.scalar(select(User).where(User.name == "inno"))
        assert idea is not None and actor is not None
        change = board.move_idea(
            idea.id, "ringa_in", actor, status_url="https://samtycke.uppsala.test/s/x"
        )
    assert change.mailed is True
    ((_, recipients, mail),) = status_mails(box)
    assert recipients == ["d@example.se"]
    assert "https://samtycke.uppsala.test/s/x" in mail.get_content()


def test_a_stored_address_list_is_never_mailed(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    """An address stored before the one-address rule is not sent to several recipients."""
    from consent_service.ideas.models import Idea, IdeaContact

    box, port = mailbox
    app = mail_app(tmp_path, port)
    client = team_client(app)
    reference = submit(client, email="e@example.se", contact_ok=True).json["reference"]
    with app.app_context():
        idea = db.session.scalar(select(Idea).where(Idea.reference == reference))
        contact = db.session.get(IdeaContact, idea.id if idea else 0)
        assert contact is not None
        contact.email = "e@example.se,postmaster"
        db.session.commit()
    move(client, reference, stage="ringa_in")
    assert status_mails(box) == []
    assert events(app)[-1] == "mail_failed"
