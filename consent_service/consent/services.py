"""The rules for recording, changing and withdrawing a cookie choice."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal, Protocol, cast

from flask import current_app
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service import metrics
from consent_service.audit.chain import append_entry
from consent_service.audit.models import ConsentEntry, PolicyText
from consent_service.consent.cookie import Choice
from consent_service.consent.policy import Policy
from consent_service.db import Model, db, utcnow
from consent_service.hashing import canonical_json
from consent_service.schema import UpgradeRefused

Source = Literal["banner", "settings", "nojs", "api"]
SOURCES: tuple[Source, ...] = ("banner", "settings", "nojs", "api")
# Sources where a citizen switched categories on one by one; only these may grant
# statistics while the browser sends Global Privacy Control.
EXPLICIT_SOURCES = ("settings", "nojs")


class PolicyTextChanged(UpgradeRefused):
    """A stored policy version's text differs from the policy file: a new version is needed."""


class StalePolicy(ValueError):
    """The citizen answered an older policy version than the current one."""


class RecordedEntry(Protocol):
    consent_id: str
    policy_version: int
    functional: bool
    statistics: bool
    occurred_at: dt.datetime


@dataclass(frozen=True)
class Decision:
    choice: Choice
    expires_at: dt.datetime
    replayed: bool = False


def current_policy() -> Policy:
    policy: Policy = current_app.extensions["consent_policy"]
    return policy


def store_policy_texts(session: Session, policy: Policy) -> int:
    """Archive the policy's exact texts; refuse when a stored version's text has changed.

    Returns the number of texts newly stored.
    """
    stored = 0
    for language in policy.languages:
        content = canonical_json(policy.rendered(language)).decode()
        text_hash = policy.text_hash(language)
        existing = session.scalar(
            select(PolicyText).where(
                PolicyText.site == policy.site,
                PolicyText.version == policy.version,
                PolicyText.language == language,
            )
        )
        if existing is None:
            session.add(
                PolicyText(
                    site=policy.site,
                    version=policy.version,
                    language=language,
                    text_hash=text_hash,
                    content=content,
                    stored_at=utcnow(),
                )
            )
            stored += 1
        elif existing.text_hash != text_hash:
            raise PolicyTextChanged(
                f"the {language} texts of policy version {policy.version} for {policy.site} "
                "differ from the archived ones. Citizens' consent refers to the archived text: "
                "raise `version` in the policy file to publish new wording."
            )
    return stored


def ensure_policy_stored() -> None:
    """Archive the current texts once per process, before the first decision refers to them."""
    if current_app.extensions.get("consent_policy_stored"):
        return
    with db.writing() as session:
        store_policy_texts(session, current_policy())
    current_app.extensions["consent_policy_stored"] = True


def _expiry(at: dt.datetime) -> dt.datetime:
    return at + dt.timedelta(days=current_app.config["CHOICE_MAX_AGE_DAYS"])


_ENTRIES = Model.metadata.tables[ConsentEntry.__tablename__]


def _replay(conn: Connection, site: str, request_id: str) -> RecordedEntry | None:
    row = conn.execute(
        select(_ENTRIES).where(_ENTRIES.c.site == site, _ENTRIES.c.request_id == request_id)
    ).one_or_none()
    return cast(RecordedEntry | None, row)


def _decision(entry: RecordedEntry, replayed: bool = False) -> Decision:
    choice = Choice(entry.consent_id, entry.policy_version, entry.functional, entry.statistics)
    occurred_at = entry.occurred_at
    if occurred_at.tzinfo is None:  # rows read through Core on SQLite
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    return Decision(choice, _expiry(occurred_at), replayed)


def _append(entry: ConsentEntry) -> Decision:
    decision = _append_once(entry)
    if decision.replayed:
        metrics.count("decision_replays")
    else:
        metrics.count("decisions", action=entry.action)
    return decision


def _append_once(entry: ConsentEntry) -> Decision:
    ensure_policy_stored()
    try:
        with db.writing_connection() as conn:
            if entry.request_id is not None:
                earlier = _replay(conn, entry.site, entry.request_id)
                if earlier is not None:
                    return _decision(earlier, replayed=True)
            append_entry(conn, entry)
    except IntegrityError:
        # A concurrent retry with the same request_id won the race; answer what it stored.
        if entry.request_id is None:
            raise
        with db.writing_connection() as conn:
            earlier = _replay(conn, entry.site, entry.request_id)
        if earlier is None:
            raise
        return _decision(earlier, replayed=True)
    return _decision(entry)


def record_choice(
    *,
    functional: bool,
    statistics: bool,
    policy_version: int,
    language: str,
    source: Source,
    previous: Choice | None,
    request_id: str | None = None,
    gpc: bool = False,
) -> Decision:
    """Append a grant (first choice) or an update (a changed choice) to the consent log."""
    policy = current_policy()
    if policy_version != policy.version:
        raise StalePolicy(
            f"policy version {policy_version} is not the current version {policy.version}"
        )
    if gpc and source not in EXPLICIT_SOURCES:
        statistics = False
    language = policy.language_for(language)
    entry = ConsentEntry(
        site=policy.site,
        occurred_at=utcnow(),
        consent_id=previous.consent_id if previous else str(uuid.uuid4()),
        action="update" if previous else "grant",
        functional=functional,
        statistics=statistics,
        policy_version=policy.version,
        text_hash=policy.text_hash(language),
        language=language,
        source=source,
        gpc=gpc,
        request_id=request_id,
    )
    return _append(entry)


def withdraw_choice(
    previous: Choice, *, language: str, source: Source, request_id: str | None = None
) -> Decision:
    """Append a withdrawal; the earlier entries stay as they were."""
    policy = current_policy()
    language = policy.language_for(language)
    entry = ConsentEntry(
        site=policy.site,
        occurred_at=utcnow(),
        consent_id=previous.consent_id,
        action="withdraw",
        functional=False,
        statistics=False,
        policy_version=previous.policy_version,
        text_hash=policy.text_hash(language)
        if previous.policy_version == policy.version
        else _archived_hash(policy.site, previous.policy_version, language),
        language=language,
        source=source,
        gpc=False,
        request_id=request_id,
    )
    return _append(entry)


def _archived_hash(site: str, version: int, language: str) -> str:
    text_hash = db.session.scalar(
        select(PolicyText.text_hash).where(
            PolicyText.site == site, PolicyText.version == version, PolicyText.language == language
        )
    )
    return text_hash or ""


def new_request_id() -> str:
    return str(uuid.uuid4())


def archive_current_policy_texts() -> str:
    """After `db upgrade`: archive the current policy's texts (refusing changed ones)."""
    with db.writing() as session:
        stored = store_policy_texts(session, current_policy())
    return f"{stored} policy text(s) archived"
