"""The rules for recording, changing and withdrawing a cookie choice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service import metrics, ratelimit
from consent_service.audit.models import (
    EXPLICIT_SOURCES,
    Action,
    ConsentEntry,
    PolicyText,
    Source,
)
from consent_service.audit.sequencer import (
    StoredRequest,
    acknowledge,
    after_acknowledgement,
    recorded_with_request_id,
)
from consent_service.consent.cookie import Choice
from consent_service.db import db, utcnow
from consent_service.hashing import canonical_json
from consent_service.schema import UpgradeRefused
from consent_service.sites.policy import Policy
from consent_service.sites.services import current_site


def statistics_allowed(statistics: bool, *, gpc: bool, explicit: bool) -> bool:
    """The Global Privacy Control rule: with GPC, statistics only when switched on by hand.

    `explicit`: the citizen set the statistics toggle themselves (settings), rather than
    pressing Accept all. The banner applies the same rule before it sends a choice, but the
    server does not rely on that.
    """
    return statistics and (not gpc or explicit)


class PolicyTextChanged(UpgradeRefused):
    """A stored policy version's text differs from the policy file: a new version is needed."""


class StalePolicy(ValueError):
    """The citizen answered an older policy version than the current one."""


class RequestIdConflict(ValueError):
    """The request_id belongs to another consent or another request: nothing was recorded."""


