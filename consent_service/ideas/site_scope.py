"""The innovation team's pages show the ideas of the site they work on, and only those.

Every ORM query for ideas made while answering a staff page gets `Idea.site == <the request's
site>` added (SQLAlchemy's `with_loader_criteria`, its documented way of scoping every query to
a tenant), so that no board, list, count or export of the team can forget it. Citizens' pages
(the status link from an e-mail carries no site) and commands are not scoped.
"""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from consent_service.ideas.models import Idea
from consent_service.sites.services import current_site

STAFF_PATHS = "/admin"


def _scope_to_site(state: ORMExecuteState) -> None:
    if not state.is_select or not has_request_context():
        return
    if not request.path.startswith(STAFF_PATHS) or state.is_column_load:
        return
    domain = current_site().domain
    state.statement = state.statement.options(
        with_loader_criteria(Idea, lambda cls: cls.site == domain, include_aliases=True)
    )


def install() -> None:
    """Once per process: scope every session's idea queries on staff pages."""
    if not event.contains(Session, "do_orm_execute", _scope_to_site):
        event.listen(Session, "do_orm_execute", _scope_to_site)
