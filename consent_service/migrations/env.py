"""Alembic environment: migrations run on the Flask app's engine and models."""

from __future__ import annotations

from alembic import context

from consent_service import models  # noqa: F401  (registers every table on the metadata)
from consent_service.db import Model, db

config = context.config
app = config.attributes["flask_app"]


def run_migrations_online() -> None:
    with app.app_context(), db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Model.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
