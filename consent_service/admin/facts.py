"""The deployment's settings as facts an admin may read: never a key, password or token.

The admin's settings page shows these beside what `consent-service check --deploy` reports
(`deploy_check.deploy_issues`, the same findings, not a copy of them). Domains above this
layer add their own facts with `register_settings_facts`, as they add deploy checks and
menu items. The sites and their policy versions come from the sites layer below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from consent_service.sites.services import all_sites

MODE_LABELS = {
    "production": "produktion",
    "development": "utveckling (vanlig http, nycklar skapade på maskinen)",
    "testing": "test",
}
DATABASE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


FactSource = Callable[[Flask], Iterable[Fact]]


def register_settings_facts(app: Flask, source: FactSource) -> None:
    sources: list[FactSource] = app.extensions.setdefault("settings_facts", [])
    sources.append(source)


def database_kind(url: object) -> str:
    """The database's kind only: the URL can hold a password and the server's address."""
    try:
        backend = make_url(str(url)).get_backend_name()
    except ArgumentError:
        return "okänd"
    return DATABASE_LABELS.get(backend, backend)


def deployment_facts(app: Flask) -> list[Fact]:
    """The settings that describe this deployment, then every domain's own facts."""
    config = app.config
    mode = str(config.get("CONSENT_MODE", ""))
    origins = config.get("ALLOWED_ORIGINS") or []
    facts = [
        Fact("Läge", MODE_LABELS.get(mode, mode)),
        Fact("Offentlig adress (CONSENT_PUBLIC_URL)", config.get("PUBLIC_URL") or "inte satt"),
        Fact("Databas", database_kind(config.get("DATABASE_URL", ""))),
        Fact("Transparensloggens namn (origin)", str(config.get("LOG_ORIGIN") or "inte satt")),
        Fact("Tillåtna ursprung för värdsidor", ", ".join(origins) if origins else "inga"),
        Fact("Kakdomän", config.get("COOKIE_DOMAIN") or "bara tjänstens egen värd"),
        Fact("Betrodda proxyer framför tjänsten", str(config.get("TRUSTED_PROXIES", 0))),
        Fact("Säkra kakor (Secure)", "ja" if config.get("COOKIE_SECURE") else "nej"),
    ]
    sites = all_sites()
    facts.append(Fact("Webbplatser", str(len(sites))))
    for site in sites:
        default = " (standard)" if site.default else ""
        languages = ", ".join(site.policy.languages)
        facts.append(
            Fact(
                f"Policy för {site.domain}{default}",
                f"version {site.policy.version}; språk {languages}",
            )
        )
    sources: list[FactSource] = app.extensions.get("settings_facts", [])
    for source in sources:
        facts.extend(source(app))
    return facts
