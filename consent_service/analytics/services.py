"""The ingest rules: who may be counted, what an event may say, and how a batch is written.

The server decides, not the tracker: events are stored only for a request that carries a
validly signed, unexpired `consent` cookie granting statistics under the current policy
version. Everything else is dropped and only counted, by reason.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import current_app
from sqlalchemy import Dialect, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from consent_service import metrics, ratelimit
from consent_service.analytics.models import AnalyticsEvent, DroppedCount
from consent_service.analytics.useragent import read_user_agent
from consent_service.analytics.visitors import day_key, day_start, local_day, visitor_hash
from consent_service.consent.cookie import Choice
from consent_service.db import db
from consent_service.sites.services import current_site

EVENTS = AnalyticsEvent.metadata.tables[AnalyticsEvent.__tablename__]
MAX_EVENTS_PER_BATCH = 100
MAX_PROPS = 5
MAX_PROP_VALUE = 100
# Numbers in props: finite and at most this large either way. Beyond it a figure is no
# measurement, and 1e308 or a 400-digit integer only costs storage and breaks sums.
MAX_PROP_NUMBER = 10**15
# UTF-8 bytes of the stored path, allow-listed query parameters included. Keeps index
# entries well inside PostgreSQL's B-tree limit.
MAX_PATH_BYTES = 1024
SCREENS = ("small", "medium", "large")
# Campaign fields read from the page URL's query, stored in columns of the same names.
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
MAX_UTM_LENGTH = 128
# The site search's query (CONSENT_ANALYTICS_SEARCH_PARAMS), kept beside the campaign fields.
CAMPAIGN_COLUMNS = (*UTM_FIELDS, "search_term")
MAX_SEARCH_LENGTH = 128
EVENT_TYPES = ("pageview", "event")
# Matched with fullmatch: `$` in `re.match` also accepts a trailing newline.
# Spaces inside a name are allowed for Plausible's names ("File Download", "Outbound Link:
# Click"); not at either end.
NAME = re.compile(r"[A-Za-z0-9_.:-](?:[A-Za-z0-9_.: -]{0,62}[A-Za-z0-9_.:-])?")
PROP_KEY = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LANGUAGE = re.compile(r"[a-z]{2,3}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# An event's fields: their type and whether they are required. Every text is at most
# PLAIN_MAX_LENGTH characters before the finer rules below apply.
PLAIN_TYPES: dict[str, type] = {"type": str, "path": str, "referrer": str, "name": str,
                                "props": dict, "screen": str}  # fmt: skip
REQUIRED_FIELDS = ("type", "path")
EVENT_FIELDS = frozenset(PLAIN_TYPES)
TYPE_NAMES: dict[type, str] = {str: "a string", dict: "an object"}
PLAIN_MAX_LENGTH = 2048

# Why events were not stored. Kept as numbers per site and day, nothing else.
NO_CONSENT = "no_consent"  # no cookie, a forged or tampered one, or an expired one
OLD_POLICY = "old_policy"  # consent given under an earlier policy version
NO_STATISTICS = "no_statistics"  # a valid choice that does not include statistics
BOT = "bot"
UNKNOWN_HOST = "unknown_host"  # no Origin, or a host that is not on the allow-list
INVALID = "invalid"  # rejected one by one, with the reason returned to the sender
RATE_LIMITED = "rate_limited"  # too many events per minute from one client address or consent
VISITOR_CAP = "visitor_cap"  # beyond the events one visitor may send in a day
DROP_REASONS = (NO_CONSENT, OLD_POLICY, NO_STATISTICS, BOT, UNKNOWN_HOST, INVALID, RATE_LIMITED,
                VISITOR_CAP)  # fmt: skip
# The limits per client address and per consent count events in fixed windows of a minute.
RATE_WINDOW_SECONDS = 60


class InvalidEvent(ValueError):
    """One event breaks a rule: it is refused, the rest of its batch is still stored."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class TooManyEvents(Exception):
    """A client or consent sent more events than its limit allows: nothing was stored.

    Raised after the drop has been counted and committed; `retry_after` is in seconds.
    """

    def __init__(self, retry_after: int, dropped: int) -> None:
        super().__init__(f"too many events; retry after {retry_after} s")
        self.retry_after, self.dropped = retry_after, dropped


