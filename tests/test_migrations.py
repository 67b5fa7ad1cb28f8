"""Migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from consent_service import models  # noqa: F401
from consent_service.db import Model, db


def test_upgrade_head_leaves_nothing_for_autogenerate(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Model.metadata)
    assert diff == []


def test_chain_head_starts_at_genesis(app: Flask) -> None:
    from consent_service.audit.models import ChainHead

    with app.app_context():
        head = db.session.get(ChainHead, "consent")
    assert head is not None and head.seq == 0 and head.hash == "0" * 64
