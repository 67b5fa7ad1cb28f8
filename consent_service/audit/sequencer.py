"""Acknowledge decisions at once; integrate them into the log in order, in batches.

The request path writes one row (`acknowledge`): the decision and a signed promise that it
will be in the log within the stated delay. It takes no chain lock, so writers never queue
behind one another for the chain head.

One sequencer — a daemon thread in whichever gunicorn worker holds the sequencer lock (an
`flock` on a file beside the SQLite database; `pg_try_advisory_lock` on its own PostgreSQL
connection) — integrates pending rows by ascending id: it chains them, adds their leaves to
the Merkle tree, removes the pending rows and signs a checkpoint, all in one transaction.
A crash at any point loses nothing: the pending rows stay until the transaction that
integrates them commits, and the next sequencer (in the same or another worker) resumes.

Modes (`CONSENT_LOG_INTEGRATION`): `background` (the thread; the default), `inline` (each
request integrates right after acknowledging — tests and one-process tools), `manual`
(nothing integrates until `integrate_pending` is called — tests of the pending state).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, current_app
from sqlalchemy import (
    Connection,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from consent_service.audit.chain import (
    CONSENT_CHAIN,
    append_entries,
    chain_rows,
    driver_value,
    entry_leaf,
    entry_row_leaf_hash,
    lock_head,
    purge_leaf,
    utc_iso,
)
from consent_service.audit.checkpoints import (
    CheckpointKeyError,
    configured_key_path,
    load_private_key,
    signing_key,
)
from consent_service.audit.log_models import LogCheckpoint, PendingEntry
from consent_service.audit.models import ChainHead, ConsentEntry, LogEvent, PurgeRecord
from consent_service.audit.note import (
    CheckpointBody,
    PromiseBody,
    promise_time,
    sign_note,
)
from consent_service.audit.tree import StoredTree, append_leaves, leaf_hash
from consent_service.db import Model, db, driver_cursor, utcnow
from consent_service.hashing import canonical_json

log = logging.getLogger(__name__)

# Entries per integrating transaction: a burst is worked off in a few large batches.
MAX_BATCH = 2000
# How often the leading sequencer looks for pending entries: what arrives in between is
# integrated as one batch. With the batch's own time this keeps the lag well under a second.
POLL_SECONDS = 0.1
# How often a worker that does not lead asks for the lock (so a crashed leader is replaced).
LEADER_RETRY_SECONDS = 1.0
# Any constant: the PostgreSQL advisory lock key of the sequencer ("seqncr").
SEQUENCER_LOCK_KEY = 0x7365716E6372
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")

_PENDING = Model.metadata.tables[PendingEntry.__tablename__]
_ENTRIES = Model.metadata.tables[ConsentEntry.__tablename__]
_HEAD = Model.metadata.tables[ChainHead.__tablename__]
_CHECKPOINTS = Model.metadata.tables[LogCheckpoint.__tablename__]
_ENTRY_FIELDS = (
    "site", "occurred_at", "consent_id", "action", "functional", "statistics",
    "policy_version", "text_hash", "language", "source", "gpc", "request_id",
)  # fmt: skip


class IntegrationRefused(RuntimeError):
    """The log is not in a state the sequencer may extend (see the message)."""


# ------------------------------------------------------------------------ settings, key


def log_origin(app: Flask | None = None) -> str:
    origin: str = (app or current_app).config["LOG_ORIGIN"]
    return origin


def max_delay_seconds(app: Flask | None = None) -> int:
    delay: int = (app or current_app).config["LOG_MAX_DELAY_SECONDS"]
    return delay


def log_key(app: Flask | None = None) -> Ed25519PrivateKey | None:
    """The signing key, loaded once per process; None when none is configured (production)."""
    app = app or current_app
    cached: tuple[Ed25519PrivateKey | None] | None = app.extensions.get("consent_log_key")
    if cached is not None:
        return cached[0]
    with app.app_context():
        path = configured_key_path()
        key: Ed25519PrivateKey | None
        if path is None:
            key = None
        else:
            try:
                key = signing_key()
            except CheckpointKeyError:
                # Another worker created the development key a moment ago.
                if not path.exists():
                    raise
                key = load_private_key(path)
    app.extensions["consent_log_key"] = (key,)
    return key


# ------------------------------------------------------------------------ acknowledging


@dataclass(frozen=True)
class Acknowledgement:
    leaf: bytes
    leaf_hash: bytes
    promise: str  # empty without a signing key


def promise_note(leaf_hash_: bytes, at: dt.datetime) -> str:
    key = log_key()
    if key is None:
        return ""
    body = PromiseBody(log_origin(), leaf_hash_, promise_time(at), max_delay_seconds())
    return sign_note(body.text(), log_origin(), key)


def _marker(paramstyle: str) -> str:
    return "%s" if paramstyle in ("format", "pyformat") else "?"


@cache
def _acknowledge_sql(paramstyle: str) -> str:
    # Only our own table and column names are formatted in; values are bound parameters.
    columns = (*_ENTRY_FIELDS, "leaf_hash", "promise")
    names, markers = ", ".join(columns), ", ".join(_marker(paramstyle) for _ in columns)
    return f"INSERT INTO {_PENDING.name} ({names}) VALUES ({markers})"  # noqa: S608


def _on_driver(conn: Connection, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Run one statement straight on the driver (in `conn`'s transaction); its first row.

    For the consent API's two statements: SQLAlchemy's per-statement work (compiling,
    result set-up) would cost more than running them.
    """
    # A retry racing on request_id is an IntegrityError to the caller, a locked or lost
    # database a 503.
    with driver_cursor(conn) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def acknowledge(conn: Connection, entry: ConsentEntry) -> Acknowledgement:
    """Write `entry` as pending with its signed promise: one insert, no chain lock."""
    leaf = entry_leaf(entry)
    hashed = leaf_hash(leaf)
    promise = promise_note(hashed, entry.occurred_at)
    dialect = conn.dialect.name
    values = [driver_value(getattr(entry, name), dialect) for name in _ENTRY_FIELDS]
    _on_driver(conn, _acknowledge_sql(conn.dialect.paramstyle), (*values, hashed.hex(), promise))
    return Acknowledgement(leaf, hashed, promise)


