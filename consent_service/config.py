"""Settings: defaults, `CONSENT_*` environment variables, refusal of unsafe production setups."""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "CONSENT_"
MODES = ("development", "production", "testing")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_POLICY_FILE = Path(__file__).parent / "policy" / "uppsala.toml"


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the service refuses to start."""


def _as_list(name: str, raw: str) -> list[str]:
    """Parse a list setting given as JSON array or comma-separated text.

    Flask treats a *string* of fallback keys as a sequence of one-character keys, so a list
    setting is never passed on as a plain string.
    """
    raw = raw.strip()
    if not raw:
        return []
    if raw.startswith("["):
        value = json.loads(raw)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{ENV_PREFIX}{name} must be a JSON list of strings")
        return [v.strip() for v in value if v.strip()]
    return [part.strip() for part in raw.split(",") if part.strip()]


def _search_params(raw: str) -> dict[str, tuple[str, ...]]:
    """ANALYTICS_SEARCH_PARAMS: `q,sok` for every site, or JSON `{"uppsala.se": "q", ...}`."""
    name = "ANALYTICS_SEARCH_PARAMS"
    raw = raw.strip()
    if raw.startswith("{"):
        try:
            value = json.loads(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} is not valid JSON") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{ENV_PREFIX}{name} must map sites to parameter names")
        found = {}
        for site, params in value.items():
            listed = [params] if isinstance(params, str) else params
            if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
                raise ConfigError(f"{ENV_PREFIX}{name}: {site!r} must name parameters")
            found[str(site)] = tuple(p.strip() for p in listed if p.strip())
    else:
        found = {"*": tuple(_as_list(name, raw))} if raw else {}
    for params in found.values():
        for param in params:
            if not QUERY_PARAM_NAME.fullmatch(param):
                raise ConfigError(f"{ENV_PREFIX}{name}: {param!r} is not a query parameter name")
    return found


def _as_bool(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _validate_origin(origin: str, name: str = "ALLOWED_ORIGINS") -> str:
    parts = urlsplit(origin)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
        # urlsplit silently drops tabs and line breaks; an origin has none.
        or any(c.isspace() or not c.isprintable() for c in origin)
    ):
        raise ConfigError(
            f"{ENV_PREFIX}{name}: {origin!r} is not an origin like https://www.uppsala.se"
        )
    return origin.rstrip("/")


def _public_url(raw: str, development: bool) -> str | None:
    """The service's public origin: required outside development, where absolute URLs (the
    embed's API base, status links in e-mail, url_for(_external=True)) must not follow Host."""
    if not raw.strip():
        if not development:
            raise ConfigError(
                f"{ENV_PREFIX}PUBLIC_URL is not set. Production needs the service's public "
                "origin, e.g. https://samtycke.uppsala.se: without it, the addresses the service "
                "hands out would follow the Host header a client sends."
            )
        return None
    return _validate_origin(raw, "PUBLIC_URL")


