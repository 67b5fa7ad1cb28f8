"""The consent log as a transparency log: stored tree, C2SP notes, proofs, receipts, promises.

Every proof is checked with the independent RFC 9162 code in `tests/audit/rfc9162.py` and
every note with the published verifier key and `cryptography`'s Ed25519, never with the
service's own verifiers.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from consent_service.audit import tree as stored_tree
from consent_service.audit.checkpoints import load_private_key, raw_public_key
from consent_service.audit.log_models import PendingEntry
from consent_service.audit.models import ConsentEntry
from consent_service.audit.sequencer import IntegrationRefused, integrate_pending
from consent_service.consent.cookie import COOKIE_NAME
from consent_service.db import db
from tests.audit import rfc9162
from tests.audit.test_chain import sql
from tests.conftest import choice_body as _choice_body
from tests.conftest import make_app

LEAF_FIELDS = {"consent_id", "action", "choices", "policy_version", "text_hash", "occurred_at"}


def choice_body(**overrides: Any) -> dict[str, Any]:
    """A choice for the current policy version (whatever the policy file says)."""
    from consent_service.config import DEFAULT_POLICY_FILE
    from consent_service.sites.policy import load_policy

    return _choice_body(**{"policy_version": load_policy(DEFAULT_POLICY_FILE).version, **overrides})


def b64d(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


@pytest.fixture
def manual(tmp_path: Path) -> Flask:
    """Acknowledged entries stay pending until the test integrates them."""
    return make_app(
        tmp_path, CHECKPOINT_KEY=str(tmp_path / "checkpoint.pem"), LOG_INTEGRATION="manual"
    )


def published(client: FlaskClient) -> tuple[str, str, int, bytes]:
    """(verifier key, note text, tree size, root) as any outsider would read them."""
    key = client.get("/api/v1/log/key")
    assert key.status_code == 200 and key.mimetype == "text/plain"
    note = client.get("/api/v1/log/checkpoint")
    assert note.status_code == 200 and note.mimetype == "text/plain"
    assert note.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = rfc9162.open_signed_note(note.get_data(as_text=True), key.get_data(as_text=True))
    origin, size, root, end = text.split("\n")
    assert origin and end == ""
    return key.get_data(as_text=True), note.get_data(as_text=True), int(size), b64d(root)


# ----------------------------------------------------------------------- the stored tree


@pytest.mark.parametrize("batches", [[1] * 17, [5, 12], [17], [3, 1, 8, 5]])
def test_the_stored_tree_matches_rfc_9162(app: Flask, batches: list[int]) -> None:
    leaves = [f"leaf {i}".encode() for i in range(sum(batches))]
    with app.app_context(), db.writing_connection() as conn:
        done = 0
        for batch in batches:
            root = stored_tree.append_leaves(
                conn,
                done,
                [stored_tree.leaf_hash(leaf) for leaf in leaves[done : done + batch]],
            )
            done += batch
            assert root == rfc9162.mth(leaves[:done])
        tree = stored_tree.StoredTree(conn)
        assert tree.size() == len(leaves)
        for n in range(1, len(leaves) + 1):
            assert tree.root(n) == rfc9162.mth(leaves[:n])
            for m in range(n):
                audit = tree.inclusion_proof(m, n)
                assert audit == rfc9162.path(m, leaves[:n])
                assert stored_tree.root_from_inclusion(
                    stored_tree.leaf_hash(leaves[m]), m, n, audit
                ) == rfc9162.mth(leaves[:n])
            for m in range(1, n + 1):
                consistency = tree.consistency_proof(m, n)
                assert consistency == (rfc9162.proof(m, leaves[:n]) if m < n else [])
                old, new = rfc9162.mth(leaves[:m]), rfc9162.mth(leaves[:n])
                assert rfc9162.verify_consistency(m, n, old, new, consistency)
                stored_tree.verify_consistency(m, n, old, new, consistency)


# The reference leaves and roots of RFC 6962's reference implementation (certificate-
# transparency, transparency-dev/merkle testonly): trees of the first 1 … 8 leaves.
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_the_stored_tree_and_the_test_code_give_the_published_reference_roots(
    app: Flask,
) -> None:
    leaves = [bytes.fromhex(x) for x in CT_LEAVES]
    with app.app_context(), db.writing_connection() as conn:
        stored_tree.append_leaves(conn, 0, [stored_tree.leaf_hash(x) for x in leaves])
        tree = stored_tree.StoredTree(conn)
        for n, root in enumerate(CT_ROOTS, start=1):
            assert tree.root(n).hex() == root
            assert rfc9162.mth(leaves[:n]).hex() == root


def test_a_consistency_proof_against_another_history_fails(app: Flask) -> None:
    leaves = [bytes([i]) for i in range(9)]
    other = [*leaves[:3], b"rewritten", *leaves[4:]]
    with app.app_context(), db.writing_connection() as conn:
        stored_tree.append_leaves(conn, 0, [stored_tree.leaf_hash(x) for x in leaves])
        consistency = stored_tree.StoredTree(conn).consistency_proof(5, 9)
    with pytest.raises(stored_tree.ProofError):
        stored_tree.verify_consistency(
            5, 9, rfc9162.mth(other[:5]), rfc9162.mth(leaves), consistency
        )


# ----------------------------------------------------------------------- public endpoints


def test_checkpoint_and_key_are_c2sp_notes_signed_with_the_checkpoint_key(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    for i in range(3):
        client.post("/api/v1/consent", json=choice_body(statistics=i == 1))
    key, note, size, root = published(client)
    assert size == 3
    assert key == key.strip()  # the bare key, as note libraries parse it
    name, key_hash, encoded = key.split("+", 2)
    assert note.startswith(f"{name}\n3\n")
    assert f"\n\n\u2014 {name} " in note
    signature = b64d(note.rstrip("\n").rsplit(" ", 1)[1])
    assert len(signature) == 68 and signature[:4].hex() == key_hash
    # The key is the audit checkpoint key (audit keygen), published as 0x01 ‖ raw key.
    own = load_private_key(tmp_path / "checkpoint.pem").public_key()
    assert b64d(encoded) == b"\x01" + raw_public_key(own)
    body = note.rpartition("\n\n")[0] + "\n"
    Ed25519PublicKey.from_public_bytes(b64d(encoded)[1:]).verify(signature[4:], body.encode())
    # The three decisions are one citizen's (the cookie carries the consent ID): their
    # receipt's leaves are the whole tree.
    leaves = [b64d(e["leaf"]) for e in client.get("/api/v1/consent/receipt").get_json()["entries"]]
    assert rfc9162.mth(leaves) == root


def test_consistency_proofs_link_successive_checkpoints(client: FlaskClient) -> None:
    client.post("/api/v1/consent", json=choice_body())
    client.post("/api/v1/consent", json=choice_body())
    _, _, old_size, old_root = published(client)
    for _ in range(5):
        client.post("/api/v1/consent", json=choice_body())
    _, _, new_size, new_root = published(client)
    assert (old_size, new_size) == (2, 7)
    answer = client.get(f"/api/v1/log/proof/consistency?from={old_size}&to={new_size}")
    assert answer.status_code == 200
    consistency = [b64d(h) for h in answer.get_json()["proof"]]
    assert rfc9162.verify_consistency(old_size, new_size, old_root, new_root, consistency)
    same = client.get("/api/v1/log/proof/consistency?from=7&to=7").get_json()
    assert same == {"proof": []}


@pytest.mark.parametrize(
    "query",
    ["", "?from=1", "?to=2", "?from=0&to=2", "?from=3&to=2", "?from=1&to=9", "?from=x&to=2",
     "?from=-1&to=2", "?from=01&to=2", "?from=1.0&to=2", "?from=%2B1&to=2"],
)  # fmt: skip
def test_bad_consistency_parameters_are_400(client: FlaskClient, query: str) -> None:
    client.post("/api/v1/consent", json=choice_body())
    client.post("/api/v1/consent", json=choice_body())
    response = client.get(f"/api/v1/log/proof/consistency{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_value" and body["message"]


def test_no_checkpoint_yet_is_503_with_retry_after(manual: Flask) -> None:
    response = manual.test_client().get("/api/v1/log/checkpoint")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"] == "log_not_signed"


def test_the_log_endpoints_are_in_openapi(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/log/checkpoint", "/api/v1/log/key", "/api/v1/log/proof/consistency"):
        assert "get" in paths[path]


# ------------------------------------------------------------------------------ receipts


def _check_receipt(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Check every entry of a receipt as a citizen would; return the decoded leaves."""
    text = rfc9162.open_signed_note(body["checkpoint"], key)
    _, size, root, _ = text.split("\n")
    decoded = []
    for entry in body["entries"]:
        leaf = b64d(entry["leaf"])
        data = json.loads(leaf)
        assert set(data) >= LEAF_FIELDS
        assert data["consent_id"] == body["consent_id"]
        if "inclusion_proof" in entry:
            audit = [b64d(h) for h in entry["inclusion_proof"]]
            assert rfc9162.verify_inclusion(leaf, entry["leaf_index"], int(size), audit, b64d(root))
        else:
            promise = rfc9162.open_signed_note(entry["promise"], key)
            origin, word, leaf_hash, at, delay, _ = promise.split("\n")
            assert word == "promise" and origin == text.split("\n")[0]
            assert b64d(leaf_hash) == rfc9162.sha(b"\x00" + leaf)
            assert dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ") and int(delay) > 0
        decoded.append(data)
    return decoded


