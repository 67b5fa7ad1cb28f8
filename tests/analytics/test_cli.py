"""`consent-service analytics export|rollup` and the analytics part of `purge`; settings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from consent_service.config import ConfigError, load_settings
from tests.analytics.conftest import consent_cookie, pageview, send


@pytest.fixture
def events(app: Flask, client: FlaskClient) -> None:
    send(client, [pageview("/a"), pageview("=cmd|' /C calc'!A0".replace("=", "/=")),
                  {"type": "event", "name": "search", "path": "/s", "props": {"q": "=1+1"}}],
         cookie=consent_cookie(app))  # fmt: skip


def test_export_ndjson(runner: FlaskCliRunner, events: None, tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    result = runner.invoke(args=["analytics", "export", "--format", "ndjson", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["path"] for r in lines] == ["/a", "/=cmd|' /C calc'!A0", "/s"]
    assert lines[2]["props"] == {"q": "=1+1"} and lines[0]["type"] == "pageview"
    assert set(lines[0]) >= {"day", "occurred_at", "visitor", "browser", "device"}
    assert "3 event(s) exported as ndjson" in result.output  # stderr: the progress and summary


def test_export_csv_neutralises_formulas(runner: FlaskCliRunner, events: None) -> None:
    result = runner.invoke(args=["analytics", "export", "--format", "csv", "--from", "2000-01-01"])
    assert result.exit_code == 0
    text = result.output.split("3 event(s) exported")[0]
    rows = list(csv.DictReader(io.StringIO(text[text.index("id,site") :])))
    assert len(rows) == 3
    assert rows[2]["props"] == '{"q":"=1+1"}'  # JSON text starts with "{", nothing to neutralise
    empty = runner.invoke(args=["analytics", "export", "--format", "csv", "--to", "2000-01-01"])
    assert "0 event(s) exported" in empty.output


def test_rollup_and_purge_commands(runner: FlaskCliRunner, events: None) -> None:
    result = runner.invoke(args=["analytics", "rollup"])
    assert result.exit_code == 0 and "1 day(s) rolled up" in result.output
    purge = runner.invoke(args=["purge"])
    assert purge.exit_code == 0 and "analytics: " in purge.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CONSENT_ANALYTICS_RAW_DAYS": "abc"}, "whole number"),
        ({"CONSENT_ANALYTICS_RAW_DAYS": "0"}, "at least 1 day"),
        ({"CONSENT_ANALYTICS_RAW_DAYS": "400", "CONSENT_ANALYTICS_AGGREGATE_DAYS": "100"},
         "must not be shorter"),
        ({"CONSENT_ANALYTICS_QUERY_PARAMS": "ok,bad name"}, "not a query parameter"),
        ({"CONSENT_ANALYTICS_TIMEZONE": "Mars/Olympus"}, "unknown time zone"),
    ],
)  # fmt: skip
def test_unsafe_analytics_settings_refuse_to_start(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path, {"CONSENT_ENV": "development", **env})


def test_analytics_settings_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, {"CONSENT_ENV": "development",
                                        "CONSENT_ANALYTICS_QUERY_PARAMS": "q, sida"})  # fmt: skip
    assert settings["ANALYTICS_RAW_DAYS"] == 396  # 13 months
    assert settings["ANALYTICS_AGGREGATE_DAYS"] == 761  # 25 months
    assert settings["ANALYTICS_QUERY_PARAMS"] == ["q", "sida"]
    assert settings["ANALYTICS_TIMEZONE"] == "Europe/Stockholm"
