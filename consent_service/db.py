"""Database access: declarative base, column aliases, engine and request-scoped sessions."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import select
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from flask import Flask, current_app
from sqlalchemy import (
    DateTime,
    Dialect,
    Engine,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    event,
    exc,
    make_url,
)
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetimes are not stored; use UTC-aware values")
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


datetime_utc = Annotated[dt.datetime, mapped_column(UTCDateTime())]
site_id = Annotated[str, mapped_column(String(64), index=True)]
sha256_hex = Annotated[str, mapped_column(String(64))]


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or written; callers answer 503."""


def _configure_sqlite(engine: Engine) -> None:
    """Use WAL and let writers queue instead of failing; take the write lock up front.

    pysqlite's own transaction handling issues a plain deferred BEGIN, which lets two
    chain appends read the same head and then fail with "database is locked". We switch
    it off and emit BEGIN IMMEDIATE ourselves when a connection asks for it.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        # Straight to the driver: SQLAlchemy's statement machinery (events, result set-up)
        # would cost as much as the insert of the consent API's whole transaction.
        conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            "BEGIN IMMEDIATE" if immediate else "BEGIN"
        )


def _configure_postgresql(engine: Engine) -> None:
    """Check a pooled connection on checkout without a round trip to the server.

    A ping per checkout (SQLAlchemy's `pool_pre_ping`) is one more round trip on every
    request; on the consent write path it took about a sixth of the request's time under
    load. An idle connection between transactions has nothing to read; when the server ends
    the session (a restart, `pg_terminate_backend`, a crash) its termination message and the
    closed socket make it readable. Only then is it pinged, and if the ping fails, it and
    every connection pooled before it are replaced, as after a failed pre-ping.
    """

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        if dbapi_conn.closed:
            raise exc.InvalidatePoolError("connection closed")
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        if not poller.poll(0):
            return  # nothing arrived while it was idle: the session is alive
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.InvalidatePoolError(f"connection lost: {error}") from error


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=5, max_overflow=5)
    _configure_postgresql(engine)
    return engine


class Database:
    """Flask extension holding one engine per app; no connection is made until first use."""

    def init_app(self, app: Flask) -> None:
        app.extensions["consent_db"] = _AppDatabase(app.config["DATABASE_URL"])

        @app.teardown_appcontext
        def _close(exc: BaseException | None) -> None:
            state: _AppDatabase = app.extensions["consent_db"]
            state.remove()

    @property
    def _state(self) -> _AppDatabase:
        state: _AppDatabase = current_app.extensions["consent_db"]
        return state

    @property
    def engine(self) -> Engine:
        return self._state.engine

    @property
    def session(self) -> Session:
        """The session of the current app context (created on first use)."""
        return self._state.session()

    @contextmanager
    def writing_connection(self) -> Iterator[Connection]:
        """Like `writing`, for Core statements on hot paths."""
        with self._state.writer_turn(), self._state.immediate_engine().begin() as conn:
            yield conn

    @contextmanager
    def writing_sqlite(self) -> Iterator[sqlite3.Connection]:
        """SQLite only: the driver's connection inside BEGIN IMMEDIATE, for plain SQL on hot paths.

        The same transaction as `writing_connection` (the writers' queue, the write lock up
        front, commit at the end of the block, rollback on any error) without SQLAlchemy's
        connection, transaction and event set-up, which costs about as much CPU as SQLite's
        own commit of a small transaction. A driver error is raised as SQLAlchemy raises it
        (`DBAPIError`), which the service answers with 503.
        """
        state = self._state
        with state.writer_turn():
            pooled = state.engine.raw_connection()
            try:
                driver: sqlite3.Connection = pooled.driver_connection  # type: ignore[assignment]
                try:
                    driver.execute("BEGIN IMMEDIATE")
                    yield driver
                    driver.execute("COMMIT")
                except BaseException:
                    if driver.in_transaction:
                        driver.rollback()
                    raise
            except sqlite3.Error as error:
                raise as_sqlalchemy_error(error, state.engine.dialect) from error
            finally:
                pooled.close()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction holds the write lock from its first statement.

        SQLite: BEGIN IMMEDIATE. PostgreSQL: callers lock the rows they depend on
        (`with_for_update`), which SQLite ignores.
        """
        with (
            self._state.writer_turn(),
            self._state.immediate_factory() as session,
            session.begin(),
        ):
            yield session


def as_sqlalchemy_error(error: Exception, dialect: Dialect) -> exc.StatementError:
    """A driver's own exception as SQLAlchemy raises it (a `DBAPIError` subclass).

    Callers (a retry racing on request_id: IntegrityError) and the 503 handler (a locked,
    full or lost database: OperationalError) know SQLAlchemy's classes; a raw driver error
    would end as a 500.
    """
    return exc.DBAPIError.instance(None, None, error, dialect.loaded_dbapi.Error, dialect=dialect)


@contextmanager
def driver_cursor(conn: Connection) -> Iterator[DBAPICursor]:
    """A cursor straight on the driver, in `conn`'s transaction, for plain SQL on hot paths.

    SQLAlchemy's per-statement work (compiling, result set-up) can cost more than running
    the statement. The cursor is closed at the end; a driver error leaves the block as
    SQLAlchemy would raise it (`as_sqlalchemy_error`).
    """
    dialect = conn.dialect
    cursor = conn.connection.cursor()
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as error:
        raise as_sqlalchemy_error(error, dialect) from error
    finally:
        cursor.close()


class _WriterQueue:
    """Makes SQLite writers on one machine wait their turn in the kernel, not in a sleep loop.

    SQLite's busy handler polls with sleeps of 1 to 100 ms, so two gunicorn workers that
    both want the write lock spend most of their time asleep. An exclusive `flock` on a file
    beside the database wakes the next writer the moment the lock is released. The lock
    file is opened per process (after gunicorn forks) and a thread lock covers threads.
    """

    def __init__(self, database_path: str) -> None:
        self.path = database_path + ".writers"
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._thread_lock:
            if self._fd is None or self._pid != os.getpid():
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                except OSError as exc:
                    raise DatabaseUnavailable(f"cannot open {self.path}: {exc.strerror}") from exc
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


class _AppDatabase:
    def __init__(self, url: str) -> None:
        self.url = url
        database = make_url(url).database
        self._writers = (
            _WriterQueue(database)
            if url.startswith("sqlite") and database and database != ":memory:"
            else None
        )
        self._engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._immediate: sessionmaker[Session] | None = None
        self._immediate_engine: Engine | None = None
        self._current: Session | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    def session(self) -> Session:
        from flask import g

        session: Session | None = g.get("_consent_session")
        if session is None:
            if self._factory is None:
                self._factory = sessionmaker(self.engine, expire_on_commit=False)
            session = self._factory()
            g._consent_session = session
        return session

    @contextmanager
    def writer_turn(self) -> Iterator[None]:
        if self._writers is None:
            yield
        else:
            with self._writers.turn():
                yield

    def immediate_engine(self) -> Engine:
        if self._immediate_engine is None:
            self._immediate_engine = self.engine.execution_options(sqlite_immediate=True)
        return self._immediate_engine

    def immediate_factory(self) -> Session:
        if self._immediate is None:
            self._immediate = sessionmaker(self.immediate_engine(), expire_on_commit=False)
        return self._immediate()

    def remove(self) -> None:
        from flask import g

        session: Session | None = g.pop("_consent_session", None)
        if session is not None:
            session.close()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


db = Database()