@dataclass(frozen=True)
class StoredRequest:
    """What was recorded under a retry key: enough to answer the retry."""

    consent_id: str
    action: str
    policy_version: int
    functional: bool
    statistics: bool
    language: str
    source: str
    occurred_at: dt.datetime
    pending: bool


def recorded_with_request_id(conn: Connection, site: str, request_id: str) -> StoredRequest | None:
    """The entry (integrated or pending) stored under this retry key, if any.

    One statement over both tables, so that an entry moving from pending to the log between
    two reads cannot be missed. On PostgreSQL a transaction-scoped advisory lock on the key
    comes first: a second request with the same key waits for the first to commit and then
    finds it (otherwise it could look before the first commits and insert after the
    sequencer has moved the first out of the pending table's unique constraint).
    """
    paramstyle = conn.dialect.paramstyle
    if conn.dialect.name == "postgresql":
        lock = f"SELECT pg_advisory_xact_lock(hashtextextended({_marker(paramstyle)}, 0))"
        _on_driver(conn, lock, (f"{site}\n{request_id}",))
    row = _on_driver(conn, _recorded_sql(paramstyle), (site, request_id, site, request_id))
    if row is None:
        return None
    consent_id, action, version, functional, statistics, language, source, at, pending = row
    if isinstance(at, str):  # SQLite: naive UTC text, as SQLAlchemy stores it
        at = dt.datetime.fromisoformat(at)
    return StoredRequest(
        consent_id, action, int(version), bool(functional), bool(statistics), language,
        source, at if at.tzinfo else at.replace(tzinfo=dt.UTC), bool(pending),
    )  # fmt: skip


@cache
def _recorded_sql(paramstyle: str) -> str:
    # Only our own table and column names are formatted in; values are bound parameters.
    fields = ", ".join(("consent_id", "action", "policy_version", "functional", "statistics",
                        "language", "source", "occurred_at"))  # fmt: skip
    where = f"site = {_marker(paramstyle)} AND request_id = {_marker(paramstyle)}"
    return (
        f"SELECT {fields}, 0 AS pending FROM {_ENTRIES.name} WHERE {where} "  # noqa: S608
        f"UNION ALL SELECT {fields}, 1 AS pending FROM {_PENDING.name} WHERE {where}"
    )


# ------------------------------------------------------------------------- integrating


def _pending_entry(row: Row[Any]) -> ConsentEntry:
    values = {name: getattr(row, name) for name in _ENTRY_FIELDS}
    at = values["occurred_at"]
    if at.tzinfo is None:
        values["occurred_at"] = at.replace(tzinfo=dt.UTC)
    return ConsentEntry(**values)


