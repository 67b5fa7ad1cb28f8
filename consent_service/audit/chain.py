"""Append to and verify the consent-log hash chain.

Each record is reduced to a digest (SHA-256 of canonical JSON); the chain links
`hash = SHA-256("seq|prev_hash|digest")`. Editing, deleting, inserting or reordering an
entry breaks a digest, a link or the sequence. Three kinds of record are chained:
citizens' entries (`ConsentEntry`), retention purges (`PurgeRecord`) and staff evidence
(`LogEvent`: a scan report's or a policy's digest, see `events.py`). A record removed by a purge
leaves its link behind, marked with the purge's seq; the purge record carries a digest of the
sequence numbers it removed, so a record deleted by anyone else is still found.

Signed checkpoints (see `checkpoints.py`) add what a chain alone cannot prove: that nothing
was cut off the end and that the chain was not rewritten from some entry on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from bisect import bisect_left
from collections.abc import Generator, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    String,
    and_,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from consent_service.audit.log_models import TreeNode
from consent_service.audit.merkle import BLOCK, TreeBuilder
from consent_service.audit.models import (
    ChainHead,
    ChainLink,
    ConsentEntry,
    LogEvent,
    PurgeRecord,
)
from consent_service.audit.tree import LevelDigests, append_leaves, leaf_hash
from consent_service.db import Model, driver_cursor
from consent_service.hashing import canonical_json, sha256_hex

CONSENT_CHAIN = "consent"
GENESIS_HASH = "0" * 64

# The same serialisation as `canonical_json`, bound once: verification calls it per entry.
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode


def record_digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(record).encode()).hexdigest()


# The canonical JSON of an entry's record, keys in sorted order, built by formatting instead
# of a generic encoder: verification of a million entries spends most of its time here.
# `tests/audit/test_chain.py` proves it byte-identical to `canonical_json(entry.record())`.
_ENTRY_TEMPLATE = (
    '{"action":%s,"choices":{"functional":%s,"statistics":%s},"consent_id":%s,"gpc":%s,'
    '"language":%s,"occurred_at":%s,"policy_version":%d,"seq":%d,"site":%s,"source":%s,'
    '"text_hash":%s}'
)
_quote = json.encoder.encode_basestring_ascii  # C accelerated, as json.dumps uses
_BOOL = {True: "true", False: "false"}


def utc_iso(value: Any) -> str:
    """`occurred_at` as the record has it, from a datetime or SQLite's stored text."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}+00:00"  # SQLAlchemy's SQLite format, UTC
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return value  # not a time: the digest will not match, which names the entry
        value = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return str(value.astimezone(dt.UTC).isoformat(timespec="microseconds"))


def entry_row_record(row: Any) -> dict[str, Any]:
    """The record of an entry from its 12 column values (as `ConsentEntry.record()`)."""
    seq, site, occurred_at, consent_id, action, functional, statistics = row[:7]
    policy_version, text_hash, language, source, gpc = row[7:12]
    return {
        "seq": seq, "site": site, "occurred_at": utc_iso(occurred_at), "consent_id": consent_id,
        "action": action, "choices": {"functional": functional, "statistics": statistics},
        "policy_version": policy_version, "text_hash": text_hash, "language": language,
        "source": source, "gpc": gpc,
    }  # fmt: skip


def entry_row_digest(
    seq: Any, site: Any, occurred_at: str, consent_id: Any, action: Any, functional: Any,
    statistics: Any, policy_version: Any, text_hash: Any, language: Any, source: Any, gpc: Any,
) -> str:  # fmt: skip
    """The digest of an entry's record from its column values (`occurred_at` as ISO text)."""
    if (
        type(seq) is int and type(policy_version) is int
        and type(functional) is bool and type(statistics) is bool and type(gpc) is bool
        and type(site) is str and type(consent_id) is str and type(action) is str
        and type(text_hash) is str and type(language) is str and type(source) is str
    ):  # fmt: skip
        text = _ENTRY_TEMPLATE % (
            _quote(action), _BOOL[functional], _BOOL[statistics], _quote(consent_id),
            _BOOL[gpc], _quote(language), _quote(occurred_at), policy_version, seq,
            _quote(site), _quote(source), _quote(text_hash),
        )  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()
    # Unexpected types (a hand-edited row): the canonical encoder, made unable to raise.
    record = {
        "seq": seq, "site": site, "occurred_at": occurred_at, "consent_id": consent_id,
        "action": action, "choices": {"functional": functional, "statistics": statistics},
        "policy_version": policy_version, "text_hash": text_hash, "language": language,
        "source": source, "gpc": gpc,
    }  # fmt: skip
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def entry_digest(entry: ConsentEntry | PurgeRecord | LogEvent) -> str:
    return sha256_hex(canonical_json(entry.record()))


