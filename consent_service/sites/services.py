"""The sites a deployment serves, each with its published policy, and the request's site.

Every request belongs to one site, resolved once (`resolve_request_site`) and read with
`current_site()`: named by `?site=DOMAIN` (the embeds' URLs, the settings page), else by the
request's `Origin` (or, on a page opened from a host page, its `Referer`'s origin; for a
page of the service itself, the `site` in that page's address), else —
on staff pages — the site the staff member chose, else the deployment's default site.

The default site is the policy file's `site` with CONSENT_ALLOWED_ORIGINS,
CONSENT_COOKIE_DOMAIN and CONSENT_ANALYTICS_TIMEZONE, so a single-site deployment needs no
new settings. Other sites are rows of `sites`. A site's policy is its highest published
version in `site_policies`; for the default site, the policy file when its version is
higher (the file's version is published into the table at `db upgrade`).

Each process keeps the sites in memory and looks for changes at most every
CONSENT_SITES_REFRESH_SECONDS (one small query), so the request path pays a dict lookup.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_app_context, request, session
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from consent_service.db import db
from consent_service.sites.models import PolicyStatus, Site, SitePolicy
from consent_service.sites.policy import Policy, load_policy, parse_policy
from consent_service.web.origins import own_origin

log = logging.getLogger(__name__)

# The staff session's key naming the site a staff member works on.
STAFF_SITE_KEY = "site"
# Paths whose `site` query parameter means something else (a filter, a token's site).
OWN_SITE_PARAMETER = ("/admin", "/api/v1/stats")


class UnknownSite(LookupError):
    """A request or command names a site this deployment does not serve."""

    def __init__(self, domain: str) -> None:
        super().__init__(f"this service does not serve the site {domain!r}")
        self.domain = domain


@dataclass(frozen=True)
class SiteConfig:
    domain: str
    origins: tuple[str, ...]
    cookie_domain: str | None
    time_zone: ZoneInfo
    policy: Policy
    # The deployment's default site (its settings come from the environment).
    default: bool = False


@dataclass(frozen=True)
class Snapshot:
    sites: Mapping[str, SiteConfig]
    default: SiteConfig
    by_origin: Mapping[str, str] = field(default_factory=dict)
    stamp: tuple[Any, ...] = ()


class SiteRegistry:
    """One per app: the sites as last read from the database, refreshed when they change."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.file_policy = load_policy(app.config["POLICY_FILE"])
        self.refresh_seconds = float(app.config.get("SITES_REFRESH_SECONDS", 5))
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._snapshot = self._build({}, {}, stamp=())

    def _default_config(self, published: Mapping[str, Policy]) -> SiteConfig:
        config = self.app.config
        policy = self.file_policy
        stored = published.get(policy.site)
        if stored is not None and stored.version > policy.version:
            policy = stored
        return SiteConfig(
            domain=policy.site,
            origins=tuple(config["ALLOWED_ORIGINS"]),
            cookie_domain=config["COOKIE_DOMAIN"],
            time_zone=ZoneInfo(config["ANALYTICS_TIMEZONE"]),
            policy=policy,
            default=True,
        )

    def _build(
        self, rows: Mapping[str, Site], published: Mapping[str, Policy], stamp: tuple[Any, ...]
    ) -> Snapshot:
        default = self._default_config(published)
        sites: dict[str, SiteConfig] = {default.domain: default}
        by_origin = dict.fromkeys(default.origins, default.domain)
        for domain, row in rows.items():
            policy = published.get(domain)
            if domain == default.domain or policy is None:
                continue
            origins = tuple(json.loads(row.origins))
            sites[domain] = SiteConfig(
                domain=domain,
                origins=origins,
                cookie_domain=row.cookie_domain,
                time_zone=ZoneInfo(row.time_zone),
                policy=policy,
            )
            for origin in origins:
                by_origin.setdefault(origin, domain)
        return Snapshot(sites=sites, default=default, by_origin=by_origin, stamp=stamp)

    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        if now - self._checked_at < self.refresh_seconds:
            return self._snapshot
        with self._lock:
            if now - self._checked_at >= self.refresh_seconds:
                self._reload()
                self._checked_at = time.monotonic()
        return self._snapshot

    def invalidate(self) -> None:
        """Read the sites again on next use (after this process changed them)."""
        self._checked_at = float("-inf")

    def _reload(self) -> None:
        try:
            with db.engine.connect() as conn:
                stamp = tuple(
                    conn.execute(
                        select(
                            select(func.count()).select_from(Site).scalar_subquery(),
                            select(func.max(Site.updated_at)).scalar_subquery(),
                            select(func.max(SitePolicy.id))
                            .where(SitePolicy.status == PolicyStatus.PUBLISHED)
                            .scalar_subquery(),
                        )
                    ).one()
                )
                if stamp == self._snapshot.stamp:
                    return
                rows = {row.domain: row for row in conn.execute(select(Site)).all()}
                published = _published_policies(conn)
        except SQLAlchemyError as exc:
            # Before `db upgrade`, or while the database is away: keep serving what we have
            # (at first the policy file); the endpoints that write answer 503 themselves.
            log.debug("sites not read: %s", exc)
            return
        self._snapshot = self._build(rows, published, stamp)  # type: ignore[arg-type]


