"""`consent-service` lists every command before it is configured, and refuses to run them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "consent-service"


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # An empty environment: production mode by default, no keys, no database URL.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [str(SCRIPT), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def commands_in(help_text: str) -> set[str]:
    section = help_text.split("Commands:", 1)[1]
    return set(re.findall(r"^  (\S+)", section, re.MULTILINE))


def test_help_lists_every_command_with_an_empty_environment(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    listed = commands_in(result.stdout)
    assert {"db", "audit", "users", "analytics", "purge", "check"} <= listed, result.stdout
    assert "Traceback" not in result.stderr


def test_a_command_group_shows_its_help_too(tmp_path: Path) -> None:
    result = run(tmp_path, "users", "--help")
    assert result.returncode == 0, result.stderr
    assert {"create", "demo"} <= commands_in(result.stdout)
    assert "--role" in run(tmp_path, "users", "create", "--help").stdout


@pytest.mark.parametrize("args", [["users", "create", "--role", "editor", "x"], ["purge"]])
def test_a_command_fails_only_when_it_runs(tmp_path: Path, args: list[str]) -> None:
    result = run(tmp_path, *args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "CONSENT_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
