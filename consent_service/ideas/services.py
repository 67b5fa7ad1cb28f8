"""The rules for ideas: checking and storing a submission, anti-abuse, the citizen's link.

Everything here works without HTTP: the JSON API, the no-JavaScript form and the tests all
call the same functions, so the widget and the fallback page enforce the same rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service import metrics, ratelimit
from consent_service.consent.services import current_policy
from consent_service.db import db, utcnow
from consent_service.ideas import challenges, search
from consent_service.ideas.catalog import CLOSED, INBOX, SPAM, current_catalog
from consent_service.ideas.models import Idea, IdeaContact, IdeaCounter, IdeaEvent
from consent_service.ideas.records import IdeaOutbox

TITLE_MAX = 120
BODY_MAX = 4000
NAME_MAX = 120
EMAIL_MAX = 254
TOPIC_MAX = 64
PAGE_MAX = 2000
DUPLICATE_WINDOW = dt.timedelta(days=1)
STATUS_SALT = "idea-status"
FORM_SALT = "idea-form"
# Patterns are applied with fullmatch: `$` would also match before a trailing newline.
REFERENCE = re.compile(r"IDE-(\d{4})-(\d{6,})")
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Exactly one address, local@domain.tld: a dot-atom local part (letters of any script
# allowed), domain labels of letters, digits and inner hyphens. No list, display name,
# quoted part, comment, space or line break, so that it is one SMTP recipient and one header.
EMAIL = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)"
)
# How many times a client may look up retry keys per idea it may send in a window: enough
# for a few network retries of each idea, too few to probe for other people's keys.
REPLAY_LOOKUPS_PER_IDEA = 5
_NOT_WORD = re.compile(r"[\W_]+")
# Letters of other scripts that look like Latin ones and that NFKC leaves alone (a few from
# Unicode's confusables list, lower case because the text is case-folded first).
_LOOKALIKES = str.maketrans(
    {
        "\u0430": "a",  # cyrillic small letter a
        "\u0435": "e",  # cyrillic small letter ie
        "\u043e": "o",  # cyrillic small letter o
        "\u0440": "p",  # cyrillic small letter er
        "\u0441": "c",  # cyrillic small letter es
        "\u0443": "y",  # cyrillic small letter u
        "\u0445": "x",  # cyrillic small letter ha
        "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
        "\u0458": "j",  # cyrillic small letter je
        "\u0455": "s",  # cyrillic small letter dze
        "\u0501": "d",  # cyrillic small letter komi de
        "\u04bb": "h",  # cyrillic small letter shha
        "\u04cf": "l",  # cyrillic small letter palochka
        "\u03bf": "o",  # greek small letter omicron
        "\u03b1": "a",  # greek small letter alpha
        "\u03bd": "v",  # greek small letter nu
        "\u03c5": "u",  # greek small letter upsilon
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def limits() -> dict[str, int]:
    return {"title": TITLE_MAX, "body": BODY_MAX, "name": NAME_MAX, "email": EMAIL_MAX}


# --- checking a submission -------------------------------------------------------------------


class InvalidIdea(ValueError):
    """One or more fields break the rules; `errors` maps field name to an error code.

    The codes are the keys of the error texts in texts.toml (`title_missing`, …).
    """

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class IdeaInput:
    """A submission after the rules: trimmed, normalised and within the limits."""

    title: str
    body: str
    area: str
    language: str
    topic: str | None = None
    page: str | None = None
    name: str | None = None
    email: str | None = None
    contact_ok: bool = False
    challenge_id: int | None = None


def _clean_line(value: str | None) -> str:
    """One line of text: no control characters, runs of whitespace collapsed, trimmed."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _clean_text(value: str | None) -> str:
    """Multi-line text: CRLF as LF (forms send CRLF, the widget counts LF), trimmed."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def clean_page(value: str | None) -> str | None:
    """The page an idea was sent from, without query or fragment (they may hold personal data)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    page = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return page[:PAGE_MAX]