class InvalidBatch(ValueError):
    """The batch as a whole cannot be taken (too many events): nothing of it is looked at."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Sender:
    """What the ingest needs to know about the request, and nothing it may store."""

    choice: Choice | None
    origin_host: str | None
    address: str
    user_agent: str
    accept_language: str = ""


@dataclass(frozen=True)
class Rejection:
    index: int
    error: str
    message: str

    def public(self) -> dict[str, Any]:
        return {"index": self.index, "error": self.error, "message": self.message}


@dataclass
class IngestResult:
    stored: int = 0
    dropped: int = 0
    reason: str | None = None
    rejected: list[Rejection] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        body: dict[str, Any] = {"stored": self.stored}
        if self.reason is not None:
            body["dropped"] = self.dropped
            body["reason"] = self.reason
        if self.rejected:
            body["rejected"] = [r.public() for r in self.rejected]
        return body


def allowed_hosts(own_host: str | None) -> frozenset[str]:
    """Host names whose pages may be counted: those of the site's origins and our own."""
    return _hosts(current_site().origins, own_host)


@lru_cache(maxsize=64)
def _hosts(origins: tuple[str, ...], own_host: str | None) -> frozenset[str]:
    hosts = {urlsplit(o).hostname for o in origins}
    hosts.add(own_host)
    return frozenset(h.lower() for h in hosts if h)


def host_of_origin(origin: str | None) -> str | None:
    if not origin or origin == "null":
        return None
    try:
        host = urlsplit(origin).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def primary_language(accept_language: str) -> str:
    """The first language the browser asks for, as a primary subtag ('sv-SE' → 'sv')."""
    first = accept_language.split(",", 1)[0].split(";", 1)[0].strip().lower()
    primary = first.split("-", 1)[0]
    return primary if LANGUAGE.fullmatch(primary) else ""


NO_CAMPAIGN: tuple[str | None, ...] = (None,) * len(CAMPAIGN_COLUMNS)


def clean_path(raw: str, query_params: tuple[str, ...]) -> str:
    """Keep the path and only allow-listed query parameters; drop the fragment."""
    return clean_page(raw, query_params)[0]


@lru_cache(maxsize=4096)
def clean_page(
    raw: str, query_params: tuple[str, ...], search_params: tuple[str, ...] = ()
) -> tuple[str, tuple[str | None, ...]]:
    """The path with only allow-listed query parameters, and the CAMPAIGN_COLUMNS fields.

    `utm_*` parameters are kept as campaign fields (the first of each, at most
    MAX_UTM_LENGTH characters, control characters refused); they stay in the path only
    when they are allow-listed as well. The first of `search_params` that is present and
    not empty is the site search's term: lower case, spaces collapsed, at most
    MAX_SEARCH_LENGTH characters.
    """
    if not raw.startswith("/") or raw.startswith("//") or CONTROL.search(raw):
        raise InvalidEvent("invalid_path", "path must be a path starting with a single '/'.")
    path, _, query = raw.split("#", 1)[0].partition("?")
    if len(path.encode()) > MAX_PATH_BYTES:
        raise InvalidEvent("too_long", f"path is longer than {MAX_PATH_BYTES} bytes.")
    if not query:
        return path, NO_CAMPAIGN
    pairs = parse_qsl(query, keep_blank_values=True)
    campaign = NO_CAMPAIGN
    found: dict[str, str] = {}
    if "utm_" in query.lower():
        for key, value in pairs:
            key = key.lower()
            text = value.strip()[:MAX_UTM_LENGTH]
            if key in UTM_FIELDS and key not in found and text and not CONTROL.search(text):
                found[key] = text
    if search_params:
        for key, value in pairs:
            term = " ".join(value.split()).lower()[:MAX_SEARCH_LENGTH]
            if key in search_params and term and not CONTROL.search(term):
                found["search_term"] = term
                break
    if found:
        campaign = tuple(found.get(name) for name in CAMPAIGN_COLUMNS)
    allowed = set(query_params)
    if allowed:
        kept = [(k, v) for k, v in pairs if k in allowed]
        with_query = f"{path}?{urlencode(kept)}"
        if kept and len(with_query.encode()) <= MAX_PATH_BYTES:
            path = with_query
    return path, campaign


