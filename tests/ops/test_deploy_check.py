"""`consent-service check --deploy`: refuses what must not go online, names what should not."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from consent_service.__main__ import main

KEY = "Xq3-vL9_mW2pR7tK5yN8bC4hF6jD1gS0aZ"
OLD_KEY = "Pw7-kH2_nB5vC8xZ1mQ4rT6yU9iO3aS0dF"
SAFE = {
    "CONSENT_ENV": "production",
    "CONSENT_SECRET_KEY": KEY,
    "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.se",
    "CONSENT_ALLOWED_ORIGINS": "https://www.uppsala.se",
    "CONSENT_COOKIE_DOMAIN": ".uppsala.se",
    "CONSENT_DATABASE_URL": "postgresql+psycopg://consent@db.internal/consent",
    "CONSENT_TRUSTED_PROXIES": "1",
    "CONSENT_METRICS_TOKEN": "m" + KEY,
}


def check(env: dict[str, str | None], *args: str) -> tuple[int, str]:
    # Only what the test names: nothing from the shell running the suite.
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CONSENT_")}
    clean["FLASK_DEBUG"] = None
    result = CliRunner().invoke(main, ["check", "--deploy", *args], env={**clean, **env})
    return result.exit_code, result.output


def test_a_safe_production_configuration_passes() -> None:
    assert check(SAFE) == (0, "System check identified no issues.\n")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"CONSENT_ENV": "development"}, "consent.E002"),
        ({"FLASK_DEBUG": "1"}, "consent.E003"),
        ({"CONSENT_SECRET_KEY": "short"}, "consent.E001"),
        ({"CONSENT_SECRET_KEY": "ab" * 20}, "consent.E004"),
        ({"CONSENT_SECRET_KEY": "change-me-to-a-long-random-value"}, "consent.E004"),
        ({"CONSENT_SECRET_KEY_FALLBACKS": "tiny"}, "consent.E001"),
        ({"CONSENT_SECRET_KEY_FALLBACKS": "ab" * 20}, "consent.E005"),
        ({"CONSENT_ALLOWED_ORIGINS": "*"}, "consent.E001"),
        ({"CONSENT_INSECURE_COOKIES": "1"}, "consent.E001"),
        # Production refuses to start without it (config.py), so the check says so.
        ({"CONSENT_PUBLIC_URL": None}, "consent.E001"),
        ({"CONSENT_PUBLIC_URL": "http://samtycke.uppsala.se"}, "consent.E008"),
        ({"CONSENT_METRICS_TOKEN": "short"}, "consent.E001"),
    ],
)
def test_unsafe_settings_are_errors(change: dict[str, str | None], code: str) -> None:
    status, output = check({**SAFE, **change})
    assert status == 1 and code in output and "ERRORS:" in output


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"CONSENT_DATABASE_URL": "sqlite:////var/lib/consent-service/consent.sqlite3"}, "W012"),
        ({"CONSENT_TRUSTED_PROXIES": None}, "W013"),
        ({"CONSENT_METRICS_TOKEN": None}, "W014"),
        ({"CONSENT_COOKIE_DOMAIN": None}, "W011"),
        ({"CONSENT_ALLOWED_ORIGINS": "http://www.uppsala.se"}, "W009"),
        ({"CONSENT_SECRET_KEY_FALLBACKS": KEY}, "W005"),
    ],
)
def test_unwise_settings_are_warnings(change: dict[str, str | None], code: str) -> None:
    status, output = check({**SAFE, **change})
    assert status == 0 and f"consent.{code}" in output and "ERRORS:" not in output
    assert check({**SAFE, **change}, "--fail-level", "warning")[0] == 1


def test_a_rotation_in_progress_is_fine() -> None:
    assert check({**SAFE, "CONSENT_SECRET_KEY_FALLBACKS": OLD_KEY})[0] == 0
