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
    # False: disabled by an admin. A disabled account cannot sign in, its sessions end and
    # its set-password links stop working.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime_utc]
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Optional: where notifications to this staff member can go. Never shown to citizens.
    email: Mapped[str | None] = mapped_column(String(254))
    # The sites this person works on, space-separated domains; empty: every site.
    sites: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def site_list(self) -> list[str]:
        return self.sites.split()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


# Stored instead of a password hash until the account's owner sets one through a link:
# no password verifies against it (argon2 refuses it as a hash).
NO_PASSWORD = "!unset"  # noqa: S105  (a marker that is no hash, not a password)


class PasswordLink(Model):
    """A one-time link with which a staff member sets their password (new account, reset).

    Only the SHA-256 of the link's random token is stored, so a copy of the database holds
    no usable link. A link works once (`used_at`), until `expires_at`, and only while it is
    the account's newest: issuing a new one, disabling the account or using it closes it.
    """

    __tablename__ = "staff_password_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime_utc]
    expires_at: Mapped[datetime_utc]
    # Set when the link was used or closed; a link with it set never works again.
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The admin (or "cli:<operator>") who issued it.
    created_by: Mapped[str] = mapped_column(String(80))


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