# An entry's Merkle tree leaf: its record without `seq`, so that the exact bytes are known
# when the entry is acknowledged, before the sequencer gives it a position.
_LEAF_TEMPLATE = _ENTRY_TEMPLATE.replace('"seq":%d,', "")


def record_leaf(record: dict[str, Any]) -> bytes:
    """The leaf bytes of an entry's record (canonical JSON without `seq`)."""
    return canonical_json({k: v for k, v in record.items() if k != "seq"})


def entry_leaf(entry: ConsentEntry) -> bytes:
    return record_leaf(entry.record())


def purge_leaf(purge: PurgeRecord | LogEvent) -> bytes:
    """A purge record's or an event's leaf: its whole record (chained directly, never pending).

    Both records carry a `type`, which an entry's leaf never has: no leaf passes for another kind.
    """
    return canonical_json(purge.record())


# The record split around its `seq`: the leaf is the record without it, so one formatting
# gives both texts (verification computes both for every entry).
_HEAD_TEMPLATE, _TAIL_TEMPLATE = _LEAF_TEMPLATE.split('"site":')
_TAIL_TEMPLATE = '"site":' + _TAIL_TEMPLATE
_sha256 = hashlib.sha256
# The head again, in the parts `verify_chain` formats once per batch (those that repeat) and
# per entry (consent ID, time, policy version); tests/audit proves the pieces make the head.
_START = '{"action":%s,"choices":{"functional":%s,"statistics":%s},"consent_id":'
_MIDDLE = ',"gpc":%s,"language":%s,"occurred_at":'
_HEAD_PARTS = '%s%s%s%s,"policy_version":%d,'


def entry_row_hashes(
    seq: Any, site: Any, occurred_at: str, consent_id: Any, action: Any, functional: Any,
    statistics: Any, policy_version: Any, text_hash: Any, language: Any, source: Any, gpc: Any,
) -> tuple[str, str]:  # fmt: skip
    """(digest, leaf hash) of an entry from its column values, both hex, in one formatting.

    The same as `entry_row_digest` and `entry_row_leaf_hash` (proved by tests/audit); the
    verification of a million entries calls this once per entry.
    """
    if (
        type(seq) is int and type(policy_version) is int
        and type(functional) is bool and type(statistics) is bool and type(gpc) is bool
        and type(site) is str and type(consent_id) is str and type(action) is str
        and type(text_hash) is str and type(language) is str and type(source) is str
    ):  # fmt: skip
        head = _HEAD_TEMPLATE % (
            _quote(action), _BOOL[functional], _BOOL[statistics], _quote(consent_id),
            _BOOL[gpc], _quote(language), _quote(occurred_at), policy_version,
        )  # fmt: skip
        tail = _TAIL_TEMPLATE % (_quote(site), _quote(source), _quote(text_hash))
        return (
            _sha256(f'{head}"seq":{seq},{tail}'.encode()).hexdigest(),
            _sha256(f"\x00{head}{tail}".encode()).hexdigest(),
        )
    fields = (site, occurred_at, consent_id, action, functional, statistics, policy_version,
              text_hash, language, source, gpc)  # fmt: skip
    return entry_row_digest(seq, *fields), entry_row_leaf_hash(*fields).hex()


