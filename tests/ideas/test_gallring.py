"""Retention (gallring) of whole ideas per state: configured rules, applied by `purge`, each
removal recorded with its rule and without the idea's content."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from consent_service.config import ConfigError, load_settings
from consent_service.db import db
from consent_service.ideas.models import Idea, IdeaEvent
from consent_service.ideas.records import IdeaPurge
from tests.conftest import make_app
from tests.ideas.conftest import submit
from tests.ideas.test_retention import close

ENV = {"CONSENT_ENV": "development"}


def purge(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_ideas_past_their_states_period_are_removed_and_recorded(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, IDEAS_MIN_FILL_SECONDS=0, IDEAS_RETENTION={"closed": 365, "spam": 30})
    client = app.test_client()
    refs = [submit(client, title=f"Idé {i}", email=f"g{i}@example.se", contact_ok=True).json[
        "reference"] for i in range(5)]  # fmt: skip
    close(app, refs[0], days_ago=366)  # closed over a year ago: removed
    close(app, refs[1], days_ago=300)  # closed recently: kept
    close(app, refs[2], days_ago=31, stage="spam")  # in the spam queue over 30 days: removed
    close(app, refs[3], days_ago=900, stage="undersoka")  # no rule for the loop: kept
    # A duplicate merged into the removed idea keeps its own record.
    with app.app_context():
        ids = {i.reference: i.id for i in db.session.scalars(select(Idea)).unique()}
        db.session.execute(
            update(Idea).where(Idea.id == ids[refs[4]]).values(merged_into_id=ids[refs[0]])
        )
        db.session.commit()

    output = purge(app)
    assert "ideas: 2 idea(s) removed: 1 under closed=365, 1 under spam=30" in output
    with app.app_context():
        left = set(db.session.scalars(select(Idea.reference)))
        assert left == {refs[1], refs[3], refs[4]}
        merged = db.session.get(Idea, ids[refs[4]])
        assert merged is not None and merged.merged_into_id is None
        # Nothing of the removed ideas stays besides the purge record.
        for idea_id in (ids[refs[0]], ids[refs[2]]):
            events = select(func.count()).select_from(IdeaEvent)
            assert db.session.scalar(events.where(IdeaEvent.idea_id == idea_id)) == 0
        records = db.session.scalars(select(IdeaPurge).order_by(IdeaPurge.reference)).all()
        assert [(r.reference, r.stage, r.rule) for r in records] == [
            (refs[0], "closed", "closed=365"),
            (refs[2], "spam", "spam=30"),
        ]
        assert {c.name for c in IdeaPurge.__table__.columns} == {
            "id", "purged_at", "reference", "stage", "rule",
        }  # fmt: skip
    assert "0 idea(s) removed" in purge(app)  # a rerun finds nothing


def test_without_rules_nothing_is_removed(app: Flask, client: FlaskClient) -> None:
    ref = submit(client).json["reference"]
    close(app, ref, days_ago=10_000)
    assert "0 idea(s) removed (no retention rule for ideas)" in purge(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Idea)) == 1


@pytest.mark.parametrize(
    "raw, message",
    [
        ("closed", "write state=days"),
        ("closed=abc", "write state=days"),
        ("closed=0", "1 to 36500"),
        ("closed=36501", "1 to 36500"),
        ("closed=10,closed=20", "1 to 36500"),
        ("=10", "write state=days"),
    ],
)
def test_bad_rules_stop_the_start_with_a_clear_message(
    tmp_path: Path, raw: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, {**ENV, "CONSENT_IDEAS_RETENTION": raw})


def test_a_rule_for_an_unknown_state_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no state stängd"):
        make_app(tmp_path, IDEAS_RETENTION={"stängd": 30})


def test_rules_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {**ENV, "CONSENT_IDEAS_RETENTION": "closed=1095, spam=30"})
    assert settings["IDEAS_RETENTION"] == {"closed": 1095, "spam": 30}
