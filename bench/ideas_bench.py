"""Idea widget figures: bundle size beside its budget, submission throughput beside bare Flask.

    .venv/bin/python bench/ideas_bench.py [--requests 2000] [--connections 16]

Both servers run under gunicorn with deploy/gunicorn.conf.py on free loopback ports, in this
same run, so the two throughput figures are comparable. The load is bounded in requests and
in time. Prints figures; never passes or fails on timings.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_BUDGET = 5000
SENTRY_FEEDBACK_ANCHOR = 17_279  # gzip -9 of the Sentry user-feedback widget
MAX_SECONDS = 60  # per load run, whatever --requests says

BARE_APP = """
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/ideas")
def submit():
    data = request.get_json()
    return jsonify({"reference": "IDE-0000-000000", "status_url": str(len(data))}), 201
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, path: str, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def gunicorn(app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            app,
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def load(port: int, bodies: list[bytes], connections: int) -> dict[str, float]:
    """POST every body over `connections` keep-alive connections; latency per request."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    next_index = iter(range(len(bodies)))
    stop_at = time.monotonic() + MAX_SECONDS

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        codes: dict[int, int] = {}
        while time.monotonic() < stop_at:
            with lock:
                i = next(next_index, None)
            if i is None:
                break
            start = time.perf_counter()
            conn.request("POST", "/api/v1/ideas", bodies[i], {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            codes[response.status] = codes.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "ok": statuses.get(201, 0),
    }


def bundle_size() -> tuple[int, int]:
    """(raw, gzip -9) bytes of /embed/ideas.js as the service serves it, config included."""
    from consent_service import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "CONSENT_MODE": "testing",
                "SECRET_KEY": "bench-" + "k" * 40,
                "DATABASE_URL": f"sqlite:///{tmp}/b.sqlite3",
            }
        )
        app.config["PUBLIC_URL"] = "https://samtycke.uppsala.se"
        body = app.test_client().get("/embed/ideas.js").get_data()
    return len(body), len(gzip.compress(body, 9))


def budget_line(size: int) -> str:
    verdict = "within" if size <= BUNDLE_BUDGET else "OVER"
    return f"{BUNDLE_BUDGET} B: {verdict} ({BUNDLE_BUDGET - size:+d} B headroom)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    if not (ROOT / "consent_service" / "static" / "embed" / "ideas.js").exists():
        subprocess.run(["node", "build.mjs"], cwd=ROOT / "widget", check=True)
    raw, gz = bundle_size()
    print(f"ideas.js as served: {raw} B raw, {gz} B gzip -9")
    print(f"  budget {budget_line(gz)}")
    print(
        f"  Sentry feedback widget (anchor): {SENTRY_FEEDBACK_ANCHOR} B "
        f"({SENTRY_FEEDBACK_ANCHOR / gz:.1f}x ours)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "bare_app.py").write_text(BARE_APP)
        database = tmp_path / "ideas.sqlite3"
        env = {
            **os.environ,
            "CONSENT_ENV": "development",
            "CONSENT_SECRET_KEY": "bench-secret-key-" + "x" * 40,
            "CONSENT_DATABASE_URL": f"sqlite:///{database}",
            "CONSENT_IDEAS_MIN_FILL_SECONDS": "0",
            # One client address sends everything here; the limit is not what is measured.
            "CONSENT_IDEAS_RATE_LIMIT": "100000",
        }
        subprocess.run(
            [str(Path(sys.executable).parent / "consent-service"), "db", "upgrade"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        service_port, bare_port = free_port(), free_port()
        servers = [
            gunicorn("consent_service:create_app()", service_port, env, ROOT),
            gunicorn("bare_app:app", bare_port, {**os.environ}, tmp_path),
        ]
        try:
            wait_for(service_port, "/healthz")
            wait_for(bare_port, "/")
            conn = http.client.HTTPConnection("127.0.0.1", service_port)
            conn.request("GET", "/api/v1/ideas/form")
            token = json.loads(conn.getresponse().read())["form_token"]
            bodies = [
                json.dumps(
                    {
                        "title": f"Idé nummer {i}",
                        "area": "annat",
                        "form_token": token,
                        "body": f"En idé om förbättring {i} av tjänsterna i kommunen.",
                    }
                ).encode()
                for i in range(args.requests)
            ]
            load(bare_port, bodies[:200], args.connections)  # warm up both
            bare = load(bare_port, bodies, args.connections)
            service = load(service_port, bodies, args.connections)
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=30)

    print(f"\nPOST /api/v1/ideas, {args.connections} connections, gunicorn deploy/gunicorn.conf.py")
    for name, result in (("bare Flask JSON endpoint", bare), ("idea submission (SQLite)", service)):
        print(
            f"  {name:26} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.1f} ms  "
            f"p99 {result['p99_ms']:6.1f} ms  ({result['ok']:.0f}/{result['requests']:.0f} "
            "answered 201)"
        )
    print(f"  ratio: {service['rps'] / bare['rps']:.2f} x bare Flask")


if __name__ == "__main__":
    main()
