"""A mirror: keep a verified copy of the log's tiles in a directory any web server can serve.

Each run first does what the witness does (pinned key, signature, consistency with the tree
seen before, `witness.py`), then fetches the tiles the new tree has that the directory lacks
(a full tile once, ever; the partial tiles at the right edge each time the edge moves),
checks them against the signed checkpoint and against each other, and only then writes them
and the checkpoint. The directory then has the layout of C2SP tlog-tiles (`checkpoint`,
`tile/<L>/<N>[.p/<W>]`, with `--entries` also `tile/entries/…`), so it is itself a mirror a
client can read in place of the log.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

from consent_service.audit.tiles import WIDTH, Tile
from consent_service.audit.tree import node_hash
from consent_service.audit.witness import (
    Fetch,
    WitnessAlert,
    WitnessUnreachable,
    http_fetch,
    load_state,
    save_state,
    witness,
)

STATE_FILE = "witness.json"


def tiles_of(size: int) -> list[Tile]:
    """Every tile of a tree of `size` entries, level by level, as the specification lists them."""
    found: list[Tile] = []
    level = 0
    while size >> (8 * level):
        hashes = size >> (8 * level)
        found += [Tile(level, n) for n in range(hashes // WIDTH)]
        if hashes % WIDTH:
            found.append(Tile(level, hashes // WIDTH, hashes % WIDTH))
        level += 1
    return found


def _balanced(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        hashes = [node_hash(a, b) for a, b in zip(hashes[::2], hashes[1::2], strict=True)]
    return hashes[0]


def _split(body: bytes) -> list[bytes]:
    return [body[i : i + 32] for i in range(0, len(body), 32)]


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
    os.replace(tmp, path)


def mirror(
    base_url: str, directory: Path, fetch: Fetch | None = None, entries: bool = False
) -> dict[str, Any]:
    """Bring `directory` up to the log's current checkpoint; return the witness state.

    Raises WitnessAlert when the log forked, rolled back, or serves tiles that do not add up
    to its signed root; WitnessUnreachable when it could not be read.
    """
    fetch = fetch or http_fetch
    prefix = f"{base_url.rstrip('/')}/api/v1/log"
    state_path = directory / STATE_FILE
    state = witness(base_url, load_state(state_path), fetch)
    size, root = int(state["size"]), base64.b64decode(state["root"])
    tiles = tiles_of(size)
    have: dict[tuple[int, int], list[bytes]] = {}  # (level, index) → hashes, this tree's width
    new: dict[str, bytes] = {}
    for tile in tiles:
        assert tile.level is not None
        stored = directory / tile.path()
        body = stored.read_bytes() if stored.exists() else fetch(f"{prefix}/{tile.path()}")
        if len(body) != 32 * tile.width:
            raise WitnessUnreachable(f"{tile.path()} has {len(body)} bytes, not {32 * tile.width}")
        if not stored.exists():
            new[tile.path()] = body
        have[(tile.level, tile.index)] = _split(body)
    # Every hash above level 0 is the root of a full tile below, and the complete subtrees of
    # the size, each read from one tile, fold to the signed root.
    for tile in tiles:
        assert tile.level is not None
        if not tile.partial:
            parent = have[(tile.level + 1, tile.index // WIDTH)]
            if _balanced(have[(tile.level, tile.index)]) != parent[tile.index % WIDTH]:
                raise WitnessAlert(f"{tile.path()} does not match the tile above it")
    parts, start = [], 0
    for height in reversed(range(size.bit_length())):
        if size >> height & 1:
            level, rest = divmod(height, 8)
            first = (start >> height) << rest
            hashes = have[(level, first // WIDTH)]
            parts.append(_balanced(hashes[first % WIDTH : first % WIDTH + (1 << rest)]))
            start += 1 << height
    computed = parts[-1]
    for left in reversed(parts[:-1]):
        computed = node_hash(left, computed)
    if computed != root:
        raise WitnessAlert("the log's tiles do not add up to the root of its signed checkpoint")
    if entries:
        for tile in tiles:
            if tile.level != 0:
                continue
            bundle = Tile(None, tile.index, tile.width)
            if (directory / bundle.path()).exists():
                continue
            body = fetch(f"{prefix}/{bundle.path()}")
            leaves = _entries(body, bundle)
            expected = have[(0, tile.index)]
            hashed = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
            if hashed != expected:
                raise WitnessAlert(f"{bundle.path()} does not match its tile")
            new[bundle.path()] = body
    for path, body in new.items():
        _write(directory / path, body)
    _write(directory / "checkpoint", state["checkpoint"].encode())
    save_state(state_path, state)
    fetched = sum(1 for path in new if "/entries/" not in path)
    state["last"] += f"; {fetched} tiles fetched, {len(tiles)} in the tree"
    return state


def _entries(body: bytes, bundle: Tile) -> list[bytes]:
    leaves, at = [], 0
    while at + 2 <= len(body):
        (length,) = struct.unpack(">H", body[at : at + 2])
        leaves.append(body[at + 2 : at + 2 + length])
        at += 2 + length
    if at != len(body) or len(leaves) != bundle.width:
        raise WitnessUnreachable(f"{bundle.path()} is not a bundle of {bundle.width} entries")
    return leaves