def check_submission(
    *,
    title: str | None,
    body: str | None,
    area: str | None,
    language: str | None = None,
    topic: str | None = None,
    page: str | None = None,
    name: str | None = None,
    email: str | None = None,
    contact_ok: bool = False,
) -> IdeaInput:
    """Apply the idea rules; raise InvalidIdea naming every broken field."""
    catalog = current_catalog()
    errors: dict[str, str] = {}
    clean_title = _clean_line(title)
    clean_body = _clean_text(body)
    clean_name = _clean_line(name) or None
    clean_email = (email or "").strip(" \t") or None
    if not clean_title:
        errors["title"] = "title_missing"
    elif len(clean_title) > TITLE_MAX:
        errors["title"] = "title_long"
    if not clean_body:
        errors["body"] = "body_missing"
    elif len(clean_body) > BODY_MAX:
        errors["body"] = "body_long"
    if area not in catalog.area_ids():
        errors["area"] = "area_missing"
    if clean_name and len(clean_name) > NAME_MAX:
        errors["name"] = "name_long"
    if clean_email and (len(clean_email) > EMAIL_MAX or not valid_email(clean_email)):
        errors["email"] = "email_invalid"
    elif contact_ok and not clean_email:
        errors["email"] = "email_missing"
    elif clean_email and not contact_ok:
        # An address is kept only with the explicit permission to use it.
        errors["contact_ok"] = "contact_ok_missing"
    if errors:
        raise InvalidIdea(errors)
    assert area is not None
    clean_topic = _clean_line(topic)[:TOPIC_MAX] or None
    return IdeaInput(
        title=clean_title,
        body=clean_body,
        area=area,
        language=catalog.language_for(language),
        topic=clean_topic,
        page=clean_page(page),
        name=clean_name,
        email=clean_email,
        contact_ok=bool(contact_ok and clean_email),
    )


def valid_email(address: str) -> bool:
    """One address with a domain, nothing else (see EMAIL)."""
    return len(address) <= EMAIL_MAX and EMAIL.fullmatch(address) is not None


def _without_format_characters(text: str) -> str:
    # Zero-width spaces and joiners, soft hyphens, BOMs (category Cf) are invisible: a
    # copy with them sprinkled in is the same text to a reader.
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def text_fingerprint(title: str, body: str) -> str:
    """A hash that ignores case, compatibility forms, invisible characters, a few lookalike
    letters, punctuation and spacing: the same idea sent again gets the same hash."""
    text = _without_format_characters(unicodedata.normalize("NFKC", f"{title}\n{body}"))
    text = unicodedata.normalize("NFKC", text.casefold()).translate(_LOOKALIKES)
    normalised = _NOT_WORD.sub(" ", text).strip()
    return hashlib.sha256(normalised.encode()).hexdigest()


# --- the form token: a signed time stamp of when the form was shown ---------------------------


def _form_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SIGNING_KEYS"], salt=FORM_SALT)


def issue_form_token() -> str:
    return _form_serializer().dumps(1)


def form_token_verdict(token: str | None, now: dt.datetime | None = None) -> str | None:
    """None when the form was filled at a human pace, else the spam reason."""
    if not token:
        return "no_form_token"
    try:
        _, signed_at = _form_serializer().loads(token, return_timestamp=True)
    except BadData:
        return "no_form_token"
    age = ((now or utcnow()) - signed_at).total_seconds()
    if age < current_app.config["IDEAS_MIN_FILL_SECONDS"]:
        return "too_fast"
    if age > current_app.config["IDEAS_FORM_MAX_AGE_SECONDS"]:
        return "stale_form"
    return None


# --- the status link --------------------------------------------------------------------------


def _status_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SIGNING_KEYS"], salt=STATUS_SALT)


def status_token(reference: str) -> str:
    return _status_serializer().dumps(reference)


