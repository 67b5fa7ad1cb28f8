"""The log integrates inside plain gunicorn: no extra process, no gunicorn config file.

`gunicorn 'consent_service:create_app()'` with two preloaded workers: the sequencer thread
starts in a worker on its first request, one worker takes the lock, and every acknowledged
decision is in the signed tree within the promised delay — also after every worker, the
leader included, was killed and replaced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consent_service.audit.checkpoints import write_private_key
from consent_service.audit.log_models import PendingEntry
from consent_service.audit.services import verify_log
from consent_service.config import DEFAULT_POLICY_FILE
from consent_service.db import db
from consent_service.sites.policy import load_policy
from tests.audit import rfc9162
from tests.conftest import choice_body, make_app
from tests.ops.servers import ROOT, SAFE_KEY, Instance, free_port


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.mark.sqlite_only
def signed_size(instance: Instance, verifier: str) -> int:
    """The tree size of the log's signed checkpoint; 0 while none is signed yet (503
    log_not_signed, with Retry-After)."""
    reply = instance.request("GET", "/api/v1/log/checkpoint")
    if reply.status == 503 and b"log_not_signed" in reply.body:
        return 0
    return int(rfc9162.open_signed_note(reply.body.decode(), verifier).split("\n")[1])


def test_plain_gunicorn_integrates_and_signs_without_another_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'consent.sqlite3'}"
    key = tmp_path / "checkpoint.pem"
    write_private_key(key)
    inspect = make_app(tmp_path, DATABASE_URL=url, CHECKPOINT_KEY=str(key))  # migrates
    port = free_port()
    env = {
        **os.environ,
        "CONSENT_ENV": "production",
        "CONSENT_SECRET_KEY": SAFE_KEY,
        "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.test",
        "CONSENT_DATABASE_URL": url,
        "CONSENT_CHECKPOINT_KEY": str(key),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    command = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
               "--workers", "2", "--preload", "consent_service:create_app()"]  # fmt: skip
    with (tmp_path / "out").open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    instance = Instance("plain", port, process, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if instance.request("GET", "/healthz").status == 200:
                    break
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "out"
            ).read_text()
            time.sleep(0.1)
        version = load_policy(DEFAULT_POLICY_FILE).version
        sent = time.monotonic()
        for _ in range(20):
            reply = instance.post_json("/api/v1/consent", choice_body(policy_version=version))
            assert reply.status == 201, reply.body
        verifier = instance.request("GET", "/api/v1/log/key").body.decode()
        size = 0
        while size < 20 and time.monotonic() - sent < 10:
            size = signed_size(instance, verifier)
            time.sleep(0.05)
        assert size == 20, (tmp_path / "out").read_text()
        ready = instance.request("GET", "/readyz").json()
        assert ready["consent_log"]["pending"] == 0

        # Every worker killed, the leader with them: the replacements take over on their
        # first requests and the new decisions are integrated too.
        for worker in _workers(process.pid):
            os.kill(worker, signal.SIGKILL)
        time.sleep(0.5)
        for _ in range(20):
            reply = instance.post_json("/api/v1/consent", choice_body(policy_version=version))
            assert reply.status == 201, reply.body
        sent = time.monotonic()
        while size < 40 and time.monotonic() - sent < 10:
            size = signed_size(instance, verifier)
            time.sleep(0.05)
        assert size == 40, (tmp_path / "out").read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)
    with inspect.app_context():
        assert db.session.scalar(select(func.count()).select_from(PendingEntry)) == 0
        report = verify_log(db.session)
    assert report.ok, report.lines()


def test_the_postgresql_lock_goes_with_its_session(tmp_path: Path) -> None:
    """A leader that stops (an error, a lost connection) must not leave the lock behind in an
    idle pooled connection: another worker takes over."""
    from consent_service.audit.sequencer import Sequencer
    from tests.conftest import postgres_database_url

    url = postgres_database_url(tmp_path)
    first = make_app(tmp_path, migrate=False, DATABASE_URL=url)
    (tmp_path / "b").mkdir()
    second = make_app(tmp_path / "b", migrate=False, DATABASE_URL=url)
    leader, other = Sequencer(first), Sequencer(second)
    with leader._leadership() as leading:
        assert leading
        with other._leadership() as also:
            assert not also
    with other._leadership() as now:
        assert now
