"""`audit verify`, `audit export` and the citizen's receipt at 100,000 and 1,000,000 entries.

Figures, never pass/fail (the machine is shared). Builds each log in a temporary SQLite
database by bulk insert, computing the chain exactly as `append_entry` does (not through
HTTP), takes a signed checkpoint, then runs each command as a separate process and reads its
peak RSS and CPU time with getrusage(RUSAGE_CHILDREN) in a fresh wrapper process, so each
figure belongs to one command only. Last, gunicorn serves the log and wrk asks for the
receipt of one consent whose entries lie at the start, the middle and the end of the log
(inclusion proofs from all over the tree).

    .venv/bin/python bench/audit_bench.py            # 100,000 and 1,000,000
    .venv/bin/python bench/audit_bench.py 20000      # other sizes
    .venv/bin/python bench/audit_bench.py 1000000 --dir /tmp/audit-1m   # keep the built log
                                                     # there and reuse it on the next run
    BENCH_SECONDS=10 .venv/bin/python bench/audit_bench.py   # the receipt run's length (5)
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, update  # noqa: E402

from consent_service import create_app  # noqa: E402
from consent_service.audit.chain import GENESIS_HASH, link_hash, record_digest  # noqa: E402
from consent_service.audit.models import (  # noqa: E402
    ChainHead,
    ChainLink,
    ConsentEntry,
    consent_record,
)
from consent_service.audit.sequencer import build_tree  # noqa: E402
from consent_service.consent.cookie import Choice, choice_cookie  # noqa: E402
from consent_service.consent.services import current_policy  # noqa: E402
from consent_service.db import db  # noqa: E402
from consent_service.schema import upgrade_database  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BUDGET = {"verify": 15.0, "export": 30.0, "rss_mb": 150.0, "receipt_p99_ms": 20.0}
SIZES = (100_000, 1_000_000)
BATCH = 20_000
# The consent whose receipt is asked for: its entries are the log's first, middle and last.
RECEIPT_ID = "00000000-0000-4000-8000-00000000cafe"

# Peak RSS of one command: a fresh wrapper waits for it and reads only its own children.
WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL).returncode; "
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(code, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"
)


def log_env(workdir: Path) -> dict[str, str]:
    """The commands' environment for the log in `workdir`."""
    return {
        "CONSENT_ENV": "development",
        "CONSENT_SECRET_KEY": SECRET,
        "CONSENT_DATABASE_URL": f"sqlite:///{workdir / 'consent.sqlite3'}",
        "CONSENT_CHECKPOINT_KEY": str(workdir / "checkpoint.pem"),
    }


def log_app(env: dict[str, str]) -> Any:
    return create_app(
        {
            "CONSENT_MODE": "development",
            "SECRET_KEY": SECRET,
            "ENVIRON": {k: v for k, v in env.items() if k != "CONSENT_ENV"},
            "DATABASE_URL": env["CONSENT_DATABASE_URL"],
            "CHECKPOINT_KEY": env["CONSENT_CHECKPOINT_KEY"],
        }
    )


def receipt_cookie(env: dict[str, str]) -> str:
    """The `consent` cookie of RECEIPT_ID, signed as the service signs it."""
    app = log_app(env)
    with app.app_context():
        policy = current_policy()
        value = choice_cookie().encode(Choice(RECEIPT_ID, policy.version, True, False))
    app.extensions["consent_db"].dispose()
    return f"consent={value}"


