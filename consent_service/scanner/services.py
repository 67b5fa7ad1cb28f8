"""What a scan saw, and what it means: findings as pure functions over observations.

The crawler (`crawler.py`) only records: every cookie, storage key and request of two visits
per page, one that makes no choice and one that accepts all. Everything decided from those
records lives here, so each rule is testable without a browser.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

Phase = Literal["no_choice", "accept_all"]
StorageArea = Literal["localStorage", "sessionStorage"]
FindingKind = Literal[
    "before_consent", "third_party_before_consent", "undeclared", "declared_not_seen"
]
FINDING_KINDS: tuple[FindingKind, ...] = (
    "before_consent",
    "third_party_before_consent",
    "undeclared",
    "declared_not_seen",
)
KNOWN_COOKIES_FILE = Path(__file__).with_name("known_cookies.toml")

# Second-level labels under which each name is its own site. The scanner ships no copy of
# the Public Suffix List; these cover the sites it is pointed at (Swedish municipalities
# and the providers they embed) and the common cases elsewhere. docs/scanner.md says so.
_PUBLIC_SECOND_LEVEL = frozenset(
    {
        "co.uk", "org.uk", "gov.uk", "ac.uk", "com.au", "net.au", "org.au", "gov.au",
        "co.nz", "co.jp", "com.br", "co.za", "com.tr", "com.cn", "github.io", "gitlab.io",
        "blogspot.com", "herokuapp.com", "azurewebsites.net", "cloudfront.net", "pages.dev",
    }
)  # fmt: skip


# --- what the crawler records -------------------------------------------------------------


@dataclass(frozen=True)
class CookieSeen:
    """A cookie in the browser's jar at the end of one visit."""

    name: str
    domain: str  # as the browser keeps it: ".uppsala.se" for a domain cookie
    page: str
    phase: Phase
    lifetime_seconds: int | None  # None: a session cookie
    set_by: str | None = None  # "Set-Cookie from URL" or "script URL", when known


@dataclass(frozen=True)
class StorageSeen:
    """A localStorage or sessionStorage key present at the end of one visit."""

    area: StorageArea
    key: str
    origin: str
    page: str
    phase: Phase
    set_by: str | None = None


@dataclass(frozen=True)
class RequestSeen:
    url: str
    page: str
    phase: Phase
    resource_type: str = "other"

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()


@dataclass(frozen=True)
class Visit:
    """One load of one page in a fresh browser profile."""

    page: str
    phase: Phase
    status: int | None = None
    banner_found: bool = False  # this service's <consent-banner> opened
    accepted: bool = False  # its "accept all" button was clicked
    error: str | None = None
    screenshot: bytes | None = field(default=None, repr=False)  # PNG, the banner as shown


@dataclass
class Observations:
    """Everything one scan recorded, in crawl order."""

    url: str
    started_at: datetime
    pages: list[str] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    cookies: list[CookieSeen] = field(default_factory=list)
    storage: list[StorageSeen] = field(default_factory=list)
    requests: list[RequestSeen] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # robots.txt exclusions, limits reached


# --- declarations and well-known names ----------------------------------------------------


def name_matches(pattern: str, name: str) -> bool:
    """An exact name, or a prefix when the pattern ends in `*` (`_pk_id.*`)."""
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


@dataclass(frozen=True)
class Declaration:
    """A cookie or storage key the site declares, with its category."""

    pattern: str
    category: str
    kind: Literal["cookie", "storage"] = "cookie"
    provider: str | None = None

    def matches(self, name: str) -> bool:
        return name_matches(self.pattern, name)


def declarations_from_policy(cookies: Iterable[Mapping[str, Any]]) -> list[Declaration]:
    """The policy's `[[cookies]]`: each names a cookie, and may name `storage` keys too."""
    found: list[Declaration] = []
    for entry in cookies:
        category = str(entry["category"])
        provider = entry.get("provider")
        provider = str(provider) if provider is not None else None
        if entry.get("name"):
            found.append(Declaration(str(entry["name"]), category, "cookie", provider))
        storage = entry.get("storage", [])
        for key in [storage] if isinstance(storage, str) else storage:
            found.append(Declaration(str(key), category, "storage", provider))
    return found


