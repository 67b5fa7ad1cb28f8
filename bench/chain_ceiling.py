"""How many appends per second one consent-log chain takes, without HTTP in the way.

Every decision appends to one hash chain under one lock (the chain head row), so the chain
is the part of the service that more instances cannot scale. This measures that ceiling on
a durable PostgreSQL (fsync and synchronous commit on, as in production) and on SQLite:
`record_choice` called from threads in one process, each with its own connection.

    .venv/bin/python bench/chain_ceiling.py [--seconds 5]

Prints figures only (docs/scaling.md uses them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.common import BENCH_SECRET, shipped_policy_version


def appends_per_second(
    database_url: str, threads: int, seconds: float, integration: str = "inline"
) -> float:
    """Decisions per second through record_choice from `threads` writers.

    `inline`: each decision is acknowledged and then integrated by its own request (two
    transactions, the second holding the chain head), the old one-append-per-decision path.
    `manual`: acknowledgement only, the request path of the transparency log; the
    sequencer's own rate is `integrations_per_second`.
    """
    from consent_service import create_app
    from consent_service.consent.services import record_choice
    from consent_service.schema import upgrade_database

    key = f"{tempfile.gettempdir()}/chain-ceiling-key.pem"
    app = create_app({"CONSENT_MODE": "testing", "SECRET_KEY": BENCH_SECRET,
                      "DATABASE_URL": database_url, "LOG_INTEGRATION": integration,
                      "CHECKPOINT_KEY": key})  # fmt: skip
    upgrade_database(app)
    version = shipped_policy_version()
    done = [0] * threads
    start = time.monotonic()
    end = start + seconds

    def writer(slot: int) -> None:
        with app.app_context():
            while time.monotonic() < end:
                record_choice(functional=True, statistics=False, policy_version=version,
                              language="sv", source="api", previous=None)  # fmt: skip
                done[slot] += 1

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rate = sum(done) / (time.monotonic() - start)
    if integration == "manual":
        with app.app_context():
            started = time.monotonic()
            from consent_service.audit.sequencer import integrate_pending

            integrated = integrate_pending()
            print(f"    sequencer: {integrated} pending entries integrated in batches at "
                  f"{integrated / (time.monotonic() - started):7.0f}/s")  # fmt: skip
    app.extensions["consent_db"].dispose()
    return rate


def independent_commits_per_second(database_url: str, threads: int, seconds: float) -> float:
    """Small durable transactions that wait on no shared lock: what per-site chains could reach.

    Each thread appends to its own one-row "head" and a log table, as a chain per site would.
    """
    engine = sa.create_engine(database_url, pool_size=threads)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE heads (id int PRIMARY KEY, seq int)"))
        conn.execute(sa.text("CREATE TABLE entries (id int, seq int, body text)"))
        for i in range(threads):
            conn.execute(sa.text("INSERT INTO heads VALUES (:i, 0)"), {"i": i})
    done = [0] * threads
    start = time.monotonic()
    end = start + seconds

    def writer(slot: int) -> None:
        with engine.connect() as conn:
            while time.monotonic() < end:
                with conn.begin():
                    seq = conn.execute(sa.text("SELECT seq FROM heads WHERE id = :i FOR UPDATE"),
                                       {"i": slot}).scalar_one()  # fmt: skip
                    conn.execute(sa.text("INSERT INTO entries VALUES (:i, :s, :b)"),
                                 {"i": slot, "s": seq + 1, "b": "x" * 300})  # fmt: skip
                    conn.execute(sa.text("UPDATE heads SET seq = :s WHERE id = :i"),
                                 {"i": slot, "s": seq + 1})  # fmt: skip
                done[slot] += 1

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    engine.dispose()
    return sum(done) / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    from tests.postgres import PostgresServer

    server = PostgresServer(durable=True).start()
    try:
        admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
        print(
            f"== decisions per second, one chain, {args.seconds:.0f} s each (inline: "
            "acknowledge + integrate per decision; acknowledgement only: the request path)"
        )
        for threads in (1, 4, 16):
            name = f"ceiling_{threads}"
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {name}"))
            rate = appends_per_second(server.url(name), threads, args.seconds)
            print(f"  PostgreSQL (durable), {threads:2} writers: {rate:7.0f}/s")
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {name}_ack"))
            rate = appends_per_second(server.url(f"{name}_ack"), threads, args.seconds, "manual")
            print(f"  PostgreSQL (durable), {threads:2} writers, acknowledgement only: "
                  f"{rate:7.0f}/s")  # fmt: skip
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE independent"))
        rate = independent_commits_per_second(server.url("independent"), 16, args.seconds)
        print(f"  PostgreSQL (durable), 16 writers on 16 separate heads: {rate:7.0f}/s")
        admin.dispose()
    finally:
        server.stop()
    for threads in (1, 4):
        with tempfile.TemporaryDirectory() as tmp:
            rate = appends_per_second(f"sqlite:///{tmp}/c.sqlite3", threads, args.seconds)
        print(f"  SQLite (WAL, synchronous=NORMAL), {threads:2} writers: {rate:7.0f}/s")
        with tempfile.TemporaryDirectory() as tmp:
            rate = appends_per_second(f"sqlite:///{tmp}/c.sqlite3", threads, args.seconds, "manual")
        print(f"  SQLite (WAL, synchronous=NORMAL), {threads:2} writers, acknowledgement only: "
              f"{rate:7.0f}/s")  # fmt: skip


if __name__ == "__main__":
    main()