def test_a_receipt_proves_each_entry_against_the_signed_checkpoint(
    app: Flask, client: FlaskClient
) -> None:
    app.test_client().post("/api/v1/consent", json=choice_body())  # someone else
    first = client.post("/api/v1/consent", json=choice_body(statistics=True)).get_json()
    client.post("/api/v1/consent", json=choice_body(functional=False))
    key = client.get("/api/v1/log/key").get_data(as_text=True)
    response = client.get("/api/v1/consent/receipt")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["consent_id"] == first["consent_id"]
    assert [e["leaf_index"] for e in body["entries"]] == [1, 2]
    leaves = _check_receipt(body, key)
    assert [leaf["action"] for leaf in leaves] == ["grant", "update"]
    assert leaves[0]["choices"] == {"functional": True, "statistics": True}
    assert all("promise" not in e for e in body["entries"])


def test_a_withdrawal_stays_provable_with_the_cookie_kept(client: FlaskClient) -> None:
    client.post("/api/v1/consent", json=choice_body())
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    kept = cookie.value
    withdrawn = client.delete("/api/v1/consent")
    assert withdrawn.status_code == 200
    assert client.get_cookie(COOKIE_NAME) is None  # the browser's copy is cleared
    client.set_cookie(COOKIE_NAME, kept)  # the citizen kept the value
    body = client.get("/api/v1/consent/receipt").get_json()
    key = client.get("/api/v1/log/key").get_data(as_text=True)
    assert [leaf["action"] for leaf in _check_receipt(body, key)] == ["grant", "withdraw"]


