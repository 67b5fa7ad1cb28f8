"""Read tokens for the statistics API: one site each, shown once, stored as a SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from consent_service.analytics.models import ReadToken
from consent_service.db import db

PREFIX = "cst_"  # recognisable in a leaked file or a secret scanner
MAX_NAME = 64


class TokenError(ValueError):
    """A token cannot be created or revoked as asked; the message says why."""


@dataclass(frozen=True)
class NewToken:
    id: int
    name: str
    site: str
    token: str  # the only time it exists outside the caller's hands


def token_hash(token: str) -> str:
    # A random 256-bit token needs no slow hash: guessing it is hopeless either way.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_token(name: str, site: str, known_sites: frozenset[str], now: dt.datetime) -> NewToken:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise TokenError(f"A token's name is 1 to {MAX_NAME} characters.")
    if site not in known_sites:
        raise TokenError(f"Unknown site {site!r}; sites: {', '.join(sorted(known_sites))}.")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.writing() as session:
        row = ReadToken(name=name, site=site, token_hash=token_hash(token), created_at=now)
        session.add(row)
        session.flush()
        token_id = row.id
    return NewToken(token_id, name, site, token)


def list_tokens() -> list[ReadToken]:
    tokens = list(db.session.scalars(select(ReadToken).order_by(ReadToken.id)))
    db.session.rollback()
    return tokens


def revoke_token(token_id: int, now: dt.datetime) -> ReadToken:
    with db.writing() as session:
        row = session.get(ReadToken, token_id, with_for_update=True)
        if row is None:
            raise TokenError(f"No token with id {token_id}.")
        if row.revoked_at is None:
            row.revoked_at = now
        session.flush()
        session.expunge(row)
    return row


def site_of_token(token: str) -> str | None:
    """The site a valid, unrevoked token may read, or None."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    site = db.session.scalar(
        select(ReadToken.site).where(
            ReadToken.token_hash == token_hash(token), ReadToken.revoked_at.is_(None)
        )
    )
    return site