def idea_for_token(token: str) -> Idea | None:
    """The idea a status token was issued for; None for anything forged or malformed."""
    if len(token) > 200:
        return None
    try:
        reference = _status_serializer().loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
    if not isinstance(reference, str) or not REFERENCE.fullmatch(reference):
        return None
    return db.session.scalar(select(Idea).where(Idea.reference == reference))


# --- storing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    idea: Idea
    replayed: bool = False


def next_reference(session: Session, year: int) -> str:
    """Take the next number of `year` under a row lock (SQLite: the writer lock)."""
    counter = session.get(IdeaCounter, year, with_for_update=True)
    if counter is None:
        counter = IdeaCounter(year=year, last_number=0)
        session.add(counter)
        session.flush()  # two first-of-the-year writers: one gets an IntegrityError, retries
    counter.last_number += 1
    return f"IDE-{year}-{counter.last_number:06d}"


def _is_duplicate(session: Session, fingerprint: str, now: dt.datetime) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Idea.text_hash == fingerprint, Idea.received_at >= now - DUPLICATE_WINDOW
                )
            )
        )
    )


class RequestIdReused(ValueError):
    """A retry key already answered for an idea with another title or body."""


def _same_text(idea: Idea, title: str, body: str) -> bool:
    """Whether a retry carries the stored idea's text (both cleaned as on submission)."""
    sent = f"{title}\n{body}".encode()
    return hmac.compare_digest(sent, f"{idea.title}\n{idea.body}".encode())


def _replay(session: Session, request_id: str | None) -> Idea | None:
    if request_id is None:
        return None
    return session.scalar(select(Idea).where(Idea.request_id == request_id))


def receive_idea(
    data: IdeaInput,
    *,
    spam_reason: str | None = None,
    request_id: str | None = None,
) -> Received:
    """Store a checked submission with its reference; spam goes to its own queue, never away."""
    fingerprint = text_fingerprint(data.title, data.body)
    for attempt in range(2):
        try:
            with db.writing() as session:
                earlier = _replay(session, request_id)
                if earlier is not None:
                    if not _same_text(earlier, data.title, data.body):
                        raise RequestIdReused(request_id or "")
                    return Received(earlier, replayed=True)
                now = utcnow()
                reason = spam_reason
                if reason is None and _is_duplicate(session, fingerprint, now):
                    reason = "duplicate"
                idea = Idea(
                    site=current_policy().site,
                    reference=next_reference(session, now.year),
                    received_at=now,
                    language=data.language,
                    title=data.title,
                    body=data.body,
                    area=data.area,
                    topic=data.topic,
                    page=data.page,
                    challenge_id=data.challenge_id,
                    text_hash=fingerprint,
                    search_stems=search.search_stems(data.title, data.body),
                    request_id=request_id,
                    stage=SPAM if reason else INBOX,
                    stage_changed_at=now,
                    spam_reason=reason,
                )
                session.add(idea)
                session.flush()
                if data.name or data.email:
                    session.add(
                        IdeaContact(
                            idea_id=idea.id,
                            name=data.name,
                            email=data.email if data.contact_ok else None,
                            contact_ok=data.contact_ok,
                            created_at=now,
                        )
                    )
                mail_on = bool(current_app.config.get("SMTP_HOST"))
                if data.email and data.contact_ok and idea.stage != SPAM and mail_on:
                    # The receipt is sent after the answer (mail.deliver_receipts), never
                    # in the way of storing the idea; none for the spam queue, so that a
                    # script cannot make the service mail addresses it picked.
                    session.add(
                        IdeaOutbox(idea_id=idea.id, kind="receipt", created_at=now,
                                   attempts=0, next_attempt_at=now)
                    )  # fmt: skip
                session.add(
                    IdeaEvent(
                        idea_id=idea.id,
                        occurred_at=now,
                        kind="received",
                        to_stage=idea.stage,
                        detail=reason,
                    )
                )
            metrics.count("ideas_received")
            return Received(idea)
        except IntegrityError:
            # A concurrent first-of-the-year counter or a concurrent retry of the same
            # request_id: the second round sees the committed row.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# --- the one submission pipeline: the widget's API and the no-JS form -------------------------


