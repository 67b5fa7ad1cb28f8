"""The citizen's receipt e-mail: sent when an idea with an address comes in.

The submission only writes an `idea_outbox` row in the transaction that stores the idea, so
a slow or unreachable SMTP server can neither delay nor fail a submission. The row is
delivered right after the answer has gone out (`deliver_receipts`, called when the
response closes) and, when that fails, again by `consent-service ideas send-mail` (a timer
every few minutes) with growing waits, `MAX_ATTEMPTS` times in all. Each outcome is a line
in the idea's history ("Kvitto skickat" / "Kvitto kunde inte skickas").
"""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from consent_service.db import db, utcnow
from consent_service.ideas import mail, services
from consent_service.ideas.catalog import LOOP_STAGES, current_catalog
from consent_service.ideas.models import Idea, IdeaEvent
from consent_service.ideas.records import IdeaOutbox
from consent_service.web.formatting import format_datetime
from consent_service.web.origins import own_origin

# The municipality's clock for the time received, as on the status page.
ZONE = ZoneInfo("Europe/Stockholm")
MAX_ATTEMPTS = 8
FIRST_WAIT = dt.timedelta(minutes=5)  # doubled after every failure: about 21 hours in all

SUBJECT = {
    "sv": "Vi har tagit emot din idé {reference}",
    "en": "We have received your idea {reference}",
}
BODY = {
    "sv": (
        "Hej{name}!\n\n"
        "Tack för din idé \u201d{title}\u201d. Vi har tagit emot den {received}.\n\n"
        "Ditt referensnummer: {reference}\n"
        "Följ idén här: {url}\n\n"
        "Vad händer nu?\n"
        "Innovationsteamet läser alla idéer. Vi arbetar vidare med dem i kommunens "
        "innovationsloop: {loop}. På sidan ovan ser du var din idé är, och du får e-post "
        "när den får ny status. Där kan du också dra tillbaka idén eller ta bort dina "
        "kontaktuppgifter.\n\n"
        "Din idé är en allmän handling. Det betyder att vem som helst kan begära att få läsa "
        "den. Ditt namn och din e-postadress visar vi aldrig offentligt.\n\n"
        "Vänliga hälsningar\nInnovationsteamet, Uppsala kommun\n\n"
        "Du får det här brevet för att du lämnade din e-postadress och sa att vi får "
        "kontakta dig om idén.\n"
    ),
    "en": (
        "Hello{name},\n\n"
        "Thank you for your idea \u201c{title}\u201d. "
        "We received it on {received} (Swedish time).\n\n"
        "Your reference number: {reference}\n"
        "Follow the idea here: {url}\n\n"
        "What happens next?\n"
        "The innovation team reads every idea and works on them in the municipality's "
        "innovation loop: {loop}. The page above shows where your idea is, and you get an "
        "e-mail when its status changes. There you can also withdraw the idea or delete "
        "your contact details.\n\n"
        "Your idea is a public record (allmän handling): anyone may ask to read it. We never "
        "show your name or e-mail address publicly.\n\n"
        "Kind regards\nThe innovation team, Uppsala kommun\n\n"
        "You receive this because you gave your e-mail address and said we may contact you "
        "about the idea.\n"
    ),
}


@dataclass(frozen=True)
class Delivered:
    sent: int = 0
    retrying: int = 0
    given_up: int = 0
    nothing_to_send: int = 0

    def summary(self) -> str:
        return (
            f"{self.sent} receipt(s) sent, {self.retrying} to retry, {self.given_up} given up, "
            f"{self.nothing_to_send} without an address any more"
        )


def compose(idea: Idea, to: str, name: str | None) -> EmailMessage:
    language = idea.language if idea.language in SUBJECT else "en"
    url = url_for("ideas.status_page", token=services.status_token(idea.reference), _external=True)
    received = format_datetime(idea.received_at.astimezone(ZONE), "short", language=language)
    catalog = current_catalog()
    loop = ", ".join(catalog.stage_label(s, language) for s in LOOP_STAGES)
    message = EmailMessage()
    message["Subject"] = SUBJECT[language].format(reference=idea.reference)
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="ideas.invalid")
    message.set_content(
        BODY[language].format(
            name=f" {name}" if name else "",
            title=idea.title,
            received=received,
            reference=idea.reference,
            url=url,
            loop=loop,
        )
    )
    return message


def _take(row_id: int, now: dt.datetime) -> IdeaOutbox | None:
    """Count an attempt and push the next one back, so a concurrent run leaves the row."""
    with db.writing() as session:
        row = session.get(IdeaOutbox, row_id, with_for_update=True)
        if row is None or row.done_at is not None or row.next_attempt_at > now:
            return None
        row.attempts += 1
        row.next_attempt_at = now + FIRST_WAIT * 2 ** (row.attempts - 1)
        return row


def _finish(row_id: int, idea_id: int, outcome: str, event: str | None) -> None:
    with db.writing() as session:
        row = session.get(IdeaOutbox, row_id, with_for_update=True)
        if row is not None:
            row.done_at = utcnow()
            row.outcome = outcome
        if event is not None:
            session.add(IdeaEvent(idea_id=idea_id, occurred_at=utcnow(), kind=event))


def deliver_receipts(*, idea_id: int | None = None, now: dt.datetime | None = None) -> Delivered:
    """Send the receipts that are due (of one idea, or all); failures wait and try again."""
    now = now or utcnow()
    counts = {"sent": 0, "retrying": 0, "given_up": 0, "nothing_to_send": 0}
    if not mail.mail_enabled():
        return Delivered()
    query = select(IdeaOutbox.id).where(
        IdeaOutbox.done_at.is_(None), IdeaOutbox.next_attempt_at <= now
    )
    if idea_id is not None:
        query = query.where(IdeaOutbox.idea_id == idea_id)
    due = db.session.scalars(query.order_by(IdeaOutbox.id)).all()
    db.session.rollback()
    for row_id in due:
        row = _take(row_id, now)
        if row is None:
            continue
        db.session.rollback()
        idea = db.session.get(Idea, row.idea_id)
        contact = idea.contact if idea else None
        if idea is None or contact is None or not contact.contact_ok or not contact.email:
            _finish(row.id, row.idea_id, "no_contact", None)
            counts["nothing_to_send"] += 1
            continue
        try:
            mail.send(compose(idea, contact.email, contact.name), contact.email)
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("receipt for %s failed: %s", idea.reference, exc)
            if row.attempts >= MAX_ATTEMPTS:
                _finish(row.id, row.idea_id, "failed", "receipt_failed")
                counts["given_up"] += 1
            else:
                counts["retrying"] += 1
            continue
        _finish(row.id, row.idea_id, "sent", "receipt_sent")
        counts["sent"] += 1
    return Delivered(**counts)


def deliver_after(response: BaseResponse, reference: str) -> BaseResponse:
    """Send the idea's receipt once the answer has gone out (the response closes)."""
    if not mail.mail_enabled():
        return response
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy's target
    base_url = own_origin()

    def run() -> None:
        # The request context is gone by now: a fresh one gives url_for the same origin.
        with app.test_request_context(base_url=base_url):
            try:
                idea_id = db.session.scalar(select(Idea.id).where(Idea.reference == reference))
                if idea_id is not None:
                    deliver_receipts(idea_id=idea_id)
            except Exception:  # after the answer nothing may propagate; the timer retries
                app.logger.exception("receipt for %s: delivery after the answer failed", reference)

    response.call_on_close(run)
    return response
