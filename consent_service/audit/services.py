"""What a privacy officer does with the consent log: search, inspect, verify, purge."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import and_, delete, false, func, or_, select, update
from sqlalchemy.orm import Session

from consent_service.audit.chain import (
    CONSENT_CHAIN,
    VerifyResult,
    append_purge,
    lock_head,
    removed_seqs_digest,
    verify_chain,
)
from consent_service.audit.checkpoints import (
    SignedCheckpoint,
    check_checkpoints,
    trusted_keys,
)
from consent_service.audit.filters import AuditFilter
from consent_service.audit.models import (
    ChainHead,
    ChainLink,
    Checkpoint,
    ConsentEntry,
    PolicyText,
    PurgeRecord,
)
from consent_service.audit.transparency import check_log
from consent_service.audit.transparency import receipt as log_receipt
from consent_service.audit.tree import LevelDigests
from consent_service.db import db, utcnow

PAGE_SIZE = 50
RECEIPT_LIMIT = 500


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    chain: VerifyResult
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def lines(self) -> list[str]:
        # A problem that names an entry ("entry 12: …") leads, as the chain's own would.
        named = [f"consent log BROKEN at {p}" for p in self.problems if p.startswith("entry ")]
        lines = named if named else [self.chain.describe()]
        lines += [f"checkpoint problem: {p}" for p in self.problems if not p.startswith("entry ")]
        lines += [f"signature not checked: {u}" for u in self.unchecked]
        lines += [f"note: {n}" for n in self.notes]
        return lines


def verify_log(
    session: Session,
    external: Sequence[SignedCheckpoint] = (),
    extra_keys: Sequence[Ed25519PublicKey] = (),
    external_notes: Sequence[str] = (),
) -> VerifyReport:
    """Verify the chain against itself, every stored checkpoint and any `external` ones.

    Then the transparency log: the stored Merkle tree, every stored signed tree head and the
    promises of the entries still pending.
    """
    keys = trusted_keys(list(extra_keys))
    checks = check_checkpoints(session, keys, list(external))
    leaves = LevelDigests()  # the tree from the checked leaves, to check the stored one
    result = verify_chain(session, expected_heads=checks.heads, leaves=leaves)
    if not result.ok:
        return VerifyReport(result, checks.problems, checks.unchecked)
    log = check_log(session, keys.values(), result.head_seq, external_notes, leaves)
    return VerifyReport(result, checks.problems + log.problems, checks.unchecked, log.notes)


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryPage:
    entries: list[ConsentEntry]
    newer: int | None  # pass as ?after= to see newer entries
    older: int | None  # pass as ?before= to see older entries


def search_entries(
    session: Session,
    audit_filter: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> EntryPage:
    """Newest first, keyset-paginated on seq: every page costs the same at any depth."""
    stmt = audit_filter.apply(select(ConsentEntry)).limit(limit + 1)
    if after is not None:
        rows = list(
            session.scalars(stmt.where(ConsentEntry.seq > after).order_by(ConsentEntry.seq.asc()))
        )
        more = len(rows) > limit
        entries = list(reversed(rows[:limit]))
        newer = entries[0].seq if more and entries else None
        older = entries[-1].seq if entries else None
        return EntryPage(entries, newer, older)
    if before is not None:
        stmt = stmt.where(ConsentEntry.seq < before)
    rows = list(session.scalars(stmt.order_by(ConsentEntry.seq.desc())))
    entries = rows[:limit]
    older = entries[-1].seq if len(rows) > limit else None
    newer = entries[0].seq if before is not None and entries else None
    return EntryPage(entries, newer, older)


# --- one entry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryDetail:
    entry: ConsentEntry
    link: ChainLink
    text: dict[str, Any] | None
    history: list[ConsentEntry]
    history_truncated: bool


def entry_detail(session: Session, seq: int) -> EntryDetail | None:
    entry = session.get(ConsentEntry, seq)
    if entry is None:
        return None
    link = session.get(ChainLink, seq)
    assert link is not None  # the foreign key guarantees it
    archived = session.scalar(
        select(PolicyText.content).where(
            PolicyText.site == entry.site,
            PolicyText.version == entry.policy_version,
            PolicyText.text_hash == entry.text_hash,
        )
    ) or session.scalar(select(PolicyText.content).where(PolicyText.text_hash == entry.text_hash))
    text = json.loads(archived) if archived else None
    history = list(
        session.scalars(
            select(ConsentEntry)
            .where(ConsentEntry.consent_id == entry.consent_id)
            .order_by(ConsentEntry.seq)
            .limit(RECEIPT_LIMIT + 1)
        )
    )
    return EntryDetail(entry, link, text, history[:RECEIPT_LIMIT], len(history) > RECEIPT_LIMIT)


def purged_link(session: Session, seq: int) -> ChainLink | None:
    """The link of a record removed by a purge (the page says so instead of 'not found')."""
    link = session.get(ChainLink, seq)
    return link if link is not None and link.purged_in is not None else None


# --- the citizen's receipt ----------------------------------------------------------------


def receipt(session: Session, consent_id: str) -> dict[str, Any]:
    """Every entry for one consent ID with its leaf and inclusion proof (or its promise)."""
    return log_receipt(session, consent_id)


def archived_texts(session: Session, text_hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The archived policy text behind each hash (what the citizen was shown), by hash."""
    rows = session.execute(
        select(PolicyText.text_hash, PolicyText.content).where(
            PolicyText.text_hash.in_(sorted(set(text_hashes)))
        )
    )
    return {text_hash: json.loads(content) for text_hash, content in rows}