def integrate_batch(conn: Connection, limit: int = MAX_BATCH) -> int:
    """Integrate up to `limit` pending entries in the caller's write transaction.

    Holds the chain head first, so that two integrators (the sequencer and a purge, or two
    sequencers during a hand-over) never read the same pending rows.
    """
    head, _ = lock_head(conn)
    size = StoredTree(conn).size()
    if size != head:
        raise IntegrationRefused(
            f"the Merkle tree has {size} leaves and the chain {head} entries: "
            "run `consent-service db upgrade` (it builds the tree) or `audit verify`"
        )
    rows = conn.execute(select(_PENDING).order_by(_PENDING.c.id).limit(limit)).all()
    entries = []
    for row in rows:
        entry = _pending_entry(row)
        if leaf_hash(entry_leaf(entry)).hex() != row.leaf_hash:
            raise IntegrationRefused(
                f"pending entry #{row.id} no longer matches the leaf its promise signed; "
                "run `consent-service audit verify`"
            )
        entries.append(entry)
    root = None
    if entries:
        size, root = append_entries(conn, entries)
        conn.execute(delete(_PENDING).where(_PENDING.c.id.in_([row.id for row in rows])))
    sign_if_grown(conn, size, root)
    return len(entries)


def integrate_pending(limit: int = MAX_BATCH) -> int:
    """Integrate pending entries until none are left; return how many (tests call this)."""
    total = 0
    while True:
        with db.writing_connection() as conn:
            done = integrate_batch(conn, limit)
        total += done
        if done < limit:
            return total


def work_waiting() -> bool:
    """Whether a round has anything to do: pending entries, or a tree grown past its latest
    signed checkpoint (by a purge or a staff event).

    Read without the write lock, so that an idle sequencer does not take SQLite's single
    write lock ten times a second from the requests that need it.
    """
    with db.engine.connect() as conn:
        pending = conn.execute(select(_PENDING.c.id).limit(1)).first() is not None
        if pending:
            return True
        if log_key() is None:
            return False
        head = conn.execute(select(_HEAD.c.seq).where(_HEAD.c.chain == CONSENT_CHAIN)).scalar()
        signed = conn.execute(select(func.max(_CHECKPOINTS.c.tree_size))).scalar()
        return bool(head) and (signed or 0) < int(head or 0)


def latest_checkpoint_row(conn: Connection) -> Row[Any] | None:
    return conn.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.id.desc()).limit(1)).first()


def sign_if_grown(conn: Connection, size: int, root: bytes | None = None) -> str | None:
    """Sign a checkpoint of the tree of `size` unless the latest one already covers it.

    `root`, when the caller has just computed it, saves reading it back. The current hour's
    row is replaced, so one checkpoint per hour is kept (the last).
    """
    key = log_key()
    if key is None or size == 0:
        return None  # nothing to vouch for yet
    latest = latest_checkpoint_row(conn)
    if latest is not None and latest.tree_size >= size:
        return None
    root = root or StoredTree(conn).root(size)
    origin = log_origin()
    note = sign_note(CheckpointBody(origin, size, root).text(), origin, key)
    now = utcnow()
    values = {"tree_size": size, "root_hash": root.hex(), "signed_at": now, "note": note}
    if latest is not None and _same_hour(latest.signed_at, now):
        conn.execute(update(_CHECKPOINTS).where(_CHECKPOINTS.c.id == latest.id).values(values))
    else:
        conn.execute(insert(_CHECKPOINTS), values)
    return note


def _same_hour(stored: dt.datetime, now: dt.datetime) -> bool:
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=dt.UTC)
    return stored.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0) == now.replace(
        minute=0, second=0, microsecond=0
    )


def after_acknowledgement() -> None:
    """What the request does once its acknowledgement committed (by mode).

    In `background` mode nothing: the sequencer integrates what arrived between its rounds
    as one batch, rather than one transaction (and one more turn at SQLite's write lock)
    per decision.
    """
    if current_app.config["LOG_INTEGRATION"] == "inline":
        integrate_pending()


# --------------------------------------------------------------------- the tree, once


