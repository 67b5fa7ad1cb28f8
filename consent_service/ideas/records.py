"""What the ideas domain keeps about its own mail and purges.

- `TeamMailSettings`: a team member's address for the team's mail, digest choice and mention
  choice, and how far their digests have come.
- `IdeaDigest`: one row per digest period and team member, so a rerun sends nothing twice.
- `IdeaOutbox`: mail to a citizen waiting to be sent (the receipt on submission): written in
  the submission's transaction, sent after the answer, retried by `ideas send-mail`. The
  address is not copied here; it is read from `idea_contacts` when the mail goes out.
- `IdeaPurge`: one row per idea removed under a retention rule: the reference, the state
  and the rule, never the idea's content.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, UTCDateTime, datetime_utc

DIGEST_CHOICES = ("none", "daily", "weekly")


class TeamMailSettings(Model):
    __tablename__ = "idea_team_mail"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    email: Mapped[str | None] = mapped_column(String(254))
    # "none", "daily" or "weekly" (DIGEST_CHOICES).
    digest: Mapped[str] = mapped_column(String(16), default="none")
    # An e-mail when an idea is assigned to this member.
    mention: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The next digest lists ideas with a larger id: set to the newest idea when the digest is
    # switched on (no flood of old ideas), moved on by every digest.
    digest_after_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime_utc]


class IdeaDigest(Model):
    """A digest sent (or found empty) for one period; the unique period makes it at most one."""

    __tablename__ = "idea_digests"
    __table_args__ = (UniqueConstraint("user_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # "2026-12-02" for a daily digest, "2026-W49" for a weekly one (Swedish calendar).
    period: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime_utc]
    idea_count: Mapped[int] = mapped_column(Integer)
    first_idea_id: Mapped[int | None] = mapped_column(Integer)
    last_idea_id: Mapped[int | None] = mapped_column(Integer)


class IdeaOutbox(Model):
    __tablename__ = "idea_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    # "receipt": the citizen's receipt of their idea.
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime_utc]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime_utc] = mapped_column(index=True)
    # Set when the mail went out, or when there is nothing to send any more (contact
    # deleted) or the attempts are used up; `outcome` says which.
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))


class IdeaPurge(Model):
    __tablename__ = "idea_purges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purged_at: Mapped[datetime_utc] = mapped_column(index=True)
    reference: Mapped[str] = mapped_column(String(20))
    # The state the idea was in ("closed", "spam", a loop stage, "new").
    stage: Mapped[str] = mapped_column(String(32))
    # The rule as configured, e.g. "closed=1095": days in that state before removal.
    rule: Mapped[str] = mapped_column(String(64))