def entry_row_leaf_hash(
    site: Any, occurred_at: str, consent_id: Any, action: Any, functional: Any,
    statistics: Any, policy_version: Any, text_hash: Any, language: Any, source: Any, gpc: Any,
) -> bytes:  # fmt: skip
    """The leaf hash of an entry from its column values (`occurred_at` as ISO text)."""
    if (
        type(policy_version) is int
        and type(functional) is bool and type(statistics) is bool and type(gpc) is bool
        and type(site) is str and type(consent_id) is str and type(action) is str
        and type(text_hash) is str and type(language) is str and type(source) is str
    ):  # fmt: skip
        text = _LEAF_TEMPLATE % (
            _quote(action), _BOOL[functional], _BOOL[statistics], _quote(consent_id),
            _BOOL[gpc], _quote(language), _quote(occurred_at), policy_version,
            _quote(site), _quote(source), _quote(text_hash),
        )  # fmt: skip
        return leaf_hash(text.encode())
    record = {
        "site": site, "occurred_at": occurred_at, "consent_id": consent_id,
        "action": action, "choices": {"functional": functional, "statistics": statistics},
        "policy_version": policy_version, "text_hash": text_hash, "language": language,
        "source": source, "gpc": gpc,
    }  # fmt: skip
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return leaf_hash(text.encode())


def link_hash(seq: int, prev_hash: str, digest: str) -> str:
    return hashlib.sha256(f"{seq}|{prev_hash}|{digest}".encode()).hexdigest()


def removed_seqs_digest(seqs: Iterable[int]) -> tuple[int, str]:
    """Count and SHA-256 of sequence numbers, ascending, one per line (a purge's fingerprint)."""
    digest, count = hashlib.sha256(), 0
    for seq in seqs:
        digest.update(f"{seq}\n".encode())
        count += 1
    return count, digest.hexdigest()


_HEAD = Model.metadata.tables[ChainHead.__tablename__]
_LINKS = Model.metadata.tables[ChainLink.__tablename__]
_ENTRIES = Model.metadata.tables[ConsentEntry.__tablename__]
_PURGES = Model.metadata.tables[PurgeRecord.__tablename__]
_EVENTS = Model.metadata.tables[LogEvent.__tablename__]


_ENTRY_COLUMNS = tuple(c.key for c in _ENTRIES.columns)


@cache
def _append_sql(dialect: str, paramstyle: str) -> tuple[str, str, str]:
    """The three writes of an append, as plain SQL for the driver.

    Dialect code: an append writes up to a few thousand rows per transaction, and
    SQLAlchemy's per-statement machinery costs more than SQLite's own work here (measured:
    about 430 µs against 120 µs per row), so the writes go straight to the driver.
    """
    # Only our own table and column names are formatted in; values are bound parameters.
    statements = (
        f"INSERT INTO {_LINKS.name} (seq, prev_hash, digest, hash) VALUES (?, ?, ?, ?)",
        f"INSERT INTO {_ENTRIES.name} ({', '.join(_ENTRY_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in _ENTRY_COLUMNS)})",
        f"UPDATE {_HEAD.name} SET seq = ?, hash = ? WHERE chain = ?",
    )
    if paramstyle in ("format", "pyformat"):
        return tuple(sql.replace("?", "%s") for sql in statements)  # type: ignore[return-value]
    return statements


def driver_value(value: object, dialect: str) -> object:
    # Dialect code: SQLAlchemy stores SQLite datetimes as naive UTC text in this format.
    if dialect == "sqlite" and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def lock_head(conn: Connection) -> tuple[int, str]:
    """The chain head's (seq, hash), held for the caller's write transaction.

    The one way every writer (the sequencer, a purge, the tree's first build) takes the
    chain: a row lock on PostgreSQL (`SELECT … FOR UPDATE`); on SQLite the write
    transaction (BEGIN IMMEDIATE, `db.writing`) already holds the whole file, and SQLAlchemy
    leaves FOR UPDATE out.
    """
    head = conn.execute(
        select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.chain == CONSENT_CHAIN).with_for_update()
    ).first()
    if head is None:
        # The migration creates the head row; this covers a database created without it.
        conn.execute(insert(_HEAD), {"chain": CONSENT_CHAIN, "seq": 0, "hash": GENESIS_HASH})
        return 0, GENESIS_HASH
    return int(head.seq), str(head.hash)