def _dev_secret(instance_path: Path) -> str:
    """Return the development secret key, generating it once under instance/."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


# Days each kind of consent-log entry is kept: the municipality's retention decision
# (gallringsbeslut) for consent records. Three years covers a choice's one-year lifetime plus
# the time a complaint to IMY can reasonably take; change it with CONSENT_RETENTION_DAYS.
DEFAULT_RETENTION_DAYS = {"grant": 1095, "update": 1095, "withdraw": 1095}


def _retention_days(raw: str, choice_max_age_days: int) -> dict[str, int]:
    """Parse CONSENT_RETENTION_DAYS: a JSON object of action → days, merged over the defaults."""
    days = dict(DEFAULT_RETENTION_DAYS)
    if not raw.strip():
        return days
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(
            f'{ENV_PREFIX}RETENTION_DAYS must be a JSON object like {{"grant": 1095, '
            '"update": 1095, "withdraw": 1095}'
        )
    for action, count in value.items():
        if action not in days:
            raise ConfigError(
                f"{ENV_PREFIX}RETENTION_DAYS: unknown action {action!r} "
                f"(use {', '.join(DEFAULT_RETENTION_DAYS)})"
            )
        if not isinstance(count, int) or isinstance(count, bool) or count < choice_max_age_days:
            # A record must outlive the choice it proves: the cookie is relied on until then.
            raise ConfigError(
                f"{ENV_PREFIX}RETENTION_DAYS: {action} must be a whole number of days, at least "
                f"{ENV_PREFIX}CHOICE_MAX_AGE_DAYS ({choice_max_age_days})"
            )
        days[action] = count
    return days


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a positive whole number, not {raw!r}")
    return value


# Used with fullmatch ("…$" with re.match would accept a trailing newline).
QUERY_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")


def _analytics_settings(get: Any) -> dict[str, Any]:
    """Retention, query-parameter allow-list and calendar of the consent-gated analytics."""

    def number(name: str, default: int, high: int, unit: str) -> int:
        try:
            value = int(get(name, str(default)))
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number of {unit}") from None
        if not 0 <= value <= high:
            raise ConfigError(f"{ENV_PREFIX}{name} must be between 0 and {high} {unit}")
        return value

    def days(name: str, default: int) -> int:
        value = number(name, default, 3660, "days")
        if value < 1:
            raise ConfigError(f"{ENV_PREFIX}{name} must be at least 1 day")
        return value

    # 13 and 25 months, rounded up to whole days.
    raw_days = days("ANALYTICS_RAW_DAYS", 396)
    aggregate_days = days("ANALYTICS_AGGREGATE_DAYS", 761)
    if aggregate_days < raw_days:
        raise ConfigError(
            f"{ENV_PREFIX}ANALYTICS_AGGREGATE_DAYS must not be shorter than "
            f"{ENV_PREFIX}ANALYTICS_RAW_DAYS: daily figures are computed from the raw events"
        )
    params = _as_list("ANALYTICS_QUERY_PARAMS", get("ANALYTICS_QUERY_PARAMS"))
    for param in params:
        if not QUERY_PARAM_NAME.fullmatch(param):
            raise ConfigError(
                f"{ENV_PREFIX}ANALYTICS_QUERY_PARAMS: {param!r} is not a query parameter name"
            )
    search_params = _search_params(get("ANALYTICS_SEARCH_PARAMS", ""))
    zone = get("ANALYTICS_TIMEZONE", "Europe/Stockholm")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{ENV_PREFIX}ANALYTICS_TIMEZONE: unknown time zone {zone!r}") from None
    rollup_seconds = number("ANALYTICS_ROLLUP_SECONDS", 300, 86400, "seconds")
    # Events per minute from one client address (generous: a school or office shares one)
    # and from one consent (one browser), and events per visitor and day.
    # Spelled out, one call each, so that the settings list test sees every name.
    limits = {
        "ANALYTICS_RATE_LIMIT_CLIENT": number(
            "ANALYTICS_RATE_LIMIT_CLIENT", 3000, 10_000_000, "events"
        ),
        "ANALYTICS_RATE_LIMIT_CONSENT": number(
            "ANALYTICS_RATE_LIMIT_CONSENT", 300, 10_000_000, "events"
        ),
        "ANALYTICS_VISITOR_DAILY_CAP": number(
            "ANALYTICS_VISITOR_DAILY_CAP", 1000, 10_000_000, "events"
        ),
    }
    for name, value in limits.items():
        if value < 1:
            raise ConfigError(f"{ENV_PREFIX}{name} must be at least 1")
    return {
        "ANALYTICS_RAW_DAYS": raw_days,
        "ANALYTICS_AGGREGATE_DAYS": aggregate_days,
        "ANALYTICS_QUERY_PARAMS": params,
        # Site → the query parameters of its site search ("*": every site).
        "ANALYTICS_SEARCH_PARAMS": search_params,
        "ANALYTICS_TIMEZONE": zone,
        # How stale today's figures on the dashboard may be before they are rolled up again.
        "ANALYTICS_ROLLUP_SECONDS": rollup_seconds,
        **limits,
    }


def load_settings(instance_path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from defaults and the environment."""
    env = dict(os.environ if env is None else env)

    def get(name: str, default: str = "") -> str:
        return env.get(ENV_PREFIX + name, default)

    mode = get("ENV", "production")
    if mode not in MODES:
        raise ConfigError(f"{ENV_PREFIX}ENV must be one of {', '.join(MODES)}, not {mode!r}")
    development = mode in {"development", "testing"}

    secret_key = get("SECRET_KEY")
    if not secret_key:
        if not development:
            raise ConfigError(
                f"{ENV_PREFIX}SECRET_KEY is not set. Production needs a long random key, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        secret_key = _dev_secret(instance_path)
    fallbacks = _as_list("SECRET_KEY_FALLBACKS", get("SECRET_KEY_FALLBACKS"))
    if not development:
        for key in [secret_key, *fallbacks]:
            if len(key) < 32:
                raise ConfigError("secret keys must be at least 32 characters long")

    origins = [_validate_origin(o) for o in _as_list("ALLOWED_ORIGINS", get("ALLOWED_ORIGINS"))]
    if "*" in get("ALLOWED_ORIGINS") or "null" in origins:
        raise ConfigError(f"{ENV_PREFIX}ALLOWED_ORIGINS must list exact origins, never * or null")

    database_url = get("DATABASE_URL") or f"sqlite:///{instance_path / 'consent.sqlite3'}"
    secure_cookies = not development and not _as_bool(get("INSECURE_COOKIES", "0"))
    if not development and not secure_cookies:
        raise ConfigError("cookies without Secure are only allowed in development")

    metrics_token = get("METRICS_TOKEN").strip() or None
    if metrics_token is not None and not development and len(metrics_token) < 32:
        raise ConfigError(f"{ENV_PREFIX}METRICS_TOKEN must be at least 32 characters long")
    log_level = get("LOG_LEVEL", "INFO").strip().upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"{ENV_PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")

    settings: dict[str, Any] = {
        "CONSENT_MODE": mode,
        "SECRET_KEY": secret_key,
        # Oldest first, as itsdangerous expects; Flask's own session uses SECRET_KEY_FALLBACKS.
        "SECRET_KEY_FALLBACKS": list(reversed(fallbacks)),
        "SIGNING_KEYS": [*reversed(fallbacks), secret_key],
        # Flask-WTF ignores SECRET_KEY_FALLBACKS: give it the whole key list so CSRF tokens
        # issued before a rotation stay valid.
        "WTF_CSRF_SECRET_KEY": [*reversed(fallbacks), secret_key],
        "WTF_CSRF_TIME_LIMIT": 3600 * 4,
        "WTF_CSRF_SSL_STRICT": not development,
        "DATABASE_URL": database_url,
        "ALLOWED_ORIGINS": origins,
        "COOKIE_DOMAIN": get("COOKIE_DOMAIN") or None,
        "COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # __Host-: the browser keeps it only if Secure, Path=/ and without Domain, so no
        # sister host on the same site can plant or overwrite a staff session cookie.
        "SESSION_COOKIE_NAME": "__Host-consent_session" if secure_cookies else "consent_session",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "POLICY_FILE": get("POLICY_FILE") or str(DEFAULT_POLICY_FILE),
        # How often a process looks for added sites and published policies (one small query).
        "SITES_REFRESH_SECONDS": _int_setting(get, "SITES_REFRESH_SECONDS", 5, 0, 3600),
        "CHOICE_MAX_AGE_DAYS": int(get("CHOICE_MAX_AGE_DAYS", "365")),
        "PUBLIC_URL": _public_url(get("PUBLIC_URL"), development),
        "MAX_CONTENT_LENGTH": int(get("MAX_BODY_BYTES", str(64 * 1024))),
        "TRUSTED_PROXIES": int(get("TRUSTED_PROXIES", "0")),
        # Requests naming an already-used request_id, per client address and window: a
        # banner retries a few times; many known keys from one client are guesses.
        "REPLAY_RATE_LIMIT": _int_setting(get, "REPLAY_RATE_LIMIT", 100, 1, 100_000),
        "REPLAY_RATE_WINDOW_SECONDS": _int_setting(
            get, "REPLAY_RATE_WINDOW_SECONDS", 600, 1, 86400
        ),
        **_analytics_settings(get),
        # Bearer token for /metrics; without one, production does not serve metrics at all.
        "METRICS_TOKEN": metrics_token,
        "LOG_LEVEL": log_level,
        # The compliance scanner drives this browser (Debian's chromium; nothing is downloaded).
        "CHROMIUM_PATH": get("CHROMIUM_PATH", "/usr/bin/chromium"),
    }
    settings.update(_idea_settings(get, development))
    if settings["CHOICE_MAX_AGE_DAYS"] < 1 or settings["CHOICE_MAX_AGE_DAYS"] > 400:
        # Chrome caps cookie lifetimes at 400 days; a longer promise would silently break.
        raise ConfigError(f"{ENV_PREFIX}CHOICE_MAX_AGE_DAYS must be between 1 and 400")

    # The consent log: checkpoint signing key (kept outside the database), retention, sign-in.
    checkpoint_key = get("CHECKPOINT_KEY")
    if not checkpoint_key and development:
        checkpoint_key = str(instance_path / "checkpoint_ed25519.pem")
    settings.update(
        {
            # None in production until configured: `audit checkpoint` then refuses to run.
            "CHECKPOINT_KEY": checkpoint_key or None,
            "RETENTION_DAYS": _retention_days(
                get("RETENTION_DAYS"), settings["CHOICE_MAX_AGE_DAYS"]
            ),
            "ADMIN_IDLE_MINUTES": _positive_int(
                "ADMIN_IDLE_MINUTES", get("ADMIN_IDLE_MINUTES", "30")
            ),
            # A staff session ends this long after sign-in however busy it is (a working day).
            "ADMIN_SESSION_HOURS": _positive_int(
                "ADMIN_SESSION_HOURS", get("ADMIN_SESSION_HOURS", "10")
            ),
            # Failed sign-ins per account and per client in a window, counted in the database.
            "SIGN_IN_LIMIT_ACCOUNT": _positive_int(
                "SIGN_IN_LIMIT_ACCOUNT", get("SIGN_IN_LIMIT_ACCOUNT", "5")
            ),
            "SIGN_IN_LIMIT_CLIENT": _positive_int(
                "SIGN_IN_LIMIT_CLIENT", get("SIGN_IN_LIMIT_CLIENT", "20")
            ),
            "SIGN_IN_WINDOW_SECONDS": _positive_int(
                "SIGN_IN_WINDOW_SECONDS", get("SIGN_IN_WINDOW_SECONDS", "900")
            ),
        }
    )
    settings.update(_log_settings(get, mode, settings["PUBLIC_URL"]))
    return settings


