"""What editors keep beside the figures: chart annotations, shared links, e-mailed reports.

Nothing here describes a visitor. Editors are named by their account name (who added a
note, who made a link); a subscriber's address is the one they typed in for the reports.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, UTCDateTime, datetime_utc


class Annotation(Model):
    """A dated note on one site's chart, e.g. "Ny startsida publicerad"."""

    __tablename__ = "analytics_annotations"
    __table_args__ = (Index("ix_analytics_annotations_site_day", "site", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime_utc]
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ShareLink(Model):
    """A read-only dashboard link for one site. Only the SHA-256 of its token is stored."""

    __tablename__ = "analytics_share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime_utc]
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class ReportSubscription(Model):
    """An editor's weekly or monthly e-mailed summary of one site."""

    __tablename__ = "analytics_report_subscriptions"
    __table_args__ = (UniqueConstraint("site", "user_id", "frequency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    frequency: Mapped[str] = mapped_column(String(8))  # "weekly" or "monthly"
    language: Mapped[str] = mapped_column(String(8))  # "sv" or "en"
    created_at: Mapped[datetime_utc]


class SentReport(Model):
    """One report claimed for one address and period: a rerun finds it and sends nothing.

    The row is written (and committed) before the mail is handed to the SMTP server and
    `sent_at` set after; a failed delivery removes it again so that the next run retries.
    Keyed by address, not by subscription, so unsubscribing and subscribing again within a
    period does not send that period twice.
    """

    __tablename__ = "analytics_sent_reports"
    __table_args__ = (UniqueConstraint("site", "email", "frequency", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    frequency: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    claimed_at: Mapped[datetime_utc]
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