class TooManyIdeas(Exception):
    """The client address has sent its share of ideas for this window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))


@dataclass(frozen=True)
class Submitted:
    """What the citizen is told: the reference (the view turns it into the status link)."""

    reference: str
    replayed: bool = False


def submit_idea(
    *,
    title: str | None,
    body: str | None,
    area: str | None,
    language: str,
    client: str,
    topic: str | None = None,
    page: str | None = None,
    name: str | None = None,
    email: str | None = None,
    contact_ok: bool = False,
    website: str | None = None,
    form_token: str | None = None,
    request_id: str | None = None,
    challenge: str | None = None,
) -> Submitted:
    """Check, limit and store a citizen's idea; the same steps for the widget and the form.

    Raises InvalidIdea naming the broken fields, TooManyIdeas past the rate limit (or the
    limit on retry-key look-ups) and RequestIdReused when a retry key comes back with another
    title or body. A filled honeypot (`website`) or a missing, forged, too fresh or stale form
    token sends the idea to the spam queue; the citizen is answered the same either way.
    An idea sent to a `challenge` (its slug) is refused with ChallengeUnavailable when there is
    no such challenge or it does not take ideas today.
    """
    config = current_app.config
    if request_id is not None:
        # A retry answers the first idea's status link, so only for the same text, and only
        # a bounded number of look-ups: a retry key must not open other people's ideas.
        lookups = ratelimit.hit(
            "idea_retry_keys",
            client,
            config["IDEAS_RATE_LIMIT"] * REPLAY_LOOKUPS_PER_IDEA,
            config["IDEAS_RATE_WINDOW_SECONDS"],
        )
        if not lookups.allowed:
            raise TooManyIdeas(lookups.retry_after)
        earlier = _replay(db.session, request_id)
        if earlier is not None:
            if not _same_text(earlier, _clean_line(title), _clean_text(body)):
                raise RequestIdReused(request_id)
            return Submitted(earlier.reference, replayed=True)
    idea = check_submission(
        title=title,
        body=body,
        area=area,
        language=language,
        topic=topic,
        page=page,
        name=name,
        email=email,
        contact_ok=contact_ok,
    )
    if challenge:
        answered = challenges.accepting(current_policy().site, challenge)
        idea = dataclasses.replace(idea, challenge_id=answered.id)
    limit = ratelimit.hit(
        "ideas", client, config["IDEAS_RATE_LIMIT"], config["IDEAS_RATE_WINDOW_SECONDS"]
    )
    if not limit.allowed:
        raise TooManyIdeas(limit.retry_after)
    spam_reason = "honeypot" if website else form_token_verdict(form_token)
    received = receive_idea(idea, spam_reason=spam_reason, request_id=request_id)
    return Submitted(received.idea.reference, replayed=received.replayed)


# --- what the citizen may do with their link ---------------------------------------------------


def withdraw_by_citizen(idea_id: int) -> bool:
    """Close the idea as withdrawn and delete the contact details; False if already closed."""
    with db.writing() as session:
        idea = session.get(Idea, idea_id, with_for_update={"of": Idea})
        if idea is None or idea.stage == CLOSED:
            return False
        now = utcnow()
        session.add(
            IdeaEvent(
                idea_id=idea.id,
                occurred_at=now,
                kind="withdrawn",
                from_stage=idea.stage,
                to_stage=CLOSED,
            )
        )
        idea.stage = CLOSED
        idea.stage_changed_at = now
        idea.closed_at = now
        idea.close_reason = "withdrawn"
        # The sender no longer wants it worked on: it leaves the open idea page too.
        idea.published = False
        idea.published_at = None
        _delete_contact(session, idea.id, now, by_citizen=True)
    return True


def _delete_contact(session: Session, idea_id: int, now: dt.datetime, *, by_citizen: bool) -> bool:
    result = session.execute(delete(IdeaContact).where(IdeaContact.idea_id == idea_id))
    removed = bool(getattr(result, "rowcount", 0))
    if removed:
        session.add(
            IdeaEvent(
                idea_id=idea_id,
                occurred_at=now,
                kind="contact_deleted",
                detail="citizen" if by_citizen else "retention",
            )
        )
    return removed


def delete_contact_by_citizen(idea_id: int) -> bool:
    with db.writing() as session:
        return _delete_contact(session, idea_id, utcnow(), by_citizen=True)


def purge_contacts(now: dt.datetime | None = None) -> int:
    """Delete contact details of ideas closed (or left in the spam queue) for the period."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=current_app.config["IDEAS_CONTACT_RETENTION_DAYS"])
    removed = 0
    with db.writing() as session:
        stale = session.scalars(
            select(IdeaContact.idea_id)
            .join(Idea, Idea.id == IdeaContact.idea_id)
            .where(
                ((Idea.stage == CLOSED) & (Idea.closed_at < cutoff))
                | ((Idea.stage == SPAM) & (Idea.stage_changed_at < cutoff))
            )
        ).all()
        for idea_id in stale:
            removed += _delete_contact(session, idea_id, now, by_citizen=False)
    return removed


