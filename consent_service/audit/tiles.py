"""The consent log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tiles and entry bundles.

A tile is 256 consecutive hashes of one level of the tiling: tile level L holds the Merkle
tree hashes of complete subtrees of 256**L leaves, which are exactly the nodes that
`audit_tree_nodes` stores at tree level 8·L. So a tile is one range read of at most 256 rows
by primary key, whatever the size of the log; nothing is computed or stored besides.

An entry bundle holds the leaves of one level-0 tile: each as a big-endian uint16 length and
the exact bytes whose RFC 9162 leaf hash is in the tree (an entry's record without its
position, a purge's or a staff event's whole record; `chain.entry_leaf`, `chain.purge_leaf`).
Entries hold consent IDs, so bundles are served only where the deployment publishes them
(`CONSENT_LOG_PUBLIC_ENTRIES`); a bundle over a position whose record a retention purge
removed is gone for good (the tree keeps the leaf hash, so tiles and proofs are unaffected).

Paths follow the specification to the letter and only their canonical form is accepted (as
Go's `sumdb/tlog.ParseTilePath` does): the level in decimal without leading zeros, the
index in groups of three digits, every group but the last prefixed with `x`, no leading
`x000` group, and `.p/<W>` (1 ≤ W ≤ 255) for a partial tile.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from consent_service.audit.chain import entry_leaf, purge_leaf
from consent_service.audit.log_models import TreeNode
from consent_service.audit.models import ChainLink, ConsentEntry, LogEvent, PurgeRecord
from consent_service.audit.tree import StoredTree, leaf_hash
from consent_service.db import Model

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes in a full tile, entries in a full bundle
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF  # an entry's length is a uint16
# Longer than the path of any tile of a tree of 2**64 leaves: refused before parsing.
MAX_PATH_CHARS = 64

_NODES = Model.metadata.tables[TreeNode.__tablename__]
_LEVEL = re.compile(r"(0|[1-9][0-9]?)")
_GROUP = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


class TilePathError(ValueError):
    """The path is not a tile path in the specification's canonical encoding."""


class TileMissing(LookupError):
    """The tile or bundle is not part of the current tree (or is not served)."""

    def __init__(self, message: str, status: int = 404, code: str = "not_found") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class TileDamaged(RuntimeError):
    """The stored tree or a record does not fit the tree: `audit verify` names the entry."""


@dataclass(frozen=True)
class Tile:
    """Tile `index` of tiling level `level` (None for an entry bundle), `width` hashes wide."""

    level: int | None
    index: int
    width: int = WIDTH

    @property
    def partial(self) -> bool:
        return self.width < WIDTH

    @property
    def start(self) -> int:
        """The first position, at stored tree level 8·L, that the tile holds."""
        return self.index * WIDTH

    def path(self) -> str:
        """The tile's path below the log's prefix, e.g. `tile/1/x001/234.p/17`."""
        groups = [f"{self.index % 1000:03d}"]
        rest = self.index // 1000
        while rest:
            groups.insert(0, f"x{rest % 1000:03d}")
            rest //= 1000
        level = "entries" if self.level is None else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{level}/{'/'.join(groups)}{suffix}"


def parse_path(rest: str, *, entries: bool) -> Tile:
    """The tile named by the path after `tile/` (`<L>/<N>[.p/<W>]`) or `tile/entries/`.

    Raises TilePathError for anything but the canonical encoding.
    """
    if len(rest) > MAX_PATH_CHARS:
        raise TilePathError("the tile path is longer than any tile of this log can have")
    parts = rest.split("/")
    level: int | None = None
    if not entries:
        if not _LEVEL.fullmatch(parts[0]) or int(parts[0]) > MAX_LEVEL:
            raise TilePathError(
                "the tile level must be a decimal number from 0 to 63 without leading zeros"
            )
        level = int(parts[0])
        parts = parts[1:]
    width = WIDTH
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        if not _WIDTH.fullmatch(parts[-1]) or int(parts[-1]) >= WIDTH:
            raise TilePathError(
                "a partial tile's width (.p/W) must be a decimal number from 1 to 255 "
                "without leading zeros"
            )
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][: -len(".p")]]
    if (
        not parts
        or not _LAST.fullmatch(parts[-1])
        or not all(_GROUP.fullmatch(g) for g in parts[:-1])
        or (len(parts) > 1 and parts[0] == "x000")
    ):
        raise TilePathError(
            "the tile index must be groups of three digits, all but the last prefixed "
            "with x and no leading x000 (e.g. x001/234 for 1234)"
        )
    index = 0
    for group in parts:
        index = index * 1000 + int(group.lstrip("x"))
    return Tile(level, index, width)


