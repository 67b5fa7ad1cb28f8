"""Retention: `purge` removes records past the retention decision and the chain still verifies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from consent_service.audit.models import ChainLink, ConsentEntry, PurgeRecord
from consent_service.config import ConfigError, load_settings
from consent_service.db import db
from consent_service.web.formatting import format_number
from tests.audit.conftest import add_entries
from tests.audit.test_chain import sql

LONG_AGO = dt.datetime.now(dt.UTC) - dt.timedelta(days=1500)


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(ConsentEntry)) or 0
        links = db.session.scalar(select(func.count()).select_from(ChainLink)) or 0
    return entries, links


def test_purge_removes_old_records_per_action_and_keeps_the_chain(
    app: Flask, runner: FlaskCliRunner
) -> None:
    app.config["RETENTION_DAYS"] = {"grant": 1095, "update": 1095, "withdraw": 1900}
    add_entries(app, 3, start=LONG_AGO, action="grant")  # 1-3: past retention
    add_entries(app, 2, start=LONG_AGO, action="withdraw")  # 4-5: withdrawals kept longer
    add_entries(app, 2, action="grant")  # 6-7: recent
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "consent log: 3 consent-log records removed; purge recorded as entry 8" in result.output
    assert counts(app) == (4, 8)
    with app.app_context():
        purge = db.session.get(PurgeRecord, 8)
        assert purge is not None
        assert (purge.removed_count, purge.first_removed_seq, purge.last_removed_seq) == (3, 1, 3)
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "3 records removed by recorded purges" in verified.output
    again = runner.invoke(args=["purge"])
    assert "0 consent-log records removed; purge recorded as entry 9" in again.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_record_deleted_outside_a_purge_is_still_found(
    app: Flask, runner: FlaskCliRunner
) -> None:
    add_entries(app, 2, start=LONG_AGO)
    add_entries(app, 3)
    runner.invoke(args=["purge"])
    sql(app, "DELETE FROM consent_log_entries WHERE seq = 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN at entry 4: the log record is missing" in result.output


def test_claiming_a_deleted_record_was_purged_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 2, start=LONG_AGO)
    add_entries(app, 3)
    runner.invoke(args=["purge"])  # purge is entry 6
    sql(app, "DELETE FROM consent_log_entries WHERE seq = 4")
    sql(app, "UPDATE audit_chain_links SET purged_in = 6 WHERE seq = 4")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at entry 6: the purge record does not match" in result.output


def test_a_deleted_purge_record_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 2, start=LONG_AGO)
    runner.invoke(args=["purge"])
    sql(app, "DELETE FROM audit_purges")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN at entry 3: the log record is missing" in result.output


def test_an_altered_purge_record_is_found(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 2, start=LONG_AGO)
    runner.invoke(args=["purge"])
    sql(app, "UPDATE audit_purges SET removed_count = 1")
    result = runner.invoke(args=["audit", "verify"])
    assert (
        result.exit_code == 1 and "BROKEN at entry 3: the log record was altered" in result.output
    )


def test_the_retention_page_shows_settings_and_last_purge(
    app: Flask, runner: FlaskCliRunner, officer: FlaskClient
) -> None:
    add_entries(app, 2, start=LONG_AGO)
    assert "Ingen gallring har körts" in officer.get("/admin/audit/retention").get_data(True)
    runner.invoke(args=["purge"])
    html = officer.get("/admin/audit/retention").get_data(as_text=True)
    assert format_number(1095) in html and "2 poster togs bort (nummer 1\u20132)" in html
    log = officer.get("/admin/audit/access-log").get_data(as_text=True)
    assert "Gallring" in log and "cli:" in log


@pytest.mark.parametrize(
    ("raw", "message"),
    [("[1]", "JSON object"), ("{", "JSON object"), ('{"grant": 30}', "at least"),
     ('{"grant": "1095"}', "whole number"), ('{"grant": true}', "whole number"),
     ('{"ideas": 1095}', "unknown action")],
)  # fmt: skip
def test_retention_settings_are_validated(tmp_path: Path, raw: str, message: str) -> None:
    env = {"CONSENT_ENV": "development", "CONSENT_RETENTION_DAYS": raw}
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, env)


def test_retention_settings_merge_over_the_defaults(tmp_path: Path) -> None:
    env = {"CONSENT_ENV": "development", "CONSENT_RETENTION_DAYS": '{"withdraw": 1825}'}
    days = load_settings(tmp_path, env)["RETENTION_DAYS"]
    assert days == {"grant": 1095, "update": 1095, "withdraw": 1825}
