"""C2SP signed notes (signed-note.md) holding tlog-checkpoints and integration promises.

A note is text ending in a newline, a blank line, and one signature line per signer:

    <text>\\n
    \\n
    — <key name> base64(4-byte key hash ‖ 64-byte Ed25519 signature)\\n

The key hash is the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key); the
verifier key, published at `/api/v1/log/key`, is `name+hex8(key hash)+base64(0x01 ‖ key)`.
Any C2SP note library (Go's golang.org/x/mod/sumdb/note, for one) verifies these notes.

Two bodies are signed with the log's key. A checkpoint (tlog-checkpoint.md): origin, tree
size in decimal, base64 root hash. A promise, given when an entry is acknowledged: origin,
the word `promise`, base64 leaf hash, acknowledgement time, maximum integration delay in
seconds. A checkpoint parser refuses a promise (its second line is not a number) and the
other way round, so one can never stand for the other.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
PROMISE = "promise"
# Key names are non-empty and hold no whitespace and no '+' (signed-note.md).
_NAME = re.compile(r"^[^\s+]+$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,18})$")


class NoteError(ValueError):
    """A note, a verifier key or a note body is malformed, or its signature fails."""


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + _raw(key)).digest()[:4]


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise NoteError(f"{name!r} is not a key name (no spaces, no '+')")
    return name


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The published verifier key: `name+hex8(key hash)+base64(0x01 ‖ public key)`."""
    check_name(name)
    encoded = base64.b64encode(ED25519 + _raw(key)).decode()
    return f"{name}+{key_hash(name, key).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    name: str
    hash: bytes
    key: Ed25519PublicKey


def parse_verifier_key(text: str) -> Verifier:
    # The base64 key may itself hold '+': split at the first two only.
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is name+hash+key")
    name, hash_hex, encoded = parts
    check_name(name)
    try:
        wanted = bytes.fromhex(hash_hex)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("the verifier key's hash or key is not hex / base64") from None
    if len(wanted) != 4 or len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("the verifier key is not an Ed25519 key of this format")
    key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_hash(name, key) != wanted:
        raise NoteError("the verifier key's hash does not match its name and key")
    return Verifier(name, wanted, key)


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """The note: `text` (ending in a newline), a blank line and one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends in a newline and has no blank line")
    signature = key.sign(text.encode())
    line = base64.b64encode(_signer_hash(name, key) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {line}\n"


@functools.lru_cache(maxsize=16)
def _signer_hash(name: str, key: Ed25519PrivateKey) -> bytes:
    """The key hash of a signature line, once per (name, key): every promise needs it."""
    return key_hash(check_name(name), key.public_key())


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text, when one of its signature lines is `verifier`'s and valid."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("not a signed note (no blank line before the signatures)")
    text += "\n"
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line must start with an em dash and a space")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if name != verifier.name:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError("a signature is not base64") from None
        if len(raw) != 68 or raw[:4] != verifier.hash:
            continue
        try:
            verifier.key.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature by {name} does not verify") from None
        return text
    raise NoteError(f"the note carries no signature by {verifier.name}")


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> CheckpointBody:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size and a root hash, one per line")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin or not _DECIMAL.match(size):
        raise NoteError("the checkpoint's origin or tree size is malformed")
    try:
        root_hash = base64.b64decode(root, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("the checkpoint's root hash is not base64") from None
    if len(root_hash) != 32:
        raise NoteError("the checkpoint's root hash is not 32 bytes")
    return CheckpointBody(origin, int(size), root_hash)


# ------------------------------------------------------------------------------ promises


def promise_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class PromiseBody:
    origin: str
    leaf_hash: bytes
    acknowledged_at: str
    max_delay_seconds: int

    def text(self) -> str:
        leaf = base64.b64encode(self.leaf_hash).decode()
        return (
            f"{self.origin}\n{PROMISE}\n{leaf}\n{self.acknowledged_at}\n{self.max_delay_seconds}\n"
        )

    def deadline(self) -> dt.datetime:
        at = dt.datetime.strptime(self.acknowledged_at, "%Y-%m-%dT%H:%M:%S.%fZ")
        return at.replace(tzinfo=dt.UTC) + dt.timedelta(seconds=self.max_delay_seconds)


def parse_promise(text: str) -> PromiseBody:
    lines = text.split("\n")
    if len(lines) != 6 or lines[1] != PROMISE or lines[-1] != "":
        raise NoteError("not a promise")
    try:
        leaf = base64.b64decode(lines[2], validate=True)
        dt.datetime.strptime(lines[3], "%Y-%m-%dT%H:%M:%S.%fZ")
    except (ValueError, binascii.Error):
        raise NoteError("the promise's leaf hash or time is malformed") from None
    if len(leaf) != 32 or not _DECIMAL.match(lines[4]):
        raise NoteError("the promise's leaf hash or delay is malformed")
    return PromiseBody(lines[0], leaf, lines[3], int(lines[4]))
