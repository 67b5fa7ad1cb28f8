"""Banner size beside the anchors, and POST /api/v1/consent against a bare Flask endpoint.

Run with `make bench` (or `.venv/bin/python bench/consent_bench.py`). Prints figures only.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    gunicorn,
    migrate,
    service_env,
    shipped_policy_version,
    wrk_get,
    wrk_post,
)

# Published sizes of the anchors (PRODUCT.md): gzip -9 of the banner script with its CSS.
ANCHORS = {
    "Osano 3.1.1": 8113,
    "Silktide (minified)": 7399,
    "vanilla-cookieconsent 3.1.0": 15513,
    "Klaro 0.7.22": 68892,
}
BUDGET = 6000


def bundle_sizes() -> tuple[int, int]:
    from consent_service import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"CONSENT_MODE": "testing", "SECRET_KEY": "s" * 40,
                          "DATABASE_URL": f"sqlite:///{tmp}/x.sqlite3"})  # fmt: skip
        body = app.test_client().get("/embed/consent.js").get_data()
    return len(body), len(gzip.compress(body, 9))


def main() -> None:
    raw, gz = bundle_sizes()
    print("== consent.js (with CSS and the default language's texts)")
    print(f"  ours: {raw:,} B raw, {gz:,} B gzip -9 (budget {BUDGET:,} B)")
    for name, size in ANCHORS.items():
        print(f"  {name}: {size:,} B gzip -9  → ours is {gz / size:.0%} of it")

    seconds = int(os.environ.get("BENCH_SECONDS", "10"))
    body = {"functional": True, "statistics": False, "policy_version": shipped_policy_version(),
            "language": "sv", "source": "banner"}  # fmt: skip
    print(f"\n== POST throughput, gunicorn 2 sync workers, 16 connections, {seconds}s each")
    with tempfile.TemporaryDirectory() as tmp:
        env = service_env(Path(tmp))
        env["CONSENT_CHECKPOINT_KEY"] = str(Path(tmp) / "checkpoint.pem")
        migrate(env)
        with gunicorn("bench.bare_app:create_app()", {}) as bare:
            baseline = wrk_post(bare.url + "/bare", body, seconds)
        with gunicorn("consent_service:create_app()", env) as service:
            wrk_post(service.url + "/api/v1/consent", body, 2)  # warm-up
            with LagSampler(Path(tmp) / "bench.sqlite3") as lag:
                ours = wrk_post(service.url + "/api/v1/consent", body, seconds)
                drained = lag.until_drained()
            rss = service.worker_rss_mb()
            cookie = _one_cookie(service.url, body)
            receipts = wrk_get(
                service.url + "/api/v1/consent/receipt", seconds, headers={"Cookie": cookie}
            )
    for name, r in (("bare Flask JSON", baseline), ("POST /api/v1/consent", ours)):
        print(f"  {name:22} {r.requests_per_second:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
              f"p99 {r.p99_ms:6.2f} ms  non-2xx {r.non_2xx}")  # fmt: skip
    ratio = ours.requests_per_second / baseline.requests_per_second
    print(f"  ratio {ratio:.2f} (budget ≥ 0.70), p99 {ours.p99_ms:.1f} ms (budget ≤ 25 ms)")
    print(f"  worker RSS: {', '.join(f'{m:.0f} MB' for m in rss)} (budget ≤ 80 MB)")
    print("\n== integration lag during the POST run (acknowledged → in the signed tree)")
    print(f"  oldest pending entry, sampled every 50 ms: p99 {lag.quantile(0.99):.3f} s, "
          f"max {lag.maximum():.3f} s (budget ≤ 1 s); backlog gone {drained:.2f} s after "
          f"the run")  # fmt: skip
    print(f"\n== GET /api/v1/consent/receipt, 16 connections, {seconds}s (one consent, a few "
          "entries, inclusion proofs)")  # fmt: skip
    print(f"  {receipts.requests_per_second:8.0f} req/s  p50 {receipts.p50_ms:6.2f} ms  "
          f"p99 {receipts.p99_ms:6.2f} ms  non-2xx {receipts.non_2xx}")  # fmt: skip


def _one_cookie(url: str, body: dict[str, object]) -> str:
    """Record three decisions of one consent; return its cookie for the receipt run."""
    import json
    import urllib.request

    cookie = ""
    for statistics in (False, True, False):
        # Our own loopback gunicorn's URL: no file: or custom schemes.
        request = urllib.request.Request(  # noqa: S310
            url + "/api/v1/consent",
            data=json.dumps({**body, "statistics": statistics}).encode(),
            headers={"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})},
        )
        with urllib.request.urlopen(request) as response:  # noqa: S310
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    return cookie


class LagSampler:
    """Samples the age of the oldest pending entry straight from the SQLite file."""

    def __init__(self, database: Path) -> None:
        import threading

        self.database = database
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _age(self) -> float | None:
        import datetime as dt
        import sqlite3

        with sqlite3.connect(self.database, timeout=10) as conn:
            oldest = conn.execute("SELECT min(occurred_at) FROM audit_pending_entries").fetchone()
        if oldest is None or oldest[0] is None:
            return None
        at = dt.datetime.strptime(oldest[0], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=dt.UTC)
        return (dt.datetime.now(dt.UTC) - at).total_seconds()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            age = self._age()
            self.samples.append(age or 0.0)

    def until_drained(self, limit: float = 30.0) -> float:
        import time

        start = time.monotonic()
        while self._age() is not None and time.monotonic() - start < limit:
            time.sleep(0.01)
        return time.monotonic() - start

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples) or [0.0]
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def maximum(self) -> float:
        return max(self.samples, default=0.0)


if __name__ == "__main__":
    main()
