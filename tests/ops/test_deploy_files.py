"""deploy/: env.example lists every setting; the entrypoint refuses, migrates, then serves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import choice_body
from tests.ops.servers import ROOT, SAFE_KEY, Instance, free_port

DEPLOY = ROOT / "deploy"


def settings_read_by_config() -> set[str]:
    """Every CONSENT_* name config.py reads: the name argument of its getters."""
    source = (ROOT / "consent_service" / "config.py").read_text()
    return set(re.findall(r"(?:\w\(\s*|\bget,\s*)\"([A-Z][A-Z0-9_]+)\"", source))


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    example = (DEPLOY / "env.example").read_text()
    listed = set(re.findall(r"^#?CONSENT_([A-Z0-9_]+)=", example, re.MULTILINE))
    read = settings_read_by_config()
    # The scan sees both kinds of getter.
    assert {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN", "IDEAS_RATE_LIMIT"} <= read
    assert read - listed == set(), "add these to deploy/env.example"
    assert listed - read == set(), "deploy/env.example lists settings nobody reads"


def _entrypoint_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CONSENT_ENV": "production",
        "CONSENT_SECRET_KEY": SAFE_KEY,
        "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.test",
        "CONSENT_ALLOWED_ORIGINS": "https://www.uppsala.test",
        "CONSENT_COOKIE_DOMAIN": ".uppsala.test",
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp_path}/consent.sqlite3",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        **extra,
    }


def test_the_entrypoint_refuses_an_unsafe_configuration(tmp_path: Path) -> None:
    env = _entrypoint_env(tmp_path, free_port(), CONSENT_ENV="development")
    run = subprocess.run([str(DEPLOY / "entrypoint.sh")], env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert run.returncode == 1
    assert "consent.E002" in run.stderr
    assert not (tmp_path / "consent.sqlite3").exists()  # stopped before migrating


def test_the_entrypoint_migrates_then_serves(tmp_path: Path) -> None:
    port = free_port()
    env = _entrypoint_env(tmp_path, port)
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        process = subprocess.Popen([str(DEPLOY / "entrypoint.sh")], env=env, stdout=out,
                                   stderr=err, cwd=tmp_path)  # fmt: skip
    instance = Instance("entry", port, process, tmp_path)
    try:
        deadline = time.monotonic() + 90
        ready = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = instance.request("GET", "/readyz")
                break
            except OSError:
                time.sleep(0.2)
        assert ready is not None and ready.status == 200, (tmp_path / "err").read_text()
        body = choice_body(source="api")
        assert instance.post_json("/api/v1/consent", body).status == 201
        errors = (tmp_path / "err").read_text()
        # The check's warnings are shown (SQLite, no proxy) and the start went on.
        assert "consent.W012" in errors and "database at head" in (tmp_path / "out").read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)
