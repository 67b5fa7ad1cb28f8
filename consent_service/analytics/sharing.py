"""Shared dashboard links: a read-only view of one site's statistics for anyone with the link.

The token is 256 random bits in the link's path, shown once when the link is made; only its
SHA-256 is stored (as for the API's read tokens). A link may expire, and an editor can
revoke it at once; both then answer 410 Gone, an unknown token 404.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from consent_service.analytics.editor_models import ShareLink
from consent_service.db import db

PREFIX = "csd_"  # recognisable in a leaked file or a secret scanner
MAX_LABEL = 80
MAX_DAYS = 366  # the latest expiry an editor may choose, from today


class ShareError(ValueError):
    """The link cannot be made as asked; the message says why (in Swedish, for editors)."""


class LinkState(enum.Enum):
    VALID = "valid"
    UNKNOWN = "unknown"  # 404
    REVOKED = "revoked"  # 410
    EXPIRED = "expired"  # 410


@dataclass(frozen=True)
class NewLink:
    id: int
    token: str  # the only time it exists outside the link's holders


@dataclass(frozen=True)
class Lookup:
    state: LinkState
    site: str | None = None
    label: str | None = None
    expires_at: dt.datetime | None = None


def token_hash(token: str) -> str:
    # A random 256-bit token needs no slow hash: guessing it is hopeless either way.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def expiry(raw: str, today: dt.date, zone: dt.tzinfo) -> dt.datetime | None:
    """The end of the chosen last day (YYYY-MM-DD) in the site's time zone; None for no end."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        last = dt.date.fromisoformat(raw)
    except ValueError:
        raise ShareError("Ange sista giltiga dag som ett datum, till exempel 2026-03-31.") from None
    if last < today:
        raise ShareError("Sista giltiga dag har redan varit.")
    if last > today + dt.timedelta(days=MAX_DAYS):
        raise ShareError(f"En länk gäller högst {MAX_DAYS} dagar framåt.")
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return end.astimezone(dt.UTC)


def create_link(
    site: str, label: str, expires_at: dt.datetime | None, *, by: str, now: dt.datetime
) -> NewLink:
    label = " ".join(label.split())
    if not label or len(label) > MAX_LABEL:
        raise ShareError(
            f"Ge länken ett namn på 1 till {MAX_LABEL} tecken, till exempel vem den är till."
        )
    if any(0xD800 <= ord(c) <= 0xDFFF for c in label):
        raise ShareError("Namnet innehåller tecken som inte kan sparas.")
    token = PREFIX + secrets.token_urlsafe(32)
    with db.writing() as session:
        row = ShareLink(site=site, label=label, token_hash=token_hash(token), created_by=by,
                        created_at=now, expires_at=expires_at)  # fmt: skip
        session.add(row)
        session.flush()
        link_id = row.id
    return NewLink(link_id, token)


def list_links(site: str) -> list[ShareLink]:
    # A fresh read: on SQLite a read begun before a link was made would not see it.
    db.session.rollback()
    links = list(
        db.session.scalars(
            select(ShareLink).where(ShareLink.site == site).order_by(ShareLink.id.desc())
        )
    )
    for link in links:
        db.session.expunge(link)
    db.session.rollback()
    return links


def revoke_link(site: str, link_id: int, *, by: str, now: dt.datetime) -> bool:
    """Revoke one of the site's links (at once); False when the site has no such link."""
    with db.writing() as session:
        row = session.scalar(
            select(ShareLink)
            .where(ShareLink.site == site, ShareLink.id == link_id)
            .with_for_update()
        )
        if row is None:
            return False
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now, by
    return True


def look_up(token: str, now: dt.datetime) -> Lookup:
    """What a link's token opens: a site's view, or why not."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return Lookup(LinkState.UNKNOWN)
    row = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == token_hash(token)))
    if row is None:
        db.session.rollback()
        return Lookup(LinkState.UNKNOWN)
    db.session.expunge(row)
    db.session.rollback()
    state = state_of(row, now)
    if state is not LinkState.VALID:
        return Lookup(state)
    return Lookup(state, row.site, row.label, row.expires_at)


def state_of(link: ShareLink, now: dt.datetime) -> LinkState:
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.expires_at is not None and link.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.VALID