def _check_within(tile: Tile, available: int, size: int) -> None:
    """Raise TileMissing unless the tree of `size` has the tile's `width` hashes."""
    if tile.start + tile.width > available:
        what = "entry bundle" if tile.level is None else "tile"
        raise TileMissing(
            f"{tile.path()} is beyond the current tree ({size} entries): this {what} "
            "does not exist yet"
        )


def read_tile(session: Session, tile: Tile) -> bytes:
    """The tile's concatenated 32-byte hashes, read from the stored tree."""
    assert tile.level is not None
    conn = session.connection()
    size = StoredTree(conn).size()
    stored_level = HEIGHT * tile.level
    _check_within(tile, size >> stored_level, size)
    hashes = _node_range(conn, stored_level, tile.start, tile.width)
    if len(hashes) != tile.width:
        raise TileDamaged(
            f"the stored tree lacks nodes of {tile.path()}; run `consent-service audit verify`"
        )
    return b"".join(hashes)


def _node_range(conn: Connection, level: int, start: int, count: int) -> list[bytes]:
    rows = conn.execute(
        select(_NODES.c.idx, _NODES.c.hash)
        .where(_NODES.c.level == level, _NODES.c.idx >= start, _NODES.c.idx < start + count)
        .order_by(_NODES.c.idx)
    )
    found = [(idx, value) for idx, value in rows]
    if [idx for idx, _ in found] != list(range(start, start + len(found))):
        return []
    return [bytes.fromhex(value) for _, value in found]


def read_entry_bundle(session: Session, tile: Tile) -> bytes:
    """The bundle's entries, each a big-endian uint16 length and its exact leaf bytes.

    Every leaf is checked against the stored leaf hash before it is served, so a bundle
    always hashes to its level-0 tile.
    """
    assert tile.level is None
    conn = session.connection()
    size = StoredTree(conn).size()
    _check_within(tile, size, size)
    first, last = tile.start + 1, tile.start + tile.width  # chain positions (seq)
    leaves: dict[int, bytes] = {}
    for entry in session.scalars(select(ConsentEntry).where(ConsentEntry.seq.between(first, last))):
        leaves[entry.seq] = entry_leaf(entry)
    for purge in session.scalars(select(PurgeRecord).where(PurgeRecord.seq.between(first, last))):
        leaves[purge.seq] = purge_leaf(purge)
    for event in session.scalars(select(LogEvent).where(LogEvent.seq.between(first, last))):
        leaves[event.seq] = purge_leaf(event)
    if len(leaves) < tile.width:
        _explain_missing(session, tile, [s for s in range(first, last + 1) if s not in leaves])
    hashes = _node_range(conn, 0, tile.start, tile.width)
    if len(hashes) != tile.width:
        raise TileDamaged(
            f"the stored tree lacks leaves of {tile.path()}; run `consent-service audit verify`"
        )
    out = bytearray()
    for seq, stored in zip(range(first, last + 1), hashes, strict=True):
        leaf = leaves[seq]
        if leaf_hash(leaf) != stored:
            raise TileDamaged(
                f"entry {seq} does not match its leaf in the tree; "
                "run `consent-service audit verify`"
            )
        if len(leaf) > MAX_ENTRY_BYTES:
            raise TileMissing(
                f"{tile.path()} is not served: entry {seq} is longer than the 65,535 bytes "
                "an entry bundle can hold",
                status=404,
            )
        out += struct.pack(">H", len(leaf)) + leaf
    return bytes(out)


def _explain_missing(session: Session, tile: Tile, missing: list[int]) -> None:
    purged = session.execute(
        select(ChainLink.seq, ChainLink.purged_in)
        .where(ChainLink.seq.in_(missing), ChainLink.purged_in.is_not(None))
        .order_by(ChainLink.seq)
        .limit(1)
    ).first()
    if purged is not None:
        raise TileMissing(
            f"{tile.path()} is no longer served: entry {purged.seq} was removed under the "
            f"retention decision (purge record {purged.purged_in}); the tiles still hold its "
            "leaf hash",
            status=410,
            code="pruned",
        )
    raise TileDamaged(
        f"entry {missing[0]} is missing from the log; run `consent-service audit verify`"
    )
