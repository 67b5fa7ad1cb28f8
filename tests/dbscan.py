"""Read every value of every table, to prove something is stored nowhere (any backend)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import MetaData, select

from consent_service.db import db


def every_stored_value(app: Flask) -> str:
    """All values in the database as one text, one line per row."""
    lines: list[str] = []
    with app.app_context(), db.engine.connect() as conn:
        metadata = MetaData()
        metadata.reflect(conn)
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                lines.append(f"{table.name}: " + " | ".join(str(value) for value in row))
    return "\n".join(lines)