@lru_cache(maxsize=4096)
def referrer_host(raw: str | None, page_host: str) -> str | None:
    """The referring site's host name; none for links within the same host."""
    if not raw:
        return None
    if CONTROL.search(raw):
        raise InvalidEvent("invalid_referrer", "referrer must be an http(s) URL.")
    try:
        parts = urlsplit(raw)
        host = parts.hostname if parts.scheme in ("http", "https") else None
    except ValueError:
        host = None
    if not host:
        raise InvalidEvent("invalid_referrer", "referrer must be an http(s) URL.")
    host = host.lower()
    return None if host == page_host else host[:253]


def _prop_value(key: str, value: Any) -> str | int | float | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_PROP_NUMBER:
            raise InvalidEvent(
                "invalid_props", f"props.{key} must be a finite number between ±10^15."
            )
        return value
    if isinstance(value, str):
        try:
            # Nested text skips the field check: a lone surrogate would fail the insert.
            check_text(value, f"props.{key}")
        except InvalidEvent as exc:
            raise InvalidEvent("invalid_props", exc.message) from None
        if len(value) > MAX_PROP_VALUE or CONTROL.search(value):
            raise InvalidEvent(
                "invalid_props",
                f"props.{key} must be text of at most {MAX_PROP_VALUE} characters.",
            )
        return value
    raise InvalidEvent("invalid_props", f"props.{key} must be text, a number or true/false.")


def clean_props(props: Mapping[str, Any]) -> str:
    if len(props) > MAX_PROPS:
        raise InvalidEvent("invalid_props", f"props may have at most {MAX_PROPS} entries.")
    clean = {}
    for key, value in props.items():
        if not isinstance(key, str) or not PROP_KEY.fullmatch(key):
            raise InvalidEvent("invalid_props", "props names are 1 to 32 letters, digits or _ . -.")
        clean[key] = _prop_value(key, value)
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain(raw: Any) -> bool:
    """Whether `raw` is an event of the usual shape that `validate_event` would pass as it is.

    Checked first because it is several times cheaper; anything else goes through
    `validate_event`, which also words the reason.
    """
    if type(raw) is not dict:
        return False
    for name, value in raw.items():
        kind = PLAIN_TYPES.get(name)
        # An unknown field has no kind, which no value's type is.
        if type(value) is not kind:
            return False
        if type(value) is str and (len(value) > PLAIN_MAX_LENGTH or not value.isascii()):
            return False
    return (
        raw.get("type") in EVENT_TYPES
        and "path" in raw
        and raw.get("screen", "small") in SCREENS
        and ("name" not in raw or NAME.fullmatch(raw["name"]) is not None)
    )


