"""Append to and verify the consent-log hash chain.

Each entry's record is reduced to a digest (SHA-256 of canonical JSON); the chain links
`hash = SHA-256("seq|prev_hash|digest")`. Editing, deleting, inserting or reordering an
entry breaks a digest, a link or the sequence.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_service.audit.models import ChainHead, ChainLink, ConsentEntry
from consent_service.hashing import canonical_json, sha256_hex

CONSENT_CHAIN = "consent"
GENESIS_HASH = "0" * 64


def entry_digest(entry: ConsentEntry) -> str:
    return sha256_hex(canonical_json(entry.record()))


def link_hash(seq: int, prev_hash: str, digest: str) -> str:
    return sha256_hex(f"{seq}|{prev_hash}|{digest}".encode())


def lock_head(session: Session) -> ChainHead:
    """Return the chain head, locked for this transaction (row lock; SQLite holds the file)."""
    head = session.get(ChainHead, CONSENT_CHAIN, with_for_update=True)
    if head is None:
        # The migration creates the head row; this covers a database created without it.
        head = ChainHead(chain=CONSENT_CHAIN, seq=0, hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


def append_entry(session: Session, entry: ConsentEntry) -> ConsentEntry:
    """Give `entry` the next sequence number and chain it; the caller commits."""
    head = lock_head(session)
    entry.seq = head.seq + 1
    digest = entry_digest(entry)
    link = ChainLink(
        seq=entry.seq,
        prev_hash=head.hash,
        digest=digest,
        hash=link_hash(entry.seq, head.hash, digest),
    )
    head.seq, head.hash = link.seq, link.hash
    session.add(link)
    session.flush()  # the link row must exist before the entry that references it
    session.add(entry)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None

    def describe(self) -> str:
        if self.ok:
            return (
                f"consent log intact: {self.checked} entries, head {self.head_seq} {self.head_hash}"
            )
        return f"consent log BROKEN at entry {self.first_bad_seq}: {self.reason}"


def _rows(
    session: Session, batch: int
) -> Generator[tuple[ChainLink, ConsentEntry | None], None, None]:
    stmt = (
        select(ChainLink, ConsentEntry)
        .outerjoin(ConsentEntry, ConsentEntry.seq == ChainLink.seq)
        .order_by(ChainLink.seq)
        .execution_options(yield_per=batch)
    )
    result = session.execute(stmt)
    try:
        for link, entry in result:
            yield link, entry
            session.expunge(link)
            if entry is not None:
                session.expunge(entry)
    finally:
        # Verification stops at the first bad entry: release the server-side cursor now.
        result.close()


def _problem(
    link: ChainLink, entry: ConsentEntry | None, expected_seq: int, prev_hash: str
) -> tuple[int, str] | None:
    """What is wrong with this link and its record, or None."""
    if link.seq != expected_seq:
        return expected_seq, f"entry missing (next link found is {link.seq})"
    if link.prev_hash != prev_hash:
        return link.seq, "previous-hash does not match the entry before it"
    if entry is None:
        return link.seq, "the log record is missing"
    if entry_digest(entry) != link.digest:
        return link.seq, "the log record was altered"
    if link_hash(link.seq, link.prev_hash, link.digest) != link.hash:
        return link.seq, "the link hash does not match its contents"
    return None


def verify_chain(session: Session, batch: int = 2000) -> VerifyResult:
    """Recompute every digest and link in order; stop at the first entry that does not fit."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0

    def broken(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, expected_seq - 1, prev_hash, seq, reason)

    with closing(_rows(session, batch)) as rows:
        for link, entry in rows:
            problem = _problem(link, entry, expected_seq, prev_hash)
            if problem is not None:
                return broken(*problem)
            prev_hash, expected_seq, checked = link.hash, expected_seq + 1, checked + 1

    orphan = session.scalar(
        select(ConsentEntry.seq)
        .outerjoin(ChainLink, ChainLink.seq == ConsentEntry.seq)
        .where(ChainLink.seq.is_(None))
        .limit(1)
    )
    if orphan is not None:
        return broken(orphan, "a log record exists outside the chain")
    head = session.get(ChainHead, CONSENT_CHAIN)
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, prev_hash):
        return broken(min(head.seq, expected_seq), "entries were cut off the end of the chain")
    return VerifyResult(True, checked, expected_seq - 1, prev_hash)
