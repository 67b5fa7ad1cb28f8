"""The service with its SQLite file capped at DISK_FULL_MAX_PAGES pages: a full disk, on cue.

SQLite's `max_page_count` is per connection, so it is set on every new connection. Used by
bench/reliability.py only.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from sqlalchemy import event

from consent_service import create_app as create_service


def create_app() -> Flask:
    app = create_service()
    pages = int(os.environ["DISK_FULL_MAX_PAGES"])

    @event.listens_for(app.extensions["consent_db"].engine, "connect")
    def _cap(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    return app
