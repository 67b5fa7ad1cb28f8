"""Reliability under load and faults: figures, never pass/fail.

Starts the service for real (gunicorn, 2 workers, deploy/gunicorn.conf.py) on SQLite and on
a throwaway PostgreSQL with production durability, on loopback ports only, and reports:

- load: consent writes at a fixed rate near the measured maximum — requests, errors,
  p50/p99, acknowledged-but-missing entries (an entry acknowledged but not yet integrated
  by the sequencer counts as stored: it is durable), duplicates, whether the chain verifies;
- worker kills: a worker SIGKILLed every few seconds under load, clients retrying with
  the same request_id;
- database outage (PostgreSQL stopped; the SQLite file made unwritable) and back: 503s with
  Retry-After, /readyz, time to recover without a restart, nothing half-written;
- full disk (SQLite max_page_count): 503s, database intact;
- schemathesis against /api/v1/openapi.json: generated cases, 5xx, schema violations.

    make reliability                       # 60 s per load phase
    .venv/bin/python bench/reliability.py --short              # about two minutes
    .venv/bin/python bench/reliability.py --backends sqlite --duration 30

Every run is bounded in time and count and stops by itself. Results also go to
bench/results/reliability-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.common import (
    ROOT,
    VENV_BIN,
    Server,
    gunicorn,
    migrate,
    shipped_policy_version,
)
from bench.common import service_env as common_env

IN_FLIGHT = 32
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def service_env(tmp: Path) -> dict[str, str]:
    """The service's environment; every request comes from 127.0.0.1."""
    return {
        **common_env(tmp),
        # All traffic comes from one address (and few consents): the analytics limits that
        # hold back a flood from one client would answer 429 and count as failures.
        "CONSENT_ANALYTICS_RATE_LIMIT_CLIENT": "10000000",
        "CONSENT_ANALYTICS_RATE_LIMIT_CONSENT": "10000000",
        "CONSENT_ANALYTICS_VISITOR_DAILY_CAP": "10000000",
    }


CHOICE = {"functional": True, "statistics": False, "policy_version": shipped_policy_version(),
          "language": "sv", "source": "api"}  # fmt: skip


# ------------------------------------------------------------------ a small HTTP client


@dataclass
class Reply:
    status: int  # 0: the connection failed or was cut
    headers: dict[str, str]
    body: bytes


async def http(port: int, method: str, path: str, body: bytes = b"",
               headers: dict[str, str] | None = None, timeout: float = 10) -> Reply:  # fmt: skip
    """One HTTP/1.1 request on its own connection (gunicorn's sync workers close it anyway)."""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
            f"Content-Length: {len(body)}"]  # fmt: skip
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        raw = await asyncio.wait_for(reader.read(), timeout)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return Reply(0, {}, b"")
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    header_block, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/1\.[01] (\d{3})", lines[0]) if lines else None
    if not match:
        return Reply(0, {}, b"")
    parsed = {k.lower(): v for k, v in (ln.split(": ", 1) for ln in lines[1:] if ": " in ln)}
    if len(payload) != int(parsed.get("content-length", len(payload))):
        # Cut off mid-body (a worker killed while writing): not an answer, however it began.
        return Reply(0, {}, b"")
    return Reply(int(match.group(1)), parsed, payload)


# ------------------------------------------------------------------ load with retries


@dataclass
class Write:
    request_id: str
    scheduled: float
    attempts: list[int] = field(default_factory=list)  # status per attempt, 0 = no answer
    retry_after_missing: int = 0
    sent: float = 0.0  # when the first attempt actually left (a backlog delays it)
    finished: float = 0.0
    consent_id: str | None = None

    @property
    def acknowledged(self) -> bool:
        return bool(self.attempts) and self.attempts[-1] == 201


@dataclass
class LoadFigures:
    rate_per_s: float
    seconds: float
    writes: int
    acknowledged: int
    attempts: int
    retries: int
    gave_up: int
    statuses: dict[str, int]  # per attempt; "0" = no answer (connection cut or refused)
    status_500: int
    unavailable_without_retry_after: int
    achieved_per_s: float
    p50_ms: float  # scheduled start to final answer: includes any backlog in the client
    p99_ms: float
    max_ms: float
    service_p50_ms: float  # first attempt sent to final answer: the service's own latency
    service_p99_ms: float


