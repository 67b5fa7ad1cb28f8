"""The consent log: the chain, checkpoints, exports, verification, retention and its pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the privacy officer's pages, `audit` commands, the purger and the gauge.

    And the transparency log: its settings, public endpoints, sequencer, gauges, readiness
    report and the upgrade hook that builds the Merkle tree.
    """
    from consent_service.admin.facts import register_settings_facts
    from consent_service.audit import api as log_api
    from consent_service.audit import views as audit_views
    from consent_service.audit.cli import audit_group, log_group
    from consent_service.audit.retention import purge_consent_log
    from consent_service.audit.sequencer import (
        build_tree,
        configure_log,
        init_sequencer,
        oldest_pending_age,
        pending_count,
        readiness,
    )
    from consent_service.audit.services import chain_head_seq
    from consent_service.audit.tiles_api import log_facts
    from consent_service.health import register_readiness_check
    from consent_service.metrics import register_database_gauge
    from consent_service.retention import register_purger
    from consent_service.schema import register_upgrade_hook
    from consent_service.web.csrf import csrf
    from consent_service.web.openapi import add_openapi

    configure_log(app)
    audit_views.register_audit_pages(app)
    app.register_blueprint(log_api.bp)
    # Public, read-only and cookie-free: no form tokens.
    csrf.exempt(log_api.bp)
    add_openapi(app, log_api.PATHS)
    app.cli.add_command(audit_group)
    app.cli.add_command(log_group)
    register_purger(app, "consent log", purge_consent_log)
    register_database_gauge(
        app, "chain_head_seq", "Sequence number of the newest consent-log entry.", chain_head_seq
    )
    register_database_gauge(
        app, "log_pending_entries", "Acknowledged decisions not yet in the log.", pending_count
    )
    register_database_gauge(
        app,
        "log_integration_lag_seconds",
        "Age of the oldest acknowledged decision not yet in the log (0 when none).",
        oldest_pending_age,
    )
    register_readiness_check(app, "consent_log", readiness)
    register_upgrade_hook(app, "merkle tree", build_tree)
    register_settings_facts(app, log_facts)
    init_sequencer(app)
