"""Analytics benchmark: ingest throughput against a bare Flask endpoint, dashboard query times.

    .venv/bin/python bench/analytics_bench.py                 # everything (takes ~15 minutes)
    .venv/bin/python bench/analytics_bench.py --only ingest
    .venv/bin/python bench/analytics_bench.py --only ingest-cpu   # in one process, no wrk
    .venv/bin/python bench/analytics_bench.py --only dashboard --sizes 1000000

Ingest: the service and a bare Flask JSON endpoint are started with gunicorn under the same
settings (deploy/gunicorn.conf.py, 2 workers as in bench/common.py) on free loopback ports,
in this run, one after the other, and loaded with wrk (installed with apt when missing).
Every request carries a validly signed statistics consent, so every event is stored.

Ingest CPU: the same two apps in this process, driven through Flask's test client in
alternating rounds; the CPU time (time.process_time) per request of each. No sockets, no
gunicorn, so other work on a shared machine disturbs it much less than the wrk runs.

Dashboard: events are generated straight into a SQLite database (13 months, 500 pages),
rolled up, and the dashboard's queries and the whole page are timed. Prints figures; never
passes or fails on a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Server, gunicorn, migrate, shipped_policy_version, wrk_post

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
PAGE_ORIGIN = "https://www.uppsala.test"
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BATCHES = (1, 10, 50)


# --- the bare baseline -------------------------------------------------------------------


def bare_app() -> Any:
    """A bare Flask JSON endpoint: parse the batch, answer 202 with its length."""
    from flask import Flask, jsonify, request

    app = Flask("bare")

    @app.post("/api/v1/events")
    def events() -> Any:
        data = json.loads(request.get_data())
        response = jsonify({"stored": len(data["events"])})
        response.status_code = 202
        return response

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    return app


# --- servers -----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time of a gunicorn master, its live workers and the workers it has reaped."""
    ticks = os.sysconf("SC_CLK_TCK")

    def stat(p: int) -> list[str]:
        with open(f"/proc/{p}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()

    # utime, stime, cutime, cstime are fields 14-17 of /proc/PID/stat (11-14 after the name).
    total = sum(int(f) for f in stat(pid)[11:15])
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(OSError):
            total += sum(int(f) for f in stat(int(child))[11:13])
    return total / ticks


def service_env(db_url: str) -> dict[str, str]:
    return {
        "CONSENT_ENV": "production",
        "CONSENT_SECRET_KEY": SECRET,
        "CONSENT_DATABASE_URL": db_url,
        "CONSENT_ALLOWED_ORIGINS": PAGE_ORIGIN,
        "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.test",
        # wrk sends every batch from one address with one cookie: the limits that hold back
        # a flood from one client would answer 429 after the first seconds. The counters are
        # still added to on every batch, so their cost is part of the figures.
        "CONSENT_ANALYTICS_RATE_LIMIT_CLIENT": "10000000",
        "CONSENT_ANALYTICS_RATE_LIMIT_CONSENT": "10000000",
        "CONSENT_ANALYTICS_VISITOR_DAILY_CAP": "10000000",
    }


# --- load --------------------------------------------------------------------------------


def batch_body(size: int) -> dict[str, Any]:
    events = [
        {
            "type": "pageview",
            "path": f"/bo-och-leva/sida-{i % 37}",
            "referrer": "https://www.google.com/",
            "screen": "large",
        }
        for i in range(size)
    ]
    return {"events": events}


def bench_ingest(
    seconds: int, conns: int, workers: int, batches: tuple[int, ...] = BATCHES
) -> list[dict[str, Any]]:
    from consent_service.consent.cookie import Choice, ChoiceCookie

    print(f"ingest: gunicorn {workers} sync workers, wrk {conns} connections, {seconds} s per "
          f"run after a warm-up, {os.cpu_count()} cores")  # fmt: skip
    choice = Choice("bench-consent", shipped_policy_version(), False, True)
    cookie = ChoiceCookie([SECRET], 86400).encode(choice)
    headers = {
        "Origin": PAGE_ORIGIN,
        "User-Agent": USER_AGENT,
        "Accept-Language": "sv-SE,sv;q=0.9,en;q=0.8",
        "Cookie": f"consent={cookie}",
    }

    def run(server: Server, body: dict[str, Any]) -> tuple[float, int, float]:
        """Requests/s, failed requests, and the server's CPU milliseconds per request."""
        cpu = cpu_seconds(server.process.pid)
        result = wrk_post(server.url + "/api/v1/events", body, seconds, conns,
                          "text/plain;charset=UTF-8", headers)  # fmt: skip
        used = cpu_seconds(server.process.pid) - cpu
        return result.requests_per_second, result.non_2xx, used * 1000 / max(result.requests, 1)

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        env = service_env(f"sqlite:///{db_path}")
        migrate(env)
        for size in batches:
            body = batch_body(size)
            with gunicorn("bench.analytics_bench:bare_app()", env, workers) as server:
                run(server, body)  # warm-up
                bare_rate, bare_failed, bare_cpu = run(server, body)
            with gunicorn("consent_service:create_app()", env, workers) as server:
                run(server, body)
                rate, failed, cpu = run(server, body)
            row = {
                "batch": size,
                "bare_req_s": round(bare_rate),
                "bare_events_s": round(bare_rate * size),
                "bare_cpu_ms_per_req": round(bare_cpu, 2),
                "ingest_req_s": round(rate),
                "ingest_events_s": round(rate * size),
                "ingest_cpu_ms_per_req": round(cpu, 2),
                # Cores the server kept busy: on a shared machine often well below the 2 there.
                "bare_cores_used": round(bare_rate * bare_cpu / 1000, 2),
                "ingest_cores_used": round(rate * cpu / 1000, 2),
                "ratio": round(rate / bare_rate, 2),
                "failed": bare_failed + failed,
            }
            results.append(row)
            print(
                f"batch {size:>2}: bare Flask {row['bare_events_s']:>8,} events/s "
                f"({row['bare_req_s']:,} req/s, {bare_cpu:.2f} ms CPU/req) | "
                f"ingest {row['ingest_events_s']:>8,} events/s "
                f"({row['ingest_req_s']:,} req/s, {cpu:.2f} ms CPU/req) | "
                f"{row['ratio']:.2f} x bare | cores busy {row['bare_cores_used']:.2f} / "
                f"{row['ingest_cores_used']:.2f} | {row['failed']} failed",
                flush=True,
            )
        with sqlite3.connect(db_path) as conn:
            stored = conn.execute("SELECT count(*) FROM analytics_events").fetchone()[0]
        print(f"events stored in the run: {stored:,}")
    return results


def bench_ingest_cpu(
    batches: tuple[int, ...] = BATCHES, rounds: int = 10, per_round: int = 200
) -> list[dict[str, Any]]:
    """CPU milliseconds per request of the service and the bare endpoint, in this process."""
    import statistics

    from consent_service import create_app
    from consent_service.consent.cookie import Choice, ChoiceCookie

    print(f"ingest CPU in one process: Flask test client, {rounds} alternating rounds of "
          f"{per_round} requests, best and median round")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = service_env(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        migrate(env)
        metrics_dir = Path(tmp) / "metrics"
        metrics_dir.mkdir()
        # As under gunicorn (deploy/gunicorn.conf.py): the counters in shared files.
        os.environ.update({**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
        cookie = ChoiceCookie([SECRET], 86400).encode(
            Choice("bench-consent", shipped_policy_version(), False, True)
        )
        headers = {"Origin": PAGE_ORIGIN, "User-Agent": USER_AGENT,
                   "Accept-Language": "sv-SE,sv;q=0.9,en;q=0.8",
                   "Content-Type": "text/plain;charset=UTF-8"}  # fmt: skip
        clients = {"bare": bare_app().test_client(), "ingest": create_app().test_client()}
        for client in clients.values():
            client.set_cookie("consent", cookie, domain="localhost")

        def run(name: str, n: int, size: int) -> float:
            client, data = clients[name], json.dumps(batch_body(size)).encode()
            start = time.process_time()
            for _ in range(n):
                response = client.post("/api/v1/events", data=data, headers=headers)
            if response.status_code != 202 or response.json != {"stored": size}:
                raise RuntimeError(f"{name}: {response.status_code} {response.data!r}")
            return (time.process_time() - start) * 1000 / n

        for size in batches:
            for name in clients:
                run(name, per_round // 4, size)  # warm-up
            times: dict[str, list[float]] = {"bare": [], "ingest": []}
            for _ in range(rounds):
                for name in clients:
                    times[name].append(run(name, per_round, size))
            bare, ingest = min(times["bare"]), min(times["ingest"])
            row = {
                "batch": size,
                "bare_cpu_ms_per_req": round(bare, 3),
                "ingest_cpu_ms_per_req": round(ingest, 3),
                "bare_cpu_ms_median": round(statistics.median(times["bare"]), 3),
                "ingest_cpu_ms_median": round(statistics.median(times["ingest"]), 3),
                "ratio": round(ingest / bare, 2),
            }
            results.append(row)
            print(
                f"batch {size:>2}: bare Flask {bare:.2f} ms CPU/req "
                f"(median {row['bare_cpu_ms_median']:.2f}) | ingest {ingest:.2f} ms CPU/req "
                f"(median {row['ingest_cpu_ms_median']:.2f}) | {row['ratio']:.2f} x bare | "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        clients["ingest"].application.extensions["consent_db"].dispose()
    return results


# --- dashboard ---------------------------------------------------------------------------

PAGES = [f"/sida-{i}" for i in range(500)]
REFERRERS = ["", "", "", "www.google.com", "www.bing.com", "duckduckgo.com", "www.facebook.com",
             "www.uppsala.se", "sv.wikipedia.org", "www.krisinformation.se"]  # fmt: skip
LANGUAGES = ["sv"] * 8 + ["en", "fi", "ar", "de", ""]
DEVICES = [("mobile", "android", "chrome"), ("mobile", "ios", "safari"),
           ("desktop", "windows", "edge"), ("desktop", "windows", "chrome"),
           ("desktop", "macos", "safari"), ("tablet", "ios", "safari"),
           ("desktop", "linux", "firefox")]  # fmt: skip
SCREENS = ["small", "medium", "large"]
EVENT_NAMES = ["idea_opened", "idea_started", "idea_submitted", "outbound", "search"]


def generate(db_path: Path, total: int, days: int, today: dt.date) -> float:
    """Write `total` events spread over `days` days directly into the database."""
    rng = random.Random(4)
    start = time.monotonic()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='analytics_events'"
        " AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    per_day = total // days
    sql = (
        "INSERT INTO analytics_events (site, day, occurred_at, type, host, path, referrer_host,"
        " name, props, visitor, language, screen, browser, os, device)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    for d in range(days):
        day = today - dt.timedelta(days=days - d)
        stamp = f"{day.isoformat()} 12:00:00.000000"
        visitors = [hashlib.md5(f"{day}{v}".encode()).hexdigest() for v in range(per_day // 3)]  # noqa: S324
        rows = []
        for _ in range(per_day):
            device, os_, browser = rng.choice(DEVICES)
            referrer = rng.choice(REFERRERS) or None
            if rng.random() < 0.9:
                kind, name, props = "pageview", None, None
                path = PAGES[min(int(rng.paretovariate(1.2)) - 1, 499)]
            else:
                kind, name = "event", rng.choice(EVENT_NAMES)
                props = '{"host":"www.skatteverket.se"}' if name == "outbound" else None
                path = "/ideer"
            rows.append((
                "uppsala.se", day.isoformat(), stamp, kind, "www.uppsala.se", path, referrer,
                name, props, rng.choice(visitors), rng.choice(LANGUAGES), rng.choice(SCREENS),
                browser, os_, device,
            ))  # fmt: skip
        conn.executemany(sql, rows)
        conn.execute(
            "INSERT INTO analytics_rollup_days (site, day, final, rolled_up_at)"
            " VALUES (?, ?, 0, NULL)",
            ("uppsala.se", day.isoformat()),
        )
        conn.commit()
    for _, create in indexes:
        conn.execute(create)
    conn.commit()
    conn.close()
    return time.monotonic() - start


def timed(fn: Any, repeat: int = 5) -> float:
    """Median wall time of `fn` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


def bench_dashboard(total: int, days: int) -> dict[str, Any]:
    from consent_service import create_app
    from consent_service.admin.auth import create_user
    from consent_service.admin.models import Role
    from consent_service.analytics import reports, rollup
    from consent_service.analytics.reports import Filters, Period
    from consent_service.db import utcnow
    from consent_service.schema import upgrade_database

    result: dict[str, Any] = {"events": total}
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "dash.sqlite3"
        app = create_app(
            {
                "CONSENT_MODE": "testing",
                "SECRET_KEY": SECRET,
                "DATABASE_URL": f"sqlite:///{db_path}",
                "ALLOWED_ORIGINS": [PAGE_ORIGIN],
                "WTF_CSRF_ENABLED": False,
            }
        )
        upgrade_database(app)
        now = utcnow()
        with app.app_context():
            from consent_service.analytics.visitors import local_day

            today = local_day(now)
        result["generate_s"] = round(generate(db_path, total, days, today), 1)
        result["db_mb"] = round(db_path.stat().st_size / 1e6)
        print(f"{total:,} events over {days} days generated in {result['generate_s']} s "
              f"({result['db_mb']:,} MB)", flush=True)  # fmt: skip

        with app.test_request_context():
            start = time.monotonic()
            rolled = rollup.finalize_closed_days(now)
            result["rollup_s"] = round(time.monotonic() - start, 1)
            rate = total / max(result["rollup_s"], 0.001)
            print(f"rolled up {rolled} days in {result['rollup_s']} s ({rate:,.0f} events/s)")

            site = "uppsala.se"
            month = Period(today - dt.timedelta(days=30), today - dt.timedelta(days=1))
            year = Period(today - dt.timedelta(days=365), today - dt.timedelta(days=1))
            queries = {
                "series, 30 days": lambda: reports.series(site, month, None),
                "series, 365 days": lambda: reports.series(site, year, None),
                "top pages, 30 days": lambda: reports.top(site, "page", month, None),
                "top pages, 365 days": lambda: reports.top(site, "page", year, None),
                "referrers, 365 days": lambda: reports.top(site, "referrer", year, None),
                "funnel, 365 days": lambda: reports.funnel(site, year, None),
                "referrers of one page, 30 days": lambda: reports.top(
                    site, "referrer", month, "/sida-3"
                ),
                "referrers of one page, 365 days": lambda: reports.top(
                    site, "referrer", year, "/sida-3"
                ),
                "whole report, 30 days": lambda: reports.build_report(
                    site, Filters(month, None, "previous")
                ),
                "whole report, 365 days": lambda: reports.build_report(
                    site, Filters(year, None, "previous")
                ),
            }
            result["queries_ms"] = {}
            for label, fn in queries.items():
                ms = timed(fn)
                result["queries_ms"][label] = round(ms, 1)
                print(f"  {label:<40} {ms:8.1f} ms", flush=True)

        with app.app_context():
            create_user("bench-editor", Role.EDITOR, "bench-password-123")
        client = app.test_client()
        client.post(
            "/admin/sign-in", data={"name": "bench-editor", "password": "bench-password-123"}
        )
        for label, query in (("30 days", ""), ("365 days", f"?from={year.start}&to={year.end}")):
            ms = timed(lambda q=query: client.get(f"/admin/statistics/{q}"), repeat=3)  # type: ignore[misc]
            result["queries_ms"][f"dashboard page, {label}"] = round(ms, 1)
            print(f"  {'dashboard page (HTTP), ' + label:<40} {ms:8.1f} ms", flush=True)
        app.extensions["consent_db"].dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["ingest", "ingest-cpu", "dashboard"])
    parser.add_argument("--seconds", type=int, default=10, help="per load run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (as bench/)")
    parser.add_argument("--batches", default="1,10,50", help="events per ingest request")
    parser.add_argument("--sizes", default="1000000,10000000", help="events for the dashboard")
    parser.add_argument("--days", type=int, default=395)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    if args.only in (None, "ingest"):
        batches = tuple(int(b) for b in args.batches.split(",") if b)
        results["ingest"] = bench_ingest(args.seconds, args.connections, args.workers, batches)
    if args.only in (None, "ingest-cpu"):
        batches = tuple(int(b) for b in args.batches.split(",") if b)
        results["ingest_cpu"] = bench_ingest_cpu(batches)
    if args.only in (None, "dashboard"):
        results["dashboard"] = [
            bench_dashboard(int(n), args.days) for n in args.sizes.split(",") if n
        ]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "analytics.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