async def write_with_retries(port: int, write: Write, give_up_at: float,
                             max_backoff: float) -> None:  # fmt: skip
    """POST one choice; on no answer or a 503, retry with the same request_id."""
    body = json.dumps({**CHOICE, "request_id": write.request_id}).encode()
    headers = {"Content-Type": "application/json"}
    write.sent = time.monotonic()
    while True:
        reply = await http(port, "POST", "/api/v1/consent", body, headers)
        write.attempts.append(reply.status)
        if reply.status == 201:
            write.consent_id = json.loads(reply.body)["consent_id"]
            break
        if reply.status == 503 and "retry-after" not in reply.headers:
            write.retry_after_missing += 1
        if reply.status not in (0, 503) or time.monotonic() > give_up_at:
            break  # a 4xx/500 is an answer, not a fault to wait out
        hinted = float(reply.headers.get("retry-after", "0") or 0)
        await asyncio.sleep(min(max(hinted, 0.05), max_backoff) * random.uniform(0.5, 1.0))
    write.finished = time.monotonic()


async def run_load(port: int, rate: float, seconds: float, prefix: str,
                   max_backoff: float = 0.5, grace: float = 20.0,
                   during: Callable[[], Awaitable[None]] | None = None,
                   ) -> tuple[list[Write], LoadFigures]:  # fmt: skip
    """Open-loop load: a write is started every 1/rate s whatever the earlier ones do.

    Latency runs from the scheduled start to the final answer, retries included, so a
    stalled server shows in the figures instead of silently lowering the rate.
    """
    writes: list[Write] = []
    tasks: list[asyncio.Task[None]] = []
    start = time.monotonic()
    give_up_at = start + seconds + grace
    side = asyncio.create_task(during()) if during else None
    # At most this many writes in flight, like a pool of clients: past it, writes start late
    # (and their latency, counted from the schedule, says so).
    in_flight = asyncio.Semaphore(IN_FLIGHT)

    async def one(write: Write) -> None:
        async with in_flight:
            await write_with_retries(port, write, give_up_at, max_backoff)

    for i in range(int(rate * seconds)):
        scheduled = start + i / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        write = Write(f"{prefix}-{uuid.uuid4().hex}", scheduled)
        writes.append(write)
        tasks.append(asyncio.create_task(one(write)))
    await asyncio.gather(*tasks)
    if side:
        await side
    return writes, figures(writes, rate, seconds)


def figures(writes: list[Write], rate: float, seconds: float) -> LoadFigures:
    latencies = sorted((w.finished - w.scheduled) * 1000 for w in writes if w.acknowledged)
    service = sorted((w.finished - w.sent) * 1000 for w in writes if w.acknowledged)
    statuses = Counter(str(s) for w in writes for s in w.attempts)

    def pct(p: float, values: list[float] = latencies) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0

    return LoadFigures(
        rate_per_s=rate, seconds=seconds, writes=len(writes),
        acknowledged=sum(w.acknowledged for w in writes),
        attempts=sum(len(w.attempts) for w in writes),
        retries=sum(len(w.attempts) - 1 for w in writes),
        gave_up=sum(not w.acknowledged for w in writes),
        statuses=dict(sorted(statuses.items())),
        status_500=statuses.get("500", 0),
        unavailable_without_retry_after=sum(w.retry_after_missing for w in writes),
        achieved_per_s=round(sum(w.acknowledged for w in writes) / max(
            1e-9, max((w.finished for w in writes), default=0) - writes[0].scheduled), 1)
        if writes else 0.0,
        p50_ms=round(pct(0.50), 1), p99_ms=round(pct(0.99), 1),
        max_ms=round(latencies[-1], 1) if latencies else 0.0,
        service_p50_ms=round(pct(0.50, service), 1),
        service_p99_ms=round(pct(0.99, service), 1),
    )  # fmt: skip