def match_declaration(
    declarations: Sequence[Declaration], kind: str, name: str
) -> Declaration | None:
    """The declaration covering a name: an exact one before any prefix."""
    candidates = [d for d in declarations if d.kind == kind and d.matches(name)]
    candidates.sort(key=lambda d: (d.pattern.endswith("*"), -len(d.pattern)))
    return candidates[0] if candidates else None


def load_known(path: Path = KNOWN_COOKIES_FILE) -> list[Declaration]:
    """The bundled list of well-known cookies, for suggestions only."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return [
        Declaration(
            str(k["pattern"]), str(k["category"]), k.get("kind", "cookie"), str(k["provider"])
        )
        for k in raw.get("known", [])
    ]


# --- sites ---------------------------------------------------------------------------------


def site_of(host: str) -> str:
    """The registrable domain of a host: www.uppsala.se and samtycke.uppsala.se → uppsala.se."""
    host = host.lower().strip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return host
    labels = host.split(".")
    if len(labels) <= 2:
        return host
    if ".".join(labels[-2:]) in _PUBLIC_SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(url: str, site: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme in {"http", "https"} and site_of(parts.hostname or "") == site
    except ValueError:  # a malformed address (a sitemap named in robots.txt, say)
        return False


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    page: str
    detail: str
    name: str | None = None
    host: str | None = None
    # The detail in Swedish, for the Swedish report; the JSON carries `detail` (English).
    detail_sv: str = field(default="", compare=False)

    def as_json(self) -> dict[str, str]:
        out = {"kind": self.kind, "page": self.page}
        if self.name is not None:
            out["name"] = self.name
        if self.host is not None:
            out["host"] = self.host
        out["detail"] = self.detail
        return out


@dataclass
class CookieSummary:
    name: str
    domain: str
    first_party: bool
    set_before_consent: bool
    declared_as: str | None
    pages: list[str]
    lifetime_seconds: int | None
    set_by: str | None
    suggestion: Declaration | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "domain": self.domain,
            "first_party": self.first_party,
            "set_before_consent": self.set_before_consent,
            "declared_as": self.declared_as,
            "pages": self.pages,
            # Beyond the contract's keys: how long it lives and who set it, when known.
            "lifetime_seconds": self.lifetime_seconds,
            "set_by": self.set_by,
        }


@dataclass
class StorageSummary:
    area: StorageArea
    key: str
    origin: str
    first_party: bool
    set_before_consent: bool
    declared_as: str | None
    pages: list[str]
    set_by: str | None
    suggestion: Declaration | None

    def as_json(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "key": self.key,
            "origin": self.origin,
            "first_party": self.first_party,
            "set_before_consent": self.set_before_consent,
            "declared_as": self.declared_as,
            "pages": self.pages,
            "set_by": self.set_by,
        }


@dataclass
class HostSummary:
    host: str
    first_party: bool
    before_consent: bool
    requests: int
    pages: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "first_party": self.first_party,
            "before_consent": self.before_consent,
            "requests": self.requests,
            "pages": self.pages,
        }


@dataclass
class Report:
    url: str
    started_at: datetime
    pages: list[str]
    cookies: list[CookieSummary]
    storage: list[StorageSummary]
    hosts: list[HostSummary]
    findings: list[Finding]
    visits: list[Visit]
    notes: list[str]

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0

    def as_json(self) -> dict[str, Any]:
        """The contract's document (PRODUCT.md), then what else the scan recorded."""
        return {
            "url": self.url,
            "started_at": self.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "pages": self.pages,
            "cookies": [c.as_json() for c in self.cookies],
            "findings": [f.as_json() for f in self.findings],
            "storage": [s.as_json() for s in self.storage],
            "hosts": [h.as_json() for h in self.hosts],
            "notes": self.notes,
        }