def build_tree() -> str:
    """After `db upgrade`: give every chain position its leaf (once), sign a checkpoint.

    A log from before the tree existed gets one leaf per chain position: an entry's leaf from
    its record, a purge's from its record, and a record removed earlier by a purge, whose
    bytes are gone, a leaf naming its position and digest.
    """
    with db.writing_connection() as conn:
        head, _ = lock_head(conn)
        size = StoredTree(conn).size()
        if size > head:
            raise IntegrationRefused(f"the Merkle tree has {size} leaves, the chain {head}")
        added = head - size
        if added:
            _append_chain_leaves(conn, size)
        integrated = integrate_batch(conn)
    text_ = f"Merkle tree: {added} leaves built" if added else "Merkle tree up to date"
    return f"{text_}; {integrated} pending entries integrated" if integrated else text_


def _append_chain_leaves(conn: Connection, start: int) -> None:
    size, batch = start, []
    with Session(bind=conn) as session:
        purges: dict[int, PurgeRecord | LogEvent] = {
            p.seq: p for p in session.scalars(select(PurgeRecord))
        }
        purges.update((e.seq, e) for e in session.scalars(select(LogEvent)))
        for row in chain_rows(session, 5000):
            seq, digest, entry_seq = row[0], row[2], row[5]
            if seq <= start:
                continue
            if entry_seq is not None:
                e = row
                value = entry_row_leaf_hash(
                    e[6], utc_iso(e[7]), e[8], e[9], e[10], e[11], e[12], e[13], e[14], e[15],
                    e[16],
                )  # fmt: skip
            elif seq in purges:
                value = leaf_hash(purge_leaf(purges[seq]))
            else:
                value = leaf_hash(canonical_json({"type": "removed", "seq": seq, "digest": digest}))
            batch.append(value)
            if len(batch) == 5000:
                append_leaves(conn, size, batch)
                size, batch = size + len(batch), []
        append_leaves(conn, size, batch)


# --------------------------------------------------------------------- what is pending


def pending_count() -> float:
    return float(db.session.scalar(select(func.count()).select_from(_PENDING)) or 0)


def oldest_pending_age() -> float:
    """Seconds since the oldest pending entry was acknowledged (0 when none is pending)."""
    oldest: dt.datetime | None = db.session.scalar(select(func.min(PendingEntry.occurred_at)))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, float((utcnow() - oldest).total_seconds()))


def readiness() -> tuple[dict[str, Any], str | None]:
    """Pending count and lag for /readyz; a problem only when the lag is far over budget."""
    pending, lag = pending_count(), oldest_pending_age()
    details = {"pending": int(pending), "lag_seconds": round(lag, 3)}
    limit = current_app.config["LOG_STALL_SECONDS"]
    if lag > limit:
        return details, f"consent-log integration stalled: oldest pending entry {lag:.0f} s old"
    return details, None


# ------------------------------------------------------------------------ the thread


