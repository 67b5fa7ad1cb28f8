"""RFC 6962 (RFC 9162 §2.1) Merkle tree heads and inclusion proofs over the chain's links.

Leaf i is the link hash of entry i + 1 (so one leaf per chain position, purged or not).
A signed checkpoint carries the tree head of its size; an inclusion proof of a few dozen
hashes then shows that one citizen's entry is in the log the checkpoint signed, without the
rest of the log (a per-citizen export can be verified on its own).

Everything streams: the tree head is built with a stack of at most log2(n) subtree hashes,
and the proofs for a set of leaves are collected in the same single pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").hexdigest()
_sha256 = hashlib.sha256
# Leaves per block in `TreeBuilder.extend` (a power of two).
BLOCK = 1024


def leaf_hash(link_hash_hex: str) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + bytes.fromhex(link_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class TreeBuilder:
    """Append leaves; `root()` is the RFC 6962 tree head of the leaves so far, at any time."""

    def __init__(self) -> None:
        # (start index, size, hash) of perfect subtrees, sizes strictly decreasing.
        self.stack: list[tuple[int, int, bytes]] = []
        self.size = 0
        self.recorded: dict[tuple[int, int], bytes] = {}
        self.wanted: set[tuple[int, int]] = set()

    def push(self, link_hash_hex: str) -> None:
        # Written out flat: `audit verify` calls this once per entry.
        start, size = self.size, 1
        node = _sha256(LEAF_PREFIX + bytes.fromhex(link_hash_hex)).digest()
        self.size += 1
        wanted, stack = self.wanted, self.stack
        if wanted and (start, 1) in wanted:
            self.recorded[(start, 1)] = node
        while stack and stack[-1][1] == size:
            start, _, left = stack.pop()
            size *= 2
            node = _sha256(NODE_PREFIX + left + node).digest()
            if wanted and (start, size) in wanted:
                self.recorded[(start, size)] = node
        stack.append((start, size, node))

    def extend(self, link_hashes: list[str]) -> None:
        """`push` each of `link_hashes`, faster: aligned blocks are hashed level by level.

        A block of BLOCK leaves that starts at a multiple of BLOCK is a perfect subtree: its
        hash is computed with two list comprehensions per level rather than a stack
        operation per leaf (`audit verify` feeds a million link hashes through here).
        """
        if self.wanted:  # proofs record single nodes: the plain way
            for value in link_hashes:
                self.push(value)
            return
        i, n = 0, len(link_hashes)
        while i < n and self.size % BLOCK:
            self.push(link_hashes[i])
            i += 1
        while n - i >= BLOCK:
            # One hex decoding per block, then slices: cheaper than a decoding per leaf.
            raw = bytes.fromhex("".join(link_hashes[i : i + BLOCK]))
            level = [
                _sha256(LEAF_PREFIX + raw[j : j + 32]).digest() for j in range(0, len(raw), 32)
            ]
            while len(level) > 1:
                raw = b"".join(level)
                level = [
                    _sha256(NODE_PREFIX + raw[j : j + 64]).digest() for j in range(0, len(raw), 64)
                ]
            self._push_subtree(BLOCK, level[0])
            i += BLOCK
        for value in link_hashes[i:]:
            self.push(value)

    def _push_subtree(self, size: int, node: bytes) -> None:
        """Add a perfect subtree of `size` leaves (the tree's size a multiple of it)."""
        start, stack = self.size, self.stack
        self.size += size
        while stack and stack[-1][1] == size:
            start, _, left = stack.pop()
            size *= 2
            node = _sha256(NODE_PREFIX + left + node).digest()
        stack.append((start, size, node))

    def suffix_root(self, start: int) -> bytes:
        """The tree head of leaves [start, size); `start` must begin a stack subtree."""
        hashes = [h for s, _, h in self.stack if s >= start]
        if not hashes or self.stack[-len(hashes)][0] != start:
            raise ValueError(f"{start} does not begin a subtree of a tree of {self.size}")
        result = hashes[-1]
        for left in reversed(hashes[:-1]):
            result = node_hash(left, result)
        return result

    def root(self) -> bytes:
        if self.size == 0:
            return bytes.fromhex(EMPTY_ROOT)
        return self.suffix_root(0)


def tree_head(link_hashes: Iterable[str]) -> tuple[int, str]:
    """(size, root hex) of the tree over `link_hashes` in order."""
    builder = TreeBuilder()
    for value in link_hashes:
        builder.push(value)
    return builder.size, builder.root().hex()


def _largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _path_plan(index: int, start: int, size: int) -> list[tuple[str, int, int]]:
    """The subtrees whose hashes form the audit path, leaf to root (RFC 9162 §2.1.3.1).

    Each is ("perfect", start, size) for an aligned power-of-two subtree, or
    ("suffix", start, end) for the right edge of the tree, [start, end).
    """
    if size <= 1:
        return []
    k = _largest_power_below(size)
    if index < k:
        rest = _path_plan(index, start, k)
        right = (
            ("perfect", start + k, size - k) if _is_power(size - k) else ("suffix", start + k, 0)
        )
        return [*rest, right]
    return [*_path_plan(index - k, start + k, size - k), ("perfect", start, k)]


def _is_power(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def inclusion_proofs(
    link_hashes: Iterable[str], tree_size: int, indices: Iterable[int]
) -> dict[int, list[str]]:
    """Audit paths (hex, leaf to root) for leaves `indices` of the tree of `tree_size` leaves.

    `link_hashes` must yield at least `tree_size` values; one pass, memory O(k log n).
    """
    plans = {i: _path_plan(i, 0, tree_size) for i in indices if 0 <= i < tree_size}
    builder = TreeBuilder()
    builder.wanted = {(s, n) for plan in plans.values() for kind, s, n in plan if kind == "perfect"}
    for count, value in enumerate(link_hashes):
        if count == tree_size:
            break
        builder.push(value)
    if builder.size != tree_size:
        raise ValueError(f"the chain has {builder.size} links, fewer than {tree_size}")
    proofs: dict[int, list[str]] = {}
    for index, plan in plans.items():
        path = []
        for kind, start, size in plan:
            if kind == "perfect":
                path.append(builder.recorded[(start, size)].hex())
            else:
                path.append(builder.suffix_root(start).hex())
        proofs[index] = path
    return proofs


def root_from_inclusion(link_hash_hex: str, index: int, tree_size: int, path: list[str]) -> str:
    """Recompute the tree head from one leaf and its audit path (RFC 9162 §2.1.3.2).

    Raises ValueError when the path cannot belong to that index and size.
    """
    if not 0 <= index < tree_size:
        raise ValueError("the leaf index is outside the tree")
    fn, sn = index, tree_size - 1
    result = leaf_hash(link_hash_hex)
    for sibling_hex in path:
        if sn == 0:
            raise ValueError("the audit path is too long")
        sibling = bytes.fromhex(sibling_hex)
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the audit path is too short")
    return result.hex()
