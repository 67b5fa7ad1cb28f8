"""The consent log: the chain, checkpoints, exports, verification, retention and its pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the privacy officer's pages, `audit` commands, the purger and the gauge."""
    from consent_service.audit import views as audit_views
    from consent_service.audit.cli import audit_group
    from consent_service.audit.retention import purge_consent_log
    from consent_service.audit.services import chain_head_seq
    from consent_service.metrics import register_database_gauge
    from consent_service.retention import register_purger

    audit_views.register_audit_pages(app)
    app.cli.add_command(audit_group)
    register_purger(app, "consent log", purge_consent_log)
    register_database_gauge(
        app, "chain_head_seq", "Sequence number of the newest consent-log entry.", chain_head_seq
    )
