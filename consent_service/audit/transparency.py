"""What the log publishes: signed checkpoints, its verifier key, proofs, citizens' receipts."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from consent_service.audit.chain import entry_leaf, stream_batches, stream_rows
from consent_service.audit.log_models import LogCheckpoint, PendingEntry, TreeNode
from consent_service.audit.models import ChainLink, ConsentEntry
from consent_service.audit.note import (
    SIGNATURE_PREFIX,
    NoteError,
    Verifier,
    key_hash,
    open_note,
    parse_checkpoint,
    parse_promise,
    promise_time,
    verifier_key,
)
from consent_service.audit.sequencer import (
    latest_checkpoint_row,
    log_key,
    log_origin,
    promise_note,
)
from consent_service.audit.tree import LevelDigests, StoredTree, inclusion_ranges, leaf_hash
from consent_service.db import utcnow

RECEIPT_LIMIT = 500
NODE = b"\x01"
_sha256 = hashlib.sha256


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def published_key() -> str | None:
    """The note verifier key of the log (None when the service holds no signing key)."""
    key = log_key()
    return None if key is None else verifier_key(log_origin(), key.public_key())


def latest_note(session: Session) -> str | None:
    row = latest_checkpoint_row(session.connection())
    return None if row is None else str(row.note)


def tree_size(session: Session) -> int:
    return StoredTree(session.connection()).size()


def consistency(session: Session, old: int, new: int) -> list[str]:
    return [b64(h) for h in StoredTree(session.connection()).consistency_proof(old, new)]


def _entry_fields(entry: ConsentEntry | PendingEntry) -> dict[str, Any]:
    occurred_at = entry.occurred_at
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    return {
        "action": entry.action,
        "choices": {"functional": entry.functional, "statistics": entry.statistics},
        "policy_version": entry.policy_version,
        "language": entry.language,
        "text_hash": entry.text_hash,
        "occurred_at": occurred_at.isoformat(timespec="seconds"),
        "source": entry.source,
    }


def receipt(session: Session, consent_id: str) -> dict[str, Any]:
    """Every entry of one consent ID, each provable against the latest signed checkpoint.

    An entry in the signed tree carries its leaf (the exact bytes whose leaf hash is in the
    tree) and its inclusion proof; one not yet in it carries the signed promise instead.
    """
    conn = session.connection()
    latest = latest_checkpoint_row(conn)
    signed_size = 0 if latest is None else int(latest.tree_size)
    entries_stmt, pending_stmt = _receipt_statements()
    rows = session.execute(entries_stmt, {"consent_id": consent_id}).all()
    pending = list(session.scalars(pending_stmt, {"consent_id": consent_id}))
    integrated = list(reversed(rows))
    proven = [entry for entry, _ in integrated if entry.seq <= signed_size]
    plans = [inclusion_ranges(entry.seq - 1, signed_size) for entry in proven]
    hashes = StoredTree(conn).range_hashes([r for plan in plans for r in plan])
    proofs: dict[int, list[str]] = {}
    offset = 0
    for entry, plan in zip(proven, plans, strict=True):
        proofs[entry.seq] = [b64(h) for h in hashes[offset : offset + len(plan)]]
        offset += len(plan)

    entries: list[dict[str, Any]] = []
    for entry, chain_hash in integrated:
        leaf = entry_leaf(entry)
        item: dict[str, Any] = {
            "leaf_index": entry.seq - 1,
            "leaf": b64(leaf),
            "seq": entry.seq,
            **_entry_fields(entry),
            "hash": chain_hash,
        }
        if entry.seq in proofs:
            item["inclusion_proof"] = proofs[entry.seq]
        else:
            # In the log, not yet under a signed checkpoint (the sequencer signs within its
            # next round): a promise made now says so.
            item["promise"] = promise_note(leaf_hash(leaf), utcnow()) or None
        entries.append(item)
    for row in pending:
        leaf = entry_leaf(ConsentEntry(**{k: getattr(row, k) for k in _LEAF_FIELDS}))
        entries.append(
            {"leaf_index": None, "leaf": b64(leaf), **_entry_fields(row), "promise": row.promise}
        )
    return {
        "consent_id": consent_id,
        "checkpoint": None if latest is None else latest.note,
        "entries": entries,
    }


@cache
def _receipt_statements() -> tuple[Any, Any]:
    """The receipt's two queries, built once (building them cost more than running them)."""
    consent_id: Any = bindparam("consent_id")
    entries = (
        select(ConsentEntry, ChainLink.hash)
        .join(ChainLink, ChainLink.seq == ConsentEntry.seq)
        .where(ConsentEntry.consent_id == consent_id)
        .order_by(ConsentEntry.seq.desc())
        .limit(RECEIPT_LIMIT)
    )
    pending = (
        select(PendingEntry)
        .where(PendingEntry.consent_id == consent_id)
        .order_by(PendingEntry.id)
        .limit(RECEIPT_LIMIT)
    )
    return entries, pending


