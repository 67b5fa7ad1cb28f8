"""Rate limits that hold across gunicorn workers and instances.

Counters live in the database (fixed windows), not in process memory: with n workers an
in-memory limiter would allow n times the limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, current_app, request
from sqlalchemy import Connection, Executable, Integer, String, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, db, utcnow
from consent_service.retention import register_purger


class RateCounter(Model):
    __tablename__ = "rate_counters"

    # sha256(bucket name + key + window start): keys such as client addresses are never stored.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_end: Mapped[int] = mapped_column(Integer, index=True)
    hits: Mapped[int] = mapped_column(Integer)


@dataclass(frozen=True)
class Limit:
    allowed: bool
    remaining: int
    retry_after: int


def client_key() -> str:
    """An identifier for the calling client, used only inside a counter's hashed key."""
    return request.remote_addr or "unknown"


def hit(bucket: str, key: str, limit: int, window_seconds: int) -> Limit:
    """Count one attempt in `bucket` for `key`; say whether it is within `limit` per window."""
    now = utcnow().timestamp()
    window_end = (math.floor(now / window_seconds) + 1) * window_seconds
    secret = current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(f"{secret}|{bucket}|{key}|{window_end}".encode()).hexdigest()
    # One upsert, not read-then-insert: two instances counting the first hit of a window at
    # the same moment would otherwise both insert, and one would fail on the primary key.
    with db.writing_connection() as conn:
        hits = int(conn.execute(_count_hit(conn, digest, int(window_end))).scalar_one())
    retry_after = max(1, int(window_end - now))
    return Limit(hits <= limit, max(0, limit - hits), retry_after)


def _count_hit(conn: Connection, digest: str, window_end: int) -> Executable:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING, in the dialect's own spelling."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(RateCounter).values(key=digest, window_end=window_end, hits=1)
    return statement.on_conflict_do_update(
        index_elements=[RateCounter.key], set_={"hits": RateCounter.hits + 1}
    ).returning(RateCounter.hits)


def peek(bucket: str, key: str, limit: int, window_seconds: int) -> Limit:
    """Like `hit` but without counting."""
    now = utcnow().timestamp()
    window_end = (math.floor(now / window_seconds) + 1) * window_seconds
    secret = current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(f"{secret}|{bucket}|{key}|{window_end}".encode()).hexdigest()
    hits = db.session.scalar(select(RateCounter.hits).where(RateCounter.key == digest)) or 0
    return Limit(hits < limit, max(0, limit - hits), max(1, int(window_end - now)))


def refund(bucket: str, key: str, window_seconds: int) -> None:
    """Take back one attempt counted by `hit` (one that turned out to be legitimate)."""
    now = utcnow().timestamp()
    window_end = (math.floor(now / window_seconds) + 1) * window_seconds
    secret = current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(f"{secret}|{bucket}|{key}|{window_end}".encode()).hexdigest()
    with db.writing_connection() as conn:
        conn.execute(
            update(RateCounter)
            .where(RateCounter.key == digest, RateCounter.hits > 0)
            .values(hits=RateCounter.hits - 1)
        )


@dataclass(frozen=True)
class Counter:
    """One counter to add to: what it counts, whose, its limit, and when its window ends."""

    bucket: str
    key: str
    limit: int
    window_end: int  # Unix time; the count starts again from zero after it

    def retry_after(self, now: dt.datetime | None = None) -> int:
        """Seconds until the window ends (at least 1), for a Retry-After header."""
        return max(1, int(self.window_end - (now or utcnow()).timestamp()))


def window_end(window_seconds: int, now: dt.datetime | None = None) -> int:
    """The end of the fixed window of `window_seconds` that `now` falls in."""
    at = (now or utcnow()).timestamp()
    return int((math.floor(at / window_seconds) + 1) * window_seconds)


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@lru_cache(maxsize=16)
def _upsert_sql(placeholder: str, rows: int) -> str:
    values = ", ".join([f"({placeholder}, {placeholder}, {placeholder})"] * rows)
    # Table and column names are constants; every value is a parameter.
    return (
        f"INSERT INTO {RateCounter.__tablename__} (key, window_end, hits) VALUES {values} "  # noqa: S608
        "ON CONFLICT (key) DO UPDATE SET hits = rate_counters.hits + excluded.hits "
        "RETURNING key, hits"
    )


def count_many(conn: Connection, counters: Sequence[Counter], amount: int) -> list[int]:
    """Add `amount` to every counter with one statement, in the caller's transaction.

    One multi-row INSERT … ON CONFLICT DO UPDATE … RETURNING, so that a request that checks
    several limits, and weighs its work (the events of a batch, say), costs one statement in
    the transaction it opens anyway. Returns each counter's total after the addition, in
    order; a total above the counter's `limit` means the limit is exceeded.

    The SQL is written once per number of counters and sent to the driver as it is: SQLAlchemy
    compiles a multi-row INSERT anew on every call, which cost about 3 ms of CPU per request
    (as much as the rest of an analytics batch of 50).
    """
    digests, rows = _counter_rows(counters, amount)
    if not rows:
        return []
    placeholder = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if placeholder is not None and conn.dialect.name in ("sqlite", "postgresql"):
        params = tuple(value for row in rows.values() for value in row)
        result = conn.exec_driver_sql(_upsert_sql(placeholder, len(rows)), params)
    else:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(RateCounter).values(
            [{"key": k, "window_end": w, "hits": h} for k, w, h in rows.values()]
        )
        result = conn.execute(
            statement.on_conflict_do_update(
                index_elements=[RateCounter.key],
                set_={"hits": RateCounter.hits + statement.excluded.hits},
            ).returning(RateCounter.key, RateCounter.hits)
        )
    totals = {key: int(hits) for key, hits in result}
    return [totals[d] for d in digests]


def _counter_rows(
    counters: Sequence[Counter], amount: int
) -> tuple[list[str], dict[str, tuple[str, int, int]]]:
    """Each counter's hashed key, in order, and the rows to upsert (one per distinct key)."""
    secret = current_app.config["SECRET_KEY"]
    rows: dict[str, tuple[str, int, int]] = {}
    digests = []
    for c in counters:
        digest = hashlib.sha256(f"{secret}|{c.bucket}|{c.key}|{c.window_end}".encode()).hexdigest()
        digests.append(digest)
        rows[digest] = (digest, c.window_end, amount)
    return digests, rows


def count_many_sqlite(
    driver: sqlite3.Connection, counters: Sequence[Counter], amount: int
) -> list[int]:
    """`count_many` on a sqlite3 connection already in its write transaction.

    The same statement, sent without SQLAlchemy's statement and result set-up (about as
    much CPU as SQLite's own upsert of a few counters).
    """
    digests, rows = _counter_rows(counters, amount)
    if not rows:
        return []
    params = tuple(value for row in rows.values() for value in row)
    totals = {key: int(hits) for key, hits in driver.execute(_upsert_sql("?", len(rows)), params)}
    return [totals[d] for d in digests]


def purge_expired(before: dt.datetime | None = None) -> int:
    cutoff = int((before or utcnow()).timestamp())
    with db.writing() as session:
        result = session.execute(delete(RateCounter).where(RateCounter.window_end < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)


def init_app(app: Flask) -> None:
    """Let `consent-service purge` remove expired counters."""
    register_purger(app, "rate limits", lambda: f"{purge_expired()} expired counters removed")
