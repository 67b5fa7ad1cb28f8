"""`consent-service check --deploy`: refuse a configuration that is unsafe to put online.

Like Django's `check --deploy`: the service already refuses to start on the worst mistakes
(`config.py`); this check also names what starts but should not go online (development
mode, weak keys, plain http, SQLite behind a load balancer, no proxy settings) and says how
to fix each. Domains add their own checks with `register_deploy_check`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from flask import Flask

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    level: Level
    code: str
    message: str
    hint: str = ""


DeployCheck = Callable[[Mapping[str, Any]], Iterable[Issue]]

# Placeholders from deploy/env.example and the docs: a copied example is not a secret.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "replace-me", "example", "secret-key")
MIN_DISTINCT_KEY_CHARACTERS = 10


def register_deploy_check(app: Flask, check: DeployCheck) -> None:
    checks: list[DeployCheck] = app.extensions.setdefault("deploy_checks", [])
    checks.append(check)


def _weak_key(key: object) -> str | None:
    if not isinstance(key, str):
        return "is not a string"
    if len(key) < 32:
        return "is shorter than 32 characters"
    if len(set(key)) < MIN_DISTINCT_KEY_CHARACTERS:
        return f"has fewer than {MIN_DISTINCT_KEY_CHARACTERS} different characters"
    if any(marker in key.lower() for marker in PLACEHOLDER_MARKERS):
        return "looks like a placeholder copied from an example"
    return None


KEY_HINT = "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _mode_checks(config: Mapping[str, Any]) -> Iterable[Issue]:
    if config.get("CONSENT_MODE") != "production":
        yield Issue(
            "error",
            "consent.E002",
            f"CONSENT_ENV is {config.get('CONSENT_MODE')!r}: plain http, cookies without "
            "Secure and keys generated on the machine.",
            "Unset CONSENT_ENV (production is the default) or set CONSENT_ENV=production.",
        )
    if config.get("DEBUG") or os.environ.get("FLASK_DEBUG", "").lower() in {"1", "true", "yes"}:
        yield Issue(
            "error",
            "consent.E003",
            "Debug mode is on: tracebacks and an interactive debugger would be served.",
            "Unset FLASK_DEBUG.",
        )


def _key_checks(config: Mapping[str, Any]) -> Iterable[Issue]:
    problem = _weak_key(config.get("SECRET_KEY"))
    if problem:
        yield Issue("error", "consent.E004", f"CONSENT_SECRET_KEY {problem}.", KEY_HINT)
    fallbacks = config.get("SECRET_KEY_FALLBACKS", [])
    if not isinstance(fallbacks, list):
        # Flask would treat a string as a list of one-character keys.
        yield Issue(
            "error",
            "consent.E005",
            "SECRET_KEY_FALLBACKS is not a list: every single character would be a valid key.",
            "Give CONSENT_SECRET_KEY_FALLBACKS as a JSON list or comma-separated keys.",
        )
        return
    for position, key in enumerate(reversed(fallbacks), start=1):
        problem = _weak_key(key)
        if problem:
            yield Issue(
                "error", "consent.E005", f"Fallback key {position} {problem}.", "Remove it."
            )
        elif key == config.get("SECRET_KEY"):
            yield Issue(
                "warning",
                "consent.W005",
                f"Fallback key {position} is the current key.",
                "Remove it from CONSENT_SECRET_KEY_FALLBACKS.",
            )
    if config.get("WTF_CSRF_ENABLED") is False:
        yield Issue(
            "error",
            "consent.E006",
            "CSRF protection of the service's own forms is off.",
            "Do not set WTF_CSRF_ENABLED outside tests.",
        )


def _https_checks(config: Mapping[str, Any]) -> Iterable[Issue]:
    if not config.get("COOKIE_SECURE") or not config.get("SESSION_COOKIE_SECURE"):
        yield Issue(
            "error",
            "consent.E007",
            "Cookies are sent without Secure: a choice or a staff session could travel over "
            "plain http.",
            "Unset CONSENT_INSECURE_COOKIES and serve the service over https.",
        )
    public_url = config.get("PUBLIC_URL")
    if not public_url:
        yield Issue(
            "error",
            "consent.E008",
            "CONSENT_PUBLIC_URL is not set: the embed would name whatever host the request "
            "claimed, and the own-origin check would trust the Host header.",
            "Set CONSENT_PUBLIC_URL=https://samtycke.example.se (the service's public origin).",
        )
    elif urlsplit(public_url).scheme != "https":
        yield Issue(
            "error",
            "consent.E008",
            f"CONSENT_PUBLIC_URL {public_url!r} is not https.",
            "Serve the service over https and give its https origin.",
        )
    origins = config.get("ALLOWED_ORIGINS", [])
    if "*" in origins or "null" in origins:
        yield Issue(
            "error",
            "consent.E009",
            "CONSENT_ALLOWED_ORIGINS allows any origin.",
            "List the exact origins of the host pages.",
        )
    for origin in origins:
        if urlsplit(origin).scheme != "https":
            yield Issue(
                "warning",
                "consent.W009",
                f"Allowed origin {origin!r} is plain http.",
                "Host pages should be served over https; remove http origins.",
            )
    if not origins:
        yield Issue(
            "warning",
            "consent.W010",
            "CONSENT_ALLOWED_ORIGINS is empty: only the service's own pages can use the API.",
            "List the host pages' origins, e.g. https://www.uppsala.se.",
        )
    elif config.get("COOKIE_DOMAIN") is None:
        yield Issue(
            "warning",
            "consent.W011",
            "CONSENT_COOKIE_DOMAIN is not set: host pages on other hosts cannot read the "
            "choice, so every page view asks the service again.",
            "Set CONSENT_COOKIE_DOMAIN to the shared parent domain, e.g. .uppsala.se.",
        )


def _operations_checks(config: Mapping[str, Any]) -> Iterable[Issue]:
    if str(config.get("DATABASE_URL", "")).startswith("sqlite"):
        yield Issue(
            "warning",
            "consent.W012",
            "The database is SQLite: fine for one machine, wrong for several instances (each "
            "would keep its own consent log and rate limits).",
            "Use PostgreSQL (postgresql+psycopg://…) behind a load balancer.",
        )
    if not config.get("TRUSTED_PROXIES"):
        yield Issue(
            "warning",
            "consent.W013",
            "CONSENT_TRUSTED_PROXIES is 0: behind nginx or a load balancer every client "
            "would share the proxy's address, and so its rate limits.",
            "Set it to the number of proxies in front of gunicorn (1 with deploy/nginx).",
        )
    if not config.get("METRICS_TOKEN"):
        yield Issue(
            "warning",
            "consent.W014",
            "CONSENT_METRICS_TOKEN is not set: /metrics is switched off.",
            "Set a long random token and give it to Prometheus as a bearer token.",
        )


BUILT_IN_CHECKS: tuple[DeployCheck, ...] = (
    _mode_checks,
    _key_checks,
    _https_checks,
    _operations_checks,
)


def deploy_issues(app: Flask) -> list[Issue]:
    """Everything that makes this app's configuration unsafe or unwise to put online."""
    extra: list[DeployCheck] = app.extensions.get("deploy_checks", [])
    return [issue for check in (*BUILT_IN_CHECKS, *extra) for issue in check(app.config)]


def report(issues: list[Issue]) -> str:
    """Django-style text: errors first, each with its hint."""
    if not issues:
        return "System check identified no issues."
    lines = ["System check identified some issues:"]
    for level, title in (("error", "ERRORS"), ("warning", "WARNINGS")):
        chosen = [i for i in issues if i.level == level]
        if chosen:
            lines += ["", f"{title}:"]
            for issue in chosen:
                lines.append(f"{issue.code}: {issue.message}")
                if issue.hint:
                    lines.append(f"\tHINT: {issue.hint}")
    lines += ["", f"System check identified {len(issues)} issue(s)."]
    return "\n".join(lines)