LOG_INTEGRATION_MODES = ("background", "inline", "manual")


def _log_settings(get: Any, mode: str, public_url: str | None) -> dict[str, Any]:
    """The consent log as a transparency log (docs/transparency-log.md)."""
    # background: a sequencer thread in the worker holding the lock; inline: each request
    # integrates its own decision (the test suite); manual: only integrate_pending() does.
    integration = get("LOG_INTEGRATION", "inline" if mode == "testing" else "background")
    if integration not in LOG_INTEGRATION_MODES:
        raise ConfigError(
            f"{ENV_PREFIX}LOG_INTEGRATION must be one of {', '.join(LOG_INTEGRATION_MODES)}"
        )
    host = urlsplit(public_url).netloc if public_url else "consent-service.localhost"
    # The checkpoint's origin line and the signing key's name: no spaces, no '+'.
    origin = get("LOG_ORIGIN", f"{host}/consent-log").strip()
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise ConfigError(f"{ENV_PREFIX}LOG_ORIGIN must not be empty or hold spaces or '+'")
    return {
        "LOG_INTEGRATION": integration,
        "LOG_ORIGIN": origin,
        # What every promise states: an acknowledged decision is in the log within this time.
        "LOG_MAX_DELAY_SECONDS": _int_setting(get, "LOG_MAX_DELAY_SECONDS", 10, 1, 86400),
        # /readyz answers 503 when the oldest pending decision is older than this.
        "LOG_STALL_SECONDS": _int_setting(get, "LOG_STALL_SECONDS", 60, 1, 86400),
        # Entry bundles (tile/entries/…) publish every entry, consent IDs included, to anyone
        # and beyond the retention purge: off unless the municipality decides to publish.
        "LOG_PUBLIC_ENTRIES": _as_bool(get("LOG_PUBLIC_ENTRIES", "0")),
    }