def append_entry(conn: Connection, entry: ConsentEntry) -> ConsentEntry:
    """Give `entry` the next sequence number, chain it, write it and its tree leaf.

    The caller's transaction holds the chain (BEGIN IMMEDIATE on SQLite; here a row lock on
    the head on PostgreSQL) and commits.
    """
    append_entries(conn, [entry])
    return entry


def append_entries(conn: Connection, entries: list[ConsentEntry]) -> tuple[int, bytes]:
    """Chain `entries` in order after the head and add their leaves to the tree.

    Returns the new size and the tree's root hash. Only the sequencer (and a purge) append,
    so the lock is not contended; the statements still go to the driver in batches, as the
    sequencer integrates up to a few thousand entries per transaction.
    """
    dialect = conn.dialect.name
    link_sql, entry_sql, move_sql = _append_sql(dialect, conn.dialect.paramstyle)
    seq, prev_hash = lock_head(conn)
    first = seq
    # Driver errors leave as SQLAlchemy's: callers (a retry racing on request_id) and the
    # 503 handler (a locked, full or lost database) know its classes.
    with driver_cursor(conn) as cursor:
        links, rows, leaves = [], [], []
        for entry in entries:
            seq += 1
            entry.seq = seq
            digest = entry_digest(entry)
            new_hash = link_hash(seq, prev_hash, digest)
            links.append((seq, prev_hash, digest, new_hash))
            rows.append(tuple(driver_value(getattr(entry, c), dialect) for c in _ENTRY_COLUMNS))
            leaves.append(leaf_hash(entry_leaf(entry)))
            prev_hash = new_hash
        if entries:
            cursor.executemany(link_sql, links)
            cursor.executemany(entry_sql, rows)
            cursor.execute(move_sql, (seq, prev_hash, CONSENT_CHAIN))
    return seq, append_leaves(conn, first, leaves)


def append_purge(conn: Connection, purge: PurgeRecord) -> PurgeRecord:
    """Chain a purge record like an entry (rare, so plain Core statements); caller commits."""
    _append_record(conn, purge, _PURGES)
    return purge


def append_event(conn: Connection, event: LogEvent) -> LogEvent:
    """Chain a staff event (evidence) as a purge is chained: next seq, link, row, tree leaf."""
    _append_record(conn, event, _EVENTS)
    return event


def _append_record(conn: Connection, record: PurgeRecord | LogEvent, table: Any) -> None:
    seq, prev_hash = lock_head(conn)
    record.seq = seq + 1
    digest = entry_digest(record)
    new_hash = link_hash(record.seq, prev_hash, digest)
    conn.execute(
        insert(_LINKS),
        {"seq": record.seq, "prev_hash": prev_hash, "digest": digest, "hash": new_hash},
    )
    conn.execute(insert(table), {c.key: getattr(record, c.key) for c in table.columns})
    conn.execute(
        update(_HEAD).where(_HEAD.c.chain == CONSENT_CHAIN).values(seq=record.seq, hash=new_hash)
    )
    append_leaves(conn, record.seq - 1, [leaf_hash(purge_leaf(record))])


@dataclass(frozen=True)
class ExpectedHead:
    """A (seq, hash) pair the chain must contain, e.g. from a signed checkpoint."""

    seq: int
    hash: str
    label: str
    merkle_root: str | None = None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None
    purged: int = 0
    heads_checked: int = 0
    notes: tuple[str, ...] = field(default=())
    events: int = 0

    def describe(self) -> str:
        if self.ok:
            text = (
                f"consent log intact: {self.checked} entries, head {self.head_seq} {self.head_hash}"
            )
            if self.purged:
                text += f"; {self.purged} records removed by recorded purges"
            if self.events:
                text += f"; {self.events} staff events (scan reports, policy approvals)"
            if self.heads_checked:
                text += f"; {self.heads_checked} checkpoint(s) match"
            return text
        return f"consent log BROKEN at entry {self.first_bad_seq}: {self.reason}"