async def closed_loop_max(port: int, seconds: float, connections: int = 16) -> float:
    """Writes per second with `connections` clients sending back to back."""
    done = 0
    end = time.monotonic() + seconds

    async def client() -> None:
        nonlocal done
        body = json.dumps(CHOICE).encode()
        while time.monotonic() < end:
            reply = await http(port, "POST", "/api/v1/consent", body,
                               {"Content-Type": "application/json"})  # fmt: skip
            done += reply.status == 201

    await asyncio.gather(*(client() for _ in range(connections)))
    return done / seconds


# ------------------------------------------------------------------ what the database holds


@dataclass
class Audit:
    acknowledged_missing: int
    duplicates: int
    consent_id_mismatches: int
    stored_without_acknowledgement: int
    chain_verifies: bool
    verify_output: str
    integrity: str | None = None
    # Acknowledged, durable, not yet integrated when the run ended (integrated on restart).
    pending: int = 0


def audit(env: dict[str, str], database_url: str, writes: list[Write], prefix: str) -> Audit:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            # An acknowledged decision is durable once its pending row is written: the
            # sequencer may not have put it in the log yet when the run ends. Both count.
            rows = conn.execute(sa.text(
                "SELECT request_id, consent_id, 0 FROM consent_log_entries "
                "WHERE request_id LIKE :p UNION ALL "
                "SELECT request_id, consent_id, 1 FROM audit_pending_entries "
                "WHERE request_id LIKE :p"), {"p": f"{prefix}-%"}).all()  # fmt: skip
            integrity = None
            if engine.dialect.name == "sqlite":
                integrity = conn.execute(sa.text("PRAGMA integrity_check")).scalar()
    finally:
        engine.dispose()
    stored: dict[str, list[str]] = {}
    for request_id, consent_id, _ in rows:
        stored.setdefault(request_id, []).append(consent_id)
    acknowledged = {w.request_id: w.consent_id for w in writes if w.acknowledged}
    verify = subprocess.run([str(VENV_BIN / "consent-service"), "audit", "verify"], cwd=ROOT,
                            env={**os.environ, **env}, capture_output=True, text=True)  # fmt: skip
    return Audit(
        acknowledged_missing=sum(rid not in stored for rid in acknowledged),
        duplicates=sum(len(ids) - 1 for ids in stored.values()),
        consent_id_mismatches=sum(
            rid in stored and stored[rid][0] != cid for rid, cid in acknowledged.items()
        ),
        stored_without_acknowledgement=sum(rid not in acknowledged for rid in stored),
        chain_verifies=verify.returncode == 0,
        verify_output=(verify.stdout + verify.stderr).strip()[:300],
        integrity=integrity,
        pending=sum(1 for _, _, pending in rows if pending),
    )


# ------------------------------------------------------------------ the scenarios


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


async def watch_readiness(port: int, until: Callable[[], bool],
                          log: list[tuple[float, int]]) -> None:  # fmt: skip
    start = time.monotonic()
    while not until():
        sent = time.monotonic() - start
        reply = await http(port, "GET", "/readyz", timeout=3)
        log.append((round(sent, 2), reply.status))
        await asyncio.sleep(0.25)


def scenario_load(server: Server, env: dict[str, str], url: str, seconds: float,
                  measure_seconds: float) -> dict[str, Any]:  # fmt: skip
    port = port_of(server)
    maximum = asyncio.run(closed_loop_max(port, measure_seconds))
    rate = round(0.8 * maximum)
    writes, load = asyncio.run(run_load(port, rate, seconds, "load"))
    return {"measured_max_per_s": round(maximum), "load": asdict(load),
            "audit": asdict(audit(env, url, writes, "load"))}  # fmt: skip


