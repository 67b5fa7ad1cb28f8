"""`consent-service log mirror`: a verified copy of the log's tiles, served from a directory.

The log runs behind a real HTTP server; the mirror fetches through the network as it would
from another organisation's machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from consent_service.audit.mirror import mirror, tiles_of
from consent_service.audit.witness import WitnessAlert, http_fetch
from tests.audit import rfc9162
from tests.audit.test_chain import sql
from tests.audit.test_tiles import Mirror, bundle_entries, checkpoint, fill
from tests.conftest import make_app
from tests.helpers.servers import ServerThread


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(
        tmp_path, CHECKPOINT_KEY=str(tmp_path / "checkpoint.pem"), LOG_PUBLIC_ENTRIES=True
    )


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    server = ServerThread(app)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


class Counting:
    """The network fetch, counting what it asked for (and able to alter one answer)."""

    def __init__(self, alter: str | None = None) -> None:
        self.urls: list[str] = []
        self.alter = alter

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        body = http_fetch(url)
        if self.alter and url.endswith(self.alter):
            body = body[:-1] + bytes([body[-1] ^ 1])  # the last hash, the last entry
        return body

    def tiles(self) -> list[str]:
        return [u.split("/api/v1/log/")[1] for u in self.urls if "/tile/" in u]


class DirectoryClient:
    """Reads the mirror's directory as a test client reads the log (for `Mirror`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, url: str) -> _File:
        return _File(self.root / url.removeprefix("/api/v1/log/"))


class _File:
    status_code = 200

    def __init__(self, path: Path) -> None:
        self.path = path
        self.headers = {"Content-Type": "application/octet-stream"}

    def get_data(self) -> bytes:
        return self.path.read_bytes()


def test_the_mirror_copies_each_tile_once_and_its_copy_verifies(
    app: Flask, served: str, tmp_path: Path
) -> None:
    fill(app, 300)
    copy = tmp_path / "mirror"
    fetch = Counting()
    state = mirror(served, copy, fetch, entries=True)
    assert state["size"] == 300 and "3 tiles fetched" in state["last"]
    assert fetch.tiles() == [
        "tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1", "tile/entries/000",
        "tile/entries/001.p/44",
    ]  # fmt: skip
    # The directory is a tlog-tiles mirror: its checkpoint, and its tiles add up to the root.
    size, root = checkpoint(app.test_client())
    assert (copy / "checkpoint").read_text() == state["checkpoint"]
    assert Mirror(DirectoryClient(copy), size).root() == root  # type: ignore[arg-type]
    leaves = bundle_entries((copy / "tile/entries/000").read_bytes())
    leaves += bundle_entries((copy / "tile/entries/001.p/44").read_bytes())
    assert rfc9162.mth(leaves) == root

    fill(app, 300)
    fetch = Counting()
    state = mirror(served, copy, fetch)
    assert "300 → 600 is consistent" in state["last"]
    # tile/0/000 is already there; the old edge is now full, a new edge and level 1 grew.
    assert fetch.tiles() == ["tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"]
    assert json.loads((copy / "witness.json").read_text())["size"] == 600


def test_tiles_that_do_not_add_up_to_the_signed_root_are_an_alert(
    app: Flask, served: str, tmp_path: Path
) -> None:
    fill(app, 600)
    copy = tmp_path / "mirror"
    for altered in ("tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2"):
        with pytest.raises(WitnessAlert):
            mirror(served, copy, Counting(alter=altered))
        assert not (copy / "witness.json").exists() and not (copy / "checkpoint").exists()
    with pytest.raises(WitnessAlert, match="does not match its tile"):
        mirror(served, copy, Counting(alter="tile/entries/000"), entries=True)
    assert not (copy / "tile").exists()


def test_the_command_mirrors_and_exits_1_on_a_fork(app: Flask, served: str, tmp_path: Path) -> None:
    fill(app, 5)
    copy = tmp_path / "mirror"
    runner = app.test_cli_runner()
    first = runner.invoke(args=["log", "mirror", served, str(copy)])
    assert first.exit_code == 0, first.output
    assert "first checkpoint seen, tree size 5" in first.output
    assert (copy / "tile/0/000.p/5").stat().st_size == 5 * 32
    # Rewritten in the database and signed again: the mirror refuses it as the witness does.
    sql(app, "UPDATE consent_log_entries SET functional = NOT functional WHERE seq = 1")
    sql(app, "DELETE FROM audit_tree_nodes")
    sql(app, "DELETE FROM audit_log_checkpoints")
    with app.app_context():
        from consent_service.audit.sequencer import build_tree

        build_tree()
    fill(app, 1)
    second = runner.invoke(args=["log", "mirror", served, str(copy)])
    assert second.exit_code == 1 and "ALERT: fork" in second.output
    assert json.loads((copy / "witness.json").read_text())["size"] == 5
    unreachable = runner.invoke(args=["log", "mirror", "http://127.0.0.1:9", str(copy)])
    assert unreachable.exit_code == 2


def test_the_tiles_of_a_tree_are_those_the_specification_lists() -> None:
    listed = [(t.level, t.index, t.width) for t in tiles_of(70_000)]
    assert listed == (
        [(0, n, 256) for n in range(273)] + [(0, 273, 112), (1, 0, 256), (1, 1, 17), (2, 0, 1)]
    )
    assert tiles_of(0) == []
