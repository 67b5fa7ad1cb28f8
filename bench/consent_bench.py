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

from bench.common import gunicorn, migrate, service_env, shipped_policy_version, wrk_post

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
        migrate(env)
        with gunicorn("bench.bare_app:create_app()", {}) as bare:
            baseline = wrk_post(bare.url + "/bare", body, seconds)
        with gunicorn("consent_service:create_app()", env) as service:
            wrk_post(service.url + "/api/v1/consent", body, 2)  # warm-up
            ours = wrk_post(service.url + "/api/v1/consent", body, seconds)
            rss = service.worker_rss_mb()
    for name, r in (("bare Flask JSON", baseline), ("POST /api/v1/consent", ours)):
        print(f"  {name:22} {r.requests_per_second:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  "
              f"p99 {r.p99_ms:6.2f} ms  non-2xx {r.non_2xx}")  # fmt: skip
    ratio = ours.requests_per_second / baseline.requests_per_second
    print(f"  ratio {ratio:.2f} (budget ≥ 0.70), p99 {ours.p99_ms:.1f} ms (budget ≤ 25 ms)")
    print(f"  worker RSS: {', '.join(f'{m:.0f} MB' for m in rss)} (budget ≤ 80 MB)")


if __name__ == "__main__":
    main()