def scenario_kills(server: Server, env: dict[str, str], url: str, rate: float,
                   seconds: float, every: float) -> dict[str, Any]:  # fmt: skip
    port = port_of(server)
    killed: list[int] = []
    end = time.monotonic() + seconds

    def kill_now() -> None:
        pids = server.pids()
        if pids:
            victim = random.choice(pids)
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

    async def killer() -> None:
        while time.monotonic() + every < end:
            await asyncio.sleep(every)
            # In a thread: blocking the event loop (pgrep) would let the workers go idle
            # first, and the kill would never catch a request in flight.
            await asyncio.to_thread(kill_now)

    writes, load = asyncio.run(run_load(port, rate, seconds, "kill", during=killer))
    time.sleep(1)  # let the master replace the last victim before the scrape
    metrics = asyncio.run(http(port, "GET", "/metrics")).body.decode()
    decisions = sum(
        float(v)
        for v in re.findall(r"^consent_decisions_total\{[^}]*\} (\S+)$", metrics, re.MULTILINE)
    )
    head = re.search(r"^consent_chain_head_seq (\S+)$", metrics, re.MULTILINE)
    return {"workers_killed": len(killed), "every_s": every, "load": asdict(load),
            "audit": asdict(audit(env, url, writes, "kill")),
            "metrics_decisions_total_after_kills": decisions,
            "chain_head_seq_after_kills": float(head.group(1)) if head else None}  # fmt: skip


def scenario_outage(server: Server, env: dict[str, str], url: str, rate: float,
                    break_db: Callable[[], None], heal_db: Callable[[], None],
                    before: float = 3, outage: float = 6, after: float = 6,
                    ) -> dict[str, Any]:  # fmt: skip
    port = port_of(server)
    readiness: list[tuple[float, int]] = []
    marks: dict[str, float] = {}
    finished = False

    async def fault() -> None:
        start = time.monotonic()
        await asyncio.sleep(before)
        await asyncio.to_thread(break_db)
        marks["broken_at"] = time.monotonic() - start
        await asyncio.sleep(outage)
        marks["healing_at"] = time.monotonic() - start
        await asyncio.to_thread(heal_db)
        marks["healed_at"] = time.monotonic() - start

    async def observe() -> None:
        await asyncio.gather(fault(), watch_readiness(port, lambda: finished, readiness))

    async def main() -> tuple[list[Write], LoadFigures]:
        nonlocal finished
        watcher = asyncio.create_task(observe())
        result = await run_load(port, rate, before + outage + after, "outage", max_backoff=1.0)
        finished = True
        await watcher
        return result

    writes, load = asyncio.run(main())
    healed = marks.get("healed_at", 0.0)
    ready_again = next((t for t, s in readiness if t >= healed and s == 200), None)
    acked_times = sorted(w.finished - writes[0].scheduled for w in writes if w.acknowledged)
    first_write = next((t for t in acked_times if t >= healed), None)
    # Probes sent while the fault was certainly in place (PostgreSQL takes connections again
    # before its start command returns, so the window ends when healing begins).
    during = [s for t, s in readiness
              if marks.get("broken_at", 0) + 0.5 < t < marks.get("healing_at", 0)]  # fmt: skip
    return {
        "outage_s": outage,
        "readyz_during_outage": dict(Counter(str(s) for s in during)),
        "readyz_200_after_heal_s": None if ready_again is None else round(ready_again - healed, 2),
        "first_write_after_heal_s": None if first_write is None else round(first_write - healed, 2),
        "load": asdict(load),
        "audit": asdict(audit(env, url, writes, "outage")),
    }  # fmt: skip


def scenario_disk_full(tmp: Path, rate: float, seconds: float) -> dict[str, Any]:
    env = service_env(tmp / "full")
    (tmp / "full").mkdir()
    migrate(env)
    url = env["CONSENT_DATABASE_URL"]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pages = int(conn.execute(sa.text("PRAGMA page_count")).scalar_one())
    engine.dispose()
    env["DISK_FULL_MAX_PAGES"] = str(pages + 30)
    with gunicorn("bench.disk_full_app:create_app()", env) as server:
        writes, load = asyncio.run(run_load(port_of(server), rate, seconds, "full",
                                            max_backoff=0.2, grace=0))  # fmt: skip
        ready = asyncio.run(http(port_of(server), "GET", "/readyz")).status
    return {"max_pages": pages + 30, "load": asdict(load), "readyz_when_full": ready,
            "audit": asdict(audit(env, url, writes, "full"))}  # fmt: skip


