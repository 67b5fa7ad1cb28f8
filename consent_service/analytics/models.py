"""Analytics tables: raw events, the daily visitor keys, daily rollups and drop counters.

Nothing here holds an IP address or a user agent. A visitor is a keyed hash whose key
exists for one day (plus a day of grace) and is then destroyed, after which the hash can
no longer be linked to anyone. See docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, UTCDateTime, datetime_utc


class AnalyticsEvent(Model):
    """One page view or custom event from a visitor who consented to statistics."""

    __tablename__ = "analytics_events"
    # Rollups and retention read whole days. Deliberately no other index: each one costs
    # every ingest request (an index on the path made a batch of 50 eight times slower).
    __table_args__ = (Index("ix_analytics_events_day_site", "day", "site"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    # The calendar day in the analytics time zone: the unit of rollups, keys and retention.
    day: Mapped[dt.date] = mapped_column(Date)
    occurred_at: Mapped[datetime_utc]
    type: Mapped[str] = mapped_column(String(8))  # "pageview" or "event"
    host: Mapped[str] = mapped_column(String(253))
    path: Mapped[str] = mapped_column(String(1024))
    referrer_host: Mapped[str | None] = mapped_column(String(253))
    name: Mapped[str | None] = mapped_column(String(64))
    props: Mapped[str | None] = mapped_column(String(1024))  # canonical JSON of a few pairs
    # HMAC of (consent ID, site) under the day's key, truncated to 128 bits.
    visitor: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    screen: Mapped[str] = mapped_column(String(8))
    browser: Mapped[str] = mapped_column(String(24))
    os: Mapped[str] = mapped_column(String(24))
    device: Mapped[str] = mapped_column(String(8))
    # Campaign fields from the page URL's `utm_*` query parameters (of any event).
    utm_source: Mapped[str | None] = mapped_column(String(128))
    utm_medium: Mapped[str | None] = mapped_column(String(128))
    utm_campaign: Mapped[str | None] = mapped_column(String(128))
    utm_content: Mapped[str | None] = mapped_column(String(128))
    utm_term: Mapped[str | None] = mapped_column(String(128))
    # The site search's query (CONSENT_ANALYTICS_SEARCH_PARAMS) of a page view, if any.
    search_term: Mapped[str | None] = mapped_column(String(128))


class VisitorKey(Model):
    """The random key of one day. Deleted 48 hours after its day began (purge and ingest)."""

    __tablename__ = "analytics_visitor_keys"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime_utc]


class DailyAggregate(Model):
    """Counts of one site, page and day along one dimension (referrer, language, ...).

    `path` is "" for the whole site, or the page the counts are limited to (the dashboard's
    page filter). `events` counts page views (events for the event dimensions); `visitors`
    counts distinct visitor hashes of that day. The dashboard reads only this table, always
    along the primary key: site, dimension, page, then a range of days.
    """

    __tablename__ = "analytics_daily"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(1024), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    visitors: Mapped[int] = mapped_column(Integer)


class DailyVisits(Model):
    """Visit figures of one site and day for one value of a property (see visits.py).

    `property` is "" for the whole site (value ""), or a breakdown: page, entry_page,
    exit_page, source, source_kind, utm_*, goal. Every column is a count or a sum, so the
    figures of several days are sums. Written by the rollup; read for final days only
    (open days are computed from the raw events when asked).
    """

    __tablename__ = "analytics_daily_visits"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    property: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(1024), primary_key=True)
    visitors: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(Integer)
    pageviews: Mapped[int] = mapped_column(Integer)
    bounces: Mapped[int] = mapped_column(Integer)
    duration: Mapped[int] = mapped_column(Integer)  # seconds, summed over the visits
    events: Mapped[int] = mapped_column(Integer)  # custom events


class ReadToken(Model):
    """A token that may read one site's figures through the statistics API.

    Only the SHA-256 of the token is stored: it is shown once, when it is created.
    """

    __tablename__ = "analytics_read_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime_utc]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Goal(Model):
    """A conversion editors follow on one site: a custom event, or page views of a path pattern."""

    __tablename__ = "analytics_goals"
    __table_args__ = (UniqueConstraint("site", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # "event" or "page"
    value: Mapped[str] = mapped_column(String(256))  # the event name or the path pattern
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime_utc]


class Funnel(Model):
    """Steps editors follow on one site, in order within a visit (funnels.py).

    `steps` is a JSON list of [kind, value] pairs, kind "event" or "page", as a goal's.
    """

    __tablename__ = "analytics_funnels"
    __table_args__ = (UniqueConstraint("site", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(80))
    steps: Mapped[str] = mapped_column(String(2400))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime_utc]


class FunnelSeed(Model):
    """The site was given the default funnel once; removing it does not bring it back."""

    __tablename__ = "analytics_funnel_seeds"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    seeded_at: Mapped[datetime_utc]


class RollupDay(Model):
    """Which days have events and whether their rollup is final (the day is over)."""

    __tablename__ = "analytics_rollup_days"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean)
    rolled_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DroppedCount(Model):
    """How many events were not stored, by reason (no consent, bot, invalid, ...). Only numbers."""

    __tablename__ = "analytics_dropped"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
