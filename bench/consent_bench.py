"""Banner size beside the anchors, and POST /api/v1/consent against a bare Flask endpoint.

The POST run is made on SQLite and on a throwaway PostgreSQL with production durability
(fsync and synchronous_commit on), each beside the bare Flask figure of the same run.
Run with `make bench` (or `.venv/bin/python bench/consent_bench.py [--backends sqlite]`).
Prints figures only.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    WrkResult,
    durable_postgres,
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


# The write budget per backend (PRODUCT.md): ratio against bare Flask, p99 where one is set.
WRITE_BUDGETS = {"sqlite": (0.70, 25.0), "postgresql": (0.50, None)}


@dataclass
class BackendRun:
    label: str
    post: WrkResult
    lag: LagSampler
    drained: float
    rss: list[float]
    receipts: WrkResult


@contextlib.contextmanager
def backend(name: str, tmp: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A migrated database for the service; yields its label and the service's environment."""
    env = service_env(tmp)
    env["CONSENT_CHECKPOINT_KEY"] = str(tmp / "checkpoint.pem")
    if name == "sqlite":
        migrate(env)
        yield "SQLite: WAL, synchronous=NORMAL", env
        return
    with durable_postgres() as pg:
        env["CONSENT_DATABASE_URL"] = pg.url
        migrate(env)
        yield pg.describe(), env


def run_backend(
    name: str, tmp: Path, body: dict[str, object], seconds: int, unique: str | None
) -> BackendRun:
    with backend(name, tmp) as (label, env), gunicorn("consent_service:create_app()", env) as s:
        wrk_post(s.url + "/api/v1/consent", body, 2, unique_field=unique)  # warm-up
        with LagSampler(env["CONSENT_DATABASE_URL"]) as lag:
            post = wrk_post(s.url + "/api/v1/consent", body, seconds, unique_field=unique)
            drained = lag.until_drained()
        rss = s.worker_rss_mb()
        cookie = _one_cookie(s.url, body)
        receipts = wrk_get(s.url + "/api/v1/consent/receipt", seconds, headers={"Cookie": cookie})
    return BackendRun(label, post, lag, drained, rss, receipts)


def stack_floor(tmp: Path, seconds: int) -> WrkResult:
    """GET /healthz of the service: what every request costs before any endpoint's own work."""
    tmp.mkdir()
    with backend("sqlite", tmp) as (_, env), gunicorn("consent_service:create_app()", env) as s:
        wrk_get(s.url + "/healthz", 2)  # warm-up
        return wrk_get(s.url + "/healthz", seconds)


def _line(name: str, r: WrkResult) -> str:
    return (f"  {name:32} {r.requests_per_second:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
            f"p99 {r.p99_ms:6.2f} ms  non-2xx {r.non_2xx}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument(
        "--request-ids",
        action="store_true",
        help="a new request_id in every POST, as the banner sends (a retry-key lookup each)",
    )
    args = parser.parse_args()
    backends = args.backends.split(",")
    unique = "request_id" if args.request_ids else None
    unknown = set(backends) - set(WRITE_BUDGETS)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")

    raw, gz = bundle_sizes()
    print("== consent.js (with CSS and the default language's texts)")
    print(f"  ours: {raw:,} B raw, {gz:,} B gzip -9 (budget {BUDGET:,} B)")
    for name, size in ANCHORS.items():
        print(f"  {name}: {size:,} B gzip -9  → ours is {gz / size:.0%} of it")

    seconds = int(os.environ.get("BENCH_SECONDS", "10"))
    body = {"functional": True, "statistics": False, "policy_version": shipped_policy_version(),
            "language": "sv", "source": "banner"}  # fmt: skip
    with_ids = ", a new request_id in each" if unique else ", no request_id"
    print(f"\n== POST throughput, gunicorn 2 sync workers, 16 connections, {seconds}s each"
          f"{with_ids}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        with gunicorn("bench.bare_app:create_app()", {}) as bare:
            baseline = wrk_post(bare.url + "/bare", body, seconds)
            bare_get = wrk_get(bare.url + "/healthz", seconds)
        floor = stack_floor(Path(tmp) / "floor", seconds)
        runs: dict[str, BackendRun] = {}
        for name in backends:
            (Path(tmp) / name).mkdir()
            runs[name] = run_backend(name, Path(tmp) / name, body, seconds, unique)
    print(_line("bare Flask JSON", baseline))
    for name, run in runs.items():
        print(_line(f"POST /api/v1/consent, {name}", run.post))
    print(f"  ({'; '.join(run.label for run in runs.values())})")
    for name, run in runs.items():
        ratio_budget, p99_budget = WRITE_BUDGETS[name]
        ratio = run.post.requests_per_second / baseline.requests_per_second
        p99 = f"(budget ≤ {p99_budget:.0f} ms)" if p99_budget else "(no p99 budget)"
        print(f"  {name}: ratio {ratio:.2f} (budget ≥ {ratio_budget:.2f}), "
              f"p99 {run.post.p99_ms:.1f} ms {p99}; worker RSS "
              f"{', '.join(f'{m:.0f} MB' for m in run.rss)} (budget ≤ 80 MB)")  # fmt: skip
    print("\n== the floor: every request's own stack, no database (request ID, site and origin,"
          " security headers, metrics), GET /healthz")  # fmt: skip
    print(_line("bare Flask GET /healthz", bare_get))
    print(_line("the service's GET /healthz", floor))
    print(f"  ratio {floor.requests_per_second / bare_get.requests_per_second:.2f}: the most any "
          "endpoint of the service can reach against bare Flask on this machine")  # fmt: skip
    print("\n== integration lag during the POST run (acknowledged → in the signed tree)")
    for name, run in runs.items():
        print(f"  {name}: oldest pending entry, sampled every 50 ms: p99 "
              f"{run.lag.quantile(0.99):.3f} s, max {run.lag.maximum():.3f} s (budget ≤ 1 s); "
              f"backlog gone {run.drained:.2f} s after the run")  # fmt: skip
    print(f"\n== GET /api/v1/consent/receipt, 16 connections, {seconds}s (one consent, a few "
          "entries, inclusion proofs)")  # fmt: skip
    for name, run in runs.items():
        print(_line(name, run.receipts))


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
    """Samples the age of the oldest pending entry, through its own connection to `url`.

    Any SQLAlchemy URL the service runs on (the SQLite file, a PostgreSQL database); a
    read of one indexed aggregate every 50 ms, beside the service's own connections.
    """

    def __init__(self, url: str) -> None:
        import threading

        import sqlalchemy as sa

        from consent_service.audit.log_models import PendingEntry

        self.engine = sa.create_engine(url, pool_size=1, max_overflow=0)
        self.query = sa.select(sa.func.min(PendingEntry.occurred_at))
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _age(self) -> float | None:
        import datetime as dt

        with self.engine.connect() as conn:
            oldest = conn.execute(self.query).scalar()
        if oldest is None:
            return None
        return (dt.datetime.now(dt.UTC) - oldest).total_seconds()

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
