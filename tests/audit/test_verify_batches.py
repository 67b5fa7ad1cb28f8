"""`audit verify` checks the log a batch at a time: whatever batch a problem falls in, it is
found and named exactly as a walk entry by entry names it, and the stored tree is checked
level by level against the tree built from the checked leaves."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from consent_service.audit.chain import GENESIS_HASH, ExpectedHead, VerifyResult, verify_chain
from consent_service.audit.merkle import tree_head
from consent_service.audit.models import ChainLink
from consent_service.audit.tree import LevelDigests, node_hash
from consent_service.db import db
from tests.audit.conftest import add_entries
from tests.audit.test_chain import sql

BATCH = 8  # 24 entries: three batches, so a problem can sit at a batch's edge or inside


def link_hashes(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(ChainLink.hash).order_by(ChainLink.seq)))


def verify(app: Flask, heads: list[ExpectedHead] | None = None) -> VerifyResult:
    with app.app_context():
        return verify_chain(db.session, BATCH, heads or [], LevelDigests())


# SQLite keeps whatever type a value is given; PostgreSQL refuses a wrong type, so there the
# odd value is a text that JSON must escape.
ODD = {
    "sqlite": {
        "bool": "UPDATE consent_log_entries SET functional = 2, statistics = 2 WHERE seq = {s}",
        "int": "UPDATE consent_log_entries SET policy_version = policy_version + 0.5 "
        "WHERE seq = {s}",
        "text": "UPDATE consent_log_entries SET language = CAST(language AS BLOB) WHERE seq = {s}",
        "leaf": "UPDATE audit_tree_nodes SET idx = 'x' WHERE level = 0 AND idx = {s} - 1",
    },
    "postgresql": {
        "bool": "UPDATE consent_log_entries SET functional = NOT functional, "
        "statistics = NOT statistics WHERE seq = {s}",
        "int": "UPDATE consent_log_entries SET policy_version = policy_version + 1 WHERE seq = {s}",
        "text": "UPDATE consent_log_entries SET language = language || '\"å' WHERE seq = {s}",
        "leaf": "UPDATE audit_tree_nodes SET idx = idx + 1000 WHERE level = 0 AND idx = {s} - 1",
    },
}
TAMPERING: list[tuple[str, str, str]] = [
    ("edit a choice", "UPDATE consent_log_entries SET statistics = NOT statistics WHERE seq = {s}",
     "altered"),
    ("a choice that is no boolean", "bool", "altered"),
    ("a policy version that is no integer", "int", "altered"),
    ("a text stored as bytes or escaped", "text", "altered"),
    ("delete an entry", "DELETE FROM consent_log_entries WHERE seq = {s}", "missing"),
    ("delete an entry and its link", "DELETE FROM consent_log_entries WHERE seq = {s}; "
     "DELETE FROM audit_chain_links WHERE seq = {s}", "entry missing"),
    ("forge a link hash", "UPDATE audit_chain_links SET hash = (CASE WHEN substr(hash, 1, 1) "
     "= '0' THEN '1' ELSE '0' END) || substr(hash, 2) WHERE seq = {s}", "link hash"),
    ("forge a previous hash", "UPDATE audit_chain_links SET prev_hash = (CASE WHEN "
     "substr(prev_hash, 1, 1) = '0' THEN '1' ELSE '0' END) || substr(prev_hash, 2) "
     "WHERE seq = {s}", "previous-hash"),
    ("edit a leaf", "UPDATE audit_tree_nodes SET hash = (CASE WHEN substr(hash, 1, 1) = '0' "
     "THEN '1' ELSE '0' END) || substr(hash, 2) WHERE level = 0 AND idx = {s} - 1",
     "leaf does not match"),
    ("delete a leaf", "DELETE FROM audit_tree_nodes WHERE level = 0 AND idx = {s} - 1",
     "no leaf"),
    ("move a leaf before the first", "UPDATE audit_tree_nodes SET idx = -1 "
     "WHERE level = 0 AND idx = {s} - 1", "no leaf"),
    ("a leaf position that is no integer", "leaf", "no leaf"),
]  # fmt: skip


@pytest.mark.parametrize("bad", [1, 8, 9, 14, 24])
@pytest.mark.parametrize(("what", "statement", "reason"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_a_problem_is_named_whatever_batch_it_falls_in(
    app: Flask, what: str, statement: str, reason: str, bad: int
) -> None:
    add_entries(app, 24)
    links = link_hashes(app)
    assert verify(app).ok
    with app.app_context():
        statement = ODD[db.engine.dialect.name].get(statement, statement)
    for part in statement.format(s=bad).split("; "):
        sql(app, part)
    result = verify(app)
    assert not result.ok
    assert result.first_bad_seq == bad, result.describe()
    if reason == "entry missing" and bad == 24:
        reason = "cut off the end"  # the last link gone: the chain head names it
    assert reason in (result.reason or ""), result.describe()
    # Everything before it was checked, and the result stands where the walk stopped.
    assert (result.checked, result.head_seq) == (bad - 1, bad - 1)
    assert result.head_hash == (links[bad - 2] if bad > 1 else GENESIS_HASH)


@pytest.mark.parametrize("seq", [7, 8, 9, 13, 24])
def test_a_signed_head_inside_a_batch_is_compared_where_it_stands(app: Flask, seq: int) -> None:
    add_entries(app, 24)
    links = link_hashes(app)
    root = tree_head(links[:seq])[1]
    good = verify(app, [ExpectedHead(seq, links[seq - 1], "checkpoint", root)])
    assert good.ok and good.heads_checked == 1, good.describe()
    before = (seq - 1, seq - 1, links[seq - 2])
    rewritten = verify(app, [ExpectedHead(seq, "0" * 64, "checkpoint", root)])
    assert (rewritten.first_bad_seq, rewritten.checked, rewritten.head_seq) == (seq, *before[:2])
    assert rewritten.head_hash == before[2]
    assert "signed a different hash here" in (rewritten.reason or "")
    other_tree = verify(app, [ExpectedHead(seq, links[seq - 1], "checkpoint", "ab" * 32)])
    assert (other_tree.first_bad_seq, other_tree.checked) == (seq, seq - 1)
    assert "signed a different Merkle tree head" in (other_tree.reason or "")
    # Two heads, the later one wrong: the earlier one still counts as compared first.
    both = verify(
        app,
        [
            ExpectedHead(seq - 1, links[seq - 2], "first", tree_head(links[: seq - 1])[1]),
            ExpectedHead(seq, links[seq - 1], "second", "cd" * 32),
        ],
    )
    assert both.first_bad_seq == seq and "second" in (both.reason or "")


def test_purged_records_in_some_batches_and_entries_in_others(
    app: Flask, runner: FlaskCliRunner
) -> None:
    add_entries(app, 11, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=1500))
    add_entries(app, 13)
    assert runner.invoke(args=["purge"]).exit_code == 0  # the purge record is entry 25
    add_entries(app, 6)
    result = verify(app)
    assert result.ok and (result.checked, result.purged) == (31, 11), result.describe()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    sql(app, "UPDATE consent_log_entries SET statistics = NOT statistics WHERE seq = 20")
    assert verify(app).first_bad_seq == 20
    cli = runner.invoke(args=["audit", "verify"])
    assert cli.exit_code == 1 and "BROKEN at entry 20" in cli.output, cli.output


TREE_TAMPERING: list[tuple[str, str, str]] = [
    ("edit a node high in the tree", "UPDATE audit_tree_nodes SET hash = (CASE WHEN "
     "substr(hash, 1, 1) = '0' THEN '1' ELSE '0' END) || substr(hash, 2) "
     "WHERE level = 3 AND idx = 2",
     "BROKEN at entry 17: the Merkle tree node over entries 17…24 does not match"),
    ("edit a node's hash to upper case",
     "UPDATE audit_tree_nodes SET hash = upper(hash) WHERE level = 1 AND idx = 19",
     "BROKEN at entry 39: the Merkle tree node over entries 39…40"),
    ("add a node above the root", "INSERT INTO audit_tree_nodes (level, idx, hash) "
     "VALUES (9, 0, '" + "ab" * 32 + "')", "BROKEN at entry 1: the Merkle tree has 1 nodes"),
    ("add a node past a level's end", "INSERT INTO audit_tree_nodes (level, idx, hash) "
     "VALUES (2, 10, '" + "ab" * 32 + "')", "the Merkle tree has 11 nodes at level 2"),
    ("add a leaf past the end", "INSERT INTO audit_tree_nodes (level, idx, hash) "
     "VALUES (0, 40, '" + "ab" * 32 + "')", "entries were cut off the end"),
    ("move a node", "UPDATE audit_tree_nodes SET idx = 100 WHERE level = 2 AND idx = 3",
     "BROKEN at entry 13"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "statement", "found"), TREE_TAMPERING, ids=[t[0] for t in TREE_TAMPERING]
)
def test_the_stored_tree_is_checked_level_by_level(
    app: Flask, runner: FlaskCliRunner, what: str, statement: str, found: str
) -> None:
    add_entries(app, 40)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    sql(app, statement)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and found in result.output, result.output


def _levels(leaves: list[bytes]) -> dict[int, str]:
    """Each level's digest, the tree built the plain way (every complete node, in order)."""
    digests, nodes, level = {}, leaves, 0
    while len(nodes) > 1:
        nodes = [node_hash(nodes[j], nodes[j + 1]) for j in range(0, len(nodes) - 1, 2)]
        level += 1
        digests[level] = hashlib.sha256("".join(n.hex() for n in nodes).encode()).hexdigest()
    return digests


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1023, 1024, 1025, 2048, 3001, 5000])
def test_level_digests_are_the_trees_levels(size: int) -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(size)]
    computed, rng, done = LevelDigests(), random.Random(size), 0
    while done < size:  # fed in uneven pieces, as batches and single rows feed it
        step = rng.choice([1, 7, 500, 1024, 3000])
        computed.add([leaf.hex() for leaf in leaves[done : done + step]])
        done += step
    assert computed.size == size
    assert {level: computed.digest(level) for level in _levels(leaves)} == _levels(leaves)
