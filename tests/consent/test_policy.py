"""The policy file and its archive: exact texts are stored, silent rewording is refused."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from consent_service.audit.models import PolicyText
from consent_service.db import db
from consent_service.hashing import sha256_hex
from consent_service.schema import upgrade_database
from consent_service.sites.policy import PolicyError, load_policy, parse_policy
from tests.conftest import POLICY_VERSION, make_app

POLICY = Path(__file__).resolve().parents[2] / "consent_service" / "policy" / "uppsala.toml"


def test_texts_are_archived_with_their_hash(app: Flask) -> None:
    with app.app_context():
        rows = db.session.scalars(select(PolicyText).order_by(PolicyText.language)).all()
    assert [(r.version, r.language) for r in rows] == [
        (POLICY_VERSION, "en"),
        (POLICY_VERSION, "sv"),
    ]
    for row in rows:
        assert sha256_hex(row.content.encode()) == row.text_hash
        assert json.loads(row.content)["title"]


def test_changed_text_without_new_version_is_refused(tmp_path: Path) -> None:
    changed = tmp_path / "policy.toml"
    changed.write_text(POLICY.read_text().replace("Spara val", "Spara"))
    make_app(tmp_path)  # archives the version as shipped
    app = make_app(tmp_path, migrate=False, POLICY_FILE=str(changed))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 2
    assert "raise `version`" in result.output


def test_changed_text_with_new_version_is_archived_beside_the_old(tmp_path: Path) -> None:
    bumped = tmp_path / "policy.toml"
    bumped.write_text(
        POLICY.read_text()
        .replace("Spara val", "Spara")
        .replace(f"version = {POLICY_VERSION}", f"version = {POLICY_VERSION + 1}")
    )
    make_app(tmp_path)
    app = make_app(tmp_path, POLICY_FILE=str(bumped))
    assert "0 policy text(s) archived" in upgrade_database(app)  # make_app archived v2
    with app.app_context():
        versions = sorted(set(db.session.scalars(select(PolicyText.version))))
    assert versions == [POLICY_VERSION, POLICY_VERSION + 1]


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


# What Matomo really sets: its cookies carry the site ID and a hash of the domain.
MATOMO_COOKIES = [
    "_pk_id.1.1fff", "_pk_ses.1.1fff", "_pk_ref.1.1fff", "_pk_cvar.1.1fff", "_pk_hsr.1.1fff",
    "_pk_testcookie.1.1fff", "mtm_consent", "mtm_consent_removed", "mtm_cookie_consent",
]  # fmt: skip


@pytest.mark.parametrize("name", MATOMO_COOKIES)
def test_the_shipped_policy_declares_what_matomo_really_sets(name: str) -> None:
    assert load_policy(POLICY).category_of(name) == "statistics"


def test_a_declaration_ending_in_a_star_is_a_prefix() -> None:
    policy = load_policy(POLICY)
    assert policy.category_of("consent") == "necessary"
    assert policy.category_of("_pk_id") is None  # `_pk_id.*` needs the dot
    assert policy.category_of("consent_sessionx") is None  # exact names stay exact
    assert policy.category_of("unknown") is None
    assert "_pk_id.*" in policy.cookie_names("statistics")


def _with_cookie(name: str) -> dict[str, object]:
    raw = tomllib.loads(POLICY.read_text())
    raw["cookies"].append({**raw["cookies"][0], "name": name, "category": "statistics"})
    return raw


@pytest.mark.parametrize("name", ["*", "_pk*id", "_pk_id.**", "a b*", "", "x\n", "x;*", 7])
def test_a_malformed_cookie_declaration_is_refused(name: object) -> None:
    with pytest.raises(PolicyError, match="cookie"):
        parse_policy(_with_cookie(name))  # type: ignore[arg-type]


def test_a_prefix_declaration_is_accepted() -> None:
    policy = parse_policy(_with_cookie("_hj*"))
    assert policy.category_of("_hjSessionUser_123") == "statistics"


def _with_declaration(**fields: object) -> dict[str, object]:
    raw = tomllib.loads(POLICY.read_text())
    declaration = {**raw["cookies"][0], "name": "vid_*", "category": "functional"}
    raw["cookies"].append({**declaration, **fields})
    return raw


def test_storage_keys_and_hosts_of_a_declaration() -> None:
    policy = parse_policy(
        _with_declaration(storage=["vid_state", "vidcache*"], hosts=["video.example"])
    )
    assert policy.storage_keys("functional") == ["vid_state", "vidcache*"]
    assert policy.storage_keys("statistics") == []
    cookie = policy.rendered("en")["cookies"][-1]
    assert (cookie["storage"], cookie["hosts"]) == (["vid_state", "vidcache*"], ["video.example"])
    # Declarations without them render as before, so earlier versions keep their text hashes.
    assert "storage" not in policy.rendered("en")["cookies"][0]


@pytest.mark.parametrize(
    "fields",
    [{"storage": "vid_state"}, {"storage": ["*"]}, {"storage": ["a*b"]}, {"storage": [""]},
     {"storage": ["a b"]}, {"storage": [7]}, {"hosts": ["Video.example"]},
     {"hosts": ["https://video.example"]}, {"hosts": "video.example"}, {"hosts": ["localhost"]}],
)  # fmt: skip
def test_malformed_storage_keys_and_hosts_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(PolicyError, match=r"storage|hosts"):
        parse_policy(_with_declaration(**fields))