# ----------------------------------------------------------------- acknowledge, integrate


def test_an_acknowledged_entry_is_pending_with_a_promise_until_integrated(
    manual: Flask,
) -> None:
    client = manual.test_client()
    assert client.post("/api/v1/consent", json=choice_body()).status_code == 201
    with manual.app_context():
        assert db.session.scalar(select(func.count()).select_from(PendingEntry)) == 1
        assert db.session.scalar(select(func.count()).select_from(ConsentEntry)) == 0
    with manual.app_context():
        assert integrate_pending() == 1
    key = client.get("/api/v1/log/key").get_data(as_text=True)
    body = client.get("/api/v1/consent/receipt").get_json()
    assert body["entries"][0]["leaf_index"] == 0 and "inclusion_proof" in body["entries"][0]
    _check_receipt(body, key)


def test_pending_entries_carry_a_verifiable_promise(manual: Flask) -> None:
    client = manual.test_client()
    manual.test_client().post("/api/v1/consent", json=choice_body())  # someone else's
    with manual.app_context():
        assert integrate_pending() == 1  # the first signed checkpoint
    client.post("/api/v1/consent", json=choice_body())
    client.post("/api/v1/consent", json=choice_body(functional=False))
    key = client.get("/api/v1/log/key").get_data(as_text=True)
    body = client.get("/api/v1/consent/receipt").get_json()
    assert [e["leaf_index"] for e in body["entries"]] == [None, None]
    assert all("promise" in e for e in body["entries"])
    _check_receipt(body, key)
    assert manual.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    with manual.app_context():
        assert integrate_pending() == 2
    body = client.get("/api/v1/consent/receipt").get_json()
    assert [e["leaf_index"] for e in body["entries"]] == [1, 2]
    assert all("inclusion_proof" in e for e in body["entries"])
    _check_receipt(body, key)