_ENTRY = ConsentEntry.__table__.c
_LINK = ChainLink.__table__.c
_LEAVES = Model.metadata.tables[TreeNode.__tablename__]


def stream_rows(session: Session, stmt: Select[Any], batch: int) -> Generator[Any, None, None]:
    """The rows of `stmt`, read `batch` at a time (see `stream_batches`). Stopping early
    (verification stops at the first bad entry) releases the cursor."""
    batches = stream_batches(session, stmt, batch)
    try:
        for rows in batches:
            yield from rows
    finally:
        batches.close()


def stream_batches(
    session: Session, stmt: Select[Any], batch: int
) -> Generator[list[Any], None, None]:
    """The rows of `stmt` as lists of up to `batch` rows, as plain tuples where the driver allows.

    Dialect code: on SQLite the compiled statement runs on the driver's own cursor, whose
    rows are already tuples of Python values; SQLAlchemy's row objects and fetch machinery
    cost more than SQLite's own work over a million rows (the columns must need no result
    processing: text and integers). Elsewhere `yield_per`, a server-side cursor: memory stays
    flat either way. `audit verify` checks a whole batch with a few list comprehensions: a
    step per row in Python costs more than the reading.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        result = conn.execute(stmt.execution_options(yield_per=batch))
        try:
            for part in result.partitions(batch):
                yield list(part)
        finally:
            result.close()
        return
    compiled = stmt.compile(dialect=conn.dialect)
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def chain_rows(session: Session, batch: int) -> Generator[Any, None, None]:
    """Every link with its entry's columns (None when it has none), in chain order.

    Plain rows, not ORM objects: at a million entries the identity map and object
    construction would cost more than the hashing itself.
    """
    rows = stream_rows(session, _chain_select(session), batch)
    if session.get_bind().dialect.name != "sqlite":
        yield from rows
        return
    try:
        for r in rows:
            yield _sqlite_row(r)
    finally:
        rows.close()


def _sqlite_row(r: Any) -> Any:
    """SQLite stores booleans as integers: give them back as SQLAlchemy's Boolean does."""
    if r[5] is None:
        return r
    return (*r[:10], bool(r[10]), bool(r[11]), *r[12:16], bool(r[16]), r[17])


def _chain_select(session: Session, leaves: bool = True) -> Select[Any]:
    """Links ⟕ entries ⟕ leaves in chain order (the columns of `chain_rows`).

    Without `leaves`, the columns without the last (the leaf hash).
    """
    occurred_at: Any = _ENTRY.occurred_at
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The stored text as it is: `utc_iso` turns it into the record's form without the
        # cost of building a datetime per row.
        occurred_at = type_coerce(_ENTRY.occurred_at, String)
    columns: list[Any] = [
        _LINK.seq, _LINK.prev_hash, _LINK.digest, _LINK.hash, _LINK.purged_in, _ENTRY.seq,
        _ENTRY.site, occurred_at, _ENTRY.consent_id, _ENTRY.action, _ENTRY.functional,
        _ENTRY.statistics, _ENTRY.policy_version, _ENTRY.text_hash, _ENTRY.language,
        _ENTRY.source, _ENTRY.gpc,
    ]  # fmt: skip
    joined = ChainLink.__table__.outerjoin(ConsentEntry.__table__)
    if leaves:
        columns.append(_LEAVES.c.hash)
        joined = joined.outerjoin(
            _LEAVES, and_(_LEAVES.c.level == 0, _LEAVES.c.idx == _LINK.seq - 1)
        )
    return select(*columns).select_from(joined).order_by(_LINK.seq)


def verification_batches(session: Session, batch: int) -> Generator[list[Any], None, None]:
    """The rows of `chain_rows` (SQLite's booleans as stored), a batch at a time.

    The leaves are read in order on their own and put beside their links by position: as
    a join, each would be looked up in the index and then in the table, which costs more
    than reading the leaf level through once.
    """
    leaf = _LEAVES.c
    leaf_stmt = select(leaf.idx, leaf.hash).where(leaf.level == 0).order_by(leaf.idx)
    if session.get_bind().dialect.name == "sqlite":
        # Only integers can equal a position (SQLite keeps whatever type a value is given).
        leaf_stmt = leaf_stmt.where(func.typeof(leaf.idx) == "integer")
    links = stream_batches(session, _chain_select(session, leaves=False), batch)
    reader = _LeafReader(stream_batches(session, leaf_stmt, batch))
    try:
        for rows in links:
            yield reader.beside(rows)
    finally:
        links.close()
        reader.close()