def _published_policies(conn: Any) -> dict[str, Policy]:
    """Each site's highest published policy version."""
    latest = (
        select(SitePolicy.site, func.max(SitePolicy.version).label("version"))
        .where(SitePolicy.status == PolicyStatus.PUBLISHED)
        .group_by(SitePolicy.site)
        .subquery()
    )
    rows = conn.execute(
        select(SitePolicy.document).join(
            latest, (SitePolicy.site == latest.c.site) & (SitePolicy.version == latest.c.version)
        )
    ).all()
    policies = {}
    for (document,) in rows:
        policy = parse_policy(json.loads(document))
        policies[policy.site] = policy
    return policies


def registry(app: Flask | None = None) -> SiteRegistry:
    found: SiteRegistry = (app or current_app).extensions["sites"]
    return found


def all_sites() -> list[SiteConfig]:
    """Every site served, the default first."""
    snap = registry().snapshot()
    others = sorted((s for s in snap.sites.values() if not s.default), key=lambda s: s.domain)
    return [snap.default, *others]


def site_config(domain: str) -> SiteConfig:
    found = registry().snapshot().sites.get(domain)
    if found is None:
        raise UnknownSite(domain)
    return found


def default_site() -> SiteConfig:
    return registry().snapshot().default


def current_site() -> SiteConfig:
    """The request's site (resolved once per request); outside a request, the site a
    command or job set with `use_site`, else the default."""
    if has_app_context():
        site: SiteConfig | None = g.get("site")
        if site is not None:
            return site
    return default_site()


def site_args() -> dict[str, str]:
    """`{"site": domain}` for a site other than the default, for URLs of the service's own
    pages that must stay on the request's site (a form's action, a language link)."""
    site = current_site()
    return {} if site.default else {"site": site.domain}


def use_site(site: SiteConfig) -> None:
    """Make `site` the site of this request or app context (a staff member switching to a
    site they work on, a background job working for its site)."""
    g.site = site
    g.site_origins = site.origins


def _origin_of(url: str | None) -> str | None:
    if not url or len(url) > 2000:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _site_in_query(url: str | None) -> str | None:
    if not url or len(url) > 2000:
        return None
    named = parse_qs(urlsplit(url).query).get("site")
    return named[0].strip().lower() if named else None


def resolve_request_site() -> None:
    """Before every request: decide its site once (see the module's docstring)."""
    snap = registry().snapshot()
    path = request.path
    site: SiteConfig | None = None
    if path.startswith("/admin"):
        chosen = session.get(STAFF_SITE_KEY)
        site = snap.sites.get(chosen) if isinstance(chosen, str) else None
    elif not path.startswith(OWN_SITE_PARAMETER) and "site" in request.args:
        named = request.args.get("site", "").strip().lower()
        site = snap.sites.get(named)
        if site is None:
            raise UnknownSite(named[:64])
    else:
        origin = request.headers.get("Origin") or _origin_of(request.referrer)
        domain = snap.by_origin.get(origin) if origin else None
        if domain is None and origin is not None and origin == own_origin():
            # A page of this service itself (the snippet's test page) names its site in
            # its own address.
            domain = _site_in_query(request.referrer)
        site = snap.sites.get(domain) if domain else None
    use_site(site or snap.default)


def init_registry(app: Flask) -> None:
    app.extensions["sites"] = SiteRegistry(app)
    app.before_request(resolve_request_site)
