"""Workers that gunicorn recycles (deploy/gunicorn.conf.py: `max_requests`) leave cleanly.

A worker leaves through the config's `worker_exit`: the exit hooks run (the consent log's
sequencer stops after its round, logging flushes), then the process ends without the
interpreter's teardown. These tests run the real config: a recycled worker loses no
decision, no metric and no log line, and the exit status gunicorn acts on is kept.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consent_service.audit.models import ConsentEntry
from consent_service.db import db
from tests.conftest import choice_body, make_app
from tests.ops.servers import CONFIG, SAFE_KEY, instances, wait_until_integrated
from tests.ops.test_metrics import TOKEN, sample

pytestmark = pytest.mark.sqlite_only

DECISIONS = 36
MAX_REQUESTS = 10  # gunicorn adds up to 10 % jitter: a worker serves 10 or 11 requests


def test_recycled_workers_lose_no_decision_metric_or_log_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'consent.sqlite3'}"
    inspect = make_app(tmp_path, DATABASE_URL=url)  # migrates
    env = {
        "CONSENT_ENV": "production",
        "CONSENT_SECRET_KEY": SAFE_KEY,
        "CONSENT_PUBLIC_URL": "https://samtycke.uppsala.test",
        "CONSENT_DATABASE_URL": url,
        "CONSENT_METRICS_TOKEN": TOKEN,
        "CONSENT_REPLAY_RATE_LIMIT": "100000",
        "GUNICORN_MAX_REQUESTS": str(MAX_REQUESTS),
    }
    with instances("consent_service:create_app()", {"one": env}, tmp_path, workers=1) as started:
        server = started["one"]
        for _ in range(DECISIONS):
            reply = server.post_json("/api/v1/consent", choice_body(source="api"))
            assert reply.status == 201, reply.body
        # Every decision is integrated by a sequencer: the one of the worker that took it
        # (stopped cleanly as that worker left) or the next worker's.
        wait_until_integrated(inspect, 15)
        with inspect.app_context():
            assert db.session.scalar(select(func.count()).select_from(ConsentEntry)) == DECISIONS
        # What the recycled workers counted reached the shared metrics files.
        scraped = server.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status == 200
        text = scraped.body.decode()
        granted = sum(
            sample(text, "consent_decisions_total", action=action)
            for action in ("grant", "update", "withdraw")
        )
        assert granted == DECISIONS
        log = server.error_log()
    recycled = log.count("Autorestarting worker")
    assert recycled >= DECISIONS // (MAX_REQUESTS + 1)
    # Each recycled worker's last words were flushed, and it left with status 0 (gunicorn
    # logs "Worker (pid:N) exited with code C" for any other status).
    assert log.count("Worker exiting") >= recycled
    assert "exited with code" not in log
    assert '"level": "error"' not in log


@pytest.mark.parametrize("status", [0, 1, 3, 4])
def test_a_leaving_worker_keeps_its_exit_status_and_runs_the_exit_hooks(
    tmp_path: Path, status: int
) -> None:
    # 3 and 4 are gunicorn's "worker failed to boot" and "app failed to load": the master
    # stops instead of starting workers forever, so they must survive the shortcut.
    script = "\n".join([
        "import atexit, runpy, sys",
        f"conf = runpy.run_path({str(CONFIG)!r})",
        "atexit.register(lambda: print('exit hook ran'))",
        "try:",
        f"    sys.exit({status})",
        "finally:",
        "    conf['worker_exit'](None, None)",
    ])  # fmt: skip
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})  # fmt: skip
    assert run.returncode == status, run.stderr
    assert run.stdout == "exit hook ran\n"


def test_a_worker_leaving_on_another_exception_ends_as_python_ends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # else the config makes one
    conf = runpy.run_path(str(CONFIG), run_name="gunicorn_conf")
    # Not leaving through SystemExit: the hook does nothing and returns.
    assert conf["worker_exit"](None, None) is None
