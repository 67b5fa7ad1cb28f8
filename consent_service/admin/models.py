"""Staff accounts and the staff access log. Citizens never have accounts."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, UTCDateTime, datetime_utc


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
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The sites this person works on, space-separated domains; empty: every site.
    sites: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def site_list(self) -> list[str]:
        return self.sites.split()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class StaffSession(Model):
    """One signed-in browser. The signed session cookie carries only a random id.

    A signed cookie alone cannot be taken back: a copy keeps working until it expires.
    With this row the server decides: sign-out, an admin or a password change ends it.
    """

    __tablename__ = "staff_sessions"

    # SHA-256 of the cookie's random id, so a copy of the database holds no usable session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime_utc]
    last_seen_at: Mapped[datetime_utc]
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


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