def _pages_in_order(seen: Iterable[str], order: Sequence[str]) -> list[str]:
    rank = {page: i for i, page in enumerate(order)}
    return sorted(set(seen), key=lambda p: (rank.get(p, len(rank)), p))


def _suggestion_text(suggestion: Declaration | None, categories: Sequence[str]) -> str:
    if suggestion is None:
        return "not in the list of well-known names; declare it with its category"
    text = f"looks like {suggestion.provider} ({suggestion.category})"
    if suggestion.category not in categories:
        text += f"; this policy has no category {suggestion.category!r}"
    return text


CATEGORY_SV = {
    "necessary": "nödvändig",
    "functional": "funktionell",
    "statistics": "statistik",
    "marketing": "marknadsföring",
}
AREA_SV = {"localStorage": "localStorage-nyckeln", "sessionStorage": "sessionStorage-nyckeln"}


def _category_sv(category: str) -> str:
    return CATEGORY_SV.get(category, category)


def _suggestion_sv(suggestion: Declaration | None, categories: Sequence[str]) -> str:
    if suggestion is None:
        return "finns inte i listan över välkända namn; deklarera den med sin kategori"
    text = f"liknar {suggestion.provider} ({_category_sv(suggestion.category)})"
    if suggestion.category not in categories:
        text += f"; policyn har ingen kategori {_category_sv(suggestion.category)}"
    return text


def _set_by_sv(set_by: str | None) -> str:
    return f", satt av {set_by}" if set_by else ""


def _declared_sv(category: str | None) -> str:
    return f"deklarerad som {_category_sv(category)}" if category else "inte deklarerad"


