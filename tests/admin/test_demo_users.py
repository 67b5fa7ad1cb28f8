"""`consent-service users demo`: one account per role, random passwords printed once."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from consent_service.admin.models import Role
from tests.conftest import make_app
from tests.helpers.staff import sign_in


def test_demo_accounts_are_created_once_and_can_sign_in(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "demo"])
    assert first.exit_code == 0, first.output
    accounts = dict(re.findall(r"^\s+\w+\s+(demo-[\w-]+)\s+(\S+)$", first.output, re.M))
    assert len(accounts) == len(Role)
    assert len(set(accounts.values())) == len(Role) and all(len(p) >= 12 for p in accounts.values())
    again = runner.invoke(args=["users", "demo"])
    assert again.exit_code == 0 and again.output.count("exists already") == len(Role)
    assert not any(p in again.output for p in accounts.values())
    client = app.test_client()
    name, password = next(iter(accounts.items()))
    assert sign_in(client, name, password) == 303


def test_demo_accounts_are_refused_in_production(tmp_path: Path) -> None:
    app = make_app(tmp_path, CONSENT_MODE="production", COOKIE_SECURE=True)
    result = app.test_cli_runner().invoke(args=["users", "demo"])
    assert result.exit_code == 1 and "development only" in result.output
