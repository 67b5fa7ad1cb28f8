"""One click from a scan's undeclared cookie to a declaration in the site's policy draft.

The declaration is a starting point the editor completes before a privacy officer approves
it: the category suggested by the bundled list of well-known cookies (else `functional`,
an optional category, so that refusal clears it until someone decides), the provider it
suggests (else the cookie's domain), the lifetime the scan saw, and a purpose text saying
what still has to be written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from babel.dates import format_timedelta

from consent_service.admin.models import User
from consent_service.consent import publishing
from consent_service.db import db
from consent_service.scanner.services import load_known, match_declaration
from consent_service.sites import store
from consent_service.sites.policy import CATEGORIES, COOKIE_DECLARATION
from consent_service.sites.services import current_site

FALLBACK_CATEGORY = "functional"
PURPOSE_TODO = {
    "sv": "Hittad av kakskanningen {day}: skriv vad kakan gör.",
    "en": "Found by the cookie scan on {day}: describe what this cookie does.",
}


@dataclass(frozen=True)
class Undeclared:
    name: str
    domain: str
    first_party: bool
    lifetime_seconds: int | None
    category: str
    provider: str


def undeclared_cookies(report: dict[str, Any]) -> list[Undeclared]:
    """The report's cookies that no declaration covers, with a suggested category."""
    known = load_known()
    found: dict[str, Undeclared] = {}
    for cookie in report.get("cookies", []):
        if not isinstance(cookie, dict) or cookie.get("declared_as") is not None:
            continue
        name = str(cookie.get("name", ""))
        if not COOKIE_DECLARATION.fullmatch(name) or name in found:
            continue
        suggestion = match_declaration(known, "cookie", name)
        category = suggestion.category if suggestion and suggestion.category in CATEGORIES else (
            FALLBACK_CATEGORY)  # fmt: skip
        lifetime = cookie.get("lifetime_seconds")
        found[name] = Undeclared(
            name=name,
            domain=str(cookie.get("domain", "")),
            first_party=bool(cookie.get("first_party")),
            lifetime_seconds=lifetime if isinstance(lifetime, int) else None,
            category=category,
            provider=(suggestion.provider if suggestion and suggestion.provider else None)
            or str(cookie.get("domain", "")).lstrip(".")
            or "—",
        )
    return sorted(found.values(), key=lambda c: c.name)


def _lifetime(seconds: int | None, language: str) -> str:
    if seconds is None or seconds <= 0:
        return {"sv": "Sessionen", "en": "The session"}.get(language, "—")
    return format_timedelta(dt.timedelta(seconds=seconds), locale=language, threshold=1.1)


def add_to_draft(cookie: Undeclared, author: User, day: dt.date) -> int:
    """Declare the cookie in the site's newest open draft (a new draft when there is none);
    returns the draft's id (unchanged when the draft declares the name already)."""
    site = current_site()
    drafts = [d for d in store.drafts(db.session, site.domain) if d.status == "draft"]
    draft = drafts[0] if drafts else publishing.start_draft(site.domain, author)
    document = store.draft_document(draft)
    if any(c.get("name") == cookie.name for c in document.get("cookies", [])):
        return draft.id
    languages = document.get("languages", [])
    document.setdefault("cookies", []).append(
        {
            "name": cookie.name,
            "category": cookie.category,
            "provider": cookie.provider,
            "party": "first" if cookie.first_party else "third",
            "purpose": {
                lang: PURPOSE_TODO.get(lang, PURPOSE_TODO["en"]).format(day=day.isoformat())
                for lang in languages
            },
            "lifetime": {lang: _lifetime(cookie.lifetime_seconds, lang) for lang in languages},
        }
    )
    store.save_draft(draft.id, site.domain, document, by=author.name)
    return draft.id