class _LeafReader:
    """Leaf hashes, read in index order, handed out beside the links they belong to."""

    def __init__(self, batches: Generator[list[Any], None, None]) -> None:
        self._batches = batches
        self._rows: list[Any] = []
        self._at = 0

    def close(self) -> None:
        self._batches.close()

    def _ready(self) -> bool:
        if self._at < len(self._rows):
            return True
        self._rows, self._at = next(self._batches, []), 0
        return bool(self._rows)

    def beside(self, links: list[Any]) -> list[Any]:
        """`links` with each one's leaf hash (None when there is none) as a last column."""
        self._ready()
        count, at, rows = len(links), self._at, self._rows
        first = links[0][0] - 1
        if (
            links[-1][0] - 1 - first == count - 1
            and at + count <= len(rows)
            and rows[at][0] == first
            and rows[at + count - 1][0] == first + count - 1
        ):
            # Links and leaves both run on without a gap (unique, in order): pair them.
            self._at += count
            pairs = zip(links, rows[at : at + count], strict=True)
            return [(*link, row[1]) for link, row in pairs]
        result = []
        for link in links:
            want, found = link[0] - 1, None
            while self._ready():
                index, value = self._rows[self._at]
                if index < want:
                    self._at += 1
                    continue
                if index == want:
                    found = value
                    self._at += 1
                break
            result.append((*link, found))
        return result


@dataclass
class _PurgeTally:
    """What the links marked with one purge add up to, accumulated while streaming."""

    digest: Any = field(default_factory=hashlib.sha256)
    count: int = 0
    first: int | None = None
    last: int | None = None

    def add(self, seq: int) -> None:
        self.digest.update(f"{seq}\n".encode())
        self.count += 1
        self.first = seq if self.first is None else self.first
        self.last = seq


