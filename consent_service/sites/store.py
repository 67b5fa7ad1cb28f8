"""Adding and changing sites, and the stored versions of their policies (drafts included).

The rules of who may approve and publish, and what publishing records, are the consent
domain's (`consent.publishing`); this module keeps the data consistent: a site's origins
belong to it alone, a published version is never changed, and the versions count up.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.config import ConfigError, _validate_origin
from consent_service.db import db, utcnow
from consent_service.hashing import canonical_json
from consent_service.sites.models import PolicyStatus, Site, SitePolicy
from consent_service.sites.policy import HOST_DECLARATION, Policy, PolicyError, parse_policy
from consent_service.sites.services import all_sites, registry

# A cookie domain: a host name, optionally with the leading dot browsers ignore.
COOKIE_DOMAIN = re.compile(r"\.?" + HOST_DECLARATION.pattern)
# TOML files people send for review: large enough for many languages and declarations.
MAX_POLICY_BYTES = 256 * 1024


class SiteError(ValueError):
    """A site cannot be added or changed as asked; the message says why, `field` which input
    (domain, origins, cookie_domain, time_zone) it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DraftError(ValueError):
    """A policy draft cannot be saved, approved or published as asked; the message says why."""


def _checked_origins(origins: list[str], domain: str) -> list[str]:
    if not origins:
        raise SiteError("a site needs at least one origin, e.g. https://www.example.se", "origins")
    if len(origins) > 50:
        raise SiteError("at most 50 origins per site", "origins")
    checked = []
    for origin in origins:
        try:
            checked.append(_validate_origin(origin.strip(), "origin"))
        except ConfigError as exc:
            raise SiteError(str(exc).removeprefix("CONSENT_"), "origins") from None
    for site in all_sites():
        if site.domain == domain:
            continue
        taken = sorted(set(checked) & set(site.origins))
        if taken:
            raise SiteError(f"{taken[0]} already belongs to the site {site.domain}", "origins")
    return sorted(set(checked))


def _checked_cookie_domain(cookie_domain: str | None, domain: str) -> str | None:
    if not cookie_domain:
        return None
    cookie_domain = cookie_domain.strip().lower()
    if not COOKIE_DOMAIN.fullmatch(cookie_domain):
        raise SiteError(
            f"{cookie_domain!r} is not a domain name such as .example.se", "cookie_domain"
        )
    bare = cookie_domain.lstrip(".")
    for site in all_sites():
        other = (site.cookie_domain or "").lstrip(".")
        if (
            site.domain != domain
            and other
            and (other == bare or other.endswith("." + bare) or bare.endswith("." + other))
        ):
            # The consent cookie has one name: two sites sharing a domain would read each
            # other's choices.
            raise SiteError(
                f"the cookie domain overlaps the site {site.domain}'s ({other})", "cookie_domain"
            )
    return cookie_domain


def _checked_zone(time_zone: str) -> str:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(
            f"{time_zone!r} is not a time zone such as Europe/Stockholm", "time_zone"
        ) from None
    return time_zone


def checked_domain(domain: str) -> str:
    domain = domain.strip().lower()
    if len(domain) > 64 or not HOST_DECLARATION.fullmatch(domain):
        raise SiteError(f"{domain[:80]!r} is not a domain name such as knivsta.se", "domain")
    return domain


def document_of(policy: Policy) -> dict[str, Any]:
    """The policy as its TOML file holds it."""
    copied: dict[str, Any] = json.loads(json.dumps(policy.document))
    return copied


def add_site(
    domain: str,
    origins: list[str],
    *,
    cookie_domain: str | None = None,
    time_zone: str = "Europe/Stockholm",
    policy: dict[str, Any] | None = None,
    by: str,
) -> Site:
    """Add a site that answers at once: its policy is published as version 1 (a copy of the
    default site's, or `policy`, a parsed TOML document, whose `site` is set to `domain`)."""
    domain = checked_domain(domain)
    if domain in {s.domain for s in all_sites()}:
        raise SiteError(f"the site {domain} exists already", "domain")
    checked = _checked_origins(origins, domain)
    cookie = _checked_cookie_domain(cookie_domain, domain)
    zone = _checked_zone(time_zone)
    document = dict(policy) if policy is not None else document_of(registry().file_policy)
    document["site"] = domain
    document["version"] = 1
    parsed = _parsed(document)
    now = utcnow()
    try:
        with db.writing() as session:
            if session.get(Site, domain) is not None:
                raise SiteError(f"the site {domain} exists already", "domain")
            site = Site(
                domain=domain,
                origins=json.dumps(checked),
                cookie_domain=cookie,
                time_zone=zone,
                created_at=now,
                created_by=by,
                updated_at=now,
            )
            session.add(site)
            session.add(
                SitePolicy(
                    site=domain,
                    version=1,
                    status=PolicyStatus.PUBLISHED,
                    document=_stored(parsed),
                    based_on=None,
                    author=by,
                    created_at=now,
                    updated_at=now,
                    published_by=by,
                    published_at=now,
                )
            )
    except IntegrityError:
        # Another administrator added the same domain a moment ago.
        raise SiteError(f"the site {domain} exists already", "domain") from None
    registry().invalidate()
    return site


def update_site(
    domain: str, origins: list[str], *, cookie_domain: str | None, time_zone: str, by: str
) -> Site:
    """Change a site's origins, cookie domain and time zone (not the default site's: those
    are the deployment's settings)."""
    checked = _checked_origins(origins, domain)
    cookie = _checked_cookie_domain(cookie_domain, domain)
    zone = _checked_zone(time_zone)
    with db.writing() as session:
        site = session.get(Site, domain)
        if site is None:
            raise SiteError(
                f"{domain} is not a site added here (the default site's settings come from "
                "the environment: CONSENT_ALLOWED_ORIGINS, CONSENT_COOKIE_DOMAIN)"
            )
        site.origins, site.cookie_domain, site.time_zone = json.dumps(checked), cookie, zone
        site.updated_at = utcnow()
        del by  # who changed it is in the staff access log
    registry().invalidate()
    return site


