"""The consent-log filters shared by the search page, the UI export and `audit export`.

Every value arrives as untrusted text; each is checked against a narrow shape and turned
into a typed `AuditFilter`, or refused with a message that names the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, true

from consent_service.audit.models import Action, ConsentEntry, Source

ACTIONS = tuple(str(a) for a in Action)
SOURCES = tuple(str(s) for s in Source)
# "none": only the necessary cookies were allowed.
CATEGORIES = ("functional", "statistics", "none")
FILTER_FIELDS = (
    "consent_id", "date_from", "date_to", "action", "category", "policy_version", "source", "site",
)  # fmt: skip
# Used with fullmatch: "…$" with re.match would also accept a trailing newline.
CONSENT_ID = re.compile(r"[0-9A-Za-z-]{1,36}")
SITE = re.compile(r"[0-9A-Za-z._-]{1,64}")
MAX_VALUE_LENGTH = 100


class FilterError(ValueError):
    """A filter value is malformed; `field` names it, `message` is shown to the user (sv)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AuditFilter:
    consent_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    action: str | None = None
    category: str | None = None
    policy_version: int | None = None
    source: str | None = None
    site: str | None = None

    @property
    def empty(self) -> bool:
        return all(v is None for v in asdict(self).values())

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (for links and the access log)."""
        params: dict[str, str] = {}
        for name, value in asdict(self).items():
            if value is not None:
                params[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return params

    def conditions(self) -> list[ColumnElement[bool]]:
        e = ConsentEntry
        where: list[ColumnElement[bool]] = []
        if self.consent_id is not None:
            where.append(e.consent_id == self.consent_id)
        if self.date_from is not None:
            where.append(e.occurred_at >= _midnight(self.date_from))
        if self.date_to is not None:
            where.append(e.occurred_at < _midnight(self.date_to + dt.timedelta(days=1)))
        if self.action is not None:
            where.append(e.action == self.action)
        if self.category == "functional":
            where.append(e.functional == true())
        elif self.category == "statistics":
            where.append(e.statistics == true())
        elif self.category == "none":
            where.append(and_(e.functional == false(), e.statistics == false()))
        if self.policy_version is not None:
            where.append(e.policy_version == self.policy_version)
        if self.source is not None:
            where.append(e.source == self.source)
        if self.site is not None:
            where.append(e.site == self.site)
        return where

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        conditions = self.conditions()
        return stmt.where(*conditions) if conditions else stmt


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FilterError(name, "måste vara text")
    value = value.strip()
    if len(value) > MAX_VALUE_LENGTH:
        raise FilterError(name, f"får vara högst {MAX_VALUE_LENGTH} tecken")
    return value or None


def _date(raw: Mapping[str, Any], name: str) -> dt.date | None:
    value = _text(raw, name)
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise FilterError(name, "ange datumet som ÅÅÅÅ-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, "datumet finns inte") from None
    if day.year < 2000:
        raise FilterError(name, "datumet ligger före år 2000")
    return day


def _choice(raw: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = _text(raw, name)
    if value is not None and value not in choices:
        raise FilterError(name, f"måste vara en av: {', '.join(choices)}")
    return value


def parse_filter(raw: Mapping[str, Any]) -> AuditFilter:
    """Build a filter from query parameters or CLI options; raise FilterError when invalid."""
    consent_id = _text(raw, "consent_id")
    if consent_id is not None and not CONSENT_ID.fullmatch(consent_id):
        raise FilterError("consent_id", "ett samtyckes-ID består av bokstäver, siffror och -")
    site = _text(raw, "site")
    if site is not None and not SITE.fullmatch(site):
        raise FilterError("site", "okänd webbplats")
    version_text = _text(raw, "policy_version")
    policy_version = None
    if version_text is not None:
        if not re.fullmatch(r"\d{1,9}", version_text) or int(version_text) < 1:
            raise FilterError("policy_version", "ange ett heltal från 1")
        policy_version = int(version_text)
    date_from, date_to = _date(raw, "date_from"), _date(raw, "date_to")
    if date_from and date_to and date_from > date_to:
        raise FilterError("date_to", "slutdatumet ligger före startdatumet")
    return AuditFilter(
        consent_id=consent_id,
        date_from=date_from,
        date_to=date_to,
        action=_choice(raw, "action", ACTIONS),
        category=_choice(raw, "category", CATEGORIES),
        policy_version=policy_version,
        source=_choice(raw, "source", SOURCES),
        site=site,
    )