def verify_chain(
    session: Session,
    batch: int = 5000,
    expected_heads: Iterable[ExpectedHead] = (),
    leaves: LevelDigests | None = None,
) -> VerifyResult:
    """Recompute every digest and link in order; stop at the first entry that does not fit.

    `expected_heads` (verified checkpoints) must each match the link hash at their seq, and
    the chain must reach at least as far as the furthest of them. `leaves`, when given, is
    fed every stored Merkle leaf once it is checked against its record, so that the stored
    tree above the leaves can then be checked level by level (`check_tree`).

    A batch of rows is first checked whole with list comprehensions (the common case: only
    citizens' entries, nothing wrong); a batch that does not pass, or that holds a purge, an
    event or a removed record, is walked again row by row, which names the first bad entry.
    """
    prev_hash, expected_seq, checked, purged = GENESIS_HASH, 1, 0, 0
    heads: dict[int, list[ExpectedHead]] = {}
    for head in expected_heads:
        heads.setdefault(head.seq, []).append(head)
    head_seqs = sorted(heads)
    # The link tree is only compared at heads that sign one: past the last, it is not built.
    tree_until = max((h.seq for hs in heads.values() for h in hs if h.merkle_root), default=0)
    purges = {p.seq: p for p in session.scalars(select(PurgeRecord))}
    events = {e.seq: e for e in session.scalars(select(LogEvent))}
    tallies: dict[int, _PurgeTally] = {}
    tree = TreeBuilder()  # the RFC 6962 tree over the links, to check signed tree heads
    # Link hashes not yet in `tree`: added in blocks, and before a signed head is compared.
    unhashed: list[str] = []
    sqlite = session.get_bind().dialect.name == "sqlite"

    def broken(seq: int | None, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, expected_seq - 1, prev_hash, seq, reason, purged)

    def add_to_tree(hashes: list[str]) -> None:
        unhashed.extend(hashes)
        if len(unhashed) >= 4 * BLOCK:
            whole = len(unhashed) - len(unhashed) % BLOCK
            tree.extend(unhashed[:whole])
            del unhashed[:whole]

    def head_problem(seq: int, hash_: str) -> str | None:
        for head in heads[seq]:
            if unhashed:
                tree.extend(unhashed)
                unhashed.clear()
            if head.hash != hash_:
                return f"the chain was rewritten: {head.label} signed a different hash here"
            if head.merkle_root is not None and head.merkle_root != tree.root().hex():
                return f"{head.label} signed a different Merkle tree head"
        return None

    def whole_batch(rows: list[Any]) -> bool | VerifyResult:
        """Check a batch of entries at once: True (all fit), False (walk it) or a break."""
        nonlocal prev_hash, expected_seq, checked
        count, first = len(rows), rows[0]
        if first[0] != expected_seq or rows[-1][0] != expected_seq + count - 1:
            return False  # a gap (seq is unique and ordered, so first and last tell)
        # The record's text as `entry_row_hashes` formats it, its parts that repeat (action
        # and choices; GPC and language; site, source and text) formatted once per batch.
        # A value of a type the template would not print as canonical JSON raises
        # (TypeError, KeyError): booleans must be exactly 0/1 (SQLite) or bool, texts str.
        starts: dict[tuple[Any, ...], str] = {}
        middles: dict[tuple[Any, ...], str] = {}
        tails: dict[tuple[Any, ...], str] = {}
        prev, links = prev_hash, []
        try:
            for r in rows:
                if r[4] is not None or r[5] is None or type(r[12]) is not int or r[1] != prev:
                    return False  # a removed record, a purge, an event, an odd value, a break
                start = starts.get((r[9], r[10], r[11]))
                if start is None:
                    start = starts[(r[9], r[10], r[11])] = _START % (
                        _quote(r[9]), _BOOL[r[10]], _BOOL[r[11]],
                    )  # fmt: skip
                middle = middles.get((r[16], r[14]))
                if middle is None:
                    middle = middles[(r[16], r[14])] = _MIDDLE % (_BOOL[r[16]], _quote(r[14]))
                tail = tails.get((r[6], r[15], r[13]))
                if tail is None:
                    tail = tails[(r[6], r[15], r[13])] = _TAIL_TEMPLATE % (
                        _quote(r[6]), _quote(r[15]), _quote(r[13]),
                    )  # fmt: skip
                head = _HEAD_PARTS % (start, _quote(r[8]), middle, _quote(utc_iso(r[7])), r[12])
                if (
                    _sha256(f'{head}"seq":{r[0]},{tail}'.encode()).hexdigest() != r[2]
                    or _sha256(f"{r[0]}|{prev}|{r[2]}".encode()).hexdigest() != r[3]
                    or _sha256(f"\x00{head}{tail}".encode()).hexdigest() != r[17]
                ):
                    return False
                prev = r[3]
                links.append(prev)
        except (TypeError, KeyError, ValueError):
            return False
        # Every row fits on its own; now the signed heads among them, in order.
        last = expected_seq + count - 1
        done = 0
        for seq in head_seqs[bisect_left(head_seqs, expected_seq) :]:
            if seq > last:
                break
            at = seq - expected_seq
            if expected_seq <= tree_until:
                add_to_tree(links[done : at + 1])
            done = at + 1
            problem = head_problem(seq, links[at])
            if problem is not None:
                checked += at
                prev_hash = links[at - 1] if at else prev_hash
                expected_seq = seq
                return broken(seq, problem)
        if expected_seq + done <= tree_until:
            add_to_tree(links[done:])
        if leaves is not None:
            leaves.add([r[17] for r in rows])
        prev_hash, expected_seq, checked = links[-1], last + 1, checked + count
        return True

    with closing(verification_batches(session, batch)) as batches:
        for rows in batches:
            fitted = whole_batch(rows)
            if isinstance(fitted, VerifyResult):
                return fitted
            if fitted:
                continue
            for row in map(_sqlite_row, rows) if sqlite else rows:
                seq, link_prev, digest, hash_, purged_in, entry_seq = row[:6]
                if seq != expected_seq:
                    return broken(expected_seq, f"entry missing (next link found is {seq})")
                if link_prev != prev_hash:
                    return broken(seq, "previous-hash does not match the entry before it")
                if purged_in is not None:
                    if purged_in <= seq:
                        return broken(
                            seq, "marked as removed by a purge that does not come after it"
                        )
                    tallies.setdefault(purged_in, _PurgeTally()).add(seq)
                stored_leaf = row[17]
                if entry_seq is not None:
                    e = row
                    found, leaf = entry_row_hashes(
                        e[5], e[6], utc_iso(e[7]), e[8], e[9], e[10], e[11], e[12], e[13], e[14],
                        e[15], e[16],
                    )  # fmt: skip
                elif seq in purges:
                    found = record_digest(purges[seq].record())
                    leaf = leaf_hash(purge_leaf(purges[seq])).hex()
                elif seq in events:
                    found = record_digest(events[seq].record())
                    leaf = leaf_hash(purge_leaf(events[seq])).hex()
                elif purged_in is not None:
                    found = digest  # the record is gone; the purge tally below accounts for it
                    leaf = stored_leaf  # likewise its leaf; signed tree heads still cover it
                    purged += 1
                else:
                    return broken(seq, "the log record is missing")
                if found != digest:
                    return broken(seq, "the log record was altered")
                if link_hash(seq, link_prev, digest) != hash_:
                    return broken(seq, "the link hash does not match its contents")
                if stored_leaf is None:
                    return broken(seq, "the Merkle tree has no leaf for this entry")
                if leaf != stored_leaf:
                    return broken(seq, "the Merkle tree leaf does not match the record")
                if seq <= tree_until:
                    add_to_tree([hash_])
                if seq in heads:
                    problem = head_problem(seq, hash_)
                    if problem is not None:
                        return broken(seq, problem)
                if leaves is not None:
                    leaves.add([stored_leaf])
                prev_hash, expected_seq, checked = hash_, expected_seq + 1, checked + 1

    last_seq = expected_seq - 1
    for purge_seq in sorted(set(tallies) | set(purges)):
        purge = purges.get(purge_seq)
        tally = tallies.get(purge_seq, _PurgeTally())
        if purge is None:
            return broken(tally.first, f"marked as removed by purge {purge_seq}, which is missing")
        if (tally.count, tally.digest.hexdigest(), tally.first, tally.last) != (
            purge.removed_count,
            purge.removed_digest,
            purge.first_removed_seq,
            purge.last_removed_seq,
        ):
            return broken(purge_seq, "the purge record does not match the records marked removed")
    orphan = session.scalar(
        select(ConsentEntry.seq)
        .outerjoin(ChainLink, ChainLink.seq == ConsentEntry.seq)
        .where(ChainLink.seq.is_(None))
        .limit(1)
    )
    if orphan is None:
        # An event on a position that is not its own (a purge's, an entry's, past the end).
        orphan = next((seq for seq in sorted(events) if seq in purges or seq > last_seq), None)
    if orphan is None:
        orphan = session.scalar(
            select(LogEvent.seq)
            .join(ConsentEntry, ConsentEntry.seq == LogEvent.seq)
            .order_by(LogEvent.seq)
            .limit(1)
        )
    if orphan is not None:
        return broken(orphan, "a log record exists outside the chain")
    beyond = [h for seq, hs in heads.items() if seq > last_seq for h in hs]
    if beyond:
        furthest = max(beyond, key=lambda h: h.seq)
        return broken(
            last_seq + 1,
            f"entries were cut off the end: {furthest.label} covers up to {furthest.seq}",
        )
    head_row = session.get(ChainHead, CONSENT_CHAIN)
    if head_row is not None and (head_row.seq, head_row.hash) != (last_seq, prev_hash):
        return broken(min(head_row.seq, expected_seq), "entries were cut off the end of the chain")
    return VerifyResult(
        True,
        checked,
        last_seq,
        prev_hash,
        purged=purged,
        heads_checked=sum(map(len, heads.values())),
        events=len(events),
    )