def _parsed(document: dict[str, Any]) -> Policy:
    try:
        policy = parse_policy(document)
        canonical_json(policy.document)  # TOML dates and times have no JSON form
    except (PolicyError, TypeError, AttributeError, KeyError, ValueError) as exc:
        raise DraftError(f"the policy is not valid: {exc}") from None
    return policy


def _stored(policy: Policy) -> str:
    return canonical_json(policy.document).decode()


def parse_toml(text: str | bytes) -> dict[str, Any]:
    """A policy document from TOML text (an upload, `policy import`), or DraftError."""
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_POLICY_BYTES:
        raise DraftError(f"the file is larger than {MAX_POLICY_BYTES // 1024} KiB")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DraftError(f"the file is not UTF-8 TOML: {exc}") from None


def to_toml(document: dict[str, Any]) -> str:
    return tomli_w.dumps(document)


def published_rows(session: Session, site: str) -> list[SitePolicy]:
    return list(
        session.scalars(
            select(SitePolicy)
            .where(SitePolicy.site == site, SitePolicy.status == PolicyStatus.PUBLISHED)
            .order_by(SitePolicy.version.desc())
        )
    )


def drafts(session: Session, site: str) -> list[SitePolicy]:
    """The site's drafts and approved versions waiting to be published, newest first."""
    return list(
        session.scalars(
            select(SitePolicy)
            .where(
                SitePolicy.site == site,
                SitePolicy.status.in_([PolicyStatus.DRAFT, PolicyStatus.APPROVED]),
            )
            .order_by(SitePolicy.id.desc())
        )
    )


def create_draft(site: str, document: dict[str, Any], *, based_on: int, by: str) -> SitePolicy:
    """A new draft of `site`'s policy. Its `version` is assigned when it is published."""
    document = dict(document)
    document["site"] = site
    document["version"] = based_on + 1  # provisional: parse_policy needs one
    _parsed(document)
    now = utcnow()
    with db.writing() as session:
        draft = SitePolicy(
            site=site,
            version=None,
            status=PolicyStatus.DRAFT,
            document=canonical_json(document).decode(),
            based_on=based_on,
            author=by,
            created_at=now,
            updated_at=now,
        )
        session.add(draft)
    return draft


def save_draft(draft_id: int, site: str, document: dict[str, Any], *, by: str) -> SitePolicy:
    """Replace a draft's document. An approved draft goes back to draft: what was approved
    is no longer what would be published."""
    with db.writing() as session:
        draft = _draft(session, draft_id, site)
        document = dict(document)
        document["site"] = site
        document["version"] = (draft.based_on or 0) + 1
        _parsed(document)
        draft.document = canonical_json(document).decode()
        draft.status = PolicyStatus.DRAFT
        draft.approved_by = draft.approved_at = None
        draft.updated_at = utcnow()
        del by
    return draft


def _draft(session: Session, draft_id: int, site: str) -> SitePolicy:
    draft = session.get(SitePolicy, draft_id)
    if draft is None or draft.site != site:
        raise DraftError("no such draft for this site")
    if draft.status not in (PolicyStatus.DRAFT, PolicyStatus.APPROVED):
        raise DraftError(f"this version is {draft.status}; only drafts can change")
    return draft


def get_draft(session: Session, draft_id: int, site: str) -> SitePolicy:
    return _draft(session, draft_id, site)


def highest_version(session: Session, site: str) -> int:
    stored = session.scalar(select(func.max(SitePolicy.version)).where(SitePolicy.site == site))
    file_policy = registry().file_policy
    from_file = file_policy.version if file_policy.site == site else 0
    return max(stored or 0, from_file)


def draft_document(draft: SitePolicy) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(draft.document)
    return document


def mark_approved(session: Session, draft: SitePolicy, by: str, at: dt.datetime) -> None:
    draft.status = PolicyStatus.APPROVED
    draft.approved_by, draft.approved_at, draft.updated_at = by, at, at


def mark_published(session: Session, draft: SitePolicy, by: str, at: dt.datetime) -> Policy:
    """Give the approved draft the next version and publish it; returns the new policy."""
    version = highest_version(session, draft.site) + 1
    document = draft_document(draft)
    document["version"] = version
    policy = _parsed(document)
    draft.document = _stored(policy)
    draft.version, draft.status = version, PolicyStatus.PUBLISHED
    draft.published_by, draft.published_at, draft.updated_at = by, at, at
    return policy


def discard(session: Session, draft: SitePolicy) -> None:
    draft.status = PolicyStatus.DISCARDED
    draft.updated_at = utcnow()


def publish_policy_file() -> str:
    """After `db upgrade`: publish the policy file's version for its site when it is newer
    than any stored (today's way of publishing: raise `version` in the file, upgrade)."""
    policy = registry().file_policy
    with db.writing() as session:
        stored = session.scalar(
            select(func.max(SitePolicy.version)).where(SitePolicy.site == policy.site)
        )
        if stored is not None and stored >= policy.version:
            return f"policy file: version {policy.version} of {policy.site} is not newer"
        now = utcnow()
        session.add(
            SitePolicy(
                site=policy.site,
                version=policy.version,
                status=PolicyStatus.PUBLISHED,
                document=_stored(policy),
                based_on=stored,
                author="policy file",
                created_at=now,
                updated_at=now,
                published_by="policy file",
                published_at=now,
            )
        )
    registry().invalidate()
    return f"policy file: version {policy.version} of {policy.site} published"
