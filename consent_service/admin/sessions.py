"""Staff sessions kept in the database, so that the server can end them.

The session cookie (Flask's, signed with the secret keys) carries only a random id. The row
behind it decides whether the session is alive: it ends at sign-out, when an admin ends the
account's sessions, when the password changes, after `ADMIN_IDLE_MINUTES` without use and
`ADMIN_SESSION_HOURS` after sign-in however busy it is. Every worker and instance reads the
same rows, and a key rotation leaves them alone (the fallback key still verifies the cookie).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, func, select, update

from consent_service.admin.models import StaffSession, User
from consent_service.db import db, utcnow

# Writing `last_seen_at` on every request would make each staff page a database write; a
# minute's precision is plenty for an idle limit counted in tens of minutes.
TOUCH_INTERVAL = dt.timedelta(seconds=60)
# Ended and expired sessions are kept this long for questions about them, then purged.
KEEP_ENDED = dt.timedelta(days=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _limits() -> tuple[dt.timedelta, dt.timedelta]:
    config = current_app.config
    return (
        dt.timedelta(minutes=config["ADMIN_IDLE_MINUTES"]),
        dt.timedelta(hours=config["ADMIN_SESSION_HOURS"]),
    )


def _alive(now: dt.datetime) -> ColumnElement[bool]:
    idle, lifetime = _limits()
    return and_(
        StaffSession.ended_at.is_(None),
        StaffSession.created_at > now - lifetime,
        StaffSession.last_seen_at > now - idle,
    )


def start_session(user: User, now: dt.datetime) -> str:
    """Open a session for `user`; return the random id for the cookie."""
    token = secrets.token_urlsafe(32)
    with db.writing() as session:
        session.add(
            StaffSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now)
        )
        session.execute(update(User).where(User.id == user.id).values(last_sign_in_at=now))
    return token


@dataclass(frozen=True)
class LiveSession:
    user: User
    session_id: str


def resolve_session(token: str, now: dt.datetime) -> LiveSession | None:
    """The signed-in user behind a cookie's id, or None; marks the use, ends a dead session."""
    row = db.session.execute(
        select(StaffSession, User)
        .join(User, User.id == StaffSession.user_id)
        .where(StaffSession.id == _digest(token))
    ).first()
    if row is None:
        return None
    staff_session, user = row
    if staff_session.ended_at is not None:
        return None
    idle, lifetime = _limits()
    alive = (
        user.active
        and now - staff_session.created_at < lifetime
        and now - staff_session.last_seen_at < idle
    )
    if not alive:
        # Ended for good: a clock step or a late request cannot bring it back.
        _end(StaffSession.id == staff_session.id, now)
        return None
    if now - staff_session.last_seen_at >= TOUCH_INTERVAL:
        with db.writing() as session:
            session.execute(
                update(StaffSession)
                .where(StaffSession.id == staff_session.id, StaffSession.ended_at.is_(None))
                .values(last_seen_at=now)
            )
    return LiveSession(user, staff_session.id)


def _end(condition: ColumnElement[bool], now: dt.datetime) -> int:
    with db.writing() as session:
        result = session.execute(
            update(StaffSession)
            .where(condition, StaffSession.ended_at.is_(None))
            .values(ended_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def end_session(token: str, now: dt.datetime) -> None:
    _end(StaffSession.id == _digest(token), now)


def end_sessions_of(user_id: int, now: dt.datetime, *, keep: str | None = None) -> int:
    """End every live session of an account (but `keep`, a session id); return how many."""
    condition = and_(StaffSession.user_id == user_id, _alive(now))
    if keep is not None:
        condition = and_(condition, StaffSession.id != keep)
    return _end(condition, now)


def open_session_counts(now: dt.datetime) -> dict[int, int]:
    """Live sessions per account id."""
    rows = db.session.execute(
        select(StaffSession.user_id, func.count()).where(_alive(now)).group_by(StaffSession.user_id)
    )
    return {user_id: int(count) for user_id, count in rows}


def purge_sessions(now: dt.datetime | None = None) -> str:
    """Remove sessions that ended, or could no longer be alive, more than 30 days ago."""
    now = now or utcnow()
    idle, lifetime = _limits()
    cutoff = now - KEEP_ENDED
    with db.writing() as session:
        result = session.execute(
            delete(StaffSession).where(
                (StaffSession.ended_at < cutoff)
                | (StaffSession.created_at < cutoff - lifetime)
                | (StaffSession.last_seen_at < cutoff - idle)
            )
        )
        removed = int(getattr(result, "rowcount", 0) or 0)
    return f"{removed} old staff sessions removed"
