"""Daily visitor keys and the visitor hash.

A visitor is one consent ID on one day: HMAC-SHA256(day key, consent ID + site), truncated
to 128 bits. The consent ID comes from the request's validly signed consent cookie (events are
stored only with one); the client address and user agent do not enter the hash.
The key is random (not derived from the date, which anyone could recompute), shared
by every worker and instance through the database, and destroyed 48 hours after its day
began: by `consent-service purge` and, lazily, when ingest first needs a new day's key.
After that the stored hashes cannot be linked to a consent ID, not even by us, and visits
never link across days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.analytics.models import RollupDay, VisitorKey
from consent_service.db import db

# Days whose key still exists besides today: yesterday's, until today is over.
KEY_GRACE_DAYS = 1


def zone() -> ZoneInfo:
    """The time zone whose calendar days the statistics are counted in."""
    cached: ZoneInfo | None = current_app.extensions.get("analytics_zone")
    if cached is None:
        cached = current_app.extensions["analytics_zone"] = ZoneInfo(
            current_app.config["ANALYTICS_TIMEZONE"]
        )
    return cached


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(zone()).date()


def day_start(day: dt.date) -> dt.datetime:
    """The UTC instant at which `day` begins in the analytics time zone."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone()).astimezone(dt.UTC)


def destroy_expired_keys(session: Session, today: dt.date) -> int:
    """Delete every key older than yesterday's, i.e. 48 hours after its day began at the latest."""
    cutoff = today - dt.timedelta(days=KEY_GRACE_DAYS)
    result = session.execute(delete(VisitorKey).where(VisitorKey.day < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def _load_or_create(site: str, day: dt.date, now: dt.datetime) -> bytes:
    """The day's key from the database, created when missing; old keys are destroyed."""
    for attempt in range(2):
        try:
            with db.writing() as session:
                destroy_expired_keys(session, day)
                row = session.get(VisitorKey, day, with_for_update=True)
                if row is None:
                    row = VisitorKey(day=day, key=secrets.token_hex(32), created_at=now)
                    session.add(row)
                key = bytes.fromhex(row.key)
                # The day has events from now on: the dashboard rolls it up.
                if session.get(RollupDay, (site, day)) is None:
                    session.add(RollupDay(site=site, day=day, final=False, rolled_up_at=None))
            return key
        except IntegrityError:
            # Another worker created the key (or the day's marker) first; use theirs.
            if attempt:
                raise
    raise AssertionError("unreachable")


def day_key(site: str, day: dt.date, now: dt.datetime) -> bytes:
    """The key of `day`, kept in this process until the day changes."""
    cache: dict[tuple[str, dt.date], bytes] = current_app.extensions.setdefault(
        "analytics_day_keys", {}
    )
    key = cache.get((site, day))
    if key is None:
        key = _load_or_create(site, day, now)
        # Only today's key stays in memory; an older one is never needed again.
        for old in [k for k in cache if k[1] != day]:
            del cache[old]
        cache[(site, day)] = key
    return key


def visitor_hash(key: bytes, consent_id: str, site: str) -> str:
    """The visitor of one consent ID on one site, for the day whose key is `key`."""
    message = f"{consent_id}\n{site}".encode("utf-8", "replace")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def stored_key_days() -> list[dt.date]:
    return list(db.session.scalars(select(VisitorKey.day).order_by(VisitorKey.day)))