def check_text(value: str, field: str) -> str:
    """Refuse text that cannot be stored as UTF-8 (a lone surrogate from a JSON escape) or NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEvent(
            "invalid_text", f"{field} contains characters that are not valid text"
        ) from None
    if "\x00" in value:
        raise InvalidEvent("invalid_text", f"{field} contains a NUL character")
    return value


def validate_event(raw: Any) -> dict[str, Any]:
    """The event's fields, checked for shape, type, length and choices; None counts as absent."""
    if not isinstance(raw, dict):
        raise InvalidEvent("invalid_json", "The event must be a JSON object.")
    unknown = sorted(set(raw) - EVENT_FIELDS)
    if unknown:
        raise InvalidEvent("unknown_field", f"Unknown field(s): {', '.join(unknown)[:200]}.")
    clean: dict[str, Any] = {}
    for name, kind in PLAIN_TYPES.items():
        value = raw.get(name)
        if value is None:
            if name in REQUIRED_FIELDS:
                raise InvalidEvent("missing_field", f"{name} is required.")
            continue
        if not isinstance(value, kind):
            raise InvalidEvent("invalid_type", f"{name} must be {TYPE_NAMES[kind]}.")
        if isinstance(value, str):
            check_text(value, name)
            if len(value) > PLAIN_MAX_LENGTH:
                raise InvalidEvent(
                    "too_long", f"{name} is longer than {PLAIN_MAX_LENGTH} characters."
                )
        clean[name] = value
    for name, choices in (("type", EVENT_TYPES), ("screen", SCREENS)):
        if name in clean and clean[name] not in choices:
            raise InvalidEvent("invalid_value", f"{name} must be one of: {', '.join(choices)}.")
    if "name" in clean and not NAME.fullmatch(clean["name"]):
        raise InvalidEvent(
            "invalid_value", "name must be 1 to 64 letters, digits, inner spaces or _ . : -."
        )
    return clean


def clean_event(
    raw: Any, page_host: str, query_params: tuple[str, ...], search_params: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Validate one event; return the columns it contributes, or raise InvalidEvent."""
    data = raw if _plain(raw) else validate_event(raw)
    kind = data["type"]
    if kind == "event" and "name" not in data:
        raise InvalidEvent("missing_field", "name is required for type event.")
    if kind == "pageview" and ("name" in data or "props" in data):
        raise InvalidEvent("unexpected_field", "a pageview has no name or props.")
    props = data.get("props")
    path, campaign = clean_page(data["path"], query_params, search_params)
    return {
        "type": kind,
        "path": path,
        "referrer_host": referrer_host(data.get("referrer"), page_host),
        "name": data.get("name"),
        "props": clean_props(props) if props else None,
        "screen": data.get("screen", ""),
        "campaign": campaign,  # the CAMPAIGN_COLUMNS, as one tuple
    }


def search_params_of(site: str) -> tuple[str, ...]:
    """The site's search query parameters (CONSENT_ANALYTICS_SEARCH_PARAMS): a dict look-up."""
    configured: dict[str, tuple[str, ...]] = current_app.config["ANALYTICS_SEARCH_PARAMS"]
    return configured.get(site) or configured.get("*", ())


def refusal(sender: Sender, site: str, policy_version: int, hosts: frozenset[str]) -> str | None:
    """Why nothing from this sender may be stored, or None when it may."""
    choice = sender.choice
    if choice is None:
        return NO_CONSENT
    if choice.policy_version != policy_version:
        return OLD_POLICY
    if not choice.statistics:
        return NO_STATISTICS
    if sender.origin_host is None or sender.origin_host not in hosts:
        return UNKNOWN_HOST
    if read_user_agent(sender.user_agent).bot:
        return BOT
    return None


def count_dropped(conn: Connection, site: str, day: dt.date, reason: str, n: int) -> None:
    """Add `n` to the day's counter for `reason` (an UPDATE, or an INSERT for the first one)."""
    key = (DroppedCount.site == site, DroppedCount.day == day, DroppedCount.reason == reason)
    add = update(DroppedCount).where(*key).values(count=DroppedCount.count + n)
    if conn.execute(add).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(DroppedCount).values(site=site, day=day, reason=reason, count=n))
    except IntegrityError:
        # A concurrent writer inserted the row (PostgreSQL); now it can be updated.
        conn.execute(add)