def _merged_target(idea: Idea) -> Idea | None:
    """The idea a merged one lives on in, following merges of merges; None if not merged."""
    if idea.close_reason != "merged":
        return None
    seen = {idea.id}
    target = idea.merged_into
    while target is not None and target.close_reason == "merged" and target.id not in seen:
        if target.merged_into is None:
            break
        seen.add(target.id)
        target = target.merged_into
    return target


def _closed(idea: Idea, language: str) -> dict[str, str] | None:
    if idea.stage != CLOSED or not idea.close_reason:
        return None
    catalog = current_catalog()
    return {"reason": idea.close_reason, "label": catalog.close_reason(idea.close_reason, language)}


def public_view(idea: Idea, language: str) -> dict[str, Any]:
    """What the status link shows: the idea as sent, its stage and public messages.

    A merged idea follows the idea it joined: its stage (and, once closed, why) is the
    target's, so the page never says "closed" while the work goes on, nor "we are working
    on it together" once the target was realised. No internal notes, tags, owner or
    personal data.
    """
    from consent_service.ideas.models import IdeaMessage

    catalog = current_catalog()
    messages = db.session.scalars(
        select(IdeaMessage)
        .where(IdeaMessage.idea_id == idea.id)
        .order_by(IdeaMessage.published_at, IdeaMessage.id)
    ).all()
    target = _merged_target(idea)
    shown = target or idea
    stage = INBOX if shown.stage == SPAM else shown.stage
    view: dict[str, Any] = {
        "reference": idea.reference,
        "title": idea.title,
        "body": idea.body,
        "area": {"id": idea.area, "label": catalog.area_label(idea.area, language)},
        "received_at": idea.received_at.isoformat(timespec="seconds"),
        "stage": {
            "id": stage,
            "label": catalog.stage_label(stage, language),
            "explanation": catalog.stage_explanation(stage, language),
            "since": shown.stage_changed_at.isoformat(timespec="seconds"),
        },
        "messages": [
            {
                "stage": m.stage,
                "stage_label": catalog.stage_label(m.stage, language),
                "body": m.body,
                "published_at": m.published_at.isoformat(timespec="seconds"),
            }
            for m in messages
        ],
        "closed": _closed(shown, language) if stage == CLOSED else None,
        "merged_into": None,
        "contact_on_file": idea.contact is not None and idea.contact.contact_ok,
        "can_withdraw": idea.stage != CLOSED,
    }
    if target is not None:
        view["merged_into"] = {
            "reference": target.reference,
            "stage": stage,
            "stage_label": catalog.stage_label(stage, language),
            "closed": view["closed"],
        }
    return view
