"""Annotations: dated notes editors put on a site's chart ("Ny startsida publicerad")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from consent_service.analytics.editor_models import Annotation
from consent_service.analytics.reports import Period
from consent_service.db import db

MAX_TEXT = 200
# The days a note may be about: the statistics' own horizon (25 months back) and a year ahead,
# for a planned change.
EARLIEST = dt.date(2000, 1, 1)


class AnnotationError(ValueError):
    """The note cannot be saved as given; the message says why (in Swedish, for editors)."""


def _checked(day: str, text: str) -> tuple[dt.date, str]:
    try:
        when = dt.date.fromisoformat(day.strip())
    except ValueError:
        raise AnnotationError("Ange dagen som ett datum, till exempel 2026-03-02.") from None
    if not EARLIEST <= when <= dt.date.today() + dt.timedelta(days=366):
        raise AnnotationError("Dagen ligger för långt bak eller fram i tiden.")
    text = " ".join(text.split())
    if not text:
        raise AnnotationError("Skriv vad som hände, till exempel Ny startsida publicerad.")
    if len(text) > MAX_TEXT:
        raise AnnotationError(f"En anteckning är högst {MAX_TEXT} tecken.")
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise AnnotationError("Anteckningen innehåller tecken som inte kan sparas.")
    return when, text


def add_annotation(site: str, day: str, text: str, *, by: str, now: dt.datetime) -> Annotation:
    when, clean = _checked(day, text)
    with db.writing() as session:
        note = Annotation(site=site, day=when, text=clean, created_by=by, created_at=now)
        session.add(note)
        session.flush()
        session.expunge(note)
    return note


def update_annotation(
    site: str, note_id: int, day: str, text: str, *, by: str, now: dt.datetime
) -> Annotation | None:
    """Change a note's day and text; None when the site has no such note."""
    when, clean = _checked(day, text)
    with db.writing() as session:
        note = session.scalar(
            select(Annotation).where(Annotation.site == site, Annotation.id == note_id)
        )
        if note is None:
            return None
        note.day, note.text, note.updated_by, note.updated_at = when, clean, by, now
        session.flush()
        session.expunge(note)
    return note


def remove_annotation(site: str, note_id: int) -> bool:
    with db.writing() as session:
        result = session.execute(
            delete(Annotation).where(Annotation.site == site, Annotation.id == note_id)
        )
        return bool(getattr(result, "rowcount", 0))


def get_annotation(site: str, note_id: int) -> Annotation | None:
    note = db.session.scalar(
        select(Annotation).where(Annotation.site == site, Annotation.id == note_id)
    )
    if note is not None:
        db.session.expunge(note)
    db.session.rollback()
    return note


def annotations_in(site: str, period: Period) -> list[Annotation]:
    """The site's notes on the days of `period`, by day (then as they were added)."""
    notes = list(
        db.session.scalars(
            select(Annotation)
            .where(Annotation.site == site, Annotation.day >= period.start,
                   Annotation.day <= period.end)
            .order_by(Annotation.day, Annotation.id)
        )
    )  # fmt: skip
    for note in notes:
        db.session.expunge(note)
    db.session.rollback()
    return notes
