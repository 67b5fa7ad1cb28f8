"""The archive of every policy text a citizen can have been shown."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, datetime_utc, sha256_hex, site_id


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
