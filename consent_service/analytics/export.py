"""Export of the raw events as CSV or NDJSON, streamed with flat memory."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from sqlalchemy import func, select

from consent_service.analytics.models import AnalyticsEvent
from consent_service.db import db
from consent_service.web.spreadsheet import csv_rows

E = AnalyticsEvent
COLUMNS = ("id", "site", "day", "occurred_at", "type", "host", "path", "referrer_host", "name",
           "props", "visitor", "language", "screen", "browser", "os", "device")  # fmt: skip
CHUNK = 5000


def _where(start: dt.date | None, end: dt.date | None) -> list[Any]:
    where = []
    if start is not None:
        where.append(E.day >= start)
    if end is not None:
        where.append(E.day <= end)
    return where


def count_events(start: dt.date | None = None, end: dt.date | None = None) -> int:
    return int(
        db.session.scalar(select(func.count()).where(*_where(start, end)).select_from(E)) or 0
    )


def _rows(start: dt.date | None, end: dt.date | None) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of rows in id order, read by key so that no chunk costs more than the last."""
    columns = [getattr(E, c) for c in COLUMNS]
    last = 0
    while True:
        stmt = select(*columns).where(E.id > last, *_where(start, end)).order_by(E.id)
        chunk = [tuple(row) for row in db.session.execute(stmt.limit(CHUNK))]
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]
        db.session.expunge_all()


def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def export_events(
    out: TextIO,
    fmt: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Write the raw events to `out`; call `progress` with the rows written after each chunk.

    The CSV is for programs (codes, ISO 8601, no BOM), like the NDJSON.
    """
    written = 0

    def counted() -> Iterator[list[Any]]:
        nonlocal written
        for chunk in _rows(start, end):
            yield from ([_text(v) for v in row] for row in chunk)
            written += len(chunk)
            progress(len(chunk))

    if fmt == "csv":
        for text in csv_rows(COLUMNS, counted(), for_people=False, flush_every=CHUNK):
            out.write(text)
        return written
    for values in counted():
        record = dict(zip(COLUMNS, values, strict=True))
        record["props"] = json.loads(record["props"]) if record["props"] else None
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return written
