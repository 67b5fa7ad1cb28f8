"""Bulk work on the board: one change (move, tag, owner, close) for several ideas at once.

The selection and the target are checked first, and a bad one changes nothing. Then each
idea goes through the same operation as a single change (board.move_idea, add_tag,
assign_owner): its own transaction, its own history line, and the citizen's e-mail where a
single move sends one. An idea the rules refuse (already in that stage, in the spam queue)
is left as it was and named in the result with the reason; the others are changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from consent_service.admin.models import Role, User
from consent_service.db import db
from consent_service.ideas import board
from consent_service.ideas.board import BoardError, normalise_tag
from consent_service.ideas.catalog import CLOSED, STAGES, TEAM_CLOSE_REASONS
from consent_service.ideas.models import Idea

BULK_MAX = 50
MOVE, TAG, OWNER, CLOSE = "move", "tag", "owner", "close"
ACTIONS = (MOVE, TAG, OWNER, CLOSE)


class BulkError(BoardError):
    """A selection or target refused as a whole: nothing was changed."""


@dataclass
class BulkResult:
    action: str
    changed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)


def selected_ideas(references: Sequence[str]) -> list[Idea]:
    """The ideas behind the ticked references, in the order given, each once."""
    wanted: list[str] = []
    for raw in references:
        reference = raw.strip().upper()
        if reference and reference not in wanted:
            wanted.append(reference)
    if not wanted:
        raise BulkError("Välj minst en idé (kryssa i rutan på kortet).")
    if len(wanted) > BULK_MAX:
        raise BulkError(
            f"Du valde {len(wanted)} idéer. Ändra högst {BULK_MAX} åt gången, så att det går "
            "att se vad som hände."
        )
    found = {
        i.reference: i
        for i in db.session.scalars(select(Idea).where(Idea.reference.in_(wanted))).unique()
    }
    missing = [r for r in wanted if r not in found]
    if missing:
        shown = ", ".join(r[:20] for r in missing[:5])
        raise BulkError(f"Det finns ingen idé med referensnummer {shown}. Inget ändrades.")
    return [found[r] for r in wanted]


def bulk_change(
    references: Sequence[str],
    action: str,
    actor: User,
    *,
    stage: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    close_reason: str | None = None,
    status_url: Callable[[str], str],
) -> BulkResult:
    """Apply one change to every selected idea; `status_url(reference)` gives the citizen's
    link for the e-mail a move sends."""
    if action not in ACTIONS:
        raise BulkError("Välj vad som ska hända med de valda idéerna.")
    ideas = selected_ideas(references)
    change: Callable[[Idea], object]
    if action == MOVE:
        if stage not in STAGES or stage == CLOSED:
            raise BulkError("Välj ett steg att flytta till (avsluta gör du med ett skäl).")
        target = stage

        def change(idea: Idea) -> object:
            return board.move_idea(idea.id, target, actor, status_url=status_url(idea.reference))

    elif action == CLOSE:
        if close_reason not in TEAM_CLOSE_REASONS:
            raise BulkError("Välj ett skäl när du avslutar idéer – de som skickade dem ser det.")
        reason = close_reason

        def change(idea: Idea) -> object:
            return board.move_idea(idea.id, CLOSED, actor, close_reason=reason,
                                   status_url=status_url(idea.reference))  # fmt: skip

    elif action == TAG:
        tag = normalise_tag(tag or "")
        if not tag or len(tag) > board.TAG_MAX:
            raise BulkError(f"Skriv en tagg på 1 till {board.TAG_MAX} tecken.")
        chosen_tag = tag

        def change(idea: Idea) -> object:
            if chosen_tag in {t.tag for t in idea.tags}:
                raise BoardError("hade redan taggen")
            board.add_tag(idea.id, chosen_tag, actor)
            return None

    else:
        member = _team_member(owner)

        def change(idea: Idea) -> object:
            if idea.owner_id == member.id:
                raise BoardError(f"{member.name} var redan ägare")
            board.assign_owner(idea.id, member.id, actor)
            return None

    result = BulkResult(action)
    for idea in ideas:
        try:
            change(idea)
        except BoardError as exc:
            result.refused.append((idea.reference, str(exc)))
        else:
            result.changed.append(idea.reference)
    return result


def _team_member(owner: str | None) -> User:
    raw = (owner or "").strip()
    member = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if member is None or not member.active or member.role != Role.INNOVATION.value:
        raise BulkError("Välj en ägare i listan: en aktiv medlem i innovationsteamet.")
    return member
