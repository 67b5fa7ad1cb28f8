"""The consent log's purger for `consent-service purge` (the retention decision)."""

from __future__ import annotations

from flask import current_app

from consent_service.admin.access import cli_actor, record_access
from consent_service.audit.services import purge_expired_entries
from consent_service.db import db


def purge_consent_log() -> str:
    """Remove consent-log records past `RETENTION_DAYS`; the purge is chained as a record."""
    retention: dict[str, int] = current_app.config["RETENTION_DAYS"]
    with db.writing() as session:
        outcome = purge_expired_entries(session, retention)
        purge = outcome.purge
        details = {
            "retention_days": retention,
            "removed": purge.removed_count,
            "purge_seq": purge.seq,
        }
    record_access(cli_actor(), "purge", details, summary=outcome.describe())
    return outcome.describe()
