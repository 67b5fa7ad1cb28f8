"""Mail to the innovation team: a digest of new ideas, and a mention on assignment.

Each member sets their address and choices on their own page (`TeamMailSettings`). Mail to
the team is written in Swedish with the same lines in English below, like the team's pages
are Swedish first. Titles are masked as on the open idea page: a digest travels through
mail systems the team does not control.

The digest is at most once per member and period: the period's `IdeaDigest` row is
committed before the mail is sent (a unique key on member and period), and removed again
if the SMTP server refuses the mail, so the next run tries that period again.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from consent_service.admin.models import Role, User
from consent_service.db import db, utcnow
from consent_service.ideas import mail, masking
from consent_service.ideas.catalog import SPAM, current_catalog
from consent_service.ideas.models import Idea
from consent_service.ideas.records import DIGEST_CHOICES, IdeaDigest, TeamMailSettings
from consent_service.ideas.services import valid_email

ZONE = ZoneInfo("Europe/Stockholm")
# A digest lists at most this many ideas; the rest are counted and on the board.
DIGEST_MAX_LISTED = 50


class SettingsError(ValueError):
    """A setting the rules do not allow; the message is shown to the team member as it is."""


# --- the member's own settings -------------------------------------------------------------


def settings_for(user_id: int) -> TeamMailSettings | None:
    return db.session.get(TeamMailSettings, user_id)


def save_settings(user: User, *, email: str, digest: str, mention: bool) -> TeamMailSettings:
    """Store a team member's address and choices; switching a digest on starts it from now."""
    email = email.strip()
    if digest not in DIGEST_CHOICES:
        raise SettingsError("Välj hur ofta du vill ha sammanställningen.")
    if email and (len(email) > 254 or not valid_email(email)):
        raise SettingsError("Skriv en e-postadress som namn@uppsala.se.")
    if not email and (digest != "none" or mention):
        raise SettingsError(
            "Skriv din e-postadress, eller välj bort sammanställningen och meddelandena."
        )
    if user.role != Role.INNOVATION.value:
        raise SettingsError("Bara innovationsteamet får e-post om idéer.")
    with db.writing() as session:
        settings = session.get(TeamMailSettings, user.id, with_for_update=True)
        newest = session.scalar(select(func.max(Idea.id))) or 0
        if settings is None:
            settings = TeamMailSettings(user_id=user.id, digest="none", digest_after_id=newest)
            session.add(settings)
        if settings.digest == "none" and digest != "none":
            settings.digest_after_id = newest
        settings.email = email or None
        settings.digest = digest
        settings.mention = mention
        settings.updated_at = utcnow()
    return settings


# --- the digest -------------------------------------------------------------------------------


def period_of(choice: str, now: dt.datetime) -> str:
    """The digest period `now` falls in, on the Swedish calendar: a day or an ISO week."""
    day = now.astimezone(ZONE).date()
    if choice == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


@dataclass(frozen=True)
class DigestRun:
    sent: int = 0
    empty: int = 0
    already: int = 0
    failed: int = 0

    def summary(self) -> str:
        return (
            f"{self.sent} digest(s) sent, {self.empty} without new ideas, "
            f"{self.already} already sent this period, {self.failed} failed"
        )


def new_ideas(after_id: int) -> Sequence[Idea]:
    """Ideas received after `after_id`, outside the spam queue, oldest first."""
    return db.session.scalars(
        select(Idea).where(Idea.id > after_id, Idea.stage != SPAM).order_by(Idea.id)
    ).all()


def _masked_title(idea: Idea) -> str:
    return masking.mask_personal_data(idea.title).text


def compose_digest(to: str, ideas: Sequence[Idea], choice: str, period: str) -> EmailMessage:
    catalog = current_catalog()
    board_url = url_for("ideas_admin.inbox", _external=True)
    lines = []
    for idea in ideas[:DIGEST_MAX_LISTED]:
        stage = catalog.stage_label(idea.stage, "sv") if idea.stage != "new" else "Inkorg"
        link = url_for("ideas_admin.idea_page", reference=idea.reference, _external=True)
        lines.append(f"- {idea.reference} {_masked_title(idea)} ({stage})\n  {link}")
    more = len(ideas) - DIGEST_MAX_LISTED
    if more > 0:
        lines.append(f"… och {more} till / and {more} more")
    when_sv = "i dag" if choice == "daily" else "den här veckan"
    message = EmailMessage()
    message["Subject"] = f"Nya idéer: {len(ideas)} ({period})"
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = to
    message["Message-ID"] = make_msgid(domain="ideas.invalid")
    message.set_content(
        f"Hej!\n\n{len(ideas)} nya idéer har kommit in sedan din förra sammanställning "
        f"({when_sv}, {period}).\n\n" + "\n".join(lines) + f"\n\nIdétavlan: {board_url}\n\n"
        f"({len(ideas)} new ideas since your last digest. Titles are masked as on the open "
        "idea page.)\n\n"
        "Du får det här brevet för att du har valt en sammanställning av nya idéer. Ändra "
        "eller stäng av den under Mina aviseringar på idétavlan. / You chose this digest; "
        "change it under Mina aviseringar.\n"
    )
    return message


