"""The consent log as C2SP tlog-tiles: what a mirror fetches, checked as a mirror would.

The client here is written from the specification (https://c2sp.org/tlog-tiles) and RFC
9162 alone: it encodes tile paths itself, fetches the signed checkpoint (checked with the
published key by `tests/audit/rfc9162.py`), fetches tiles, recomputes the root from them and
compares; it never calls the service's tree code.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import struct
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from consent_service.admin.models import Role
from consent_service.audit.chain import append_entries
from consent_service.audit.events import record_event
from consent_service.audit.log_models import TreeNode
from consent_service.audit.models import ChainLink, ConsentEntry, EventKind
from consent_service.audit.sequencer import sign_if_grown
from consent_service.consent.services import current_policy
from consent_service.db import db
from tests.audit import rfc9162
from tests.audit.conftest import add_entries
from tests.conftest import make_app
from tests.helpers.staff import sign_in_as

PREFIX = "/api/v1/log"
WIDTH = 256


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(
        tmp_path, CHECKPOINT_KEY=str(tmp_path / "checkpoint.pem"), LOG_PUBLIC_ENTRIES=True
    )


# ------------------------------------------------------------------- the mirror's client


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def encode_index(n: int) -> str:
    """The spec's encoding: zero-padded 3-digit elements, all but the last with an x."""
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.insert(0, f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(groups)


def tile_url(level: int | str, n: int, width: int = WIDTH) -> str:
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"{PREFIX}/tile/{level}/{encode_index(n)}{suffix}"


def checkpoint(client: FlaskClient) -> tuple[int, bytes]:
    key = client.get(f"{PREFIX}/key").get_data(as_text=True)
    note = client.get(f"{PREFIX}/checkpoint").get_data(as_text=True)
    _, size, root, _ = rfc9162.open_signed_note(note, key).split("\n")
    return int(size), base64_decode(root)


def base64_decode(value: str) -> bytes:
    import base64

    return base64.b64decode(value, validate=True)


class Mirror:
    """Fetches tiles of a tree of `size` (from a verified checkpoint), each once."""

    def __init__(self, client: FlaskClient, size: int) -> None:
        self.client, self.size, self.fetched = client, size, {}

    def tile(self, level: int, n: int) -> list[bytes]:
        """Tile n of `level`: full, or partial at the right edge of this tree."""
        width = min(WIDTH, (self.size >> (8 * level)) - n * WIDTH)
        assert width > 0, "a tile beyond the tree"
        key = (level, n, width)
        if key not in self.fetched:
            response = self.client.get(tile_url(level, n, width))
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.headers["Content-Type"] == "application/octet-stream"
            body = response.get_data()
            assert len(body) == 32 * width
            self.fetched[key] = [body[i : i + 32] for i in range(0, len(body), 32)]
        return self.fetched[key]

    def subtree(self, height: int, index: int) -> bytes:
        """MTH of leaves [index·2^height, (index+1)·2^height), from one tile."""
        level, rest = divmod(height, 8)
        first = index << rest  # position among the hashes of tile level `level`
        n, offset = divmod(first, WIDTH)
        return balanced(self.tile(level, n)[offset : offset + (1 << rest)])

    def root(self) -> bytes:
        """The tree head: the complete subtrees of the size, left to right, folded right."""
        parts, start = [], 0
        for height in reversed(range(self.size.bit_length())):
            if self.size >> height & 1:
                parts.append(self.subtree(height, start >> height))
                start += 1 << height
        result = parts[-1]
        for left in reversed(parts[:-1]):
            result = sha(b"\x01" + left + result)
        return result


def balanced(hashes: list[bytes]) -> bytes:
    """MTH over a power-of-two number of subtree hashes."""
    while len(hashes) > 1:
        hashes = [sha(b"\x01" + a + b) for a, b in zip(hashes[::2], hashes[1::2], strict=True)]
    return hashes[0]


def bundle_entries(body: bytes) -> list[bytes]:
    entries, at = [], 0
    while at < len(body):
        (length,) = struct.unpack(">H", body[at : at + 2])
        entries.append(body[at + 2 : at + 2 + length])
        at += 2 + length
    assert at == len(body), "a truncated entry"
    return entries


def expected_tiles(size: int) -> list[tuple[int, int, int]]:
    """Every tile a tree of `size` has (level, index, width), as the spec defines them."""
    found = []
    level = 0
    while size >> (8 * level):
        hashes = size >> (8 * level)
        found += [(level, n, WIDTH) for n in range(hashes // WIDTH)]
        if hashes % WIDTH:
            found.append((level, hashes // WIDTH, hashes % WIDTH))
        level += 1
    return found


# --------------------------------------------------------------------- filling the log


def fill(app: Flask, count: int, batch: int = 5000) -> None:
    """Append `count` entries through the sequencer's own append and sign the tree head."""
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with app.app_context():
        policy = current_policy()
        text_hash = policy.text_hash("sv")
        done = 0
        while done < count:
            entries = [
                ConsentEntry(
                    site=policy.site,
                    occurred_at=start + dt.timedelta(seconds=done + i),
                    consent_id=str(uuid.uuid4()),
                    action="grant",
                    functional=(done + i) % 2 == 0,
                    statistics=(done + i) % 3 == 0,
                    policy_version=policy.version,
                    text_hash=text_hash,
                    language="sv",
                    source="banner",
                    gpc=False,
                )
                for i in range(min(batch, count - done))
            ]
            with db.writing_connection() as conn:
                size, root = append_entries(conn, entries)
                sign_if_grown(conn, size, root)
            done += len(entries)


# ----------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("size", [1, 255, 256, 257, 70_000])
def test_a_mirror_recomputes_the_signed_root_from_the_tiles(app: Flask, size: int) -> None:
    fill(app, size)
    client = app.test_client()
    signed_size, root = checkpoint(client)
    assert signed_size == size
    mirror = Mirror(client, size)
    assert mirror.root() == root
    # Exactly the tiles the specification lists exist; one more hash in any of them does not.
    tiles = expected_tiles(size)
    for level, n, width in tiles:
        assert mirror.tile(level, n)
        if width < WIDTH:
            assert client.get(tile_url(level, n, width + 1)).status_code == 404
            assert client.get(tile_url(level, n)).status_code == 404
        else:
            assert client.get(tile_url(level, n + 1)).status_code in (200, 404)
    top = max(level for level, _, _ in tiles)
    assert client.get(tile_url(top + 1, 0, 1)).status_code == 404
    if size == 70_000:
        # The specification's own example.
        assert tiles == (
            [(0, n, WIDTH) for n in range(273)] + [(0, 273, 112), (1, 0, WIDTH), (1, 1, 17)]
            + [(2, 0, 1)]
        )  # fmt: skip
    if size == 256:
        assert tiles == [(0, 0, WIDTH), (1, 0, 1)]

    # A mirror of the entries: every bundle hashes to its level-0 tile, and the entries alone
    # give the signed root (RFC 9162's MTH, written again in the tests).
    leaves: list[bytes] = []
    for level, n, width in tiles:
        if level == 0:
            suffix = "" if width == WIDTH else f".p/{width}"
            response = client.get(f"{PREFIX}/tile/entries/{encode_index(n)}{suffix}")
            assert response.status_code == 200
            entries = bundle_entries(response.get_data())
            assert [sha(b"\x00" + e) for e in entries] == mirror.tile(0, n)
            leaves += entries
    assert len(leaves) == size and rfc9162.mth(leaves) == root
    # Above level 0, hash i of tile n is MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l]):
    # the root of the full tile n·256 + i of the level below.
    for level, n, _ in tiles:
        if level > 0:
            for i, value in enumerate(mirror.tile(level, n)):
                assert value == balanced(mirror.tile(level - 1, n * WIDTH + i))


def test_entry_bundles_hold_the_exact_leaves_of_every_kind(app: Flask) -> None:
    add_entries(app, 3)
    with app.app_context(), db.writing() as session:
        record_event(
            session,
            EventKind.POLICY_APPROVED,
            site=current_policy().site,
            subject="7",
            evidence=b"the approved policy",
            actor="dso",
        )
    client = app.test_client()
    client.post(
        "/api/v1/consent",
        json={"functional": True, "statistics": True, "language": "en", "source": "banner",
              "policy_version": _policy_version(app)},
    )  # fmt: skip
    receipt = client.get("/api/v1/consent/receipt").get_json()
    size, root = checkpoint(client)
    assert size == 5
    response = client.get(f"{PREFIX}/tile/entries/000.p/5")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers.get("Content-Encoding") is None  # no gzip asked for
    entries = bundle_entries(response.get_data())
    assert rfc9162.mth(entries) == root
    records = [json.loads(e) for e in entries]
    assert [r.get("type") for r in records] == [None, None, None, "event", None]
    assert records[3]["kind"] == "policy_approved"
    # The citizen's receipt holds the same bytes as the bundle.
    assert base64_decode(receipt["entries"][-1]["leaf"]) == entries[4]
    compressed = client.get(
        f"{PREFIX}/tile/entries/000.p/5", headers={"Accept-Encoding": "gzip, identity"}
    )
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert gzip.decompress(compressed.get_data()) == response.get_data()
    # An older checkpoint's partial bundle and tile stay: a prefix of the current ones.
    older = bundle_entries(client.get(f"{PREFIX}/tile/entries/000.p/2").get_data())
    assert older == entries[:2]
    assert client.get(tile_url(0, 0, 2)).get_data() == client.get(tile_url(0, 0, 5)).get_data()[:64]


def _policy_version(app: Flask) -> int:
    with app.app_context():
        return current_policy().version


def test_full_tiles_are_immutable_and_the_edge_short_lived(app: Flask) -> None:
    fill(app, 300)
    client = app.test_client()
    for url in (tile_url(0, 0), f"{PREFIX}/tile/entries/000"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(client.get(tile_url(0, 0)).get_data()) == 8192
    for url in (tile_url(0, 1, 44), tile_url(1, 0, 1), f"{PREFIX}/tile/entries/001.p/44"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=60"
    missing = client.get(tile_url(0, 1))
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"
    assert "beyond the current tree (300 entries)" in missing.get_json()["message"]


MALFORMED = [
    "00/000", "1/00", "0/0000", "0/x000/001", "0/x1/000", "0/001/x002", "64/000", "100/000",
    "-1/000", "0/-01", "0/000.p/0", "0/000.p/256", "0/000.p/007", "0/000.p/", "0/000.p",
    "0/.p/3", "0/000/", "0//000", "0/000.p/1/2", "0", "entries", "x/000", "0/abc",
    "0/\uff10\uff10\uff10", "0/000%00", "0/000.p/1e2", "../../etc/passwd",
    "0/" + "x999/" * 30 + "999",
    "entries/x000/000", "entries/00", "entries/000.p/256", "entries/000.p/x1", "entries/",
]  # fmt: skip
BEYOND = [
    "0/001", "0/000.p/2", "1/000", "1/000.p/2", "2/000.p/1", "63/000.p/1",
    "0/x999/x999/x999/x999/x999/999", "entries/001", "entries/000.p/2", "entries/x001/000",
]  # fmt: skip


def test_malformed_paths_are_refused_with_a_reason_and_beyond_the_tree_is_404(
    app: Flask,
) -> None:
    fill(app, 1)
    client = app.test_client()
    for path in MALFORMED:
        response = client.get(f"{PREFIX}/tile/{path}")
        # 308: the router's own redirect of a doubled slash, which then fails the same way.
        assert response.status_code in (400, 404, 308), (path, response.status_code)
        if response.status_code != 308:
            body = response.get_json()
            assert body["error"] and body["message"], path
            assert response.headers["Cache-Control"] == "no-store", path
    for path in BEYOND:
        response = client.get(f"{PREFIX}/tile/{path}")
        assert response.status_code == 404, path
        assert "beyond the current tree (1 entries)" in response.get_json()["message"], path


def test_an_empty_log_has_no_tiles(app: Flask) -> None:
    client = app.test_client()
    assert client.get(tile_url(0, 0, 1)).status_code == 404
    assert client.get(f"{PREFIX}/tile/entries/000.p/1").status_code == 404


def test_entries_are_not_published_unless_the_deployment_says_so(tmp_path: Path) -> None:
    app = make_app(tmp_path, CHECKPOINT_KEY=str(tmp_path / "checkpoint.pem"))
    fill(app, 3)
    client = app.test_client()
    response = client.get(f"{PREFIX}/tile/entries/000.p/3")
    assert response.status_code == 404
    assert response.get_json()["error"] == "entries_not_published"
    assert "consent IDs" in response.get_json()["message"]
    assert client.get(tile_url(0, 0, 3)).status_code == 200  # the tiles are public
    # The admin's settings page says which it is.
    sign_in_as(app, client, Role.ADMIN)
    html = client.get("/admin/settings").get_data(as_text=True)
    assert "CONSENT_LOG_PUBLIC_ENTRIES" in html and "nej (bara hashvärden" in html


def test_a_bundle_over_a_purged_entry_is_gone_but_its_tile_stays(app: Flask) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=4000)
    add_entries(app, 2, start=old)
    add_entries(app, 1)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["purge"]).exit_code == 0
    client = app.test_client()
    with app.app_context():
        purged = db.session.scalars(select(ChainLink.seq).where(ChainLink.purged_in.is_not(None)))
        assert list(purged) == [1, 2]
        size = db.session.scalar(select(ChainLink.seq).order_by(ChainLink.seq.desc()).limit(1))
    response = client.get(f"{PREFIX}/tile/entries/000.p/{size}")
    assert response.status_code == 410
    assert response.get_json()["error"] == "pruned"
    assert "entry 1 was removed under the retention decision" in response.get_json()["message"]
    assert client.get(tile_url(0, 0, size)).status_code == 200


def test_a_damaged_log_answers_503_never_a_wrong_bundle(app: Flask) -> None:
    add_entries(app, 3)
    client = app.test_client()
    with app.app_context(), db.writing_connection() as conn:
        conn.execute(update(ConsentEntry).where(ConsentEntry.seq == 2).values(statistics=True))
    response = client.get(f"{PREFIX}/tile/entries/000.p/3")
    assert response.status_code == 503
    assert response.get_json()["error"] == "log_damaged"
    assert "entry 2 does not match its leaf" in response.get_json()["message"]
    with app.app_context(), db.writing_connection() as conn:
        conn.execute(delete(TreeNode).where(TreeNode.level == 0, TreeNode.index == 1))
    response = client.get(tile_url(0, 0, 2))
    assert response.status_code == 503
    assert "audit verify" in response.get_json()["message"]


def test_the_tile_endpoints_are_public_and_in_openapi(app: Flask) -> None:
    client = app.test_client()
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/log/tile/{L}/{N}",
        "/api/v1/log/tile/{L}/{N}.p/{W}",
        "/api/v1/log/tile/entries/{N}",
        "/api/v1/log/tile/entries/{N}.p/{W}",
    ):
        assert set(paths[path]["get"]["responses"]) >= {"200", "400", "404"}
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "/tile/" in r.rule}
    assert endpoints == {"audit_log.tile", "audit_log.entry_bundle"}
