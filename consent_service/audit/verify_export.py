"""Verify a consent-log export with nothing but the public key.

Usage:
    python -m consent_service.audit.verify_export EXPORT.ndjson --public-key checkpoint.pub
    python verify_export.py EXPORT.csv --public-key checkpoint.pub   # this file copied alone

Needs only the Python standard library and the `cryptography` package, so an auditor (or
IMY) can run it without the service. It recomputes every entry's digest and link hash; for
a complete export it also walks the whole chain, checks each purge against the positions it
removed (staff events, such as a scan report's digest, are checked as entries are), and
checks the signed checkpoint's hash at its sequence number. Exit 0 when the export verifies,
1 naming the first problem, 2 for unusable input.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HASH = "0" * 64
LINK_FIELDS = ("prev_hash", "hash", "digest")


class Broken(Exception):
    """The export does not verify."""


class Unusable(Exception):
    """The input cannot be read as an export."""


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link_hash(seq: int, prev_hash: str, digest: str) -> str:
    return sha256_hex(f"{seq}|{prev_hash}|{digest}".encode())


def checkpoint_message(cp: dict[str, Any]) -> bytes:
    return canonical(
        {
            "type": "checkpoint",
            "v": cp.get("v", 1),
            "chain": cp.get("chain", "consent"),
            "seq": cp["seq"],
            "hash": cp["hash"],
            "merkle_root": cp["merkle_root"],
            "signed_at": cp["signed_at"],
        }
    )


# --- RFC 6962 Merkle tree (the same as consent_service/audit/merkle.py, kept here so that
# this file runs on its own) --------------------------------------------------------------


def leaf_hash(link_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(link_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """The tree head of the leaves pushed so far, with a stack of perfect subtrees."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []

    def push(self, link_hash_hex: str) -> None:
        size, node = 1, leaf_hash(link_hash_hex)
        while self.stack and self.stack[-1][0] == size:
            left = self.stack.pop()[1]
            size, node = size * 2, node_hash(left, node)
        self.stack.append((size, node))

    def root(self) -> str:
        if not self.stack:
            return sha256_hex(b"")
        result = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            result = node_hash(left, result)
        return result.hex()


def root_from_inclusion(link_hash_hex: str, index: int, tree_size: int, path: list[str]) -> str:
    """RFC 9162 §2.1.3.2: the tree head implied by one leaf and its audit path."""
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
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the audit path is too short")
    return result.hex()


def load_public_key(path: str) -> Ed25519PublicKey:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        if b"PRIVATE KEY" in data:
            private = serialization.load_pem_private_key(data, password=None)
            key: Any = private.public_key()
        elif b"PUBLIC KEY" in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise Unusable(f"{path} holds no Ed25519 key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Unusable(f"{path} is not an Ed25519 key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw)


# --- reading ------------------------------------------------------------------------------


