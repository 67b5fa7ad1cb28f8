"""`consent-service log witness`: a log rewritten or rolled back in the database is caught.

Someone with database access can rewrite the log and let the service sign the result: the
signature is then valid. The witness still catches it, because the new tree does not extend
the one it saw before.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from consent_service.audit.sequencer import build_tree
from consent_service.audit.witness import WitnessAlert, witness
from tests.audit.test_chain import sql
from tests.audit.test_transparency import choice_body

BASE = "https://samtycke.uppsala.test"


def fetcher(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()

    def fetch(url: str) -> bytes:
        parts = urlsplit(url)
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data()

    return fetch


def decide(app: Flask, n: int) -> None:
    for _ in range(n):
        app.test_client().post("/api/v1/consent", json=choice_body())


def test_a_growing_log_is_accepted_run_after_run(app: Flask) -> None:
    decide(app, 3)
    state = witness(BASE, {}, fetcher(app))
    assert state["size"] == 3 and "first checkpoint" in state["last"]
    decide(app, 4)
    state = witness(BASE, state, fetcher(app))
    assert state["size"] == 7 and "3 → 7 is consistent" in state["last"]
    assert witness(BASE, state, fetcher(app))["size"] == 7


def test_a_log_rewritten_in_the_database_and_signed_again_is_a_fork(app: Flask) -> None:
    decide(app, 5)
    state = witness(BASE, {}, fetcher(app))
    # Alter an old decision, rebuild the tree over it, drop the stored checkpoints: the
    # service signs the rewritten tree at the next decision.
    sql(app, "UPDATE consent_log_entries SET statistics = NOT statistics WHERE seq = 2")
    sql(app, "DELETE FROM audit_tree_nodes")
    sql(app, "DELETE FROM audit_log_checkpoints")
    with app.app_context():
        build_tree()
    decide(app, 1)
    with pytest.raises(WitnessAlert, match="fork"):
        witness(BASE, state, fetcher(app))


def test_a_rolled_back_log_is_an_alert(app: Flask) -> None:
    decide(app, 5)
    state = witness(BASE, {}, fetcher(app))
    sql(app, "DELETE FROM audit_tree_nodes WHERE (idx + 1) * (1 << level) > 3")
    sql(app, "DELETE FROM audit_log_checkpoints")
    with app.app_context():
        from consent_service.audit.sequencer import sign_if_grown
        from consent_service.db import db

        with db.writing_connection() as conn:
            sign_if_grown(conn, 3)
    with pytest.raises(WitnessAlert, match="rollback"):
        witness(BASE, state, fetcher(app))


def test_a_changed_key_is_an_alert(app: Flask, tmp_path: Path) -> None:
    decide(app, 1)
    state = witness(BASE, {}, fetcher(app))
    state["key"] = state["key"].replace(state["key"].split("+")[1], "00000000")
    with pytest.raises(WitnessAlert, match="another key"):
        witness(BASE, state, fetcher(app))


def test_the_command_keeps_its_state_and_exits_1_on_a_fork(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("consent_service.audit.witness.http_fetch", fetcher(app))
    state = tmp_path / "witness.json"
    decide(app, 2)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["log", "witness", BASE, "--state", str(state)])
    assert first.exit_code == 0, first.output
    assert json.loads(state.read_text())["size"] == 2
    decide(app, 1)
    second = runner.invoke(args=["log", "witness", BASE, "--state", str(state)])
    assert second.exit_code == 0 and "2 → 3 is consistent" in second.output
    sql(app, "UPDATE consent_log_entries SET functional = NOT functional WHERE seq = 1")
    sql(app, "DELETE FROM audit_tree_nodes")
    sql(app, "DELETE FROM audit_log_checkpoints")
    with app.app_context():
        build_tree()
    decide(app, 1)
    third = runner.invoke(args=["log", "witness", BASE, "--state", str(state)])
    assert third.exit_code == 1 and "ALERT: fork" in third.output
    assert json.loads(state.read_text())["size"] == 3  # the accepted state is kept
