"""Consent log tables.

The chain (`audit_chain_links`) holds only digests, so that a log record
(`consent_log_entries`) can be removed under the retention decision while the chain still
verifies. `audit_chain_head` is a single row per chain that writers lock before appending.

A purge under the retention decision is itself a chained record (`audit_purges`); the links of
the records it removed name it in `purged_in`, and the purge record carries a digest of exactly
those sequence numbers, so verification accepts a missing record only where a purge covers it.
Staff events that are evidence rather than consent (`audit_events`: a compliance scan's
report, a policy's approval or publication) are chained the same way, so the log proves that
the evidence existed unchanged from that moment. Checkpoints (`audit_checkpoints`) are signed
chain heads. The policy-text archive
(`policy_texts`) holds the exact text behind every entry's `text_hash`: the log's evidence of
what a citizen was shown, so it lives beside the ledger. (The staff access log is the admin
domain's: `admin/models.py`.)
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, datetime_utc, sha256_hex, site_id


class Action(StrEnum):
    """What an entry records: a first choice, a changed one, or a withdrawal."""

    GRANT = "grant"
    UPDATE = "update"
    WITHDRAW = "withdraw"


class EventKind(StrEnum):
    """What a non-consent record of the log is evidence of (`LogEvent.kind`)."""

    SCAN_REPORT = "scan_report"  # subject: the scan job's id, or "cli" for a command-line run
    POLICY_APPROVED = "policy_approved"  # subject: the policy version
    POLICY_PUBLISHED = "policy_published"  # subject: the policy version


class Source(StrEnum):
    """How a choice was given: the banner's first layer or its settings, the page that works
    without JavaScript, or an integration calling the API directly."""

    BANNER = "banner"
    SETTINGS = "settings"
    NOJS = "nojs"
    API = "api"


# The sources a JSON API caller may name; `nojs` is only the server-rendered page's.
API_SOURCES: tuple[Source, ...] = (Source.BANNER, Source.SETTINGS, Source.API)
# Sources where a citizen switched categories on one by one (see `consent.services`'s GPC rule).
EXPLICIT_SOURCES: tuple[Source, ...] = (Source.SETTINGS, Source.NOJS)

# A client's retry key. Use with `fullmatch`: `re.match` would let "…$" accept a trailing
# newline. The pattern text is also what the OpenAPI document publishes (JSON Schema
# patterns are unanchored searches, hence ^ and $).
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
REQUEST_ID_RULE = "must be 8 to 64 letters, digits, '-' or '_'"


def consent_record(
    seq: int, site: str, occurred_at: dt.datetime, consent_id: str, action: str,
    functional: bool, statistics: bool, policy_version: int, text_hash: str,
    language: str, source: str, gpc: bool,
) -> dict[str, Any]:  # fmt: skip
    """The chained record of one entry, from its columns (verification reads plain rows)."""
    return {
        "seq": seq,
        "site": site,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "consent_id": consent_id,
        "action": action,
        "choices": {"functional": functional, "statistics": statistics},
        "policy_version": policy_version,
        "text_hash": text_hash,
        "language": language,
        "source": source,
        "gpc": gpc,
    }


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
    # The seq of the purge record that removed this link's record; no foreign key, because the
    # purge record is chained (and so written) after the links it marks. Verification checks it.
    purged_in: Mapped[int | None] = mapped_column(Integer, index=True)


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
        return consent_record(
            self.seq, self.site, self.occurred_at, self.consent_id, self.action,
            self.functional, self.statistics, self.policy_version, self.text_hash,
            self.language, self.source, self.gpc,
        )  # fmt: skip


class PurgeRecord(Model):
    """One run of the retention purge, chained like an entry: what was removed and why."""

    __tablename__ = "audit_purges"

    seq: Mapped[int] = mapped_column(
        ForeignKey("audit_chain_links.seq"), primary_key=True, autoincrement=False
    )
    purged_at: Mapped[datetime_utc]
    # Action → days kept, as configured when the purge ran.
    retention_days: Mapped[dict[str, int]] = mapped_column(JSON)
    removed_count: Mapped[int] = mapped_column(Integer)
    # SHA-256 over the removed sequence numbers, ascending, one per line.
    removed_digest: Mapped[sha256_hex]
    first_removed_seq: Mapped[int | None] = mapped_column(Integer)
    last_removed_seq: Mapped[int | None] = mapped_column(Integer)

    def record(self) -> dict[str, Any]:
        """The fields that the chain digest covers."""
        return {
            "type": "purge",
            "seq": self.seq,
            "purged_at": self.purged_at.isoformat(timespec="microseconds"),
            "retention_days": dict(sorted(self.retention_days.items())),
            "removed_count": self.removed_count,
            "removed_digest": self.removed_digest,
            "first_removed_seq": self.first_removed_seq,
            "last_removed_seq": self.last_removed_seq,
        }


class LogEvent(Model):
    """Evidence chained beside the entries: what happened, about what, by whom, and a
    SHA-256 of the evidence itself (which is kept elsewhere, e.g. the scan's stored report).

    Not a citizen's decision: consent statistics and receipts never see it.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        ForeignKey("audit_chain_links.seq"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(32))
    site: Mapped[site_id]
    # What the evidence is about: a scan job id, a policy version.
    subject: Mapped[str] = mapped_column(String(200))
    evidence_sha256: Mapped[sha256_hex]
    # The staff account, or "cli:<operator>" for the command line.
    actor: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime_utc]
    # What a reader needs beside the digest (a scan's URL and pages, say); chained too.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)

    def record(self) -> dict[str, Any]:
        """The fields that the chain digest covers."""
        return {
            "type": "event",
            "seq": self.seq,
            "kind": self.kind,
            "site": self.site,
            "subject": self.subject,
            "evidence_sha256": self.evidence_sha256,
            "actor": self.actor,
            "occurred_at": self.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "details": self.details,
        }


class Checkpoint(Model):
    """A signed chain head: the log had exactly this hash at this sequence number."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[sha256_hex]
    # RFC 6962 tree head over the link hashes 1..seq: lets one entry be proven included.
    merkle_root: Mapped[sha256_hex]
    signed_at: Mapped[datetime_utc]
    # Base64 Ed25519 signature over the canonical JSON of (chain, seq, hash, merkle_root,
    # signed_at); see `checkpoints.signed_message`.
    signature: Mapped[str] = mapped_column(String(128))
    # SHA-256 of the raw public key, hex: names the key without trusting the row's copy.
    key_fingerprint: Mapped[sha256_hex]
    # The public key (base64 of the raw 32 bytes), carried in exports and receipts so that
    # web workers never need the private key. Verification trusts configured keys only.
    public_key: Mapped[str] = mapped_column(String(64))


class PolicyText(Model):
    """The exact rendered text of one policy version in one language, and its SHA-256."""

    __tablename__ = "policy_texts"
    __table_args__ = (UniqueConstraint("site", "version", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[site_id]
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    text_hash: Mapped[sha256_hex] = mapped_column(index=True)
    # Canonical JSON, byte for byte what was hashed.
    content: Mapped[str] = mapped_column(Text)
    stored_at: Mapped[datetime_utc]
