"""RFC 9162 and C2SP signed notes, written again from the specifications for the tests.

Deliberately independent of the service's code: the recursive definitions of §2.1 as the
RFC states them (MTH, PATH, PROOF), the verification algorithms of §2.1.3.2 and §2.1.4.2,
and a note verifier built only on `cryptography`.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of leaf *data* (§2.1.1)."""
    n = len(leaves)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (§2.1.3.1)."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (§2.1.4.1)."""

    def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if b else [mth(d)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return [*subproof(m, d[:k], b), mth(d[k:])]
        return [*subproof(m - k, d[k:], False), mth(d[:k])]

    return subproof(m, leaves, True)


def verify_inclusion(leaf: bytes, index: int, size: int, audit: list[bytes], root: bytes) -> bool:
    """§2.1.3.2, with the leaf's data."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, sha(b"\x00" + leaf)
    for p in audit:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = sha(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, consistency: list[bytes]
) -> bool:
    """§2.1.4.2."""
    if first == second:
        return not consistency and first_hash == second_hash
    c = list(consistency)
    if first & (first - 1) == 0:
        c = [first_hash, *c]
    if not c:
        return False
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = c[0]
    for value in c[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = sha(b"\x01" + value + fr)
            sr = sha(b"\x01" + value + sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = sha(b"\x01" + sr + value)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash


def open_signed_note(note: str, verifier_key: str) -> str:
    """The text of a C2SP signed note, checked with a published `name+hash+key` verifier."""
    name, key_hash_hex, key_b64 = verifier_key.strip().split("+", 2)
    raw = base64.b64decode(key_b64)
    assert raw[0] == 1, "Ed25519 keys are type 0x01"
    key = Ed25519PublicKey.from_public_bytes(raw[1:])
    assert sha(name.encode() + b"\n" + raw)[:4].hex() == key_hash_hex
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    for line in signatures.splitlines():
        assert line.startswith("\u2014 ")
        signer, encoded = line[2:].split(" ")
        blob = base64.b64decode(encoded)
        if signer == name and blob[:4].hex() == key_hash_hex:
            key.verify(blob[4:], text.encode())  # raises InvalidSignature
            return text
    raise AssertionError("no signature by the verifier key")
