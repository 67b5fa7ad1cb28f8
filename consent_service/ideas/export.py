"""CSV exports of ideas and evaluation figures for the innovation team's spreadsheets.

Files for people (`web/spreadsheet.py`): a BOM so Excel reads å ä ö, Swedish column names,
stage and close-reason names instead of codes, Swedish dates and decimals, and no cell that
a spreadsheet would run as a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select

from consent_service.db import db
from consent_service.ideas.board import stage_name
from consent_service.ideas.catalog import SPAM, current_catalog
from consent_service.ideas.evaluation import FUNNEL, Evaluation
from consent_service.ideas.models import Idea
from consent_service.web.spreadsheet import csv_rows

IDEA_COLUMNS = (
    "Referens", "Inkom (UTC)", "Språk", "Område", "Ämne", "Sida", "Steg", "Orsak till avslut",
    "Sammanslagen med", "Ägare", "Taggar", "Rubrik", "Text", "Utmaning", "På öppna idésidan",
)  # fmt: skip


def csv_lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Stream rows, the first being the header, as a CSV file for people."""
    remaining = iter(rows)
    return csv_rows(next(remaining, ()), remaining, for_people=True)


def idea_rows(include_spam: bool = False) -> Iterator[Sequence[object]]:
    """Every idea (without personal data): no names, e-mail addresses, notes or history."""
    catalog = current_catalog()
    yield IDEA_COLUMNS
    query = select(Idea).order_by(Idea.id)
    if not include_spam:
        query = query.where(Idea.stage != SPAM)
    reasons = catalog.texts["sv"]["close_reasons"]
    for idea in db.session.scalars(query).unique():
        yield (
            idea.reference,
            idea.received_at,
            idea.language,
            catalog.area_label(idea.area, "sv"),
            idea.topic,
            idea.page,
            stage_name(idea.stage),
            reasons.get(idea.close_reason, idea.close_reason) if idea.close_reason else None,
            idea.merged_into.reference if idea.merged_into else None,
            idea.owner.name if idea.owner else None,
            ", ".join(t.tag for t in idea.tags),
            idea.title,
            idea.body,
            # Added later: at the end, so that sheets that read columns by position still work.
            idea.challenge.slug if idea.challenge else None,
            "ja" if idea.published else "nej",
        )


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def evaluation_rows(evaluation: Evaluation) -> Iterator[Sequence[object]]:
    """The evaluation page's three tables, one under the other (decimals as "12,5")."""
    yield ("Månad", *(label for _, label in evaluation.areas), "Totalt")
    for month in evaluation.period.months:
        row = evaluation.per_month[month]
        yield (month, *(row[a] for a, _ in evaluation.areas), evaluation.month_total(month))
    yield ()
    yield ("Steg", "Nådde steget", "Andel (%)")
    for stage in FUNNEL:
        share = float(round(evaluation.share(stage) * 100, 1))
        yield (stage_name(stage), evaluation.reached[stage], share)
    yield ()
    yield ("Steg", "Avslutade vistelser", "Median (dagar)", "Medel (dagar)")
    for time in evaluation.stage_times:
        yield (stage_name(time.stage), time.count, _days(time.median_days), _days(time.mean_days))
