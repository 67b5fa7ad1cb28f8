"""The innovation team's work on ideas: moving them through the loop, owners, tags, notes,
public messages, merging duplicates and the spam queue, and what the board pages read.

Every operation is complete without HTTP: it checks the rules, changes the idea under a row
lock, leaves a history line and, for a change the citizen can see, e-mails them (with their
consent) the status link the caller passes in. Citizen-side rules live in services.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_service.admin.models import Role, User
from consent_service.db import db, utcnow
from consent_service.ideas import mail, masking, notify, search
from consent_service.ideas.catalog import (
    CLOSED,
    INBOX,
    LOOP_STAGES,
    SPAM,
    STAGES,
    TEAM_CLOSE_REASONS,
    current_catalog,
)
from consent_service.ideas.models import (
    Idea,
    IdeaEvent,
    IdeaMessage,
    IdeaNote,
    IdeaTag,
)

TAG_MAX = 40
TAGS_PER_IDEA = 20
NOTE_MAX = 4000
MESSAGE_MAX = 2000


class BoardError(ValueError):
    """A change the rules do not allow; the message is shown to the team as it is."""


@dataclass(frozen=True)
class PublicChange:
    """Something the citizen can now see; with contact consent they are told by e-mail."""

    idea_id: int
    stage: str
    message: str | None
    mailed: bool = False


def _tell_citizen(change: PublicChange, status_url: str) -> PublicChange:
    """E-mail the citizen after the change is committed; a failed delivery undoes nothing."""
    sent = mail.notify_citizen(change.idea_id, message=change.message, status_url=status_url)
    return dataclasses.replace(change, mailed=sent)


def stage_name(stage: str) -> str:
    """A stage as the team calls it (the board is Swedish)."""
    if stage == INBOX:
        return "Inkorg"
    if stage == SPAM:
        return "Skräp"
    return current_catalog().stage_label(stage, "sv")


def idea_by_reference(reference: str) -> Idea | None:
    return db.session.scalar(select(Idea).where(Idea.reference == reference.strip().upper()))


def _locked(session: Session, idea_id: int) -> Idea:
    # Lock only the idea row: its eager-loaded relations are outer joins, which
    # PostgreSQL cannot lock.
    idea = session.get(Idea, idea_id, with_for_update={"of": Idea})
    if idea is None:
        raise BoardError("Idén finns inte längre.")
    return idea


def _event(
    session: Session, idea: Idea, actor: User | None, kind: str, **fields: str | None
) -> None:
    session.add(
        IdeaEvent(
            idea_id=idea.id,
            occurred_at=utcnow(),
            actor_id=actor.id if actor else None,
            kind=kind,
            **fields,
        )
    )


# For the team's other operations in this package (assessment.py, bulk.py).
lock_idea = _locked
record_event = _event


def neighbour_stage(stage: str, direction: str) -> str | None:
    """The loop stage before or after `stage` (the inbox comes before the loop)."""
    order = (INBOX, *LOOP_STAGES)
    if stage not in order:
        return None
    index = order.index(stage) + (1 if direction == "next" else -1)
    return order[index] if 0 <= index < len(order) else None


def move_idea(
    idea_id: int,
    to_stage: str,
    actor: User,
    *,
    message: str | None = None,
    close_reason: str | None = None,
    status_url: str,
) -> PublicChange:
    """Move an idea to a stage of the loop, back to the inbox, or close it with a reason.

    `status_url` is the citizen's status link, for the e-mail that tells them.
    """
    if to_stage not in STAGES:
        raise BoardError("Okänt steg.")
    message = (message or "").strip() or None
    if message and len(message) > MESSAGE_MAX:
        raise BoardError(f"Meddelandet får vara högst {MESSAGE_MAX} tecken.")
    if to_stage == CLOSED and close_reason not in TEAM_CLOSE_REASONS:
        raise BoardError("Välj ett skäl när du avslutar en idé – den som skickade idén ser det.")
    with db.writing() as session:
        idea = _locked(session, idea_id)
        if idea.stage == SPAM:
            raise BoardError("Idén ligger bland skräp. Flytta den till inkorgen först.")
        if idea.stage == to_stage and to_stage != CLOSED:
            raise BoardError("Idén är redan i det steget.")
        now = utcnow()
        _event(session, idea, actor, "moved", from_stage=idea.stage, to_stage=to_stage,
               detail=close_reason if to_stage == CLOSED else None)  # fmt: skip
        idea.stage = to_stage
        idea.stage_changed_at = now
        if to_stage == CLOSED:
            idea.close_reason = close_reason
            idea.closed_at = now
        else:
            idea.close_reason = None
            idea.closed_at = None
            idea.merged_into_id = None
        if message:
            session.add(IdeaMessage(idea_id=idea.id, author_id=actor.id, stage=to_stage,
                                    published_at=now, body=message))  # fmt: skip
        change = PublicChange(idea.id, to_stage, message)
    return _tell_citizen(change, status_url)


def step_idea(idea_id: int, direction: str, actor: User, *, status_url: str) -> PublicChange:
    """Move an idea one stage back or forward in the loop (the board's arrow buttons)."""
    idea = db.session.get(Idea, idea_id)
    target = neighbour_stage(idea.stage, direction) if idea is not None else None
    if target is None:
        raise BoardError("Det finns inget steg åt det hållet.")
    return move_idea(idea_id, target, actor, status_url=status_url)


def publish_message(idea_id: int, body: str, actor: User, *, status_url: str) -> PublicChange:
    """A public status message at the idea's current stage."""
    body = body.strip()
    if not body:
        raise BoardError("Skriv ett meddelande.")
    if len(body) > MESSAGE_MAX:
        raise BoardError(f"Meddelandet får vara högst {MESSAGE_MAX} tecken.")
    with db.writing() as session:
        idea = _locked(session, idea_id)
        if idea.stage == SPAM:
            raise BoardError("Idén ligger bland skräp. Flytta den till inkorgen först.")
        session.add(IdeaMessage(idea_id=idea.id, author_id=actor.id, stage=idea.stage,
                                published_at=utcnow(), body=body))  # fmt: skip
        _event(session, idea, actor, "message", to_stage=idea.stage)
        change = PublicChange(idea.id, idea.stage, body)
    return _tell_citizen(change, status_url)


def add_note(idea_id: int, body: str, actor: User) -> None:
    body = body.strip()
    if not body:
        raise BoardError("Skriv en anteckning.")
    if len(body) > NOTE_MAX:
        raise BoardError(f"Anteckningen får vara högst {NOTE_MAX} tecken.")
    with db.writing() as session:
        idea = _locked(session, idea_id)
        session.add(IdeaNote(idea_id=idea.id, author_id=actor.id, created_at=utcnow(), body=body))
        _event(session, idea, actor, "note")


def normalise_tag(tag: str) -> str:
    return " ".join(tag.split()).lower()


def add_tag(idea_id: int, tag: str, actor: User) -> None:
    tag = normalise_tag(tag)
    if not tag or len(tag) > TAG_MAX:
        raise BoardError(f"En tagg är 1 till {TAG_MAX} tecken.")
    with db.writing() as session:
        idea = _locked(session, idea_id)
        existing = {t.tag for t in idea.tags}
        if tag in existing:
            return
        if len(existing) >= TAGS_PER_IDEA:
            raise BoardError(f"En idé kan ha högst {TAGS_PER_IDEA} taggar.")
        idea.tags.append(IdeaTag(tag=tag))
        _event(session, idea, actor, "tagged", detail=tag)


def remove_tag(idea_id: int, tag: str, actor: User) -> None:
    tag = normalise_tag(tag)
    with db.writing() as session:
        idea = _locked(session, idea_id)
        for existing in list(idea.tags):
            if existing.tag == tag:
                idea.tags.remove(existing)
                _event(session, idea, actor, "untagged", detail=tag)


def team_members() -> Sequence[User]:
    """Who can own an idea: active members of the innovation team."""
    return db.session.scalars(
        select(User).where(User.active, User.role == Role.INNOVATION.value).order_by(User.name)
    ).all()


def assign_owner(idea_id: int, owner_id: int | None, actor: User) -> None:
    """Make a team member the idea's owner (None: nobody); they are told by e-mail (notify)."""
    with db.writing() as session:
        idea = _locked(session, idea_id)
        owner = None
        if owner_id is not None:
            owner = session.get(User, owner_id)
            if owner is None or not owner.active or owner.role != Role.INNOVATION.value:
                raise BoardError("Ägaren måste vara en aktiv medlem i innovationsteamet.")
        if idea.owner_id == owner_id:
            return
        idea.owner_id = owner_id
        _event(session, idea, actor, "owner", detail=owner.name if owner else None)
    if owner_id is not None:
        # After the commit; a failed delivery is logged and undoes nothing.
        notify.mention_owner(idea_id, owner_id, actor)


def merge_ideas(
    idea_id: int, target_reference: str, actor: User, *, status_url: str
) -> PublicChange:
    """Close a duplicate as merged into another idea; its tags carry over."""
    target_reference = target_reference.strip().upper()
    with db.writing() as session:
        idea = _locked(session, idea_id)
        target = session.scalar(
            select(Idea).where(Idea.reference == target_reference).with_for_update(of=Idea)
        )
        if target is None:
            raise BoardError(f"Det finns ingen idé med referensnummer {target_reference}.")
        if target.id == idea.id:
            raise BoardError("En idé kan inte slås ihop med sig själv.")
        if target.stage in (CLOSED, SPAM):
            raise BoardError("Slå ihop med en idé som inte är avslutad eller skräp.")
        if idea.stage == CLOSED:
            raise BoardError("Idén är redan avslutad.")
        now = utcnow()
        _event(session, idea, actor, "merged", from_stage=idea.stage, to_stage=CLOSED,
               detail=target.reference)  # fmt: skip
        _event(session, target, actor, "merged_from", detail=idea.reference)
        idea.stage = CLOSED
        idea.stage_changed_at = now
        idea.closed_at = now
        idea.close_reason = "merged"
        idea.merged_into_id = target.id
        have = {t.tag for t in target.tags}
        for tag in idea.tags:
            if tag.tag not in have and len(have) < TAGS_PER_IDEA:
                target.tags.append(IdeaTag(tag=tag.tag))
                have.add(tag.tag)
        change = PublicChange(idea.id, CLOSED, None)
    return _tell_citizen(change, status_url)


def set_published(idea_id: int, publish: bool, actor: User) -> bool:
    """Show the idea on the open idea page, masked, or take it off; returns the new state.

    Spam and ideas their sender withdrew are never published.
    """
    with db.writing() as session:
        idea = _locked(session, idea_id)
        if publish and idea.stage == SPAM:
            raise BoardError("Idén ligger bland skräp och kan inte publiceras.")
        if publish and idea.close_reason == "withdrawn":
            raise BoardError("Den som skickade idén har dragit tillbaka den. Den publiceras inte.")
        if idea.published == publish:
            return publish
        idea.published = publish
        idea.published_at = utcnow() if publish else None
        _event(session, idea, actor, "published" if publish else "unpublished")
    return publish


def mark_spam(idea_id: int, actor: User) -> None:
    with db.writing() as session:
        idea = _locked(session, idea_id)
        if idea.stage == SPAM:
            return
        if idea.stage != INBOX:
            raise BoardError("Bara idéer i inkorgen kan flyttas till skräp.")
        _event(session, idea, actor, "spam", from_stage=idea.stage, to_stage=SPAM)
        idea.stage = SPAM
        idea.spam_reason = "team"
        idea.published = False
        idea.published_at = None
        idea.stage_changed_at = utcnow()


def release_spam(idea_id: int, actor: User) -> None:
    """Not spam after all: to the inbox, as if it had arrived there."""
    with db.writing() as session:
        idea = _locked(session, idea_id)
        if idea.stage != SPAM:
            return
        _event(session, idea, actor, "not_spam", from_stage=SPAM, to_stage=INBOX)
        idea.stage = INBOX
        idea.spam_reason = None
        idea.stage_changed_at = utcnow()


# --- reading ------------------------------------------------------------------------------------


def ideas_in(
    stages: Sequence[str], *, limit: int | None = None, challenge_id: int | None = None
) -> Sequence[Idea]:
    query = (
        select(Idea)
        .where(Idea.stage.in_(stages))
        .order_by(Idea.stage_changed_at.desc(), Idea.id.desc())
    )
    if challenge_id is not None:
        query = query.where(Idea.challenge_id == challenge_id)
    if limit is not None:
        query = query.limit(limit)
    return db.session.scalars(query).unique().all()


@dataclass(frozen=True)
class Selection:
    """The ideas behind a portfolio figure, and the filters in words for the heading."""

    ideas: Sequence[Idea]
    filters: Sequence[str]


def select_ideas(
    *,
    stage: str | None = None,
    area: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    age: str | None = None,
    q: str | None = None,
    now: dt.datetime | None = None,
    limit: int = 500,
) -> Selection:
    """Ideas filtered by stage ("active": not closed), area, owner ("none"), tag, age or words
    in the title or text (`q`, any Swedish word form; a reference finds its idea)."""
    query = select(Idea).order_by(Idea.received_at.desc())
    filters: list[str] = []
    words = " ".join((q or "").split())[: search.QUERY_MAX]
    if words:
        by_reference = Idea.reference == words.upper()
        query = query.where(search.matching(words) | by_reference)
        filters.append(f"sökord ”{words}”")
    if stage in (*STAGES, SPAM):
        query = query.where(Idea.stage == stage)
        filters.append(f"steg {stage_name(stage)}")
    else:
        query = query.where(Idea.stage != SPAM)
    if stage == "active":
        query = query.where(Idea.stage != CLOSED)
        filters.append("pågående")
    if area:
        query = query.where(Idea.area == area[:64])
        filters.append(f"område {current_catalog().area_label(area[:64], 'sv')}")
    if owner == "none":
        query = query.where(Idea.owner_id.is_(None))
        filters.append("utan ägare")
    elif owner and owner.isdigit() and len(owner) < 10:
        query = query.where(Idea.owner_id == int(owner))
        # Only the team's own names: any other account id stays a number, so the filter
        # cannot be used to list the names of every staff account.
        user = db.session.get(User, int(owner))
        known = user is not None and user.role == Role.INNOVATION.value
        filters.append(f"ägare {user.name}" if user and known else "okänd ägare")
    if tag:
        query = query.where(Idea.tags.any(IdeaTag.tag == normalise_tag(tag[:100])))
        filters.append(f"tagg {normalise_tag(tag[:100])}")
    ideas = list(db.session.scalars(query.limit(limit)).unique())
    if age in AGE_BUCKETS:
        now = now or utcnow()
        ideas = [i for i in ideas if age_bucket(i.received_at, now) == age]
        filters.append(f"ålder {age}")
    return Selection(ideas, filters)


@dataclass(frozen=True)
class Portfolio:
    """Ongoing ideas (the inbox and the loop) counted by stage, area, age and owner."""

    stages: tuple[str, ...]
    total: int
    closed: int
    by_stage: Counter[str]
    areas: list[tuple[str, str]]
    by_area: Counter[tuple[str, str]]
    ages: list[tuple[str, str]]
    by_age: Counter[tuple[str, str]]
    owners: list[tuple[int, str]]
    by_owner: Counter[tuple[int | None, str]]


def portfolio(now: dt.datetime | None = None) -> Portfolio:
    now = now or utcnow()
    active = list(
        db.session.scalars(select(Idea).where(Idea.stage.notin_((CLOSED, SPAM)))).unique()
    )
    owners = {i.owner.id: i.owner.name for i in active if i.owner is not None}
    return Portfolio(
        stages=(INBOX, *LOOP_STAGES),
        total=len(active),
        closed=stage_counts().get(CLOSED, 0),
        by_stage=Counter(i.stage for i in active),
        areas=[(a.id, a.labels["sv"]) for a in current_catalog().areas],
        by_area=Counter((i.area, i.stage) for i in active),
        ages=[(a, a) for a in AGE_BUCKETS],
        by_age=Counter((age_bucket(i.received_at, now), i.stage) for i in active),
        owners=sorted(owners.items(), key=lambda kv: kv[1].casefold()),
        by_owner=Counter((i.owner_id, i.stage) for i in active),
    )


def stage_counts(challenge_id: int | None = None) -> dict[str, int]:
    query = select(Idea.stage, func.count()).group_by(Idea.stage)
    if challenge_id is not None:
        query = query.where(Idea.challenge_id == challenge_id)
    rows = db.session.execute(query).all()
    return {stage: count for stage, count in rows}


def history(idea_id: int) -> Sequence[IdeaEvent]:
    return db.session.scalars(
        select(IdeaEvent)
        .where(IdeaEvent.idea_id == idea_id)
        .order_by(IdeaEvent.occurred_at.desc(), IdeaEvent.id.desc())
    ).all()


def notes(idea_id: int) -> Sequence[IdeaNote]:
    return db.session.scalars(
        select(IdeaNote).where(IdeaNote.idea_id == idea_id).order_by(IdeaNote.created_at.desc())
    ).all()


def messages(idea_id: int) -> Sequence[IdeaMessage]:
    return db.session.scalars(
        select(IdeaMessage)
        .where(IdeaMessage.idea_id == idea_id)
        .order_by(IdeaMessage.published_at.desc())
    ).all()


MASKED_NAMES = {
    masking.PERSONNUMMER: ("personnummer", "personnummer"),
    masking.SAMORDNINGSNUMMER: ("samordningsnummer", "samordningsnummer"),
    masking.EMAIL: ("e-postadress", "e-postadresser"),
    masking.PHONE: ("telefonnummer", "telefonnummer"),
}


def masked_on_public_pages(idea: Idea) -> list[str]:
    """What the public pages hide of this idea: ["1 personnummer", "2 e-postadresser"]."""
    texts = [idea.title, idea.body, *(m.body for m in messages(idea.id))]
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(masking.mask_personal_data(text).found)
    shown = []
    for kind in masking.KINDS:
        if counts[kind]:
            one, many = MASKED_NAMES[kind]
            shown.append(f"{counts[kind]} {one if counts[kind] == 1 else many}")
    return shown


def similar_ideas(idea: Idea, limit: int = 5) -> Sequence[Idea]:
    """Candidates for a merge: the same text, or open ideas in the same area."""
    return (
        db.session.scalars(
            select(Idea)
            .where(
                Idea.id != idea.id,
                Idea.stage.notin_((CLOSED, SPAM)),
                (Idea.text_hash == idea.text_hash) | (Idea.area == idea.area),
            )
            .order_by((Idea.text_hash == idea.text_hash).desc(), Idea.received_at.desc())
            .limit(limit)
        )
        .unique()
        .all()
    )


def describe_event(event: IdeaEvent) -> str:
    """One history line in the team's language."""
    catalog = current_catalog()

    def stage(s: str | None) -> str:
        return stage_name(s) if s else "–"

    detail = event.detail or ""
    match event.kind:
        case "received":
            return "Idén kom in" + (f" (till skräp: {detail})" if event.to_stage == SPAM else "")
        case "moved":
            text = f"Flyttad från {stage(event.from_stage)} till {stage(event.to_stage)}"
            if event.to_stage == CLOSED and detail:
                text += f" – {catalog.close_reason(detail, 'sv')}"
            return text
        case "message":
            return f"Publikt meddelande i steget {stage(event.to_stage)}"
        case "note":
            return "Intern anteckning"
        case "tagged":
            return f"Taggad: {detail}"
        case "untagged":
            return f"Tagg borttagen: {detail}"
        case "owner":
            return f"Ägare: {detail}" if detail else "Ägare borttagen"
        case "merged":
            return f"Sammanslagen med {detail}"
        case "merged_from":
            return f"{detail} slogs ihop med den här idén"
        case "published":
            return "Publicerad på den öppna idésidan"
        case "unpublished":
            return "Borttagen från den öppna idésidan"
        case "spam":
            return "Flyttad till skräp"
        case "not_spam":
            return "Inte skräp: flyttad till inkorgen"
        case "withdrawn":
            return "Tillbakadragen av den som skickade idén"
        case "contact_deleted":
            who = "av den som skickade idén" if detail == "citizen" else "enligt gallringsregeln"
            return f"Kontaktuppgifter borttagna {who}"
        case "assessed":
            return f"Bedömd: {detail}"
        case "reassessed":
            return f"Bedömningen ändrad: {detail}"
        case "receipt_sent":
            return "Kvitto skickat till invånaren"
        case "receipt_failed":
            return "Kvitto kunde inte skickas"
        case "mail_sent":
            return "E-post om ny status skickad"
        case "mail_failed":
            return "E-post om ny status kunde inte skickas"
    return event.kind


def age_bucket(received_at: dt.datetime, now: dt.datetime) -> str:
    days = (now - received_at).days
    if days < 7:
        return "< 1 vecka"
    if days < 30:
        return "1–4 veckor"
    if days < 91:
        return "1–3 månader"
    if days < 365:
        return "3–12 månader"
    return "> 1 år"


AGE_BUCKETS = ("< 1 vecka", "1–4 veckor", "1–3 månader", "3–12 månader", "> 1 år")