_LEAF_FIELDS = (
    "site", "occurred_at", "consent_id", "action", "functional", "statistics",
    "policy_version", "text_hash", "language", "source", "gpc",
)  # fmt: skip


# ------------------------------------------------------------------------- verification


def _open(note: str, keys: list[Ed25519PublicKey]) -> tuple[str | None, bool]:
    """(text, signed): the note's text checked with whichever of `keys` signed it.

    The signer is found by its name and key hash on the signature lines (the name is read
    there, so notes signed before the origin setting changed still verify). A note by none of
    `keys` gives its text unchecked, (text, False), as a checkpoint by a key that is not
    configured (one rotated out) is "not checked", not broken; a note whose signature by one
    of `keys` fails gives (None, True).
    """
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        return None, True
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            hash_ = base64.b64decode(encoded, validate=True)[:4]
        except ValueError:
            continue
        for key in keys:
            if key_hash(name, key) == hash_:
                try:
                    return open_note(note, Verifier(name, hash_, key)), True
                except NoteError:
                    return None, True
    return text + "\n", False


def check_tree(session: Session, size: int, computed: LevelDigests | None = None) -> str | None:
    """The first problem with the stored tree of `size` leaves, or None.

    Every level holds exactly the complete subtrees of that size, and every node above the
    leaves is the hash of its two children (the leaves themselves are checked against the
    records while the chain is walked). `computed`: the tree built from those checked leaves
    while the chain was walked; when each stored level matches it, one sequential read per
    level has checked everything, and only a tree that does not match is searched node by
    node for the problem to name.
    """
    if computed is not None and computed.size == size and _levels_match(session, size, computed):
        return None
    nodes = TreeNode.__table__
    counts = {
        level: (count, first, last)
        for level, count, first, last in session.execute(
            select(
                nodes.c.level, func.count(), func.min(nodes.c.idx), func.max(nodes.c.idx)
            ).group_by(nodes.c.level)
        )
    }
    for level in range(max([size.bit_length(), *(lv + 1 for lv in counts)])):
        expected = size >> level
        count, first, last = counts.get(level, (0, None, None))
        # Unique (level, idx) within these bounds: exactly the indexes 0 … expected - 1.
        if count != expected or (expected and (first, last) != (0, expected - 1)):
            if level == 0 and count > expected:
                return (
                    f"entry {size + 1}: entries were cut off the end: the Merkle tree has "
                    f"{count} leaves, the chain {size} entries"
                )
            if count == expected:
                missing = _first_missing(session, level)
                named = (missing << level) + 1
                return (
                    f"entry {named}: the Merkle tree has no node at level {level} over entries "
                    f"{named}…{named + (1 << level) - 1} (a node was moved)"
                )
            named = (min(count, expected) << level) + 1
            return (
                f"entry {named}: the Merkle tree has {count} nodes at level {level} where a "
                f"tree of {size} has {expected}"
            )
    parent, left, right = nodes.alias("p"), nodes.alias("l"), nodes.alias("r")
    rows = stream_rows(
        session,
        select(parent.c.level, parent.c.idx, parent.c.hash, left.c.hash, right.c.hash)
        .join(left, and_(left.c.level == parent.c.level - 1, left.c.idx == parent.c.idx * 2))
        .join(right, and_(right.c.level == parent.c.level - 1, right.c.idx == parent.c.idx * 2 + 1))
        .where(parent.c.level > 0),
        5000,
    )
    bad: tuple[int, int] | None = None
    try:
        for level, index, value, lhash, rhash in rows:
            # Written out (not node_hash): a million nodes go through this line.
            if _sha256(NODE + bytes.fromhex(lhash + rhash)).hexdigest() != value:
                # An altered node also breaks every node above it: name the lowest.
                bad = min(bad, (level, index)) if bad else (level, index)
    finally:
        rows.close()
    if bad is None:
        return None
    level, index = bad
    first = (index << level) + 1
    last = first + (1 << level) - 1
    return (
        f"entry {first}: the Merkle tree node over entries {first}…{last} "
        "does not match its children"
    )


