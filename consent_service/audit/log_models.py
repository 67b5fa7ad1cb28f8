"""Tables of the consent log as a transparency log: acknowledged entries, tree, checkpoints.

A decision is first *acknowledged*: one row in `audit_pending_entries`, with the signed
promise that it will be integrated within the stated delay. The sequencer then moves pending
rows, oldest first, into the chain (`consent_log_entries`, `audit_chain_links`) and the
Merkle tree (`audit_tree_nodes`), and signs a checkpoint (`audit_log_checkpoints`).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, datetime_utc, sha256_hex, site_id


class PendingEntry(Model):
    """An acknowledged decision that the sequencer has not yet put in the log."""

    __tablename__ = "audit_pending_entries"
    # A retry key is unique among pending entries as among integrated ones.
    __table_args__ = (UniqueConstraint("site", "request_id"),)

    # Acknowledgement order: the sequencer integrates by ascending id.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[site_id]
    occurred_at: Mapped[datetime_utc]
    consent_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(16))
    functional: Mapped[bool] = mapped_column(Boolean)
    statistics: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[sha256_hex]
    language: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    gpc: Mapped[bool] = mapped_column(Boolean)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # RFC 9162 leaf hash of the entry's leaf (hex), the value the promise signs.
    leaf_hash: Mapped[sha256_hex]
    # The signed promise (a C2SP note); empty when the service holds no signing key.
    promise: Mapped[str] = mapped_column(Text)


class TreeNode(Model):
    """The hash of one complete subtree: leaves [index·2^level, (index+1)·2^level).

    Level 0 holds the leaf hashes; a node is written once its subtree is complete and never
    changes. Any tree head, inclusion or consistency proof is then a handful of these rows
    (O(log n) reads), whatever the size of the log.
    """

    __tablename__ = "audit_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column("idx", Integer, primary_key=True, autoincrement=False)
    hash: Mapped[sha256_hex]


class LogCheckpoint(Model):
    """A signed tree head (C2SP checkpoint note), as the sequencer published it.

    One row per hour is kept: the last checkpoint signed in that hour (the current hour's row
    is replaced as the sequencer signs), so `audit verify` checks a bounded number of them.
    """

    __tablename__ = "audit_log_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(Integer, index=True)
    root_hash: Mapped[sha256_hex]
    signed_at: Mapped[datetime_utc]
    note: Mapped[str] = mapped_column(Text)
