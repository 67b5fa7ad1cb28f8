"""Signed checkpoints catch what a chain alone cannot: a cut-off end and a rewritten chain."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from consent_service.audit.chain import GENESIS_HASH, entry_digest, link_hash
from consent_service.audit.models import ChainHead, ChainLink, ConsentEntry
from consent_service.db import db
from tests.audit.conftest import add_entries
from tests.audit.test_chain import sql
from tests.conftest import make_app


def take_checkpoint(runner: FlaskCliRunner) -> dict[str, object]:
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output.strip().splitlines()[-1])
    return document


def verify(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


def rewrite_chain(app: Flask, from_seq: int) -> None:
    """What someone with database access can do: alter an entry and recompute every link."""
    from consent_service.audit.sequencer import build_tree

    with app.app_context():
        session = db.session
        entry = session.get(ConsentEntry, from_seq)
        assert entry is not None
        entry.statistics = not entry.statistics
        prev = GENESIS_HASH
        for link in session.scalars(select(ChainLink).order_by(ChainLink.seq)):
            if link.seq >= from_seq:
                record = session.get(ConsentEntry, link.seq)
                assert record is not None
                link.prev_hash = prev
                link.digest = entry_digest(record)
                link.hash = link_hash(link.seq, prev, link.digest)
                session.flush()
            prev = link.hash
        head = session.get(ChainHead, "consent")
        assert head is not None
        head.hash = prev
        session.commit()
    # The Merkle tree over the altered records too, and the service's own signed tree heads
    # gone: the service then signs the rewritten tree as if nothing happened.
    sql(app, "DELETE FROM audit_tree_nodes")
    sql(app, "DELETE FROM audit_log_checkpoints")
    with app.app_context():
        build_tree()


def cut_off_end(app: Flask, keep: int, tree: bool = True) -> None:
    """Delete the newest entries and their links, and move the head back to match.

    With `tree`, also the Merkle tree nodes over the removed entries and the signed tree
    heads the service stored: what someone who knows the schema would do.
    """
    # `keep` is an int from the test itself, never outside input.
    sql(app, f"DELETE FROM consent_log_entries WHERE seq > {keep:d}")  # noqa: S608
    sql(app, f"DELETE FROM audit_chain_links WHERE seq > {keep:d}")  # noqa: S608
    if tree:
        sql(app, f"DELETE FROM audit_tree_nodes WHERE (idx + 1) * (1 << level) > {keep:d}")  # noqa: S608
        sql(app, "DELETE FROM audit_log_checkpoints")
    with app.app_context():
        last = db.session.get(ChainLink, keep)
        head = db.session.get(ChainHead, "consent")
        assert last is not None and head is not None
        head.seq, head.hash = keep, last.hash
        db.session.commit()


def test_checkpoint_is_signed_stored_and_verified(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    add_entries(app, 5)
    document = take_checkpoint(runner)
    assert document["type"] == "checkpoint" and document["seq"] == 5
    assert {"hash", "signed_at", "signature", "key_fingerprint", "public_key"} <= document.keys()
    key = tmp_path / "checkpoint.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    file = tmp_path / "cp.json"
    file.write_text(json.dumps(document))
    add_entries(app, 2)  # the log goes on after a checkpoint
    code, output = verify(runner, "--checkpoint", str(file))
    assert code == 0, output
    assert "intact: 7 entries" in output and "2 checkpoint(s) match" in output


def test_rows_cut_off_after_a_checkpoint_are_found(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 6)
    take_checkpoint(runner)
    cut_off_end(app, keep=4)
    code, output = verify(runner)
    assert code == 1
    assert "BROKEN at entry 5" in output and "cut off the end" in output


def test_a_chain_alone_misses_a_cut_off_end_that_the_outside_checkpoint_finds(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    add_entries(app, 6)
    file = tmp_path / "filed.json"
    file.write_text(json.dumps(take_checkpoint(runner)))
    cut_off_end(app, keep=4)
    sql(app, "DELETE FROM audit_checkpoints")  # the stored copy is gone too
    assert verify(runner)[0] == 0  # nothing inside the database can tell
    code, output = verify(runner, "--checkpoint", str(file))
    assert code == 1 and "BROKEN at entry 5" in output and "covers up to 6" in output


def test_a_cut_off_end_that_leaves_the_tree_behind_is_found(
    app: Flask, runner: FlaskCliRunner
) -> None:
    add_entries(app, 6)
    cut_off_end(app, keep=4, tree=False)
    code, output = verify(runner)
    assert code == 1 and "BROKEN" in output, output


def test_a_cut_off_end_is_found_by_the_stored_signed_tree_head(
    app: Flask, runner: FlaskCliRunner
) -> None:
    from consent_service.audit.sequencer import integrate_pending

    add_entries(app, 6)
    with app.app_context():
        integrate_pending()  # signs the tree of 6
    cut_off_end(app, keep=4, tree=False)
    sql(app, "DELETE FROM audit_tree_nodes WHERE (idx + 1) * (1 << level) > 4")
    code, output = verify(runner)
    assert code == 1 and "BROKEN at entry 5" in output and "covers 6" in output, output


def test_a_rewritten_chain_is_found_by_the_checkpoint(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    add_entries(app, 6)
    file = tmp_path / "filed.json"
    file.write_text(json.dumps(take_checkpoint(runner)))
    rewrite_chain(app, from_seq=3)
    code, output = verify(runner)
    assert code == 1 and "BROKEN at entry 6" in output and "rewritten" in output
    sql(app, "DELETE FROM audit_checkpoints")
    assert verify(runner)[0] == 0  # internally consistent: only a checkpoint can tell
    code, output = verify(runner, "--checkpoint", str(file))
    assert code == 1 and "rewritten" in output


def test_a_forged_stored_checkpoint_is_reported(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 3)
    take_checkpoint(runner)
    rewrite_chain(app, from_seq=2)
    # Moving the stored checkpoint to the new hash breaks its signature instead.
    sql(
        app,
        "UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_chain_links WHERE seq = 3)",
    )
    code, output = verify(runner)
    assert code == 1 and "invalid signature" in output


def test_an_outside_checkpoint_with_an_unknown_key_is_refused(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    add_entries(app, 2)
    (tmp_path / "other").mkdir()
    other = make_app(tmp_path / "other", CHECKPOINT_KEY=str(tmp_path / "other.pem"))
    add_entries(other, 2)
    file = tmp_path / "foreign.json"
    file.write_text(json.dumps(take_checkpoint(other.test_cli_runner())))
    code, output = verify(runner, "--checkpoint", str(file))
    assert code == 2 and "--public-key" in output
    code, output = verify(
        runner, "--checkpoint", str(file), "--public-key", str(tmp_path / "other.pem")
    )
    assert code == 1 and "rewritten" in output  # a different log's head does not match ours


@pytest.mark.parametrize(
    "content", ["", "not json", "[]", '{"type": "checkpoint"}', '{"type": "checkpoint", "seq": -1, '
     '"hash": "x", "signed_at": "y", "signature": "z"}', "\udcff"],
)  # fmt: skip
def test_malformed_outside_checkpoints_get_a_clear_error(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path, content: str
) -> None:
    file = tmp_path / "bad.json"
    file.write_bytes(content.encode("utf-8", "surrogateescape"))
    code, output = verify(runner, "--checkpoint", str(file))
    assert code == 2 and output.startswith("error:")
    assert verify(runner, "--checkpoint", str(tmp_path / "missing.json"))[0] == 2


def test_production_refuses_to_checkpoint_without_a_configured_key(tmp_path: Path) -> None:
    app = make_app(tmp_path, CONSENT_MODE="production", CHECKPOINT_KEY=None, COOKIE_SECURE=True)
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 2 and "CONSENT_CHECKPOINT_KEY is not set" in result.output


def test_keygen_writes_a_private_key_once_and_prints_the_public_key(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "keys" / "cp.pem"
    result = runner.invoke(args=["audit", "keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "BEGIN PUBLIC KEY" in result.output and "fingerprint" in result.output
    assert "PRIVATE" not in result.output
    assert "log verifier key (C2SP note): consent-service.localhost/consent-log+" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    before = out.read_bytes()
    again = runner.invoke(args=["audit", "keygen", "--out", str(out)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    assert out.read_bytes() == before


def test_a_signed_tree_head_that_does_not_match_the_chain_is_found(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    from consent_service.audit.checkpoints import current_tree_head, sign_head, signing_key

    add_entries(app, 5)
    with app.app_context():
        key = signing_key()
        seq, hash_, _root = current_tree_head(db.session)
        db.session.add(sign_head(key, seq, hash_, "ab" * 32))  # validly signed, wrong tree
        db.session.commit()
    code, output = verify(runner)
    assert code == 1 and "BROKEN at entry 5" in output and "different Merkle tree head" in output


def test_checkpoints_carry_the_rfc6962_tree_head(app: Flask, runner: FlaskCliRunner) -> None:
    from consent_service.audit.merkle import tree_head

    add_entries(app, 6)
    document = take_checkpoint(runner)
    with app.app_context():
        hashes = list(db.session.scalars(select(ChainLink.hash).order_by(ChainLink.seq)))
    assert document["merkle_root"] == tree_head(hashes)[1]


COPY_ENTRY = (
    "INSERT INTO consent_log_entries (seq, site, occurred_at, consent_id, action, functional, "
    "statistics, policy_version, text_hash, language, source, gpc) SELECT {new}, site, "
    "occurred_at, consent_id, action, functional, {statistics}, policy_version, text_hash, "
    "language, source, gpc FROM consent_log_entries WHERE seq = {old}"
)


def test_insertions_are_found(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 5)
    # A record slipped in without a link: "outside the chain".
    sql(app, COPY_ENTRY.format(new=99, statistics="statistics", old=3))
    code, output = verify(runner)
    assert code == 1 and "BROKEN at entry 99: a log record exists outside the chain" in output
    sql(app, "DELETE FROM consent_log_entries WHERE seq = 99")
    assert verify(runner)[0] == 0
    # A record inserted in the middle, the later ones renumbered to make room.
    for seq in (5, 4, 3):
        sql(app, f"UPDATE consent_log_entries SET seq = {seq + 1:d} WHERE seq = {seq:d}")  # noqa: S608
    sql(app, COPY_ENTRY.format(new=3, statistics="NOT statistics", old=4))
    code, output = verify(runner)
    assert code == 1 and "BROKEN at entry 3: the log record was altered" in output


def test_a_head_that_does_not_match_its_links_is_not_signed(
    app: Flask, runner: FlaskCliRunner
) -> None:
    add_entries(app, 3)
    sql(
        app, "UPDATE audit_chain_head SET hash = (SELECT hash FROM audit_chain_links WHERE seq = 2)"
    )
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 2 and "run `audit verify`" in result.output
