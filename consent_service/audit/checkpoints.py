"""Signed checkpoints: the chain head (seq, hash, time) signed with an Ed25519 key.

The private key lives in a file outside the database (`CONSENT_CHECKPOINT_KEY`), so someone
who can rewrite the database cannot forge a checkpoint. A checkpoint printed by
`audit checkpoint` and filed elsewhere (the registry) later proves that the log had exactly
that head: rows cut off the end or a chain rewritten from some entry on no longer match it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_service.audit.chain import CONSENT_CHAIN, GENESIS_HASH, ExpectedHead
from consent_service.audit.merkle import tree_head
from consent_service.audit.models import ChainHead, ChainLink, Checkpoint
from consent_service.db import utcnow
from consent_service.hashing import canonical_json

CHECKPOINT_VERSION = 1


class CheckpointKeyError(RuntimeError):
    """The signing key is missing, unreadable or not an Ed25519 key."""


class CheckpointChainError(RuntimeError):
    """The chain is not in a state that can be signed (verify it first)."""


class CheckpointFormatError(ValueError):
    """A checkpoint document is not valid JSON of the expected shape."""


def signed_message(seq: int, hash_: str, merkle_root: str, signed_at: str) -> bytes:
    """The exact bytes that are signed (the standalone verifier builds the same)."""
    return canonical_json(
        {
            "type": "checkpoint",
            "v": CHECKPOINT_VERSION,
            "chain": CONSENT_CHAIN,
            "seq": seq,
            "hash": hash_,
            "merkle_root": merkle_root,
            "signed_at": signed_at,
        }
    )


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public_key(key)).hexdigest()


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def write_private_key(path: Path) -> Ed25519PrivateKey:
    """Create a new key at `path` (mode 0600); refuse to overwrite an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CheckpointKeyError(f"{path} exists already; it is never overwritten") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointKeyError(f"cannot read the checkpoint key {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise CheckpointKeyError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a public key (PEM, or base64 of the 32 raw bytes) or derive it from a private key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointKeyError(f"cannot read {path}: {exc.strerror}") from None
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        if b"PUBLIC KEY" in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise CheckpointKeyError(f"{path} holds no Ed25519 public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointKeyError(f"{path} is not an Ed25519 public key")
    return key


def configured_key_path() -> Path | None:
    path: str | None = current_app.config.get("CHECKPOINT_KEY")
    return Path(path) if path else None


def signing_key() -> Ed25519PrivateKey:
    """The configured key; in development and tests it is generated on first use."""
    path = configured_key_path()
    if path is None:
        raise CheckpointKeyError(
            "CONSENT_CHECKPOINT_KEY is not set. Create a key with "
            "`consent-service audit keygen --out /etc/consent-service/checkpoint.pem`, keep it "
            "outside the database's backups, and point CONSENT_CHECKPOINT_KEY at it."
        )
    if not path.exists() and current_app.config["CONSENT_MODE"] != "production":
        return write_private_key(path)
    return load_private_key(path)


def trusted_keys(extra: list[Ed25519PublicKey] | None = None) -> dict[str, Ed25519PublicKey]:
    """Public keys that checkpoints may be signed with: the configured key's and `extra`."""
    keys = {fingerprint(k): k for k in extra or []}
    path = configured_key_path()
    if path is not None and path.exists():
        own = load_private_key(path).public_key()
        keys[fingerprint(own)] = own
    return keys


@dataclass(frozen=True)
class SignedCheckpoint:
    seq: int
    hash: str
    merkle_root: str
    signed_at: str
    signature: str
    key_fingerprint: str
    public_key: str = ""

    def document(self) -> dict[str, Any]:
        """The JSON printed by `audit checkpoint` and carried in exports."""
        return {
            "type": "checkpoint",
            "v": CHECKPOINT_VERSION,
            "chain": CONSENT_CHAIN,
            "seq": self.seq,
            "hash": self.hash,
            "merkle_root": self.merkle_root,
            "signed_at": self.signed_at,
            "signature": self.signature,
            "key_fingerprint": self.key_fingerprint,
            "public_key": self.public_key,
        }

    def signature_valid(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(
                base64.b64decode(self.signature, validate=True),
                signed_message(self.seq, self.hash, self.merkle_root, self.signed_at),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def head(self, label: str) -> ExpectedHead:
        return ExpectedHead(self.seq, self.hash, label, self.merkle_root)


def _from_row(row: Checkpoint) -> SignedCheckpoint:
    return SignedCheckpoint(
        seq=row.seq,
        hash=row.hash,
        merkle_root=row.merkle_root,
        signed_at=_timestamp(row.signed_at),
        signature=row.signature,
        key_fingerprint=row.key_fingerprint,
        public_key=row.public_key,
    )


def _timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def current_tree_head(session: Session) -> tuple[int, str, str]:
    """(seq, hash, Merkle root) of the chain as this read transaction sees it.

    Links never change once written, so no lock is needed: the head and every link up to it
    come from one consistent snapshot, and writers go on appending meanwhile.
    """
    head = session.get(ChainHead, CONSENT_CHAIN)
    seq, hash_ = (head.seq, head.hash) if head is not None else (0, GENESIS_HASH)
    hashes = session.scalars(
        select(ChainLink.hash)
        .where(ChainLink.seq <= seq)
        .order_by(ChainLink.seq)
        .execution_options(yield_per=5000)
    )
    last = [GENESIS_HASH]

    def remembering_last() -> Iterator[str]:
        for value in hashes:
            last[0] = value
            yield value

    size, root = tree_head(remembering_last())
    if size != seq or last[0] != hash_:
        raise CheckpointChainError(
            f"the chain head ({seq}) does not match its links ({size}); run `audit verify`"
        )
    return seq, hash_, root


def sign_head(key: Ed25519PrivateKey, seq: int, hash_: str, merkle_root: str) -> Checkpoint:
    signed_at = utcnow()
    signature = key.sign(signed_message(seq, hash_, merkle_root, _timestamp(signed_at)))
    return Checkpoint(
        seq=seq,
        hash=hash_,
        merkle_root=merkle_root,
        signed_at=signed_at,
        signature=base64.b64encode(signature).decode(),
        key_fingerprint=fingerprint(key.public_key()),
        public_key=base64.b64encode(raw_public_key(key.public_key())).decode(),
    )


def store_checkpoint(
    session: Session, key: Ed25519PrivateKey, head: tuple[int, str, str]
) -> SignedCheckpoint:
    """Sign `head` (from `current_tree_head`) and add the checkpoint; the caller commits."""
    row = sign_head(key, *head)
    session.add(row)
    return _from_row(row)


def latest_checkpoint(session: Session) -> SignedCheckpoint | None:
    row = session.scalar(select(Checkpoint).order_by(Checkpoint.seq.desc(), Checkpoint.id.desc()))
    return None if row is None else _from_row(row)


def stored_checkpoints(session: Session) -> list[tuple[int, SignedCheckpoint]]:
    return [(row.id, _from_row(row)) for row in session.scalars(select(Checkpoint))]


def parse_checkpoint(text: str) -> SignedCheckpoint:
    """Read a checkpoint document as printed by `audit checkpoint`."""
    try:
        data = json.loads(text)
    except ValueError:
        raise CheckpointFormatError("the checkpoint is not valid JSON") from None
    if not isinstance(data, dict) or data.get("type") != "checkpoint":
        raise CheckpointFormatError(
            'the checkpoint must be a JSON object with "type": "checkpoint"'
        )
    if data.get("chain", CONSENT_CHAIN) != CONSENT_CHAIN:
        raise CheckpointFormatError("the checkpoint belongs to another chain")
    try:
        checkpoint = SignedCheckpoint(
            seq=data["seq"],
            hash=data["hash"],
            merkle_root=data["merkle_root"],
            signed_at=data["signed_at"],
            signature=data["signature"],
            key_fingerprint=data.get("key_fingerprint", ""),
            public_key=data.get("public_key", ""),
        )
    except KeyError as exc:
        raise CheckpointFormatError(f"the checkpoint lacks {exc.args[0]}") from None
    if not (
        isinstance(checkpoint.seq, int)
        and not isinstance(checkpoint.seq, bool)
        and checkpoint.seq >= 0
        and all(
            isinstance(v, str)
            for v in (
                checkpoint.hash,
                checkpoint.merkle_root,
                checkpoint.signed_at,
                checkpoint.signature,
            )
        )
    ):
        raise CheckpointFormatError("the checkpoint's seq, hash, signed_at or signature is invalid")
    return checkpoint


@dataclass(frozen=True)
class CheckpointCheck:
    heads: list[ExpectedHead]
    problems: list[str]
    unchecked: list[str]


def check_checkpoints(
    session: Session,
    keys: dict[str, Ed25519PublicKey],
    external: list[SignedCheckpoint] | None = None,
) -> CheckpointCheck:
    """Check the signatures of stored and external checkpoints; return the heads to match.

    A checkpoint whose signature fails is a problem (a forged or altered row). One signed by
    a key we do not hold is listed as unchecked: its hash is still matched against the chain.
    """
    heads: list[ExpectedHead] = []
    problems: list[str] = []
    unchecked: list[str] = []
    candidates = [(f"stored checkpoint #{i}", c) for i, c in stored_checkpoints(session)]
    candidates += [(f"the given checkpoint (seq {c.seq})", c) for c in external or []]
    for label, checkpoint in candidates:
        key = keys.get(checkpoint.key_fingerprint)
        if key is None and checkpoint.public_key and label.startswith("the given"):
            # An external file names its key; it is only trusted when we hold that key too.
            unchecked.append(f"{label}: signed by a key that is not configured")
        elif key is None:
            unchecked.append(f"{label}: signed by key {checkpoint.key_fingerprint[:16]}…")
        elif not checkpoint.signature_valid(key):
            problems.append(f"{label} has an invalid signature")
            continue
        heads.append(checkpoint.head(label))
    return CheckpointCheck(heads, problems, unchecked)