SMTP_SECURITY = ("starttls", "tls", "none")


def _int_setting(get: Any, name: str, default: int, low: int, high: int) -> int:
    raw = get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{ENV_PREFIX}{name} must be between {low} and {high}")
    return value


def _idea_retention(raw: str) -> dict[str, int]:
    """Parse "state=days,state=days" (days 1 to 36500) into a dict."""
    rules: dict[str, int] = {}
    for part in raw.split(","):
        if not part.strip():
            continue
        state, _, days = part.partition("=")
        state = state.strip()
        if not state.isidentifier() or not days.strip().isdigit():
            raise ConfigError(f"{ENV_PREFIX}IDEAS_RETENTION: write state=days, e.g. closed=1095")
        if not 1 <= int(days) <= 36500 or state in rules:
            raise ConfigError(
                f"{ENV_PREFIX}IDEAS_RETENTION: {state} needs one number of days, 1 to 36500"
            )
        rules[state] = int(days)
    return rules


def _idea_settings(get: Any, development: bool) -> dict[str, Any]:
    """The idea widget's limits, retention and the optional SMTP server for status e-mail."""
    smtp_host = get("SMTP_HOST").strip()
    security = get("SMTP_SECURITY", "starttls").strip().lower()
    if security not in SMTP_SECURITY:
        raise ConfigError(f"{ENV_PREFIX}SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
    settings: dict[str, Any] = {
        # None: the catalogue that ships with the ideas domain (ideas/areas.toml).
        "IDEAS_AREAS_FILE": get("IDEAS_AREAS_FILE") or None,
        # Contact details are deleted this many days after an idea is closed.
        "IDEAS_CONTACT_RETENTION_DAYS": _int_setting(
            get, "IDEAS_CONTACT_RETENTION_DAYS", 90, 0, 3650
        ),
        # Submissions per client address and window, counted across workers and instances.
        "IDEAS_RATE_LIMIT": _int_setting(get, "IDEAS_RATE_LIMIT", 10, 1, 100_000),
        "IDEAS_RATE_WINDOW_SECONDS": _int_setting(get, "IDEAS_RATE_WINDOW_SECONDS", 3600, 1, 86400),
        # Faster than this from form to submit is a robot's pace: the idea goes to the spam queue.
        "IDEAS_MIN_FILL_SECONDS": _int_setting(get, "IDEAS_MIN_FILL_SECONDS", 3, 0, 600),
        "IDEAS_FORM_MAX_AGE_SECONDS": _int_setting(
            get, "IDEAS_FORM_MAX_AGE_SECONDS", 86400, 60, 30 * 86400
        ),
        # Ideas removed this many days after reaching a state, e.g. "closed=1095,spam=30";
        # empty: none (the municipality's gallringsbeslut decides). Names checked by ideas.
        "IDEAS_RETENTION": _idea_retention(get("IDEAS_RETENTION")),
        "SMTP_HOST": smtp_host or None,
        "SMTP_PORT": _int_setting(get, "SMTP_PORT", 465 if security == "tls" else 587, 1, 65535),
        "SMTP_USER": get("SMTP_USER") or None,
        "SMTP_PASSWORD": get("SMTP_PASSWORD") or None,
        "SMTP_FROM": get("SMTP_FROM").strip() or None,
        "SMTP_SECURITY": security,
    }
    if smtp_host and not settings["SMTP_FROM"]:
        raise ConfigError(f"{ENV_PREFIX}SMTP_FROM is needed when {ENV_PREFIX}SMTP_HOST is set")
    if not development and smtp_host and security == "none" and settings["SMTP_PASSWORD"]:
        raise ConfigError("an SMTP password is only sent over TLS outside development")
    return settings
