"""An idea's archive file for the diary and case system (diariet): one self-contained HTML page.

It holds the registration data (reference, received, area, challenge, stage) and the whole
history, with the public messages' texts, as the idea stands when the file is made. Internal
notes are not in it (they are the team's working material, not part of the record) and
neither are the citizen's name and e-mail address, which are deleted on their own schedule.
The file has no script and loads nothing: its styles are inline, so it prints and opens the
same wherever it is filed.
"""

from __future__ import annotations

from typing import Any

from consent_service.admin.models import User
from consent_service.db import utcnow
from consent_service.ideas import board
from consent_service.ideas.catalog import current_catalog
from consent_service.ideas.models import Idea


def _who(kind: str, detail: str | None, actor: User | None) -> str:
    if actor is not None:
        return actor.name
    if kind in ("received", "withdrawn") or (kind == "contact_deleted" and detail == "citizen"):
        return "Invånaren / The citizen"
    return "Tjänsten / The service"


def archive_context(idea: Idea, made_by: User) -> dict[str, Any]:
    catalog = current_catalog()
    stage = board.stage_name(idea.stage)
    if idea.close_reason:
        stage += " – " + catalog.close_reason(idea.close_reason, "sv")
    events = sorted(board.history(idea.id), key=lambda e: (e.occurred_at, e.id))
    return {
        "idea": idea,
        "stage": stage,
        "area": catalog.area_label(idea.area, "sv"),
        "challenge": idea.challenge.slug if idea.challenge else None,
        "messages": sorted(board.messages(idea.id), key=lambda m: m.published_at),
        "stage_name": board.stage_name,
        "history": [
            (e.occurred_at, _who(e.kind, e.detail, e.actor), board.describe_event(e))
            for e in events
        ],
        "made_at": utcnow(),
        "made_by": made_by.name,
        "contact_on_file": idea.contact is not None,
    }