# --- retention ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeOutcome:
    purge: PurgeRecord

    def describe(self) -> str:
        p = self.purge
        return f"{p.removed_count} consent-log records removed; purge recorded as entry {p.seq}"


def purge_expired_entries(
    session: Session, retention_days: dict[str, int], now: dt.datetime | None = None
) -> PurgeOutcome:
    """Remove records past their retention and chain a purge record naming them.

    The links stay (the chain is over digests) and are marked with the purge's seq; the
    purge record carries the count and a digest of the removed sequence numbers, so
    verification can tell a purged record from a deleted one. Runs in the caller's write
    transaction, which holds the chain head's lock throughout.
    """
    now = now or utcnow()
    head_seq, _ = lock_head(session.connection())
    purge_seq = head_seq + 1
    expired = or_(
        false(),
        *(
            and_(
                ConsentEntry.action == action,
                ConsentEntry.occurred_at < now - dt.timedelta(days=days),
            )
            for action, days in sorted(retention_days.items())
        ),
    )
    session.execute(
        update(ChainLink)
        .where(ChainLink.seq.in_(select(ConsentEntry.seq).where(expired)))
        .values(purged_in=purge_seq)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(ConsentEntry).where(expired).execution_options(synchronize_session=False)
    )
    removed = session.scalars(
        select(ChainLink.seq)
        .where(ChainLink.purged_in == purge_seq)
        .order_by(ChainLink.seq)
        .execution_options(yield_per=5000)
    )
    count, digest = removed_seqs_digest(removed)
    first, last = session.execute(
        select(func.min(ChainLink.seq), func.max(ChainLink.seq)).where(
            ChainLink.purged_in == purge_seq
        )
    ).one()
    purge = PurgeRecord(
        purged_at=now,
        retention_days=dict(retention_days),
        removed_count=count,
        removed_digest=digest,
        first_removed_seq=first,
        last_removed_seq=last,
    )
    append_purge(session.connection(), purge)
    session.flush()
    assert purge.seq == purge_seq
    return PurgeOutcome(purge)


def last_purge(session: Session) -> PurgeRecord | None:
    return session.scalar(select(PurgeRecord).order_by(PurgeRecord.seq.desc()).limit(1))


def recent_checkpoints(session: Session, limit: int = 10) -> list[Checkpoint]:
    return list(session.scalars(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(limit)))


def chain_length(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ChainLink)) or 0


def chain_head_seq() -> float | None:
    """The newest entry's sequence number, for `/metrics` (None before the first entry)."""
    seq = db.session.scalar(select(ChainHead.seq).where(ChainHead.chain == CONSENT_CHAIN))
    return None if seq is None else float(seq)
