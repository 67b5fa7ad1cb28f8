"""Schema management through Alembic, driven from the app's own engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import text

from consent_service.db import db

if TYPE_CHECKING:
    # Alembic (with Mako) is about 11 MB of a worker's memory and only `db upgrade` and
    # `db revision` need it: imported when they run, not by every gunicorn worker.
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(app: Flask) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Migration files sort by date, as they were written.
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["flask_app"] = app
    return config


# Work a domain does once the schema is current (the consent domain archives the policy
# texts). It returns a line for the operator, or raises `UpgradeRefused`.
UpgradeHook = Callable[[], str]


class UpgradeRefused(RuntimeError):
    """A domain refuses the upgrade (e.g. changed policy texts under an old version)."""


def register_upgrade_hook(app: Flask, name: str, hook: UpgradeHook) -> None:
    hooks: dict[str, UpgradeHook] = app.extensions.setdefault("upgrade_hooks", {})
    hooks[name] = hook


def upgrade_database(app: Flask, revision: str = "head") -> list[str]:
    """Run the migrations, then every domain's after-upgrade hook; return their reports."""
    hooks: dict[str, UpgradeHook] = app.extensions.get("upgrade_hooks", {})
    from alembic import command

    with app.app_context(), _one_migrator_at_a_time():
        command.upgrade(alembic_config(app), revision)
        return [hook() for hook in hooks.values()]


# Any constant: the key of the PostgreSQL advisory lock that migrations hold.
MIGRATION_LOCK_KEY = 0x636F6E73656E74  # "consent"


@contextmanager
def _one_migrator_at_a_time() -> Iterator[None]:
    """Let instances started together migrate one after the other (PostgreSQL).

    Every instance's entrypoint runs `db upgrade`; the first migrates and archives the
    policy texts, the others wait here and then find nothing left to do. SQLite serves one
    machine, where its own write lock is enough.
    """
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        lock.commit()
        try:
            yield
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            lock.commit()


def new_revision(app: Flask, message: str) -> None:
    from alembic import command

    with app.app_context():
        command.revision(alembic_config(app), message=message, autogenerate=True)