def _ndjson(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise Unusable(f"line {number} is not JSON") from None
        if not isinstance(item, dict):
            raise Unusable(f"line {number} is not a JSON object")
        yield item


def _unneutralise(cell: str) -> str:
    """Undo the export's formula protection (a leading apostrophe before = + - @ tab CR)."""
    if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return cell[1:]
    return cell


def _csv(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    reader = csv.DictReader(lines)
    for row in reader:
        cells = {k: _unneutralise(v or "") for k, v in row.items() if k is not None}
        kind = cells.get("type", "")
        if kind == "entry":
            yield {
                "seq": int(cells["seq"]),
                "site": cells["site"],
                "occurred_at": cells["occurred_at"],
                "consent_id": cells["consent_id"],
                "action": cells["action"],
                "choices": {
                    "functional": cells["functional"] == "true",
                    "statistics": cells["statistics"] == "true",
                },
                "policy_version": int(cells["policy_version"]),
                "text_hash": cells["text_hash"],
                "language": cells["language"],
                "source": cells["source"],
                "gpc": cells["gpc"] == "true",
                "prev_hash": cells["prev_hash"],
                "hash": cells["hash"],
            }
        elif kind in ("purge", "removed", "event"):
            item = json.loads(cells["data"])
            item.update(prev_hash=cells["prev_hash"], hash=cells["hash"])
            if kind == "removed":
                item["digest"] = cells["digest"]
            yield item
        else:
            yield json.loads(cells["data"])


def read_items(path: str) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8", newline="") as fh:
        first = fh.readline()
        rest = iter(fh)

        def lines() -> Iterator[str]:
            yield first
            yield from rest

        if first.startswith("type,"):
            yield from _csv(lines())
        else:
            yield from _ndjson(lines())


# --- checking -----------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.count = 0
        self.first: int | None = None
        self.last: int | None = None

    def add(self, seq: int) -> None:
        self.digest.update(f"{seq}\n".encode())
        self.count += 1
        self.first = seq if self.first is None else self.first
        self.last = seq


def check_checkpoint(cp: dict[str, Any], key: Ed25519PublicKey | None) -> tuple[str, bool]:
    """Check a checkpoint's signature; return (how the key was found, whether it is trusted)."""
    trusted = key is not None
    if key is None:
        embedded = cp.get("public_key")
        if not embedded:
            raise Unusable("the checkpoint carries no public key; pass --public-key")
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(embedded, validate=True))
        except (ValueError, binascii.Error):
            raise Unusable("the checkpoint's public key is malformed") from None
    if cp.get("key_fingerprint") and cp["key_fingerprint"] != fingerprint(key):
        raise Broken("the checkpoint was signed with a different key than the one given")
    try:
        key.verify(base64.b64decode(cp["signature"], validate=True), checkpoint_message(cp))
    except (InvalidSignature, ValueError, binascii.Error, KeyError):
        raise Broken("the checkpoint's signature is not valid") from None
    return fingerprint(key), trusted


def verify(path: str, key: Ed25519PublicKey | None) -> list[str]:
    """Verify the export at `path`; return report lines, raise Broken or Unusable."""
    items = read_items(path)
    header = next(items, None)
    if header is None or header.get("type") != "export":
        raise Unusable("the file does not start with an export header")
    complete = bool(header.get("complete"))
    report: list[str] = []
    checkpoint: dict[str, Any] | None = None
    prev_hash, expected_seq = GENESIS_HASH, 1
    entries = purged = events = 0
    purges: dict[int, dict[str, Any]] = {}
    tallies: dict[int, Tally] = {}
    tree = Tree()
    last_entry: dict[str, Any] | None = None
    proven = 0
    for item in items:
        kind = item.get("type")
        if kind == "checkpoint":
            if checkpoint is not None:
                raise Unusable("more than one checkpoint")
            fp, trusted = check_checkpoint(item, key)
            checkpoint = item
            source = "the given public key" if trusted else "the key named in the file"
            report.append(f"checkpoint at {item['seq']} signed at {item['signed_at']}: signature "
                          f"valid ({source}, fingerprint {fp})")  # fmt: skip
            if not trusted:
                report.append("  compare that fingerprint with the one filed with the checkpoint")
            continue
        if kind == "inclusion":
            if checkpoint is None or last_entry is None or last_entry["seq"] != item.get("seq"):
                raise Unusable("an inclusion proof must follow its entry and the checkpoint")
            if item.get("tree_size") != checkpoint["seq"]:
                raise Broken(f"entry {item['seq']}: the proof is for another tree size")
            try:
                root = root_from_inclusion(
                    last_entry["hash"], item["seq"] - 1, item["tree_size"], item["audit_path"]
                )
            except (ValueError, KeyError, TypeError):
                raise Broken(f"entry {item.get('seq')}: the inclusion proof is malformed") from None
            if root != checkpoint["merkle_root"]:
                raise Broken(f"entry {item['seq']}: not included in the signed checkpoint's tree")
            proven += 1
            continue
        if kind not in (None, "purge", "removed", "event"):
            continue  # a later format's line type; an older verifier skips it
        try:
            seq, hash_ = item["seq"], item["hash"]
            prev = item["prev_hash"]
        except KeyError as exc:
            raise Unusable(f"a line lacks {exc.args[0]}") from None
        if kind == "removed":
            digest = item.get("digest", "")
            purged += 1
        else:
            record = {k: v for k, v in item.items() if k not in LINK_FIELDS}
            digest = sha256_hex(canonical(record))
        if link_hash(seq, prev, digest) != hash_:
            raise Broken(f"entry {seq}: its contents do not match its hash")
        if complete:
            if seq != expected_seq:
                raise Broken(f"entry {expected_seq}: missing (next line is {seq})")
            if prev != prev_hash:
                raise Broken(f"entry {seq}: previous-hash does not match the entry before it")
            purged_in = item.get("purged_in")
            if kind == "removed":
                if not isinstance(purged_in, int) or purged_in <= seq:
                    raise Broken(f"entry {seq}: removed without a later purge")
                tallies.setdefault(purged_in, Tally()).add(seq)
            if kind == "purge":
                purges[seq] = item
            tree.push(hash_)
            if checkpoint is not None and seq == checkpoint["seq"]:
                if hash_ != checkpoint["hash"]:
                    raise Broken(f"entry {seq}: the chain differs from the signed checkpoint")
                if tree.root() != checkpoint["merkle_root"]:
                    raise Broken(f"entry {seq}: the Merkle tree differs from the signed one")
            prev_hash, expected_seq = hash_, expected_seq + 1
        if kind is None:
            entries += 1
            last_entry = item
        elif kind == "event":
            events += 1
    if complete:
        for purge_seq in sorted(set(tallies) | set(purges)):
            purge, tally = purges.get(purge_seq), tallies.get(purge_seq, Tally())
            if purge is None:
                raise Broken(f"entry {tally.first}: removed by purge {purge_seq}, which is missing")
            found = (tally.count, tally.digest.hexdigest(), tally.first, tally.last)
            recorded = (purge.get("removed_count"), purge.get("removed_digest"),
                        purge.get("first_removed_seq"), purge.get("last_removed_seq"))  # fmt: skip
            if found != recorded:
                raise Broken(f"entry {purge_seq}: the purge does not match the removed positions")
        if checkpoint is not None and checkpoint["seq"] > expected_seq - 1:
            raise Broken(
                f"entries were cut off: the checkpoint covers {checkpoint['seq']}, "
                f"the export ends at {expected_seq - 1}"
            )
        report.append(
            f"complete chain verified: {expected_seq - 1} positions, {entries} entries, "
            f"{purged} removed by recorded purges, {events} staff events, head {prev_hash}"
        )
        if checkpoint is None:
            report.append("no checkpoint in the export: cut-off or rewrite cannot be ruled out")
    else:
        report.append(f"{entries} entries each match their chain hash")
        if proven:
            report.append(
                f"{proven} of them proven included in the signed checkpoint's Merkle tree "
                "(RFC 6962 inclusion proofs)"
            )
        if proven < entries:
            report.append(
                f"{entries - proven} without a proof (newer than the checkpoint, or the export "
                "was too large for proofs): verify those with a complete export"
            )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("export", help="an NDJSON or CSV file from `consent-service audit export`")
    parser.add_argument(
        "--public-key", help="the checkpoint public key (PEM or base64 of the raw 32 bytes)"
    )
    args = parser.parse_args(argv)
    try:
        key = load_public_key(args.public_key) if args.public_key else None
        lines = verify(args.export, key)
    except Unusable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Broken as exc:
        print(f"export BROKEN: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    print("export verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