def build_report(
    observations: Observations,
    declarations: Sequence[Declaration],
    known: Sequence[Declaration] = (),
    categories: Sequence[str] = ("necessary", "functional", "statistics"),
) -> Report:
    """Summarise the observations and decide the findings."""
    site = site_of(urlsplit(observations.url).hostname or "")
    order = observations.pages

    cookies: dict[tuple[str, str], CookieSummary] = {}
    first_before: dict[tuple[str, str], str] = {}
    for c in observations.cookies:
        key = (c.name, c.domain)
        declared = match_declaration(declarations, "cookie", c.name)
        summary = cookies.get(key)
        if summary is None:
            summary = cookies[key] = CookieSummary(
                name=c.name,
                domain=c.domain,
                first_party=site_of(c.domain) == site,
                set_before_consent=False,
                declared_as=declared.category if declared else None,
                pages=[],
                lifetime_seconds=c.lifetime_seconds,
                set_by=c.set_by,
                suggestion=None if declared else match_declaration(known, "cookie", c.name),
            )
        summary.pages.append(c.page)
        summary.set_by = summary.set_by or c.set_by
        if c.lifetime_seconds is not None:
            summary.lifetime_seconds = max(summary.lifetime_seconds or 0, c.lifetime_seconds)
        if c.phase == "no_choice":
            summary.set_before_consent = True
            first_before.setdefault(key, c.page)

    storage: dict[tuple[StorageArea, str, str], StorageSummary] = {}
    storage_before: dict[tuple[StorageArea, str, str], str] = {}
    for s in observations.storage:
        skey = (s.area, s.key, s.origin)
        declared = match_declaration(declarations, "storage", s.key)
        entry = storage.get(skey)
        if entry is None:
            entry = storage[skey] = StorageSummary(
                area=s.area,
                key=s.key,
                origin=s.origin,
                first_party=site_of(urlsplit(s.origin).hostname or "") == site,
                set_before_consent=False,
                declared_as=declared.category if declared else None,
                pages=[],
                set_by=s.set_by,
                suggestion=None if declared else match_declaration(known, "storage", s.key),
            )
        entry.pages.append(s.page)
        entry.set_by = entry.set_by or s.set_by
        if s.phase == "no_choice":
            entry.set_before_consent = True
            storage_before.setdefault(skey, s.page)

    hosts: dict[str, HostSummary] = {}
    for r in observations.requests:
        if not r.host:
            continue
        h = hosts.setdefault(r.host, HostSummary(r.host, site_of(r.host) == site, False, 0, []))
        h.requests += 1
        h.pages.append(r.page)
        h.before_consent = h.before_consent or r.phase == "no_choice"

    for cs in cookies.values():
        cs.pages = _pages_in_order(cs.pages, order)
    for ss in storage.values():
        ss.pages = _pages_in_order(ss.pages, order)
    for hs in hosts.values():
        hs.pages = _pages_in_order(hs.pages, order)

    findings: list[Finding] = []

    # before_consent: anything but a declared-necessary cookie or key, present before a choice.
    # An undeclared name counts: nothing says it is necessary.
    for key, page in first_before.items():
        cs = cookies[key]
        if cs.declared_as == "necessary":
            continue
        what = f"declared as {cs.declared_as}" if cs.declared_as else "not declared"
        source = f", set by {cs.set_by}" if cs.set_by else ""
        findings.append(
            Finding(
                "before_consent",
                page,
                f"cookie {cs.name} on {cs.domain} ({what}{source}) was set before any choice",
                name=cs.name,
                detail_sv=f"kakan {cs.name} på {cs.domain} ({_declared_sv(cs.declared_as)}"
                f"{_set_by_sv(cs.set_by)}) sattes innan något val gjorts",
            )
        )
    for skey, page in storage_before.items():
        ss = storage[skey]
        if ss.declared_as == "necessary":
            continue
        what = f"declared as {ss.declared_as}" if ss.declared_as else "not declared"
        source = f", set by {ss.set_by}" if ss.set_by else ""
        findings.append(
            Finding(
                "before_consent",
                page,
                f"{ss.area} key {ss.key} of {ss.origin} ({what}{source}) was written before any "
                "choice",
                name=ss.key,
                detail_sv=f"{AREA_SV[ss.area]} {ss.key} för {ss.origin} "
                f"({_declared_sv(ss.declared_as)}{_set_by_sv(ss.set_by)}) skrevs innan något "
                "val gjorts",
            )
        )

    # third_party_before_consent: a request to another site before a choice, once per host.
    for r in observations.requests:
        if r.phase != "no_choice" or not r.host or site_of(r.host) == site:
            continue
        if any(f.kind == "third_party_before_consent" and f.host == r.host for f in findings):
            continue
        count = sum(1 for q in observations.requests if q.phase == "no_choice" and q.host == r.host)
        findings.append(
            Finding(
                "third_party_before_consent",
                r.page,
                f"{count} request(s) to {r.host} before any choice, the first for {r.url}"
                f" ({r.resource_type})",
                host=r.host,
                detail_sv=f"{count} anrop till {r.host} innan något val gjorts, det första "
                f"till {r.url} ({r.resource_type})",
            )
        )

    # undeclared: seen in either visit, matched by no declaration.
    for cs in cookies.values():
        if cs.declared_as is None:
            findings.append(
                Finding(
                    "undeclared",
                    cs.pages[0],
                    f"cookie {cs.name} on {cs.domain} is not declared in the policy: "
                    + _suggestion_text(cs.suggestion, categories),
                    name=cs.name,
                    detail_sv=f"kakan {cs.name} på {cs.domain} är inte deklarerad i policyn: "
                    + _suggestion_sv(cs.suggestion, categories),
                )
            )
    for ss in storage.values():
        if ss.declared_as is None:
            findings.append(
                Finding(
                    "undeclared",
                    ss.pages[0],
                    f"{ss.area} key {ss.key} of {ss.origin} is not declared in the policy: "
                    + _suggestion_text(ss.suggestion, categories),
                    name=ss.key,
                    detail_sv=f"{AREA_SV[ss.area]} {ss.key} för {ss.origin} är inte deklarerad "
                    "i policyn: " + _suggestion_sv(ss.suggestion, categories),
                )
            )

    # declared_not_seen: a declaration no page showed, not even after accepting all.
    accepted = any(v.accepted for v in observations.visits)
    seen_cookie_names = {c.name for c in observations.cookies}
    seen_storage_keys = {s.key for s in observations.storage}
    for d in declarations:
        seen = seen_cookie_names if d.kind == "cookie" else seen_storage_keys
        if any(d.matches(name) for name in seen):
            continue
        thing = "cookie" if d.kind == "cookie" else "storage key"
        why = (
            "after accepting all"
            if accepted
            else "without accepting (no page showed this service's banner)"
        )
        thing_sv = "kakan" if d.kind == "cookie" else "lagringsnyckeln"
        why_sv = (
            "inte ens efter ”Acceptera alla”"
            if accepted
            else "utan att acceptera (ingen sida visade tjänstens kakbanner)"
        )
        findings.append(
            Finding(
                "declared_not_seen",
                observations.url,
                f"{thing} {d.pattern} is declared as {d.category} but none of the "
                f"{len(order)} scanned page(s) set it, {why}",
                name=d.pattern,
                detail_sv=f"{thing_sv} {d.pattern} är deklarerad som {_category_sv(d.category)} "
                f"men ingen av de {len(order)} skannade sidorna satte den, {why_sv}",
            )
        )

    rank = {page: i for i, page in enumerate(order)}
    findings.sort(
        key=lambda f: (
            FINDING_KINDS.index(f.kind),
            rank.get(f.page, len(rank)),
            f.name or "",
            f.host or "",
        )
    )
    return Report(
        url=observations.url,
        started_at=observations.started_at,
        pages=list(order),
        cookies=sorted(cookies.values(), key=lambda c: (not c.first_party, c.name, c.domain)),
        storage=sorted(storage.values(), key=lambda s: (s.origin, s.area, s.key)),
        hosts=sorted(hosts.values(), key=lambda h: (h.first_party is False, h.host)),
        findings=findings,
        visits=observations.visits,
        notes=observations.notes,
    )