class Sequencer:
    """The per-process sequencer thread; started lazily in each worker, leads when it can.

    The thread stops with its process (an `atexit` hook sets its stop event and waits for the
    round in progress) and with its app: it holds the app only weakly, so an app that is
    dropped (a finished test's) ends its thread instead of leaving it polling a database
    that is gone. An error while it runs is logged and retried; one while it stops is not
    an error. A stop loses nothing: what is still pending is integrated by the next sequencer.
    """

    def __init__(self, app: Flask) -> None:
        self._app = weakref.ref(app)
        self._pid = 0
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.leading = False
        # Wakes the thread as soon as the app is collected (holds no reference to the app).
        # At exit `stop_all` stops it, and waits for the round in progress.
        weakref.finalize(app, self._stop.set).atexit = False

    def ensure_running(self) -> None:
        """Start the thread in this process unless it runs already (fork-safe: by pid).

        After `stop()` in this process it stays stopped; a forked child starts its own.
        """
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._stop.clear()  # a forked child starts afresh, whatever its parent did
            self.leading = False
            thread = threading.Thread(target=self._run, name="consent-log-sequencer", daemon=True)
            thread.start()
            self._thread = thread
            self._pid = os.getpid()
            _stop_at_exit(self)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread after the round in progress (which commits or rolls back whole)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _stopping(self) -> bool:
        return self._stop.is_set() or self._app() is None

    def _run(self) -> None:
        while not self._stopping():
            try:
                with self._leadership() as leading:
                    if not leading:
                        self._stop.wait(LEADER_RETRY_SECONDS)
                        continue
                    self.leading = True
                    log.info("consent-log sequencer leading in process %s", os.getpid())
                    self._lead()
            except Exception:  # the thread must outlive any one failure; it retries
                self.leading = False
                if self._stopping():
                    # Its app or process is going away (a database closed or removed under
                    # it is expected then): nothing to report, nothing lost.
                    log.debug("consent-log sequencer stopped during a round", exc_info=True)
                    break
                log.exception("consent-log sequencer failed; retrying")
                self._stop.wait(LEADER_RETRY_SECONDS)
        self.leading = False

    def _lead(self) -> None:
        while not self._stopping():
            app = self._app()
            if app is None:
                return
            with app.app_context():
                done = integrate_pending() if work_waiting() else 0
            del app  # not kept between rounds: the app may be dropped meanwhile
            if done == 0 or done % MAX_BATCH:
                self._stop.wait(POLL_SECONDS)
            self._check_leadership()

    # Leadership: a lock held for as long as this process (or its connection) lives.

    _lock_fd: int | None = None
    _lock_conn: Connection | None = None

    @contextlib.contextmanager
    def _leadership(self) -> Iterator[bool]:
        app = self._app()
        if app is None:
            yield False
            return
        with app.app_context():
            engine = db.engine
        del app
        if engine.dialect.name == "postgresql":
            conn = engine.connect()
            held = False
            try:
                held = bool(
                    conn.execute(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": SEQUENCER_LOCK_KEY}
                    ).scalar()
                )
                conn.commit()
                self._lock_conn = conn if held else None
                yield held
            finally:
                self._lock_conn = None
                if held:
                    # Hand over at once: a session's end releases the lock too, but the
                    # server finishes ending it a moment after the client has gone.
                    with contextlib.suppress(SQLAlchemyError):
                        conn.rollback()
                        conn.execute(_UNLOCK, {"key": SEQUENCER_LOCK_KEY})
                    # The lock belongs to the database session, and a pooled connection
                    # outlives close(): end the session itself, so that no idle pooled
                    # connection keeps the lock from every other worker (nor a lock that
                    # could not be released above, on a lost connection).
                    conn.invalidate()
                conn.close()
            return
        database = engine.url.database
        del engine  # its pool may refer back to the app, which must not be kept alive here
        if not database or database == ":memory:":
            yield True  # one process
            return
        fd = os.open(f"{database}.sequencer", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    def _check_leadership(self) -> None:
        """Raise when the PostgreSQL session holding the lock is gone (lost leadership)."""
        if self._lock_conn is not None:
            self._lock_conn.execute(text("SELECT 1"))
            self._lock_conn.commit()


# The sequencers started in this process, stopped by one `atexit` hook. Weak: a dropped app's
# sequencer is not kept alive by being listed here.
_started: weakref.WeakSet[Sequencer] = weakref.WeakSet()


def _stop_at_exit(sequencer: Sequencer) -> None:
    _started.add(sequencer)
    # Once, and after every hook registered so far (so it runs before them).
    atexit.unregister(stop_all)
    atexit.register(stop_all)


def stop_all() -> None:
    """Stop every sequencer thread of this process (at exit).

    Exit hooks run last registered first, so this runs before those registered before the
    latest start (a test suite's database server, say) take the database away.
    """
    for sequencer in list(_started):
        if sequencer._pid == os.getpid():
            sequencer.stop()


def start_in_worker(app: Any) -> None:
    """Start the sequencer thread in this (forked) worker; gunicorn's post_fork calls it."""
    sequencer = getattr(app, "extensions", {}).get("consent_log_sequencer")
    if isinstance(sequencer, Sequencer):
        sequencer.ensure_running()


def init_sequencer(app: Flask) -> None:
    """In `background` mode, start the thread lazily on a worker's first request."""
    if app.config["LOG_INTEGRATION"] != "background":
        return
    sequencer = Sequencer(app)
    app.extensions["consent_log_sequencer"] = sequencer
    # Never at create_app: gunicorn preloads the app in its master and then forks, and a
    # thread started before the fork would not exist in the workers.
    app.before_request(sequencer.ensure_running)


def configure_log(app: Flask) -> None:
    """Check the log's settings (config.py reads them; tests may override them)."""
    from consent_service.config import LOG_INTEGRATION_MODES, ConfigError

    if app.config["LOG_INTEGRATION"] not in LOG_INTEGRATION_MODES:
        raise ConfigError(f"LOG_INTEGRATION must be one of {', '.join(LOG_INTEGRATION_MODES)}")
