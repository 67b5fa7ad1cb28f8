"""A team member's saved filters: a name for the board's or the idea list's query string.

Only the filters those pages know are kept (anything else in the query string is dropped),
so a saved filter is a link to the same page with the same selection, nothing more.
Per user: nobody sees or deletes another member's filters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from sqlalchemy import func, select

from consent_service.admin.models import User
from consent_service.db import db, utcnow
from consent_service.ideas.board import BoardError
from consent_service.ideas.models import IdeaSavedFilter

NAME_MAX = 60
VALUE_MAX = 200
FILTERS_PER_USER = 30
# The page → the query parameters it filters by, in the order they are written.
VIEWS = {
    "board": ("challenge",),
    "list": ("q", "stage", "area", "owner", "tag", "age"),
}


class FilterError(BoardError):
    """A filter the rules refuse; nothing was saved."""


def normalised_query(view: str, args: Mapping[str, str]) -> str:
    """The page's own filters of `args` as a query string ("" when there are none)."""
    if view not in VIEWS:
        raise FilterError("Okänd sida för ett filter.")
    kept = []
    for key in VIEWS[view]:
        value = " ".join((args.get(key) or "").split())
        if value:
            if len(value) > VALUE_MAX:
                raise FilterError(f"Ett filtervärde får vara högst {VALUE_MAX} tecken.")
            kept.append((key, value))
    return urlencode(kept)


def save_filter(user: User, name: str, view: str, args: Mapping[str, str]) -> IdeaSavedFilter:
    """Save the filter under `name`; the same name again replaces it."""
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise FilterError(f"Ge filtret ett namn på 1 till {NAME_MAX} tecken.")
    query = normalised_query(view, args)
    if not query:
        raise FilterError("Det finns inget filter att spara: välj först vad som ska visas.")
    with db.writing() as session:
        existing = session.scalar(
            select(IdeaSavedFilter).where(
                IdeaSavedFilter.user_id == user.id, IdeaSavedFilter.name == name
            )
        )
        if existing is not None:
            existing.view, existing.query = view, query
            return existing
        count = session.scalar(
            select(func.count())
            .select_from(IdeaSavedFilter)
            .where(IdeaSavedFilter.user_id == user.id)
        )
        if (count or 0) >= FILTERS_PER_USER:
            raise FilterError(
                f"Du har redan {FILTERS_PER_USER} sparade filter. Ta bort något först."
            )
        saved = IdeaSavedFilter(user_id=user.id, name=name, view=view, query=query,
                                created_at=utcnow())  # fmt: skip
        session.add(saved)
    return saved


def filters_of(user: User) -> Sequence[IdeaSavedFilter]:
    return db.session.scalars(
        select(IdeaSavedFilter)
        .where(IdeaSavedFilter.user_id == user.id)
        .order_by(func.lower(IdeaSavedFilter.name), IdeaSavedFilter.id)
    ).all()


def delete_filter(user: User, filter_id: int) -> str | None:
    """Delete one of the user's own filters; its name, or None when they have no such one."""
    with db.writing() as session:
        found = session.get(IdeaSavedFilter, filter_id)
        if found is None or found.user_id != user.id:
            return None
        session.delete(found)
        return found.name
