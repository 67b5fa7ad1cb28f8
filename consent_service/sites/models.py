"""Sites a deployment serves and the versions of each site's policy, drafts included."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, UTCDateTime, datetime_utc, site_id


class Site(Model):
    """A site added with `sites add` or in the admin. The deployment's default site (the
    policy file's `site`, with CONSENT_ALLOWED_ORIGINS and CONSENT_COOKIE_DOMAIN) needs no row.
    """

    __tablename__ = "sites"

    domain: Mapped[str] = mapped_column(String(64), primary_key=True)
    # JSON list of exact origins ("https://www.example.se"); an origin belongs to one site.
    origins: Mapped[str] = mapped_column(Text)
    cookie_domain: Mapped[str | None] = mapped_column(String(255))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime_utc]
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime_utc]


class PolicyStatus(enum.StrEnum):
    DRAFT = "draft"  # being written; editable
    APPROVED = "approved"  # a privacy officer other than the author approved it
    PUBLISHED = "published"  # citizens are asked with it (the highest published version)
    DISCARDED = "discarded"  # a draft nobody will publish


class SitePolicy(Model):
    """One version of a site's policy: the document as its TOML file would hold it."""

    __tablename__ = "site_policies"
    __table_args__ = (UniqueConstraint("site", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[site_id]
    # Assigned at publication (the published versions count up from the file's).
    version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Canonical JSON of the policy document (`site`, `version`, languages, texts, cookies).
    document: Mapped[str] = mapped_column(Text)
    # The published version this draft was written from: its diff is shown against that.
    based_on: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime_utc]
    updated_at: Mapped[datetime_utc]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
