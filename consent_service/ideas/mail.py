"""E-mail to the citizen when an idea's public status changes (only with contact consent).

Off unless `CONSENT_SMTP_HOST` is set. A failed delivery never undoes the team's change:
it is logged and noted in the idea's history.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

from consent_service.db import db, utcnow
from consent_service.ideas.catalog import current_catalog
from consent_service.ideas.models import Idea, IdeaEvent
from consent_service.ideas.services import valid_email
from consent_service.mail import mail_enabled as mail_enabled
from consent_service.mail import send as send

SUBJECT = {
    "sv": "Ny status för din idé {reference}",
    "en": "New status for your idea {reference}",
}
BODY = {
    "sv": (
        "Hej{name}!\n\nDin idé {reference} har ny status: {stage}.\n{explanation}\n\n"
        "{message}Följ idén här: {url}\n\nVänliga hälsningar\nInnovationsteamet, Uppsala kommun\n\n"
        "Du får det här brevet för att du har sagt att vi får kontakta dig om idén. "
        "Vill du inte ha fler brev kan du ta bort dina kontaktuppgifter på sidan ovan.\n"
    ),
    "en": (
        "Hello{name},\n\nYour idea {reference} has a new status: {stage}.\n{explanation}\n\n"
        "{message}Follow the idea here: {url}\n\nKind regards\n"
        "The innovation team, Uppsala kommun\n\n"
        "You receive this because you said we may contact you about the idea. To stop these "
        "messages, delete your contact details on the page above.\n"
    ),
}


def compose(idea: Idea, to: str, name: str | None, message: str | None, url: str) -> EmailMessage:
    catalog = current_catalog()
    language = idea.language if idea.language in SUBJECT else "en"
    stage = idea.stage
    explanation = catalog.stage_explanation(stage, idea.language)
    if idea.close_reason:
        explanation += "\n" + catalog.close_reason(idea.close_reason, idea.language) + "."
    mail = EmailMessage()
    mail["Subject"] = SUBJECT[language].format(reference=idea.reference)
    mail["From"] = current_app.config["SMTP_FROM"]
    mail["To"] = to
    mail["Message-ID"] = make_msgid(domain="ideas.invalid")
    mail.set_content(
        BODY[language].format(
            name=f" {name}" if name else "",
            reference=idea.reference,
            stage=catalog.stage_label(stage, idea.language),
            explanation=explanation,
            message=f"{message}\n\n" if message else "",
            url=url,
        )
    )
    return mail


def notify_citizen(idea_id: int, *, message: str | None, status_url: str) -> bool:
    """Tell the citizen about a public change if they allowed contact; True if sent."""
    if not mail_enabled():
        return False
    # End the caller's read transaction: on SQLite it still sees the rows as they were
    # before the change was committed in its own write transaction.
    db.session.rollback()
    idea = db.session.get(Idea, idea_id)
    contact = idea.contact if idea else None
    if idea is None or contact is None or not contact.contact_ok or not contact.email:
        return False
    if not valid_email(contact.email):
        # Stored before addresses were held to one recipient: never send to a list.
        current_app.logger.warning("status e-mail for %s: not one address", idea.reference)
        kind = "mail_failed"
    else:
        try:
            send(compose(idea, contact.email, contact.name, message, status_url), contact.email)
            kind = "mail_sent"
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("status e-mail for %s failed: %s", idea.reference, exc)
            kind = "mail_failed"
    with db.writing() as session:
        session.add(IdeaEvent(idea_id=idea.id, occurred_at=utcnow(), kind=kind))
    return kind == "mail_sent"
