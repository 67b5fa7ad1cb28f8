"""Configuration: safe in development, refusing unsafe production settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_service.config import ConfigError, load_settings

KEY = "k" * 48
PUBLIC_URL = "https://samtycke.uppsala.se"
# The least a production configuration needs.
PRODUCTION = {"CONSENT_SECRET_KEY": KEY, "CONSENT_PUBLIC_URL": PUBLIC_URL}


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CONSENT_SECRET_KEY is not set"):
        load_settings(tmp_path, {"CONSENT_PUBLIC_URL": "https://samtycke.uppsala.se"})


def test_production_is_the_default_mode(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, PRODUCTION)
    assert settings["CONSENT_MODE"] == "production"
    assert settings["COOKIE_SECURE"] and settings["SESSION_COOKIE_SECURE"]


def test_development_generates_a_key_once(tmp_path: Path) -> None:
    first = load_settings(tmp_path, {"CONSENT_ENV": "development"})["SECRET_KEY"]
    second = load_settings(tmp_path, {"CONSENT_ENV": "development"})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_settings(tmp_path, {"CONSENT_ENV": "development"})["COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("old1" + "a" * 40, ["old1" + "a" * 40]),
     ('["b' + "b" * 40 + '", "c' + "c" * 40 + '"]', ["c" + "c" * 40, "b" + "b" * 40]),
     ("d" * 40 + ", " + "e" * 40, ["e" * 40, "d" * 40])],
)  # fmt: skip
def test_key_fallbacks_are_a_list_never_a_string(raw: str, expected: list[str]) -> None:
    env = {**PRODUCTION, "CONSENT_SECRET_KEY_FALLBACKS": raw}
    settings = load_settings(Path("/nonexistent"), env)
    assert settings["SECRET_KEY_FALLBACKS"] == expected
    assert isinstance(settings["SECRET_KEY_FALLBACKS"], list)
    # Oldest first, newest (the current key) last: it signs, all verify. CSRF gets them too.
    assert settings["SIGNING_KEYS"][-1] == KEY
    assert settings["WTF_CSRF_SECRET_KEY"] == settings["SIGNING_KEYS"]


@pytest.mark.parametrize(
    "env",
    [{"CONSENT_SECRET_KEY": "short"},
     {"CONSENT_SECRET_KEY": KEY, "CONSENT_ALLOWED_ORIGINS": "*"},
     {"CONSENT_SECRET_KEY": KEY, "CONSENT_ALLOWED_ORIGINS": "null"},
     {"CONSENT_SECRET_KEY": KEY, "CONSENT_ALLOWED_ORIGINS": "https://www.uppsala.se/path"},
     {"CONSENT_SECRET_KEY": KEY, "CONSENT_INSECURE_COOKIES": "1"},
     {"CONSENT_SECRET_KEY": KEY, "CONSENT_ENV": "debug"},
     {"CONSENT_SECRET_KEY": KEY, "CONSENT_CHOICE_MAX_AGE_DAYS": "1000"},
     {"CONSENT_SECRET_KEY": KEY, "CONSENT_SECRET_KEY_FALLBACKS": "tiny"}],
)  # fmt: skip
def test_unsafe_settings_are_refused(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(tmp_path, env)


def test_origins_are_parsed_exactly(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {**PRODUCTION, "CONSENT_ALLOWED_ORIGINS":
                                        "https://www.uppsala.se, https://uppsala.se/"})  # fmt: skip
    assert settings["ALLOWED_ORIGINS"] == ["https://www.uppsala.se", "https://uppsala.se"]


def test_production_refuses_to_start_without_a_public_url(tmp_path: Path) -> None:
    """Without it, absolute URLs (the embed's API base, status links) would follow Host."""
    with pytest.raises(ConfigError, match="CONSENT_PUBLIC_URL is not set"):
        load_settings(tmp_path, {"CONSENT_SECRET_KEY": KEY})


@pytest.mark.parametrize(
    "url",
    ["samtycke.uppsala.se", "https://samtycke.uppsala.se/path", "https://samtycke.uppsala.se/?x",
     "ftp://samtycke.uppsala.se", "https://", "https://samtycke.uppsala.se\n"],
)  # fmt: skip
def test_a_public_url_must_be_an_origin(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="CONSENT_PUBLIC_URL"):
        load_settings(tmp_path, {**PRODUCTION, "CONSENT_PUBLIC_URL": url})


def test_development_may_leave_the_public_url_unset(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {"CONSENT_ENV": "development"})
    assert settings["PUBLIC_URL"] is None
    trailing_slash = {**PRODUCTION, "CONSENT_PUBLIC_URL": PUBLIC_URL + "/"}
    assert load_settings(tmp_path, trailing_slash)["PUBLIC_URL"] == PUBLIC_URL
