"""Real gunicorn instances on loopback ports for the multi-instance tests, and a tiny client."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from consent_service.audit.log_models import PendingEntry
from consent_service.db import db
from tests.helpers.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
# A secret key that passes the production checks, for the instances these tests start.
SAFE_KEY = "Xq3-vL9_mW2pR7tK5yN8bC4hF6jD1gS0aZ"


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def cookie(self, name: str) -> str | None:
        for header in self.headers.get_all("Set-Cookie") or []:
            key, _, rest = header.partition("=")
            if key == name:
                return rest.split(";", 1)[0]
        return None


@dataclass
class Instance:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_dir: Path
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def post_json(self, path: str, data: object, **kwargs: Any) -> Reply:
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.request("POST", path, json.dumps(data).encode(), headers=headers, **kwargs)

    def post_form(self, path: str, form: dict[str, str], cookies: dict[str, str]) -> Reply:
        from urllib.parse import urlencode

        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, urlencode(form).encode(), headers, cookies)

    def access_log(self) -> list[dict[str, Any]]:
        lines = (self.log_dir / f"{self.name}.out").read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def error_log(self) -> str:
        return (self.log_dir / f"{self.name}.err").read_text()


@contextlib.contextmanager
def instances(
    app_spec: str, environments: dict[str, dict[str, str]], log_dir: Path, workers: int = 2
) -> Iterator[dict[str, Instance]]:
    """Start one gunicorn per named environment (in parallel), wait until all answer."""
    started: dict[str, Instance] = {}
    try:
        for name, env in environments.items():
            port = free_port()
            command = [str(GUNICORN), "-c", str(CONFIG), "--bind", f"127.0.0.1:{port}",
                       "--workers", str(workers), app_spec]  # fmt: skip
            with (
                (log_dir / f"{name}.out").open("wb") as out,
                (log_dir / f"{name}.err").open("wb") as err,
            ):
                process = subprocess.Popen(
                    command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=err
                )
            started[name] = Instance(name, port, process, log_dir)
        deadline = time.monotonic() + 60
        for instance in started.values():
            while True:
                with contextlib.suppress(OSError):
                    if instance.request("GET", "/healthz").status == 200:
                        break
                if instance.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{instance.name} did not start:\n{instance.error_log()}")
                time.sleep(0.1)
        yield started
    finally:
        for instance in started.values():
            instance.process.terminate()
        for instance in started.values():
            try:
                instance.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                instance.process.kill()
                instance.process.wait()


def wait_until_integrated(app: Flask, seconds: float) -> None:
    """Wait until no decision is pending: the sequencer (a thread in whichever worker of
    the instances holds the lock) has integrated every acknowledged one."""
    deadline = time.monotonic() + seconds
    with app.app_context():
        while db.session.scalar(select(func.count()).select_from(PendingEntry)):
            assert time.monotonic() < deadline, f"decisions were left pending for {seconds} s"
            db.session.rollback()
            time.sleep(0.05)
