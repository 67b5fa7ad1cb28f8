"""Free-text search of ideas for the board, with Swedish word forms: "cykelbanor" finds
"cykelbana".

PostgreSQL matches `to_tsvector('swedish', title || ' ' || body)` against
`plainto_tsquery('swedish', q)`: its own Snowball stemmer. SQLite has no Swedish stemmer, so
each idea keeps `search_stems`, the Snowball Swedish stems (the same algorithm, from the
`snowballstemmer` package) of its title and body between spaces, and a search asks for every
stem of the query at the start of a word there. The stems are written when an idea is received
(title and body never change) and filled in for older ideas after `db upgrade`.

Why not FTS5 on SQLite: its tokenizers stem English only, so the stems would have to be made
here anyway, and its shadow tables sit outside the models that the migration test compares.
Ideas come in by the thousand, not the million: a scan of one column per search is fine.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select, true, update

from consent_service.db import db
from consent_service.ideas.models import Idea

QUERY_MAX = 200
_WORD = re.compile(r"[^\W_]+")


def stem_words(text: str) -> list[str]:
    """The Swedish stems of the words in `text`, lower case, in order."""
    # Imported here: its word lists are 3 MB of every worker's memory, and only a submitted
    # idea or a staff search needs them.
    import snowballstemmer  # type: ignore[import-untyped]  # ships no type information

    # A stemmer object keeps state while it works: one per call, never shared between threads.
    stemmer = snowballstemmer.stemmer("swedish")
    return [str(stemmer.stemWord(word)) for word in _WORD.findall(text.casefold())]


def search_stems(title: str, body: str) -> str:
    """What an idea stores for SQLite's search: its stems, each between spaces."""
    return " " + " ".join(stem_words(f"{title}\n{body}")) + " "


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching(query: str) -> ColumnElement[bool]:
    """A WHERE clause for ideas matching every word of `query` (any form of it)."""
    query = query[:QUERY_MAX]
    if db.session.get_bind().dialect.name == "postgresql":
        swedish: ColumnElement[Any] = literal_column("'swedish'::regconfig")
        document = func.to_tsvector(swedish, Idea.title + " " + Idea.body)
        return document.bool_op("@@")(func.plainto_tsquery(swedish, query))
    stems = stem_words(query)
    if not stems:
        return true()
    return and_(*(Idea.search_stems.like(f"% {_like_escape(s)}%", escape="\\") for s in stems))


def fill_missing_stems() -> str:
    """After `db upgrade`: give ideas stored before search existed their stems."""
    filled = 0
    with db.writing() as session:
        rows = session.execute(
            select(Idea.id, Idea.title, Idea.body).where(Idea.search_stems.is_(None))
        ).all()
        for row in rows:
            session.execute(
                update(Idea)
                .where(Idea.id == row.id)
                .values(search_stems=search_stems(row.title, row.body))
            )
            filled += 1
    return f"search words of {filled} idea(s) filled in"