def _levels_match(session: Session, size: int, computed: LevelDigests) -> bool:
    """Whether the stored tree holds exactly the nodes `computed` (leaves already checked).

    The leaves 0 … size - 1 were each found while the chain was walked, so the leaf level is
    right when nothing lies outside that range; each level above must read back, in index
    order, as exactly the indexes 0 … (size >> level) - 1 with `computed`'s digest.
    """
    nodes = TreeNode.__table__
    level, idx = nodes.c.level, nodes.c.idx
    # One aggregate per query: SQLite answers a lone min()/max() from the primary key's
    # index without a scan.
    if size == 0:
        return session.scalar(select(func.count()).select_from(nodes)) == 0
    top = size.bit_length() - 1
    bounds = (
        session.scalar(select(func.min(level))),
        session.scalar(select(func.max(level))),
        session.scalar(select(func.min(idx)).where(level == 0)),
        session.scalar(select(func.max(idx)).where(level == 0)),
    )
    if bounds != (0, top, 0, size - 1):
        return False
    for lv in range(1, top + 1):
        digest, expected = _sha256(), 0
        stmt = select(idx, nodes.c.hash).where(level == lv).order_by(idx)
        batches = stream_batches(session, stmt, 5000)
        try:
            for rows in batches:
                # (level, idx) is unique and the rows are in order: first and last tell
                # whether the indexes run on without a gap.
                if rows[0][0] != expected or rows[-1][0] != expected + len(rows) - 1:
                    return False
                expected += len(rows)
                digest.update("".join([r[1] for r in rows]).encode())
        except TypeError:
            return False  # a hash that is not text
        finally:
            batches.close()
        if expected != size >> lv or digest.hexdigest() != computed.digest(lv):
            return False
    return True


def _first_missing(session: Session, level: int) -> int:
    """The smallest index from 0 that level `level` lacks (only asked when one is missing)."""
    nodes = TreeNode.__table__
    indexes = session.execute(
        select(nodes.c.idx)
        .where(nodes.c.level == level, nodes.c.idx >= 0)
        .order_by(nodes.c.idx)
        .execution_options(yield_per=5000)
    ).scalars()
    expected = 0
    try:
        for index in indexes:
            if index != expected:
                break
            expected += 1
    finally:
        indexes.close()
    return expected


@dataclass
class LogCheck:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_log(
    session: Session,
    keys: Iterable[Ed25519PublicKey],
    size: int,
    external_notes: Sequence[str] = (),
    computed: LevelDigests | None = None,
) -> LogCheck:
    """Check the stored tree, every stored signed checkpoint and every pending promise.

    `external_notes`: checkpoints kept outside the database (e.g. fetched from
    /api/v1/log/checkpoint and filed); they must be signed by one of `keys`. `computed`: the
    tree from the leaves `verify_chain` checked (see `check_tree`).
    """
    result = LogCheck()
    problem = check_tree(session, size, computed)
    if problem is not None:
        result.problems.append(problem)
        return result
    verifiers = list(keys)
    tree = StoredTree(session.connection())
    stored = [
        (f"log checkpoint #{row.id}", row.note, False)
        for row in session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.id))
    ]
    given = [(f"the given log checkpoint ({i + 1})", n, True) for i, n in enumerate(external_notes)]
    for label, note, outside in stored + given:
        text, signed = _open(note, verifiers)
        if text is None:
            result.problems.append(f"{label} has no valid signature by the log's key")
            continue
        if not signed:
            if outside:
                result.problems.append(f"{label} is signed by a key that is not configured")
                continue
            result.notes.append(f"{label} is signed by a key that is not configured: not checked")
        try:
            body = parse_checkpoint(text)
        except NoteError as exc:
            result.problems.append(f"{label}: {exc}")
            continue
        if body.origin != log_origin():
            result.notes.append(f"{label} names another origin ({body.origin})")
        if body.size > size:
            result.problems.append(
                f"entry {size + 1}: entries were cut off the end: {label} covers {body.size}"
            )
        elif tree.root(body.size) != body.root:
            result.problems.append(
                f"the log was rewritten: {label} signed a different tree head at size {body.size}"
            )
    now = utcnow()
    for pending in session.scalars(select(PendingEntry).order_by(PendingEntry.id)):
        label = f"pending entry #{pending.id}"
        leaf = leaf_hash(entry_leaf(ConsentEntry(**{k: getattr(pending, k) for k in _LEAF_FIELDS})))
        if leaf.hex() != pending.leaf_hash:
            result.problems.append(f"{label} was altered after it was acknowledged")
            continue
        if not pending.promise:
            result.notes.append(f"{label} was acknowledged without a signing key")
            continue
        text, signed = _open(pending.promise, verifiers)
        if text is None:
            result.problems.append(f"{label}: its promise has no valid signature")
            continue
        if not signed:
            result.notes.append(f"{label}: its promise is signed by a key that is not configured")
        try:
            promise = parse_promise(text)
        except NoteError as exc:
            result.problems.append(f"{label}: {exc}")
            continue
        if promise.leaf_hash != leaf or promise.acknowledged_at != promise_time(
            pending.occurred_at
        ):
            result.problems.append(f"{label} does not match the promise it was given")
        elif promise.deadline() < now:
            result.notes.append(f"{label} is past its promised integration delay")
    return result