# --- new since the last scan ---------------------------------------------------------------


def finding_key(finding: Mapping[str, Any]) -> tuple[str, str, str]:
    """What makes two scans' findings the same one: kind and cookie, key or host.

    Not the page or the detail: the crawl may reach a page in another order, and a detail
    names counts and the first request, which vary from one scan to the next.
    """
    return (
        str(finding.get("kind", "")),
        str(finding.get("name") or ""),
        str(finding.get("host") or ""),
    )


def cookie_key(cookie: Mapping[str, Any]) -> tuple[str, str]:
    return str(cookie.get("name", "")), str(cookie.get("domain", ""))


@dataclass(frozen=True)
class ReportChanges:
    """A report against the previous completed scan of the same site and start address."""

    new_findings: list[dict[str, Any]]
    resolved_findings: list[dict[str, Any]]
    new_cookies: list[dict[str, Any]]

    @property
    def findings_changed(self) -> bool:
        return bool(self.new_findings or self.resolved_findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "new_findings": self.new_findings,
            "resolved_findings": self.resolved_findings,
            "new_cookies": self.new_cookies,
        }


def compare_reports(current: Mapping[str, Any], previous: Mapping[str, Any]) -> ReportChanges:
    """New findings, resolved findings and new cookies of `current` since `previous`.

    Both are JSON reports as stored (the contract's document), so any two stored scans
    compare, however old.
    """

    def items(report: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
        found = report.get(key)
        return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []

    before = {finding_key(f) for f in items(previous, "findings")}
    now = {finding_key(f) for f in items(current, "findings")}
    seen_cookies = {cookie_key(c) for c in items(previous, "cookies")}
    return ReportChanges(
        new_findings=[f for f in items(current, "findings") if finding_key(f) not in before],
        resolved_findings=[f for f in items(previous, "findings") if finding_key(f) not in now],
        new_cookies=[c for c in items(current, "cookies") if cookie_key(c) not in seen_cookies],
    )
