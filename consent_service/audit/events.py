"""Evidence in the consent log: staff events chained beside the citizens' entries.

A compliance scan's report, a policy's approval, a policy's publication: each is recorded as
one chain position (`LogEvent`) holding a SHA-256 of the evidence, so that the signed log
later proves the evidence existed, unchanged, at that moment. The evidence itself stays
where it lives (the scan job's stored report, the policy archive); anyone holding it can
recompute the digest and compare.

Events are chained and put in the Merkle tree exactly as purge records are: `audit verify`
checks them, a complete export carries them as `{"type": "event", "kind": ...}` lines, and
consent statistics and receipts never see them (they read `ConsentEntry` only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_service.audit.chain import append_event
from consent_service.audit.models import EventKind, LogEvent
from consent_service.db import utcnow

# JSON types that survive a database round trip unchanged on SQLite and PostgreSQL, so the
# digest recomputed from the stored row equals the one chained.
_SCALARS = (str, int, bool, type(None))


def evidence_digest(evidence: bytes | str) -> str:
    """SHA-256 (hex) of the evidence's exact bytes (text as UTF-8)."""
    data = evidence.encode("utf-8") if isinstance(evidence, str) else evidence
    return hashlib.sha256(data).hexdigest()


def record_event(
    session: Session,
    kind: EventKind,
    *,
    site: str,
    subject: str,
    evidence: bytes | str,
    actor: str,
    details: Mapping[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> LogEvent:
    """Chain one piece of staff evidence in the consent log; return it with its `seq`.

    Call inside a write transaction, with whatever the event is evidence of, so that both
    commit or neither does::

        with db.writing() as session:
            ...  # approve or publish the policy in `session`
            event = record_event(
                session, EventKind.POLICY_APPROVED, site=site, subject=str(version),
                evidence=canonical_policy_text, actor=user.name,
            )

    - `kind`: what happened (`EventKind`).
    - `site`: the site it concerns (`current_policy().site` in a request).
    - `subject`: what it is about, short: a scan job's id, a policy version (≤ 200 chars).
    - `evidence`: the exact bytes (or text, hashed as UTF-8) that the event vouches for; only
      its SHA-256 is stored, so keep the evidence itself where it can be shown again.
    - `actor`: the staff account's user name, or `cli_actor()` for the command line.
    - `details`: a few JSON values a reader needs beside the digest (strings, integers,
      booleans, None, lists and objects of them; no floats), e.g. a scan's URL and pages.
    - `occurred_at`: defaults to now (UTC).

    Raises ValueError for an unknown kind, an over-long field or details that are not plain
    JSON. The row is chained under the chain head's lock (taken here) and flushed; the
    caller's transaction commits it.
    """
    kind = EventKind(kind)
    if not subject or len(subject) > 200:
        raise ValueError("an event's subject must be 1 to 200 characters")
    if not actor or len(actor) > 80:
        raise ValueError("an event's actor must be 1 to 80 characters")
    plain = dict(details or {})
    _check_plain(plain)
    when = (occurred_at or utcnow()).astimezone(dt.UTC)
    event = LogEvent(
        kind=kind.value,
        site=site,
        subject=subject,
        evidence_sha256=evidence_digest(evidence),
        actor=actor,
        occurred_at=when,
        details=plain,
    )
    append_event(session.connection(), event)
    # The row was written by Core statements: the session loads it when asked, not from here.
    seq = event.seq
    stored = session.get(LogEvent, seq)
    assert stored is not None
    return stored


def _check_plain(value: Any) -> None:
    if isinstance(value, float):  # a float's text differs between JSON encoders
        raise ValueError("event details may not hold floating-point numbers")
    if isinstance(value, _SCALARS):
        if isinstance(value, str):
            value.encode("utf-8")  # a lone surrogate raises here, not in the database
        return
    if isinstance(value, list):
        for item in value:
            _check_plain(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("event details' keys must be strings")
            _check_plain(item)
        return
    raise ValueError(f"event details may not hold {type(value).__name__}")


def events_for(session: Session, kind: EventKind, site: str, subject: str) -> list[LogEvent]:
    """The chained events of one kind about one subject, oldest first."""
    stmt = (
        select(LogEvent)
        .where(LogEvent.kind == kind.value, LogEvent.site == site, LogEvent.subject == subject)
        .order_by(LogEvent.seq)
    )
    return list(session.scalars(stmt))