def schemathesis(server: Server, examples: int, report_dir: Path) -> dict[str, Any]:
    """Two runs: without a cookie, and with a valid consent cookie (GET/DELETE reach logic)."""
    port = port_of(server)
    body = json.dumps({**CHOICE, "statistics": True}).encode()
    made = asyncio.run(http(port, "POST", "/api/v1/consent", body,
                            {"Content-Type": "application/json"}))  # fmt: skip
    cookie = made.headers.get("set-cookie", "").split(";", 1)[0]
    results: dict[str, Any] = {}
    report_dir.mkdir(parents=True, exist_ok=True)
    # The second run is a browser on the service's own page with a choice (statistics on):
    # GET/DELETE find a cookie, and event batches pass the consent and host checks.
    browser = ["-H", f"Cookie: {cookie}", "-H", f"Origin: {server.url}", "-H", f"User-Agent: {UA}"]
    for name, extra in (("no cookie", []), ("consent cookie", browser)):
        run = subprocess.run(
            # Every check runs (the default); bench/schemathesis.toml says what is off where.
            [str(VENV_BIN / "schemathesis"), "--config-file", str(ROOT / "bench" /
             "schemathesis.toml"), "run", f"{server.url}/api/v1/openapi.json",
             "-n", str(examples), "--no-color", "--seed", "20261128",
             "--report", "junit", "--report-dir", str(report_dir), *extra],
            capture_output=True, text=True, timeout=900, cwd=report_dir,  # its cache goes there
        )  # fmt: skip
        summary = re.search(r"(\d+) generated, (.*)", run.stdout)
        results[name] = {
            "exit_code": run.returncode,
            "summary": summary.group(0).strip() if summary else run.stdout[-500:],
            "generated": int(summary.group(1)) if summary else 0,
            "failures": re.findall(r"- (ST\d+ [^\n]+|Server error[^\n]*)", run.stdout)[:20],
        }
    results["generated_total"] = sum(r["generated"] for r in results.values()
                                     if isinstance(r, dict))  # fmt: skip
    return results


# ------------------------------------------------------------------ backends


@contextlib.contextmanager
def backend(name: str, tmp: Path) -> Iterator[tuple[dict[str, str], Any]]:
    """The service environment for a backend, and a handle to break and heal its database."""
    if name == "sqlite":
        env = service_env(tmp)
        migrate(env)
        yield env, None
        return
    from tests.postgres import PostgresServer

    server = PostgresServer(durable=True).start()
    try:
        admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE consent_bench"))
        admin.dispose()
        env = {**service_env(tmp), "CONSENT_DATABASE_URL": server.url("consent_bench")}
        migrate(env)
        yield env, server
    finally:
        server.stop()


def sqlite_files(env: dict[str, str]) -> list[str]:
    path = env["CONSENT_DATABASE_URL"].removeprefix("sqlite:///")
    # Not the -shm index: it is memory-mapped, and an immutable mapping is a SIGBUS.
    return [p for p in (path, f"{path}-wal") if os.path.exists(p)]


