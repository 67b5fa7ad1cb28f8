"""Alembic environment: migrations run on the Flask app's engine and models."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

from consent_service import models  # noqa: F401  (registers every table on the metadata)
from consent_service.db import Model, UTCDateTime, db

config = context.config
app = config.attributes["flask_app"]


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy types, so migrations don't import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    with app.app_context(), db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Model.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
