"""`audit verify` and `audit export` at 100,000 and 1,000,000 entries: wall time and peak RSS.

Figures, never pass/fail (the machine is shared). Builds each log in a temporary SQLite
database by bulk insert, computing the chain exactly as `append_entry` does (not through
HTTP), takes a signed checkpoint, then runs each command as a separate process and reads its
peak RSS with getrusage(RUSAGE_CHILDREN) in a fresh wrapper process, so each figure belongs to
one command only.

    .venv/bin/python bench/audit_bench.py            # 100,000 and 1,000,000
    .venv/bin/python bench/audit_bench.py 20000      # other sizes
"""

from __future__ import annotations

import datetime as dt
import os
import random
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
from consent_service.consent.services import current_policy  # noqa: E402
from consent_service.db import db  # noqa: E402
from consent_service.schema import upgrade_database  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BUDGET = {"verify": 15.0, "export": 30.0, "rss_mb": 150.0}
SIZES = (100_000, 1_000_000)
BATCH = 20_000

# Peak RSS of one command: a fresh wrapper waits for it and reads only its own children.
WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL).returncode; "
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(code, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"
)


def build_log(workdir: Path, size: int) -> dict[str, str]:
    """A migrated database holding `size` chained entries; returns the commands' environment."""
    db_path = workdir / "consent.sqlite3"
    key = workdir / "checkpoint.pem"
    env = {
        "CONSENT_ENV": "development",
        "CONSENT_SECRET_KEY": SECRET,
        "CONSENT_DATABASE_URL": f"sqlite:///{db_path}",
        "CONSENT_CHECKPOINT_KEY": str(key),
    }
    app = create_app(
        {
            "CONSENT_MODE": "development",
            "SECRET_KEY": SECRET,
            "ENVIRON": {k: v for k, v in env.items() if k != "CONSENT_ENV"},
            "DATABASE_URL": env["CONSENT_DATABASE_URL"],
            "CHECKPOINT_KEY": str(key),
        }
    )
    upgrade_database(app)
    rng = random.Random(size)
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
                    if ids and roll < 0.25:
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


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    cli = str(Path(sys.executable).parent / "consent-service")
    print("consent log: audit verify / audit export (SQLite, one process each)")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="audit-bench-") as tmp:
            workdir = Path(tmp)
            started = time.perf_counter()
            env = build_log(workdir, size)
            built = time.perf_counter() - started
            subprocess.run([cli, "audit", "checkpoint"], env={**os.environ, **env}, check=True,
                           capture_output=True, cwd=ROOT)  # fmt: skip
            db_mb = (workdir / "consent.sqlite3").stat().st_size / 2**20
            load = os.getloadavg()[0]
            print(f"{size:,} entries (built in {built:.0f} s, database {db_mb:.0f} MB, "
                  f"load average {load:.1f} on {os.cpu_count()} cores)")  # fmt: skip
            print(row("audit verify", measure([cli, "audit", "verify"], env), BUDGET["verify"]))
            for fmt in ("csv", "ndjson"):
                out = workdir / f"export.{fmt}"
                command = [cli, "audit", "export", "--format", fmt, "-o", str(out)]
                measured = measure(command, env)
                size_mb = out.stat().st_size / 2**20 if out.exists() else 0
                print(row(f"audit export {fmt}", measured, BUDGET["export"])
                      + f"  ({size_mb:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