def immutable(paths: list[str], on: bool) -> None:
    """The SQLite file made unwritable, even for root (this runs as root on CI)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if on else "-i", *paths], check=True)
    else:
        for path in paths:
            os.chmod(path, 0o444 if on else 0o644)


def run_backend(name: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with backend(name, tmp) as (env, pg):
        url = env["CONSENT_DATABASE_URL"]
        with gunicorn("consent_service:create_app()", env) as server:
            print(f"[{name}] load at 80 % of the measured maximum for {args.duration:.0f} s")
            results["load"] = scenario_load(server, env, url, args.duration, args.measure)
            # The same rate as the load phase: workers are busy, so kills cut requests.
            rate = max(20.0, results["load"]["load"]["rate_per_s"])
            print(f"[{name}] SIGKILL a worker every {args.kill_every} s at {rate:.0f}/s")
            results["kills"] = scenario_kills(server, env, url, rate, args.duration,
                                              args.kill_every)  # fmt: skip
            if pg is not None:
                brk, heal, how = pg.pause, pg.resume, "PostgreSQL stopped"
            else:
                files = sqlite_files(env)
                brk, heal = (lambda: immutable(files, True)), (lambda: immutable(files, False))
                how = "SQLite file and WAL made unwritable"
            print(f"[{name}] outage: {how}, then back")
            results["outage"] = {"fault": how, **scenario_outage(
                server, env, url, min(100.0, rate / 2), brk, heal)}  # fmt: skip
            if name == "sqlite" and not args.skip_schemathesis:
                print(f"[{name}] schemathesis, {args.examples} examples per operation and run")
                results["schemathesis"] = schemathesis(server, args.examples, tmp / "st")
        if name == "sqlite":
            print(f"[{name}] disk full (max_page_count)")
            results["disk_full"] = scenario_disk_full(tmp, 100.0, min(args.duration, 10))
    return results


def print_summary(all_results: dict[str, Any]) -> None:
    for name, r in all_results.items():
        if not isinstance(r, dict) or "load" not in r:
            continue
        print(f"\n== {name}")
        load, kills, outage = r["load"], r["kills"], r["outage"]
        for label, block in (("load", load), ("kills", kills), ("outage", outage)):
            f, a = block["load"], block["audit"]
            chain = "verifies" if a["chain_verifies"] else "BROKEN"
            print(
                f"  {label:7} {f['rate_per_s']:.0f}/s for {f['seconds']:.0f} s "
                f"(achieved {f['achieved_per_s']:.0f}/s): {f['writes']} writes, "
                f"{f['acknowledged']} acknowledged, {f['retries']} retries, "
                f"gave up {f['gave_up']}, statuses {f['statuses']}, p50/p99 {f['p50_ms']}/"
                f"{f['p99_ms']} ms from schedule, {f['service_p50_ms']}/{f['service_p99_ms']} ms "
                f"from sending | missing {a['acknowledged_missing']}, "
                f"duplicates {a['duplicates']}, still pending {a.get('pending', 0)}, "
                f"chain {chain}"
            )
        print(f"  measured max {load['measured_max_per_s']}/s; workers killed "
              f"{kills['workers_killed']}; outage readyz {outage['readyz_during_outage']}, "
              f"ready {outage['readyz_200_after_heal_s']} s and first write "
              f"{outage['first_write_after_heal_s']} s after the fault ended")  # fmt: skip
        if "disk_full" in r:
            d = r["disk_full"]
            print(f"  disk full: statuses {d['load']['statuses']}, missing "
                  f"{d['audit']['acknowledged_missing']}, integrity {d['audit']['integrity']}, "
                  f"chain {'verifies' if d['audit']['chain_verifies'] else 'BROKEN'}")  # fmt: skip
        if "schemathesis" in r:
            s = r["schemathesis"]
            print(
                f"  schemathesis: {s['generated_total']} cases; "
                + "; ".join(f"{k}: {v['summary']}" for k, v in s.items() if isinstance(v, dict))
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per load phase")
    parser.add_argument("--short", action="store_true", help="10 s phases, fewer cases (CI)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--kill-every", type=float, default=2.0, help="seconds")
    parser.add_argument("--examples", type=int, default=500, help="schemathesis, per operation")
    parser.add_argument("--skip-schemathesis", action="store_true")
    args = parser.parse_args()
    args.measure = 10.0
    if args.short:
        args.duration, args.measure, args.examples = 10.0, 3.0, 200
        args.kill_every = min(args.kill_every, 1.0)
    started = time.strftime("%Y-%m-%dT%H%M%S")
    results: dict[str, Any] = {"started": started, "cores": os.cpu_count(),
                               "duration_s": args.duration}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="consent-reliability-") as tmp:
        for name in args.backends.split(","):
            (Path(tmp) / name).mkdir()
            results[name] = run_backend(name, args, Path(tmp) / name)
    out = ROOT / "bench" / "results" / f"reliability-{started}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print_summary(results)
    print(f"\nfigures: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