SHARED_COLUMNS = ("site", "day", "occurred_at", "host", "visitor", "language", "browser", "os",
                  "device")  # fmt: skip
EVENT_COLUMNS = ("type", "path", "referrer_host", "name", "props", "screen", *CAMPAIGN_COLUMNS)
_PLAIN_COLUMNS = itemgetter(*EVENT_COLUMNS[: -len(CAMPAIGN_COLUMNS)])
_PARAMSTYLES = {"qmark": "?", "format": "%s", "pyformat": "%s"}


@lru_cache(maxsize=4)
def _insert_sql(placeholder: str) -> str:
    names = (*SHARED_COLUMNS, *EVENT_COLUMNS)
    values = ", ".join([placeholder] * len(names))
    # Table and column names are constants; every value is a parameter.
    return f"INSERT INTO {EVENTS.name} ({', '.join(names)}) VALUES ({values})"  # noqa: S608


def insert_events(conn: Connection, shared: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Insert one batch through a Core connection: executemany (PostgreSQL, any database).

    The values all events of a request share (site, day, time, visitor, client classes)
    are converted for the database once per batch rather than once per row. The per-event
    columns are plain text, which the drivers take as they are. SQLite has its own path,
    `insert_events_sqlite`.
    """
    dialect = conn.dialect
    placeholder = _PARAMSTYLES.get(dialect.paramstyle)
    if placeholder is None or not _plain_event_columns(dialect):
        conn.execute(insert(EVENTS), [
            {**shared, **{k: v for k, v in row.items() if k != "campaign"},
             **dict(zip(CAMPAIGN_COLUMNS, row["campaign"], strict=True))}
            for row in rows
        ])  # fmt: skip
        return
    bound = _bound_shared(dialect, shared)
    sql = _insert_sql(placeholder)
    # The campaign fields travel as one (cached) tuple: five dict entries per event cost more.
    conn.exec_driver_sql(sql, [(*bound, *_PLAIN_COLUMNS(row), *row["campaign"]) for row in rows])


def insert_events_sqlite(
    driver: sqlite3.Connection, dialect: Dialect, shared: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    """Insert one batch on sqlite3's connection (in its write transaction), as one statement.

    The shared values are bound once and named by number in every row (?1…?9); an
    executemany binds them again for every event and steps the statement once per event,
    which costs more than SQLite's insert itself.

    No parameter is ever None: sqlite3 binds None through its adaptation protocol, about
    five times the cost of binding text, and a batch of 50 page views had 400 of them (about
    0.2 ms of CPU, more than SQLite's insert). Columns that no event of the batch has (name
    and props in a batch of page views, the campaign fields without a campaign) are left
    out of the statement, so they are NULL; the referrer's host, and the others when some
    event has them, are sent as '' for none and stored as NULL (`NULLIF`; none of them is
    ever stored as '').
    """
    bound = _bound_shared(dialect, shared)
    named = any(row["name"] is not None or row["props"] is not None for row in rows)
    campaign = any(row["campaign"] is not NO_CAMPAIGN for row in rows)
    values: list[tuple[Any, ...]] = []
    for row in rows:
        value: tuple[Any, ...]
        value = (row["type"], row["path"], row["referrer_host"] or "", row["screen"])
        if named:
            value += (row["name"] or "", row["props"] or "")
        if campaign:
            value += tuple(field or "" for field in row["campaign"])
        values.append(value)
    if not _sqlite_batch_fits(len(rows), named, campaign):
        one_row = _sqlite_batch_sql(1, named, campaign)
        driver.executemany(one_row, [(*bound, *value) for value in values])
        return
    params = bound
    for value in values:
        params += value
    driver.execute(_sqlite_batch_sql(len(rows), named, campaign), params)


@lru_cache(maxsize=4)
def _plain_event_columns(dialect: Dialect) -> bool:
    """Whether the dialect takes every per-event column as it is (no bind processing)."""
    return not any(EVENTS.c[name].type.bind_processor(dialect) for name in EVENT_COLUMNS)


@lru_cache(maxsize=4)
def _shared_converters(dialect: Dialect) -> tuple[Callable[[Any], Any] | None, ...]:
    """The bind processor of every shared column (None where the value goes as it is)."""
    return tuple(EVENTS.c[name].type.bind_processor(dialect) for name in SHARED_COLUMNS)


def _bound_shared(dialect: Dialect, shared: dict[str, Any]) -> list[Any]:
    """The shared values as the driver gets them, converted once for the batch.

    sqlite3 adapts a date or datetime parameter (str(), isoformat) on every row it is bound
    to: the same adaptation, done once for the batch, stores the same text.
    """
    adapters = sqlite3.adapters if dialect.driver == "pysqlite" else {}
    bound = []
    for name, convert in zip(SHARED_COLUMNS, _shared_converters(dialect), strict=True):
        value = convert(shared[name]) if convert else shared[name]
        adapt = adapters.get((type(value), sqlite3.PrepareProtocol))
        bound.append(adapt(value) if adapt else value)
    return bound


# The per-event columns of SQLite's batch insert: always, with a name or props in the batch,
# with a campaign in the batch. Those that may be NULL are sent as '' for none.
_SQLITE_ALWAYS = ("type", "path", "referrer_host", "screen")
_SQLITE_NAMED = ("name", "props")
_SQLITE_NULLABLE = frozenset(("referrer_host", *_SQLITE_NAMED, *CAMPAIGN_COLUMNS))


def _sqlite_columns(named: bool, campaign: bool) -> tuple[str, ...]:
    return (*_SQLITE_ALWAYS, *(_SQLITE_NAMED if named else ()),
            *(CAMPAIGN_COLUMNS if campaign else ()))  # fmt: skip


def _sqlite_batch_fits(n: int, named: bool, campaign: bool) -> bool:
    """Whether `n` events fit SQLite's limit of parameters per statement."""
    most = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    return len(SHARED_COLUMNS) + n * len(_sqlite_columns(named, campaign)) <= most


@lru_cache(maxsize=4 * MAX_EVENTS_PER_BATCH)
def _sqlite_batch_sql(n: int, named: bool, campaign: bool) -> str:
    """INSERT … VALUES for `n` events: ?1…?9 are the shared values, repeated in every row."""
    shared = [f"?{i}" for i in range(1, len(SHARED_COLUMNS) + 1)]
    columns = _sqlite_columns(named, campaign)
    rows = []
    for event in range(n):
        first = len(SHARED_COLUMNS) + 1 + event * len(columns)
        values = [
            f"NULLIF(?{first + i}, '')" if name in _SQLITE_NULLABLE else f"?{first + i}"
            for i, name in enumerate(columns)
        ]
        rows.append("(" + ", ".join([*shared, *values]) + ")")
    names = ", ".join((*SHARED_COLUMNS, *columns))
    # Table and column names are constants; every value is a parameter.
    return f"INSERT INTO {EVENTS.name} ({names}) VALUES {', '.join(rows)}"  # noqa: S608


class CoreWrites:
    """A batch's statements on a Core connection in its write transaction (PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count(self, counters: list[ratelimit.Counter], amount: int) -> list[int]:
        return ratelimit.count_many(self.conn, counters, amount)

    def dropped(self, site: str, day: dt.date, reason: str, n: int) -> None:
        count_dropped(self.conn, site, day, reason, n)

    def insert(self, shared: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        insert_events(self.conn, shared, rows)


class SqliteWrites:
    """The same statements on sqlite3's connection in its write transaction.

    Without SQLAlchemy's connection, transaction and statement set-up, which cost about as
    much CPU as SQLite's own work for a batch (the counters' upsert and the drop counts
    through SQLAlchemy: about 50 µs each, against a few µs on the driver).
    """

    def __init__(self, driver: sqlite3.Connection, dialect: Dialect) -> None:
        self.driver, self.dialect = driver, dialect

    def count(self, counters: list[ratelimit.Counter], amount: int) -> list[int]:
        return ratelimit.count_many_sqlite(self.driver, counters, amount)

    def dropped(self, site: str, day: dt.date, reason: str, n: int) -> None:
        # One upsert: the write lock is held from BEGIN IMMEDIATE, so no writer can come
        # between the look for the row and its insert.
        convert = _day_converter(self.dialect)
        self.driver.execute(_DROPPED_UPSERT, (site, convert(day) if convert else day, reason, n))

    def insert(self, shared: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        insert_events_sqlite(self.driver, self.dialect, shared, rows)


_DROPPED = DroppedCount.__tablename__
# Table and column names are constants; every value is a parameter.
_DROPPED_UPSERT = (
    f"INSERT INTO {_DROPPED} (site, day, reason, count) VALUES (?, ?, ?, ?) "  # noqa: S608
    f"ON CONFLICT (site, day, reason) DO UPDATE SET count = {_DROPPED}.count + excluded.count"
)


@lru_cache(maxsize=4)
def _day_converter(dialect: Dialect) -> Callable[[Any], Any] | None:
    return DroppedCount.__table__.c.day.type.bind_processor(dialect)


@contextmanager
def batch_writes() -> Iterator[CoreWrites | SqliteWrites]:
    """One write transaction for a batch: on SQLite's driver directly, else a Core connection.

    Either commits at the end of the block and rolls back on any error; a database error
    is raised as SQLAlchemy's DBAPIError, which the API answers with 503.
    """
    dialect = db.engine.dialect
    if dialect.driver == "pysqlite":
        with db.writing_sqlite() as driver:
            yield SqliteWrites(driver, dialect)
    else:
        with db.writing_connection() as conn:
            yield CoreWrites(conn)


@dataclass(frozen=True)
class Limits:
    """Events per RATE_WINDOW_SECONDS per client address and per consent ID; per visitor a day."""

    client: int
    consent: int
    visitor_day: int

    @classmethod
    def from_config(cls) -> Limits:
        config = current_app.config
        return cls(
            config["ANALYTICS_RATE_LIMIT_CLIENT"],
            config["ANALYTICS_RATE_LIMIT_CONSENT"],
            config["ANALYTICS_VISITOR_DAILY_CAP"],
        )


def _counters(sender: Sender, limits: Limits, now: dt.datetime) -> list[ratelimit.Counter]:
    """The per-minute counters of a request: its client address and, with a cookie, its consent."""
    end = ratelimit.window_end(RATE_WINDOW_SECONDS, now)
    counters = [ratelimit.Counter("analytics-client", sender.address, limits.client, end)]
    if sender.choice is not None:
        counters.append(
            ratelimit.Counter("analytics-consent", sender.choice.consent_id, limits.consent, end)
        )
    return counters


def ingest(
    events: list[Any],
    sender: Sender,
    *,
    site: str,
    policy_version: int,
    hosts: frozenset[str],
    now: dt.datetime,
) -> IngestResult:
    """Store the valid events of one batch in one transaction, or drop them all and count why.

    Every event of a batch counts against the limits per client address and per consent ID
    (per minute) and per visitor and day; the counters are added to with one statement in
    the batch's own transaction. Raises InvalidBatch for a batch of more than
    MAX_EVENTS_PER_BATCH events and TooManyEvents, after counting the drop, when a
    per-minute limit is exceeded. Events beyond the visitor's daily cap are dropped and
    counted as VISITOR_CAP; the rest of the batch is stored.
    """
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise InvalidBatch(
            "too_many_events",
            f"A batch holds at most {MAX_EVENTS_PER_BATCH} events; send several batches.",
        )
    if not events:
        return IngestResult()
    day = local_day(now)
    limits = Limits.from_config()
    counters = _counters(sender, limits, now)
    reason = refusal(sender, site, policy_version, hosts)
    if reason is not None:
        with batch_writes() as writes:
            over = _over(counters, writes.count(counters, len(events)), now)
            writes.dropped(site, day, RATE_LIMITED if over else reason, len(events))
        return _refused(len(events), reason, over)

    assert sender.origin_host is not None
    page_host = sender.origin_host
    query_params = tuple(current_app.config["ANALYTICS_QUERY_PARAMS"])
    search_params = search_params_of(site)
    client = read_user_agent(sender.user_agent)
    # A visitor is one consent ID on one day (refusal() made sure there is a valid one);
    # the address and user agent stay out of the hash (the latter gave the client classes).
    assert sender.choice is not None
    visitor = visitor_hash(day_key(site, day, now), sender.choice.consent_id, site)
    shared = {
        "site": site,
        "day": day,
        "occurred_at": now.replace(microsecond=0),
        "host": page_host,
        "visitor": visitor,
        "language": primary_language(sender.accept_language),
        "browser": client.browser,
        "os": client.os,
        "device": client.device,
    }
    rows: list[dict[str, Any]] = []
    positions: list[int] = []
    rejected: list[Rejection] = []
    for index, raw in enumerate(events):
        try:
            rows.append(clean_event(raw, page_host, query_params, search_params))
            positions.append(index)
        except InvalidEvent as exc:
            rejected.append(Rejection(index, exc.code, exc.message))
    # The visitor hash changes with the day's key; the count ends with the site's day.
    day_end = int(day_start(day + dt.timedelta(days=1)).timestamp())
    counters.append(ratelimit.Counter("analytics-visitor", f"{site}|{visitor}",
                                      limits.visitor_day, day_end))  # fmt: skip
    capped = 0
    # One transaction, plain statements only: no ORM session on the hot path.
    with batch_writes() as writes:
        *per_minute, daily = writes.count(counters, len(events))
        over = _over(counters, per_minute, now)
        if over:
            writes.dropped(site, day, RATE_LIMITED, len(events))
        else:
            # The events of the batch that still fit under the visitor's cap, in order.
            room = max(0, limits.visitor_day - (daily - len(events)))
            capped = sum(1 for p in positions if p >= room)
            if capped:
                rows = rows[: len(rows) - capped]
                writes.dropped(site, day, VISITOR_CAP, capped)
            if rows:
                writes.insert(shared, rows)
            if rejected:
                writes.dropped(site, day, INVALID, len(rejected))
    if over:
        metrics.count("events_dropped", len(events), reason=RATE_LIMITED)
        raise TooManyEvents(max(over), len(events))
    metrics.count("events_stored", len(rows))
    if rejected:
        metrics.count("events_dropped", len(rejected), reason=INVALID)
    if capped:
        metrics.count("events_dropped", capped, reason=VISITOR_CAP)
        return IngestResult(len(rows), capped, VISITOR_CAP, rejected)
    return IngestResult(stored=len(rows), rejected=rejected)


def _over(counters: list[ratelimit.Counter], totals: list[int], now: dt.datetime) -> list[int]:
    """Seconds to wait for each per-minute counter whose total is above its limit."""
    # `totals` may be shorter: the daily counter that follows is not a per-minute limit.
    return [c.retry_after(now) for c, n in zip(counters, totals, strict=False) if n > c.limit]


def _refused(n: int, reason: str, over: list[int]) -> IngestResult:
    """Count a refused batch in the metrics; a client over its limit is told to wait."""
    if over:
        metrics.count("events_dropped", n, reason=RATE_LIMITED)
        raise TooManyEvents(max(over), n)
    metrics.count("events_dropped", n, reason=reason)
    return IngestResult(dropped=n, reason=reason)