def _claim(user_id: int, period: str, ideas: Sequence[Idea], now: dt.datetime) -> int | None:
    """Record the period's digest and move the member's mark on; None if already taken."""
    try:
        with db.writing() as session:
            digest = IdeaDigest(
                user_id=user_id,
                period=period,
                sent_at=now,
                idea_count=len(ideas),
                first_idea_id=ideas[0].id if ideas else None,
                last_idea_id=ideas[-1].id if ideas else None,
            )
            session.add(digest)
            if ideas:
                settings = session.get(TeamMailSettings, user_id, with_for_update=True)
                assert settings is not None
                settings.digest_after_id = max(settings.digest_after_id, ideas[-1].id)
            session.flush()
            return digest.id
    except IntegrityError:
        return None


def _release(digest_id: int, user_id: int, after_id: int) -> None:
    """Undo a claim whose mail was refused, so the next run sends that period again."""
    with db.writing() as session:
        session.execute(delete(IdeaDigest).where(IdeaDigest.id == digest_id))
        settings = session.get(TeamMailSettings, user_id, with_for_update=True)
        if settings is not None:
            settings.digest_after_id = after_id


def send_digests(now: dt.datetime | None = None) -> DigestRun:
    """Send each subscribed team member the ideas new since their last digest, once a period."""
    now = now or utcnow()
    counts = {"sent": 0, "empty": 0, "already": 0, "failed": 0}
    subscribers = db.session.execute(
        select(TeamMailSettings.user_id, TeamMailSettings.email, TeamMailSettings.digest,
               TeamMailSettings.digest_after_id)
        .join(User, User.id == TeamMailSettings.user_id)
        .where(TeamMailSettings.digest != "none", TeamMailSettings.email.is_not(None),
               User.active, User.role == Role.INNOVATION.value)
        .order_by(TeamMailSettings.user_id)
    ).all()  # fmt: skip
    db.session.rollback()
    for user_id, email, choice, after_id in subscribers:
        assert email is not None  # selected with an address
        period = period_of(choice, now)
        ideas = new_ideas(after_id)
        db.session.rollback()
        digest_id = _claim(user_id, period, ideas, now)
        if digest_id is None:
            counts["already"] += 1
            continue
        if not ideas:
            counts["empty"] += 1
            continue
        if not mail.mail_enabled():
            _release(digest_id, user_id, after_id)
            counts["failed"] += 1
            continue
        try:
            mail.send(compose_digest(email, ideas, choice, period), email)
            counts["sent"] += 1
        except (OSError, smtplib.SMTPException) as exc:
            current_app.logger.warning("idea digest to user %s failed: %s", user_id, exc)
            _release(digest_id, user_id, after_id)
            counts["failed"] += 1
    return DigestRun(**counts)


# --- the mention ------------------------------------------------------------------------------


def mention_owner(idea_id: int, owner_id: int, actor: User | None) -> bool:
    """Tell a team member an idea was assigned to them (not when they took it themselves)."""
    if (actor is not None and actor.id == owner_id) or not mail.mail_enabled():
        return False
    db.session.rollback()
    settings = db.session.get(TeamMailSettings, owner_id)
    idea = db.session.get(Idea, idea_id)
    if settings is None or not settings.mention or not settings.email or idea is None:
        return False
    by = actor.name if actor is not None else "tjänsten"
    link = url_for("ideas_admin.idea_page", reference=idea.reference, _external=True)
    message = EmailMessage()
    message["Subject"] = f"Du är ägare till idé {idea.reference}"
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = settings.email
    message["Message-ID"] = make_msgid(domain="ideas.invalid")
    message.set_content(
        f"Hej!\n\n{by} har gjort dig till ägare till idé {idea.reference}: "
        f"{_masked_title(idea)}.\n\n{link}\n\n"
        f"({by} assigned idea {idea.reference} to you.)\n\n"
        "Du får det här brevet för att du vill veta när du blir ägare till en idé. Ändra det "
        "under Mina aviseringar. / Change this under Mina aviseringar.\n"
    )
    try:
        mail.send(message, settings.email)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("mention of %s failed: %s", idea.reference, exc)
        return False
    return True
