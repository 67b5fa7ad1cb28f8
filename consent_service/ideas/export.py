"""CSV exports of ideas and evaluation figures, safe to open in a spreadsheet.

A cell starting with = + - @ (or a tab or carriage return) would be run as a formula by
Excel and LibreOffice; such cells get a leading apostrophe (OWASP ASVS 5.0 1.2.10).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select

from consent_service.db import db
from consent_service.ideas.catalog import SPAM, current_catalog
from consent_service.ideas.evaluation import FUNNEL, Evaluation
from consent_service.ideas.models import Idea
from consent_service.web.spreadsheet import neutralise

IDEA_COLUMNS = (
    "reference", "received_at", "language", "area", "topic", "page", "stage", "close_reason",
    "merged_into", "owner", "tags", "title", "body",
)  # fmt: skip


def safe_cell(value: object) -> str:
    cell: str = neutralise("" if value is None else str(value))
    return cell


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Stream rows as CSV text, one line (or quoted multi-line record) at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def idea_rows(include_spam: bool = False) -> Iterator[Sequence[object]]:
    """Every idea (without personal data): no names, e-mail addresses, notes or history."""
    catalog = current_catalog()
    yield IDEA_COLUMNS
    query = select(Idea).order_by(Idea.id)
    if not include_spam:
        query = query.where(Idea.stage != SPAM)
    for idea in db.session.scalars(query).unique():
        yield (
            idea.reference,
            idea.received_at.isoformat(timespec="seconds"),
            idea.language,
            catalog.area_label(idea.area, "sv"),
            idea.topic,
            idea.page,
            idea.stage,
            idea.close_reason,
            idea.merged_into.reference if idea.merged_into else None,
            idea.owner.name if idea.owner else None,
            ";".join(t.tag for t in idea.tags),
            idea.title,
            idea.body,
        )


def evaluation_rows(evaluation: Evaluation) -> Iterator[Sequence[object]]:
    yield ("month", *(label for _, label in evaluation.areas), "total")
    for month in evaluation.period.months:
        row = evaluation.per_month[month]
        yield (month, *(row[a] for a, _ in evaluation.areas), evaluation.month_total(month))
    yield ()
    yield ("stage", "reached", "share")
    for stage in FUNNEL:
        yield (stage, evaluation.reached[stage], f"{evaluation.share(stage):.3f}")
    yield ()
    yield ("stage", "completed_stays", "median_days", "mean_days")
    for time in evaluation.stage_times:
        yield (
            time.stage,
            time.count,
            "" if time.median_days is None else f"{time.median_days:.2f}",
            "" if time.mean_days is None else f"{time.mean_days:.2f}",
        )
