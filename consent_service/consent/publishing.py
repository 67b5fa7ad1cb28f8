"""Publishing a site's policy with two people: an editor drafts, a privacy officer who is
not the author approves, then the new version is published.

Approval and publication are chained in the consent log as policy events (the digest of
every language's exact text) and written to the staff access log. Publishing archives each
language's text with its hash, raises the version, and so makes the banner ask citizens
again; earlier decisions keep pointing at the texts they were given.
"""

from __future__ import annotations

from typing import Any

from consent_service.admin.access import record_access
from consent_service.admin.models import Role, User
from consent_service.audit.events import record_event
from consent_service.audit.models import EventKind
from consent_service.consent.services import store_policy_texts
from consent_service.db import db, utcnow
from consent_service.hashing import canonical_json
from consent_service.sites import store
from consent_service.sites.models import PolicyStatus, SitePolicy
from consent_service.sites.policy import Policy, parse_policy
from consent_service.sites.services import registry

DraftError = store.DraftError


def texts_evidence(policy: Policy) -> bytes:
    """What approval and publication vouch for: every language's exact text and its hash."""
    return canonical_json(
        {
            "site": policy.site,
            "version": policy.version,
            "texts": {lang: policy.rendered(lang) for lang in policy.languages},
            "text_hashes": {lang: policy.text_hash(lang) for lang in policy.languages},
        }
    )


def approve(draft_id: int, site: str, approver: User) -> SitePolicy:
    """A privacy officer other than the draft's author approves it."""
    if approver.role != Role.PRIVACY_OFFICER:
        raise DraftError("only a privacy officer can approve a policy")
    now = utcnow()
    with db.writing() as session:
        draft = store.get_draft(session, draft_id, site)
        if draft.status != PolicyStatus.DRAFT:
            raise DraftError("this draft is approved already")
        if draft.author == approver.name:
            raise DraftError("the author of a draft cannot approve it: ask another privacy officer")
        policy = parse_policy(store.draft_document(draft))
        store.mark_approved(session, draft, approver.name, now)
        event = record_event(
            session,
            EventKind.POLICY_APPROVED,
            site=site,
            subject=f"draft {draft.id}",
            evidence=texts_evidence(policy),
            actor=approver.name,
            details={"draft": draft.id, "author": draft.author, "based_on": draft.based_on},
        )
    record_access(
        approver.name,
        "policy_approve",
        {"site": site, "draft": draft_id, "log_seq": event.seq},
        summary=f"Godkände utkast {draft_id} för {site}",
    )
    return draft


def publish(draft_id: int, site: str, publisher: User) -> Policy:
    """Publish an approved draft as the site's next version."""
    if publisher.role not in (Role.EDITOR, Role.PRIVACY_OFFICER):
        raise DraftError("only editors and privacy officers publish policies")
    now = utcnow()
    with db.writing() as session:
        draft = store.get_draft(session, draft_id, site)
        if draft.status != PolicyStatus.APPROVED:
            raise DraftError("a privacy officer who did not write it must approve it first")
        policy = store.mark_published(session, draft, publisher.name, now)
        store_policy_texts(session, policy)
        event = record_event(
            session,
            EventKind.POLICY_PUBLISHED,
            site=site,
            subject=str(policy.version),
            evidence=texts_evidence(policy),
            actor=publisher.name,
            details={"draft": draft.id, "author": draft.author, "approved_by": draft.approved_by},
        )
    registry().invalidate()
    record_access(
        publisher.name,
        "policy_publish",
        {"site": site, "version": policy.version, "log_seq": event.seq},
        summary=f"Publicerade version {policy.version} för {site}",
    )
    return policy


def start_draft(site: str, author: User, document: dict[str, Any] | None = None) -> SitePolicy:
    """A new draft from the published policy (or from an imported document)."""
    current = registry().snapshot().sites[site].policy
    draft = store.create_draft(
        site,
        document if document is not None else store.document_of(current),
        based_on=current.version,
        by=author.name,
    )
    record_access(
        author.name,
        "policy_draft",
        {"site": site, "draft": draft.id},
        summary=f"Nytt utkast {draft.id} för {site}",
    )
    return draft
