"""RFC 6962 tree heads and inclusion proofs, against the RFC's recursive definitions."""

from __future__ import annotations

import hashlib

import pytest

from consent_service.audit.merkle import (
    EMPTY_ROOT,
    TreeBuilder,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    tree_head,
)


def links(n: int) -> list[str]:
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[str]) -> bytes:
    """RFC 6962 §2.1 MTH, literally."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = k_of(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[str]) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[n]), literally."""
    if len(leaves) <= 1:
        return []
    k = k_of(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 64, 100])
def test_tree_heads_and_proofs_match_the_rfc(n: int) -> None:
    data = links(n)
    size, root = tree_head(data)
    assert size == n
    assert root == (EMPTY_ROOT if n == 0 else mth(data).hex())
    proofs = inclusion_proofs(data, n, range(n))
    for m in range(n):
        assert proofs[m] == [h.hex() for h in path(m, data)]
        assert root_from_inclusion(data[m], m, n, proofs[m]) == root


def test_proofs_for_an_older_tree_size_from_a_longer_chain() -> None:
    data = links(50)
    proofs = inclusion_proofs(iter(data), 37, [0, 20, 36, 40])
    assert set(proofs) == {0, 20, 36}  # 40 is not in a tree of 37
    root = mth(data[:37]).hex()
    assert all(root_from_inclusion(data[m], m, 37, p) == root for m, p in proofs.items())


def test_a_wrong_leaf_index_or_path_does_not_verify() -> None:
    data = links(11)
    _, root = tree_head(data)
    proof = inclusion_proofs(data, 11, [6])[6]
    assert root_from_inclusion(data[5], 6, 11, proof) != root
    assert root_from_inclusion(data[6], 5, 11, proof) != root
    with pytest.raises(ValueError, match="too short"):
        root_from_inclusion(data[6], 6, 11, proof[:-1])
    with pytest.raises(ValueError, match="too long"):
        root_from_inclusion(data[6], 6, 11, [*proof, proof[0]])
    with pytest.raises(ValueError):
        root_from_inclusion(data[6], 11, 11, proof)


@pytest.mark.parametrize("n", [0, 1, 1023, 1024, 1025, 3 * 1024 + 5, 4096])
@pytest.mark.parametrize("chunk", [1, 7, 1024, 3000])
def test_extending_in_blocks_builds_the_same_tree_as_pushing_one_by_one(n: int, chunk: int) -> None:
    hashes = links(n)
    one_by_one, in_blocks = TreeBuilder(), TreeBuilder()
    for start in range(0, n, chunk):
        for value in hashes[start : start + chunk]:
            one_by_one.push(value)
        in_blocks.extend(hashes[start : start + chunk])
        assert (in_blocks.size, in_blocks.stack) == (one_by_one.size, one_by_one.stack)
    assert in_blocks.root() == mth(hashes)
