"""Shared pieces of the benchmarks: gunicorn servers on free loopback ports and wrk runs.

Figures, never pass/fail: the machine is shared and noisy, so every run measures a baseline
(a bare Flask endpoint) beside the service under the same gunicorn settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
BENCH_SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
    return shutil.which("wrk") or "wrk"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def pids(self) -> list[int]:
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                                  text=True).stdout.split()  # fmt: skip
        return [int(p) for p in children]

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.pids():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                match = re.search(r"VmRSS:\s+(\d+) kB", status)
                if match:
                    sizes.append(int(match.group(1)) / 1024)
        return sizes


@contextlib.contextmanager
def gunicorn(app_spec: str, env: dict[str, str], workers: int = 2) -> Iterator[Server]:
    port = free_port()
    command = [str(VENV_BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "--bind",
               f"127.0.0.1:{port}", "--workers", str(workers), "--access-logfile", "/dev/null",
               app_spec]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)  # noqa: S310 (loopback)
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"gunicorn {app_spec} did not start")
    try:
        yield Server(url, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int


def _ms(value: str) -> float:
    number, unit = float(value[:-2] if value.endswith(("ms", "us")) else value[:-1]), value
    if unit.endswith("us"):
        return number / 1000
    if unit.endswith("ms"):
        return number
    return number * 1000  # seconds


def wrk_post(url: str, body: dict[str, object] | list[object], seconds: int = 10,
             connections: int = 16, content_type: str = "application/json",
             headers: dict[str, str] | None = None,
             unique_field: str | None = None) -> WrkResult:  # fmt: skip
    """POST the same body for `seconds` with `connections` open connections.

    `unique_field`: a top-level field of a JSON object `body` that gets a new value in every
    request (as the banner's `request_id`, a retry key that is never reused).
    """
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(json.dumps(body))}",
        f'wrk.headers["Content-Type"] = "{content_type}"',
        *(f'wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items()),
    ]
    if unique_field is not None:
        assert isinstance(body, dict)
        marker = "\u0000unique\u0000"
        head, tail = json.dumps({**body, unique_field: marker}).split(json.dumps(marker))
        # Each wrk thread has its own Lua state: ids are run prefix, thread number, counter.
        lines += [
            f"local head, tail = {json.dumps(head + chr(34))}, {json.dumps(chr(34) + tail)}",
            f'local prefix = "{os.urandom(8).hex()}"',
            "local threads, counter = 0, 0",
            "function setup(thread) threads = threads + 1; thread:set('tid', threads) end",
            "function request()",
            "  counter = counter + 1",
            '  local id = prefix .. "-" .. tid .. "-" .. counter',
            "  return wrk.format(nil, nil, nil, head .. id .. tail)",
            "end",
        ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    out = subprocess.run(
        [ensure_wrk(), f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
         "--latency", "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The latency distribution's own lines: "    50%    3.52ms". A bare "50%" also matches
    # the end of a thread-stats line such as "... 87.50%", followed by the next label.
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return WrkResult(rps, p50, p99, int(non_2xx_match.group(1)) if non_2xx_match else 0, total)


def wrk_get(url: str, seconds: int = 10, connections: int = 16,
            headers: dict[str, str] | None = None) -> WrkResult:  # fmt: skip
    """GET `url` for `seconds` with `connections` open connections."""
    lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    out = subprocess.run(
        [ensure_wrk(), f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
         "--latency", "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return WrkResult(rps, p50, p99, int(non_2xx_match.group(1)) if non_2xx_match else 0, total)


def shipped_policy_version() -> int:
    """The packaged policy's version: what the benchmarks' choices answer."""
    from consent_service.config import DEFAULT_POLICY_FILE
    from consent_service.sites.policy import load_policy

    return load_policy(DEFAULT_POLICY_FILE).version


def service_env(tmp: Path) -> dict[str, str]:
    return {
        "CONSENT_ENV": "development",
        "CONSENT_SECRET_KEY": BENCH_SECRET,
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        # One client (127.0.0.1) that retries on purpose: replays must not be rate-limited.
        "CONSENT_REPLAY_RATE_LIMIT": "100000",
    }


@dataclass
class DurablePostgres:
    url: str
    settings: dict[str, str]  # fsync, synchronous_commit, server_version as the server reports

    def describe(self) -> str:
        version = self.settings["server_version"].split()[0]
        return (f"PostgreSQL {version}: fsync={self.settings['fsync']}, "
                f"synchronous_commit={self.settings['synchronous_commit']}")  # fmt: skip


@contextlib.contextmanager
def durable_postgres(database: str = "consent_bench") -> Iterator[DurablePostgres]:
    """A throwaway PostgreSQL with production durability and one empty database.

    The test harness's server (tests/postgres.py) in its durable mode: PostgreSQL's defaults,
    fsync and synchronous_commit on, so that an acknowledgement waits for the WAL flush.
    """
    import sqlalchemy as sa

    from tests.postgres import PostgresServer

    server = PostgresServer(durable=True).start()
    try:
        admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {database}"))
            settings = {name: str(conn.execute(sa.text(f"SHOW {name}")).scalar())
                        for name in ("fsync", "synchronous_commit", "server_version")}  # fmt: skip
        admin.dispose()
        yield DurablePostgres(server.url(database), settings)
    finally:
        server.stop()


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(VENV_BIN / "consent-service"), "db", "upgrade"], cwd=ROOT, check=True,
                   env={**os.environ, **env}, capture_output=True)  # fmt: skip
