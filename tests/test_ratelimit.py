"""Shared rate-limit counters: counted in the database, so every worker sees the same count."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from consent_service.ratelimit import hit, peek
from tests.conftest import make_app


def test_limit_holds_across_two_app_instances_on_one_database(app: Flask, tmp_path: Path) -> None:
    # A second app object on the same database file stands in for another worker or instance.
    other = make_app(tmp_path, migrate=False)
    with app.test_request_context():
        assert [hit("t", "client-1", 3, 60).allowed for _ in range(2)] == [True, True]
    with other.test_request_context():
        assert hit("t", "client-1", 3, 60).allowed
        blocked = hit("t", "client-1", 3, 60)
        assert not blocked.allowed and 1 <= blocked.retry_after <= 60
        assert hit("t", "client-2", 3, 60).allowed  # other clients are unaffected
        assert not peek("t", "client-1", 3, 60).allowed


def test_purge_command_removes_expired_counters(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "rate limits:" in result.output
