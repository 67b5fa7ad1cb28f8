"""Staff accounts and the staff access log. Citizens never have accounts."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, datetime_utc


class Role(enum.StrEnum):
    ADMIN = "admin"  # users and settings
    EDITOR = "editor"  # embed snippets, texts, the statistics dashboard
    INNOVATION = "innovation"  # the idea inbox and board
    PRIVACY_OFFICER = "privacy_officer"  # consent log, exports, verification, access log


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime_utc]

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class AccessLogEntry(Model):
    """Who did what in the consent log and when (sign-ins, views, searches, exports, ...)."""

    __tablename__ = "audit_access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime_utc] = mapped_column(index=True)
    # The staff account, or "cli:<operator>" for the command line; never an IP address.
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
