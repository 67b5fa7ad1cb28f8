"""Idea settings and the areas/texts files: safe defaults, refusals, malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_service.config import ConfigError, load_settings
from consent_service.ideas.catalog import CatalogError, load_catalog

KEY = "k" * 40


def settings(**env: str) -> dict[str, object]:
    env = {"CONSENT_SECRET_KEY": KEY, "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.se", **env}
    return load_settings(Path("/nonexistent"), env)


def test_defaults() -> None:
    config = settings()
    assert config["IDEAS_CONTACT_RETENTION_DAYS"] == 90
    assert config["IDEAS_MIN_FILL_SECONDS"] == 3
    assert config["SMTP_HOST"] is None  # e-mail is off until configured


@pytest.mark.parametrize(
    "env",
    [
        {"CONSENT_IDEAS_CONTACT_RETENTION_DAYS": "ninety"},
        {"CONSENT_IDEAS_CONTACT_RETENTION_DAYS": "-1"},
        {"CONSENT_IDEAS_RATE_LIMIT": "0"},
        {"CONSENT_SMTP_HOST": "smtp.uppsala.se"},  # without a From address
        {
            "CONSENT_SMTP_HOST": "smtp.uppsala.se",
            "CONSENT_SMTP_FROM": "a@b.se",
            "CONSENT_SMTP_SECURITY": "none",
            "CONSENT_SMTP_PASSWORD": "pw",
        },
        {"CONSENT_SMTP_SECURITY": "maybe"},
    ],
)
def test_unsafe_or_malformed_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        settings(**env)


def test_smtp_settings() -> None:
    config = settings(
        CONSENT_SMTP_HOST="smtp.uppsala.se",
        CONSENT_SMTP_FROM="idea@uppsala.se",
        CONSENT_SMTP_SECURITY="tls",
    )
    assert (config["SMTP_PORT"], config["SMTP_SECURITY"]) == (465, "tls")


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        ('[[areas]]\nid = "a"\nlabels = { sv = "A" }\n', "no label"),
        ('[[areas]]\nid = "a"\nlabels = { sv = "A", en = "A" }\n' * 2, "twice"),
        ('[[areas]]\nid = ""\nlabels = { sv = "A", en = "A" }\n', "ASCII"),
        ('[[areas]]\nid = "a"\nretired = true\nlabels = { sv = "A", en = "A" }\n', "at least one"),
    ],
)
def test_malformed_areas_are_refused(tmp_path: Path, areas: str, message: str) -> None:
    path = tmp_path / "areas.toml"
    path.write_text(areas)
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_retired_areas_keep_their_label_but_leave_the_form(tmp_path: Path) -> None:
    path = tmp_path / "areas.toml"
    path.write_text(
        '[[areas]]\nid = "old"\nretired = true\nlabels = { sv = "Gammal", en = "Old" }\n'
        '[[areas]]\nid = "new"\nlabels = { sv = "Ny", en = "New" }\n'
    )
    catalog = load_catalog(path)
    assert catalog.area_ids() == ("new",) and catalog.area_label("old", "en") == "Old"


def test_every_ideas_setting_is_in_the_ideas_doc() -> None:
    """An operator looking up the idea limits (a school behind one address) finds them all."""
    from tests.ops.test_deploy_files import ROOT, settings_read_by_config

    doc = (ROOT / "docs" / "ideas.md").read_text()
    ideas = {name for name in settings_read_by_config() if name.startswith("IDEAS_")}
    assert "IDEAS_RATE_LIMIT" in ideas
    # The doc's table writes a sibling setting as `…_RATE_WINDOW_SECONDS`.
    missing = [
        name
        for name in sorted(ideas)
        if f"CONSENT_{name}" not in doc and f"…{name.removeprefix('IDEAS')}" not in doc
    ]
    assert missing == []
    assert "school" in doc and "CONSENT_IDEAS_RATE_LIMIT" in doc
