"""The access log: who signed in, viewed, searched, exported, verified or purged, and when.

Rows are only ever appended here; the application has no route or command that edits or
deletes them. No IP address or user agent is stored: the actor is a staff account, or the
operator's login name for the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_service.admin.models import AccessLogEntry
from consent_service.cli import cli_actor as cli_actor  # where the commands take it from
from consent_service.db import db, utcnow

ACTION_LABELS = {
    "sign_in": "Inloggning",
    "view_entry": "Visade post",
    "search": "Sökning",
    "export": "Export",
    "verify": "Verifiering",
    "checkpoint": "Kontrollpunkt",
    "purge": "Gallring",
    "view_access_log": "Visade åtkomstloggen",
    "view_charts": "Visade statistik",
    "end_sessions": "Avslutade sessioner",
    "change_password": "Bytte lösenord",
    "policy_draft": "Skapade utkast till kakpolicy",
    "policy_approve": "Godkände kakpolicy",
    "policy_publish": "Publicerade kakpolicy",
    "create_user": "Skapade konto",
    "change_user": "Ändrade konto",
    "disable_user": "Stängde av konto",
    "enable_user": "Aktiverade konto",
    "password_link": "Skapade lösenordslänk",
    "set_password": "Valde lösenord via länk",
    "site_create": "Lade till webbplats",
    "site_change": "Ändrade webbplats",
    "share_create": "Skapade delad länk till besöksstatistiken",
    "share_revoke": "Återkallade delad länk till besöksstatistiken",
}
PAGE_SIZE = 50


def record_access(
    actor: str, action: str, details: dict[str, Any] | None = None, *, outcome: str = "ok",
    summary: str = "",
) -> None:  # fmt: skip
    """Append one row in its own transaction, so it stays even if the caller fails later."""
    with db.writing() as session:
        session.add(
            AccessLogEntry(
                at=utcnow(),
                actor=actor[:80],
                action=action,
                outcome=outcome,
                details=details or {},
                summary=summary[:500],
            )
        )


@dataclass(frozen=True)
class AccessPage:
    rows: list[AccessLogEntry]
    older: int | None


def access_log_page(session: Session, before: int | None = None) -> AccessPage:
    """Newest first, keyset-paginated on id."""
    stmt = select(AccessLogEntry).order_by(AccessLogEntry.id.desc()).limit(PAGE_SIZE + 1)
    if before is not None:
        stmt = stmt.where(AccessLogEntry.id < before)
    rows = list(session.scalars(stmt))
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return AccessPage(rows[:PAGE_SIZE], older)
