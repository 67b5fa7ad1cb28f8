"""Contact details are deleted when an idea has been closed for the retention period."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from consent_service.db import db, utcnow
from consent_service.ideas.models import Idea, IdeaContact, IdeaEvent
from tests.ideas.conftest import submit


def close(app: Flask, reference: str, days_ago: int, stage: str = "closed") -> None:
    with app.app_context():
        when = utcnow() - dt.timedelta(days=days_ago)
        db.session.execute(
            update(Idea)
            .where(Idea.reference == reference)
            .values(
                stage=stage,
                closed_at=when if stage == "closed" else None,
                close_reason="realised" if stage == "closed" else None,
                stage_changed_at=when,
            )
        )
        db.session.commit()


def test_purge_removes_only_what_is_past_its_time(app: Flask, client: FlaskClient) -> None:
    refs = [
        submit(client, title=f"Idé {i}", email=f"p{i}@example.se", contact_ok=True).json[
            "reference"
        ]
        for i in range(4)
    ]
    close(app, refs[0], days_ago=91)  # closed long enough ago
    close(app, refs[1], days_ago=89)  # closed recently
    close(app, refs[2], days_ago=200, stage="spam")  # left in the spam queue
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "idea contacts: 2 contact record(s) of closed ideas removed" in result.output
    with app.app_context():
        kept = {c.idea_id for c in db.session.scalars(select(IdeaContact))}
        ideas = {i.reference: i.id for i in db.session.scalars(select(Idea)).unique()}
        kinds = [
            e.detail
            for e in db.session.scalars(
                select(IdeaEvent).where(IdeaEvent.kind == "contact_deleted")
            )
        ]
    assert kept == {ideas[refs[1]], ideas[refs[3]]}
    assert len(ideas) == 4  # the ideas themselves stay: they are public records
    assert kinds == ["retention", "retention"]


def test_retention_period_is_configurable(app: Flask, client: FlaskClient) -> None:
    ref = submit(client, email="q@example.se", contact_ok=True).json["reference"]
    close(app, ref, days_ago=10)
    app.config["IDEAS_CONTACT_RETENTION_DAYS"] = 7
    assert "1 contact record(s)" in app.test_cli_runner().invoke(args=["purge"]).output