def build_log(workdir: Path, size: int) -> dict[str, str]:
    """A migrated database holding `size` chained entries; returns the commands' environment.

    RECEIPT_ID's entries are the first, the middle and the last (a grant and two updates).
    """
    env = log_env(workdir)
    app = log_app(env)
    upgrade_database(app)
    rng = random.Random(size)
    marked = {1, (size + 1) // 2, size}
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with app.app_context():
        policy = current_policy()
        text_hashes = {lang: policy.text_hash(lang) for lang in policy.languages}
        prev, ids = GENESIS_HASH, []
        with db.engine.begin() as conn:
            for first in range(1, size + 1, BATCH):
                links: list[dict[str, Any]] = []
                entries: list[dict[str, Any]] = []
                for seq in range(first, min(first + BATCH, size + 1)):
                    roll = rng.random()
                    if seq in marked:
                        action, consent_id = ("grant" if seq == 1 else "update"), RECEIPT_ID
                    elif ids and roll < 0.25:
                        action, consent_id = "update", rng.choice(ids)
                    elif ids and roll < 0.3:
                        action, consent_id = "withdraw", rng.choice(ids)
                    else:
                        action, consent_id = "grant", str(uuid.UUID(int=rng.getrandbits(128)))
                        if len(ids) < 50_000:
                            ids.append(consent_id)
                    functional = action != "withdraw" and rng.random() < 0.6
                    statistics = functional and rng.random() < 0.7
                    language = "sv" if rng.random() < 0.9 else "en"
                    row = {
                        "seq": seq,
                        "site": policy.site,
                        "occurred_at": start + dt.timedelta(seconds=seq * 13),
                        "consent_id": consent_id,
                        "action": action,
                        "functional": functional,
                        "statistics": statistics,
                        "policy_version": policy.version,
                        "text_hash": text_hashes[language],
                        "language": language,
                        "source": "banner",
                        "gpc": False,
                    }
                    digest = record_digest(consent_record(**row))
                    hash_ = link_hash(seq, prev, digest)
                    links.append({"seq": seq, "prev_hash": prev, "digest": digest, "hash": hash_})
                    entries.append({**row, "request_id": None})
                    prev = hash_
                conn.execute(insert(ChainLink), links)
                conn.execute(insert(ConsentEntry), entries)
            conn.execute(
                update(ChainHead).where(ChainHead.chain == "consent").values(seq=size, hash=prev)
            )
        # The Merkle tree over the bulk-built chain, as `db upgrade` builds it for a log from
        # before the tree existed (and signs its checkpoint).
        build_tree()
    app.extensions["consent_db"].dispose()
    return env


def measure(command: list[str], env: dict[str, str]) -> tuple[int, float, float, float]:
    """Exit code, wall seconds, peak RSS (MB) and CPU seconds of one command as a child."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    code, max_rss_kb, cpu = done.stdout.split()
    return int(code), seconds, int(max_rss_kb) / 1024, float(cpu)


def row(name: str, measured: tuple[int, float, float, float], budget: float) -> str:
    code, seconds, rss, cpu = measured
    verdict = "within" if seconds <= budget and rss <= BUDGET["rss_mb"] and code == 0 else "OVER"
    # CPU time as well: on a shared machine the wall time mostly measures the neighbours.
    return (
        f"  {name:<22} {seconds:7.1f} s wall, {cpu:5.1f} s CPU (budget {budget:.0f} s)  "
        f"{rss:4.0f} MB peak RSS (budget {BUDGET['rss_mb']:.0f} MB)  exit {code}  {verdict}"
    )


def prepared_log(workdir: Path, size: int) -> tuple[dict[str, str], str]:
    """Build the log in `workdir` (or reuse the one a previous run kept there)."""
    marker = workdir / "size"
    if marker.exists() and marker.read_text() == str(size):
        return log_env(workdir), "reused"
    for stale in ("consent.sqlite3", "checkpoint.pem", "size"):
        (workdir / stale).unlink(missing_ok=True)
    started = time.perf_counter()
    env = build_log(workdir, size)
    built = time.perf_counter() - started
    cli = str(Path(sys.executable).parent / "consent-service")
    subprocess.run([cli, "audit", "checkpoint"], env={**os.environ, **env}, check=True,
                   capture_output=True, cwd=ROOT)  # fmt: skip
    marker.write_text(str(size))
    return env, f"built in {built:.0f} s"


def receipt_run(workdir: Path, env: dict[str, str], seconds: int) -> str:
    """wrk on GET /api/v1/consent/receipt for RECEIPT_ID, gunicorn on the log's database."""
    from bench.common import gunicorn, wrk_get

    headers = {"Cookie": receipt_cookie(env)}
    # The log's database stays as built: nothing is recorded during the run.
    with gunicorn("consent_service:create_app()", env) as service:
        url = service.url + "/api/v1/consent/receipt"
        wrk_get(url, 1, headers=headers)  # warm-up (each worker's first requests)
        # 16 connections queue for the 2 sync workers (the p50 is about 16 / throughput); 2,
        # one per worker, show what one receipt takes to answer.
        runs = [(n, wrk_get(url, seconds, connections=n, headers=headers)) for n in (16, 2)]
    lines = []
    for connections, r in runs:
        within = r.p99_ms <= BUDGET["receipt_p99_ms"] and not r.non_2xx
        lines.append(
            f"  {f'receipt ({connections} conn.)':<22} {r.requests_per_second:7.0f} req/s  "
            f"p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms "
            f"(budget {BUDGET['receipt_p99_ms']:.0f} ms)  non-2xx {r.non_2xx}  "
            f"{'within' if within else 'OVER'}  (3 entries: first, middle, last; {seconds} s)"
        )
    return "\n".join(lines)


def main() -> None:
    args = sys.argv[1:]
    keep: Path | None = None
    if "--dir" in args:
        at = args.index("--dir")
        keep = Path(args[at + 1])
        del args[at : at + 2]
    sizes = [int(a) for a in args] or list(SIZES)
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    cli = str(Path(sys.executable).parent / "consent-service")
    print("consent log: audit verify / audit export (SQLite, one process each), receipt (gunicorn)")
    for size in sizes:
        tmp = tempfile.mkdtemp(prefix="audit-bench-")
        try:
            workdir = keep / str(size) if keep else Path(tmp)
            workdir.mkdir(parents=True, exist_ok=True)
            env, how = prepared_log(workdir, size)
            db_mb = (workdir / "consent.sqlite3").stat().st_size / 2**20
            load = os.getloadavg()[0]
            print(f"{size:,} entries ({how}, database {db_mb:.0f} MB, "
                  f"load average {load:.1f} on {os.cpu_count()} cores)")  # fmt: skip
            print(row("audit verify", measure([cli, "audit", "verify"], env), BUDGET["verify"]))
            for fmt in ("csv", "ndjson"):
                out = Path(tmp) / f"export.{fmt}"
                command = [cli, "audit", "export", "--format", fmt, "-o", str(out)]
                measured = measure(command, env)
                size_mb = out.stat().st_size / 2**20 if out.exists() else 0
                print(row(f"audit export {fmt}", measured, BUDGET["export"])
                      + f"  ({size_mb:.0f} MB)")  # fmt: skip
            print(receipt_run(workdir, env, seconds))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
