"""The policy file and its archive: exact texts are stored, silent rewording is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from consent_service.audit.models import PolicyText
from consent_service.consent.policy import PolicyError, load_policy, parse_policy
from consent_service.db import db
from consent_service.hashing import sha256_hex
from consent_service.schema import upgrade_database
from tests.conftest import make_app

POLICY = Path(__file__).resolve().parents[2] / "consent_service" / "policy" / "uppsala.toml"


def test_texts_are_archived_with_their_hash(app: Flask) -> None:
    with app.app_context():
        rows = db.session.scalars(select(PolicyText).order_by(PolicyText.language)).all()
    assert [(r.version, r.language) for r in rows] == [(1, "en"), (1, "sv")]
    for row in rows:
        assert sha256_hex(row.content.encode()) == row.text_hash
        assert json.loads(row.content)["title"]


def test_changed_text_without_new_version_is_refused(tmp_path: Path) -> None:
    changed = tmp_path / "policy.toml"
    changed.write_text(POLICY.read_text().replace("Spara val", "Spara"))
    make_app(tmp_path)  # archives version 1 as shipped
    app = make_app(tmp_path, migrate=False, POLICY_FILE=str(changed))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 2
    assert "raise `version`" in result.output


def test_changed_text_with_new_version_is_archived_beside_the_old(tmp_path: Path) -> None:
    bumped = tmp_path / "policy.toml"
    bumped.write_text(
        POLICY.read_text().replace("Spara val", "Spara").replace("version = 1", "version = 2")
    )
    make_app(tmp_path)
    app = make_app(tmp_path, POLICY_FILE=str(bumped))
    assert "0 policy text(s) archived" in upgrade_database(app)  # make_app archived v2
    with app.app_context():
        versions = sorted(set(db.session.scalars(select(PolicyText.version))))
    assert versions == [1, 2]


def test_shipped_policy_is_complete_in_every_language() -> None:
    policy = load_policy(POLICY)
    assert policy.languages == ("sv", "en") and policy.default_language == "sv"
    for language in policy.languages:
        texts = policy.rendered(language)
        assert {c["category"] for c in texts["cookies"]} == {
            "necessary",
            "functional",
            "statistics",
        }
        assert all(isinstance(v, (str, list, dict)) and v for v in texts.values())
    assert policy.language_for("en-GB") == "en" and policy.language_for("fi") == "sv"


@pytest.mark.parametrize(
    "broken",
    [{}, {"site": "x", "version": 0, "languages": ["sv"], "default_language": "sv"},
     {"site": "x", "version": 1, "languages": ["sv"], "default_language": "en"},
     {"site": "x", "version": 1, "languages": ["sv"], "default_language": "sv", "texts": {}}],
)  # fmt: skip
def test_malformed_policies_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        parse_policy(broken)