def test_a_retry_of_a_pending_entry_is_answered_from_it(manual: Flask) -> None:
    client = manual.test_client()
    first = client.post("/api/v1/consent", json=choice_body(request_id="retry-123456"))
    again = manual.test_client().post(
        "/api/v1/consent", json=choice_body(request_id="retry-123456")
    )
    assert again.status_code == 201
    assert again.get_json()["consent_id"] == first.get_json()["consent_id"]
    with manual.app_context():
        assert integrate_pending() == 1
    third = manual.test_client().post(
        "/api/v1/consent", json=choice_body(request_id="retry-123456")
    )
    assert third.get_json()["consent_id"] == first.get_json()["consent_id"]
    with manual.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentEntry)) == 1


def test_a_crash_during_integration_loses_nothing(
    manual: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = manual.test_client()
    for _ in range(3):
        client.post("/api/v1/consent", json=choice_body())

    def crash(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("the process died here")

    monkeypatch.setattr("consent_service.audit.chain.append_leaves", crash)
    with manual.app_context(), pytest.raises(RuntimeError):
        integrate_pending()
    monkeypatch.undo()
    with manual.app_context():
        assert db.session.scalar(select(func.count()).select_from(PendingEntry)) == 3
        assert db.session.scalar(select(func.count()).select_from(ConsentEntry)) == 0
        assert integrate_pending() == 3
    result = manual.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 3 entries" in result.output


def test_a_pending_entry_altered_in_the_database_is_found_and_not_integrated(
    manual: Flask,
) -> None:
    client = manual.test_client()
    client.post("/api/v1/consent", json=choice_body(statistics=False))
    sql(manual, "UPDATE audit_pending_entries SET statistics = NOT statistics")
    result = manual.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "pending entry #1 was altered" in result.output
    with manual.app_context(), pytest.raises(IntegrationRefused):
        integrate_pending()


def test_readiness_reports_the_backlog_and_fails_only_when_it_stalls(manual: Flask) -> None:
    client = manual.test_client()
    client.post("/api/v1/consent", json=choice_body())
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["consent_log"]["pending"] == 1
    sql(manual, "UPDATE audit_pending_entries SET occurred_at = '2020-01-01 00:00:00.000000'")
    stalled = client.get("/readyz")
    assert stalled.status_code == 503
    assert stalled.get_json()["error"] == "consent_log_not_ready"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "consent_log_pending_entries 1.0" in metrics
    assert "consent_log_integration_lag_seconds" in metrics


# --------------------------------------------------------------- tampering with the tree


TREE_TAMPERING: list[tuple[str, str, str]] = [
    ("edit an inner node",
     "UPDATE audit_tree_nodes SET hash = (CASE WHEN substr(hash, 1, 1) = '0' THEN '1' "
     "ELSE '0' END) || substr(hash, 2) WHERE level = 1 AND idx = 1",
     "BROKEN at entry 3"),
    ("edit a leaf", "UPDATE audit_tree_nodes SET hash = (CASE WHEN substr(hash, 1, 1) = '0' "
     "THEN '1' ELSE '0' END) || substr(hash, 2) WHERE level = 0 AND idx = 4",
     "BROKEN at entry 5"),
    ("delete a node", "DELETE FROM audit_tree_nodes WHERE level = 2 AND idx = 0",
     "BROKEN at entry 1"),
    ("move a node", "UPDATE audit_tree_nodes SET idx = -1 WHERE level = 1 AND idx = 0",
     "BROKEN at entry 1"),
    ("forge the stored checkpoint",
     "UPDATE audit_log_checkpoints SET note = replace(note, '\n5\n', '\n4\n')",
     "no valid signature"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "statement", "found"), TREE_TAMPERING, ids=[t[0] for t in TREE_TAMPERING]
)
def test_tampering_with_the_tree_is_found(
    app: Flask, what: str, statement: str, found: str
) -> None:
    client = app.test_client()
    for _ in range(5):
        client.post("/api/v1/consent", json=choice_body())
    sql(app, statement)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and found in result.output, result.output


def test_db_upgrade_builds_the_tree_of_an_existing_chain(app: Flask) -> None:
    client = app.test_client()
    for _ in range(6):
        client.post("/api/v1/consent", json=choice_body())
    _, _, size, root = published(client)
    sql(app, "DELETE FROM audit_tree_nodes")
    sql(app, "DELETE FROM audit_log_checkpoints")
    from consent_service.schema import upgrade_database

    assert "Merkle tree: 6 leaves built" in upgrade_database(app)
    assert published(client)[2:] == (size, root)
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


def test_the_withdrawal_answer_carries_the_receipt(client: FlaskClient) -> None:
    client.post("/api/v1/consent", json=choice_body())
    answer = client.delete("/api/v1/consent")
    assert answer.status_code == 200
    body = answer.get_json()
    key = client.get("/api/v1/log/key").get_data(as_text=True)
    leaves = _check_receipt(body["receipt"], key)
    assert [leaf["action"] for leaf in leaves] == ["grant", "withdraw"]


@pytest.mark.parametrize("text", ["plain", 'quote " and \\ backslash', "åäö", "\u202eRTL", "😀"])
def test_the_fast_leaf_and_digest_equal_the_canonical_ones(text: str) -> None:
    from consent_service.audit.chain import entry_digest, entry_leaf, entry_row_hashes, utc_iso

    when = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    entry = ConsentEntry(
        seq=7, site=text, occurred_at=when, consent_id=text, action=text, functional=True,
        statistics=False, policy_version=3, text_hash=text, language=text, source=text,
        gpc=True,
    )  # fmt: skip
    columns = (7, text, utc_iso(when), text, text, True, False, 3, text, text, text, True)
    digest, leaf = entry_row_hashes(*columns)
    assert digest == entry_digest(entry)
    assert bytes.fromhex(leaf) == rfc9162.sha(b"\x00" + entry_leaf(entry))
    # The leaf is the chained record without its position, byte for byte.
    record = json.loads(entry_leaf(entry))
    assert "seq" not in record and record["consent_id"] == text


def test_a_filed_log_checkpoint_finds_a_cut_tail_and_a_rewrite(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    from tests.audit.test_checkpoints import cut_off_end, rewrite_chain

    for _ in range(6):
        client.post("/api/v1/consent", json=choice_body())
    filed = tmp_path / "filed-checkpoint.txt"
    filed.write_text(client.get("/api/v1/log/checkpoint").get_data(as_text=True))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify", "--checkpoint", str(filed)]).exit_code == 0
    rewrite_chain(app, from_seq=3)  # tree rebuilt and re-signed: consistent inside
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(filed)])
    assert result.exit_code == 1 and "rewritten" in result.output, result.output
    cut_off_end(app, keep=4)
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(filed)])
    assert result.exit_code == 1 and "BROKEN at entry 5" in result.output, result.output
