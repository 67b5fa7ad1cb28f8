"""Consent log tables.

The chain (`audit_chain_links`) holds only digests, so that a log record
(`consent_log_entries`) can be removed under the retention decision while the chain still
verifies. `audit_chain_head` is a single row per chain that writers lock before appending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, datetime_utc, sha256_hex, site_id


class ChainHead(Model):
    __tablename__ = "audit_chain_head"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[sha256_hex]


class ChainLink(Model):
    __tablename__ = "audit_chain_links"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Unique: two writers that read the same head cannot both commit, so the chain cannot fork.
    prev_hash: Mapped[sha256_hex] = mapped_column(unique=True)
    digest: Mapped[sha256_hex]
    hash: Mapped[sha256_hex] = mapped_column(unique=True)


class ConsentEntry(Model):
    """One decision of one citizen: what, when, under which text, and how it was given."""

    __tablename__ = "consent_log_entries"
    __table_args__ = (UniqueConstraint("site", "request_id"),)

    seq: Mapped[int] = mapped_column(
        ForeignKey("audit_chain_links.seq"), primary_key=True, autoincrement=False
    )
    site: Mapped[site_id]
    occurred_at: Mapped[datetime_utc] = mapped_column(index=True)
    consent_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(16))
    functional: Mapped[bool] = mapped_column(Boolean)
    statistics: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[sha256_hex]
    language: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    gpc: Mapped[bool] = mapped_column(Boolean)
    # A client's retry key; not part of the chained record.
    request_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def choices(self) -> dict[str, bool]:
        return {"functional": self.functional, "statistics": self.statistics}

    def record(self) -> dict[str, Any]:
        """The fields that the chain digest covers."""
        return {
            "seq": self.seq,
            "site": self.site,
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "consent_id": self.consent_id,
            "action": self.action,
            "choices": self.choices,
            "policy_version": self.policy_version,
            "text_hash": self.text_hash,
            "language": self.language,
            "source": self.source,
            "gpc": self.gpc,
        }