class ReplaysLimited(RuntimeError):
    """Too many requests with known request_ids from this client; try after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many retries; try again in {retry_after} s")
        self.retry_after = retry_after


# What answers a decision: the entry just acknowledged, or the one stored earlier under the
# same request_id (a retry).
RecordedEntry = ConsentEntry | StoredRequest


@dataclass(frozen=True)
class Decision:
    choice: Choice
    expires_at: dt.datetime
    replayed: bool = False


def current_policy() -> Policy:
    """The published policy of the request's site (outside a request, the default site's)."""
    return current_site().policy


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
    """Archive the current texts once per process and policy version, before the first
    decision refers to them."""
    policy = current_policy()
    stored: set[tuple[str, int]] = current_app.extensions.setdefault("consent_policy_stored", set())
    if (policy.site, policy.version) in stored:
        return
    with db.writing() as session:
        store_policy_texts(session, policy)
    stored.add((policy.site, policy.version))


def _expiry(at: dt.datetime) -> dt.datetime:
    return at + dt.timedelta(days=current_app.config["CHOICE_MAX_AGE_DAYS"])


def _decision(entry: RecordedEntry, replayed: bool = False) -> Decision:
    choice = Choice(entry.consent_id, entry.policy_version, entry.functional, entry.statistics)
    occurred_at = entry.occurred_at
    if occurred_at.tzinfo is None:  # rows read through Core on SQLite
        occurred_at = occurred_at.replace(tzinfo=dt.UTC)
    return Decision(choice, _expiry(occurred_at), replayed)


def _same_request(earlier: RecordedEntry, entry: ConsentEntry, previous: Choice | None) -> bool:
    """Whether a stored entry with this request_id may answer this request as its retry.

    A request_id is the client's own retry key, so knowing one must not hand out the consent
    it recorded. A retry carries the same consent (its cookie), or, when the lost response was
    the first grant and so never set a cookie, no consent and exactly the same choice.
    """
    if (earlier.action == Action.WITHDRAW) != (entry.action == Action.WITHDRAW):
        return False
    if previous is not None:
        return previous.consent_id == earlier.consent_id
    return earlier.action == Action.GRANT and (
        earlier.functional, earlier.statistics, earlier.policy_version, earlier.language,
        earlier.source,
    ) == (
        entry.functional, entry.statistics, entry.policy_version, entry.language, entry.source,
    )  # fmt: skip


def _limit_replays() -> None:
    """Count a request that named a known request_id; refuse when the client makes too many.

    Guessing or replaying retry keys is the only use of many of them; a real client retries a
    handful of times.
    """
    config = current_app.config
    limit = ratelimit.hit(
        "consent-replay",
        ratelimit.client_key(),
        config["REPLAY_RATE_LIMIT"],
        config["REPLAY_RATE_WINDOW_SECONDS"],
    )
    if not limit.allowed:
        raise ReplaysLimited(limit.retry_after)


def _append(entry: ConsentEntry, previous: Choice | None) -> Decision:
    earlier = _append_once(entry)
    if earlier is None:
        metrics.count("decisions", action=entry.action)
        return _decision(entry)
    # Outside the chain lock: the limiter writes through its own connection.
    _limit_replays()
    if not _same_request(earlier, entry, previous):
        raise RequestIdConflict(
            "this request_id was used for another request; send a new one for a new decision"
        )
    metrics.count("decision_replays")
    return _decision(earlier, replayed=True)


def _append_once(entry: ConsentEntry) -> RecordedEntry | None:
    """Acknowledge `entry`, or return the entry stored earlier under its request_id.

    Acknowledging is one insert with the log's signed promise; the sequencer puts the entry
    in the log (chain and Merkle tree) within the promised delay.
    """
    ensure_policy_stored()
    try:
        with db.writing_connection() as conn:
            if entry.request_id is not None:
                earlier = recorded_with_request_id(conn, entry.site, entry.request_id)
                if earlier is not None:
                    return earlier
            acknowledge(conn, entry)
    except IntegrityError:
        # A concurrent request with the same request_id won the race; compare with what it stored.
        if entry.request_id is None:
            raise
        with db.writing_connection() as conn:
            earlier = recorded_with_request_id(conn, entry.site, entry.request_id)
        if earlier is None:
            raise
        return earlier
    after_acknowledgement()
    return None


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
    explicit: bool | None = None,
) -> Decision:
    """Append a grant (first choice) or an update (a changed choice) to the consent log.

    A known `request_id` answers what it recorded, if this is its retry (`_same_request`);
    otherwise raises RequestIdConflict. ReplaysLimited when a client names too many.
    `explicit`: statistics was switched on by hand (see `statistics_allowed`); by default,
    what the source says.
    """
    policy = current_policy()
    if policy_version != policy.version:
        raise StalePolicy(
            f"policy version {policy_version} is not the current version {policy.version}"
        )
    if explicit is None:
        explicit = source in EXPLICIT_SOURCES
    statistics = statistics_allowed(statistics, gpc=gpc, explicit=explicit)
    language = policy.language_for(language)
    entry = ConsentEntry(
        site=policy.site,
        occurred_at=utcnow(),
        consent_id=previous.consent_id if previous else str(uuid.uuid4()),
        action=Action.UPDATE if previous else Action.GRANT,
        functional=functional,
        statistics=statistics,
        policy_version=policy.version,
        text_hash=policy.text_hash(language),
        language=language,
        source=source,
        gpc=gpc,
        request_id=request_id,
    )
    return _append(entry, previous)


def withdraw_choice(
    previous: Choice, *, language: str, source: Source, request_id: str | None = None
) -> Decision:
    """Append a withdrawal; the earlier entries stay as they were.

    A known `request_id` is handled as in `record_choice`: a retry of the same consent's
    withdrawal answers it again, anything else raises RequestIdConflict.
    """
    policy = current_policy()
    language = policy.language_for(language)
    entry = ConsentEntry(
        site=policy.site,
        occurred_at=utcnow(),
        consent_id=previous.consent_id,
        action=Action.WITHDRAW,
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
    return _append(entry, previous)


def _archived_hash(site: str, version: int, language: str) -> str:
    text_hash = db.session.scalar(
        select(PolicyText.text_hash).where(
            PolicyText.site == site, PolicyText.version == version, PolicyText.language == language
        )
    )
    return text_hash or ""


def refused_cookies(present: Iterable[str], choice: Choice | None) -> list[str]:
    """Of the cookies a request carries, those a decision refuses (all optional on withdrawal)."""
    return current_policy().refused_cookies(present, choice.choices if choice else {})


def new_request_id() -> str:
    return str(uuid.uuid4())


def archive_current_policy_texts() -> str:
    """After `db upgrade`: archive the current policy's texts (refusing changed ones)."""
    with db.writing() as session:
        stored = store_policy_texts(session, current_policy())
    return f"{stored} policy text(s) archived"
