"""A witness: fetch the log's checkpoints and check that each extends the one seen before.

The log signs whatever tree its database holds, so someone who rewrites the database and
lets the service sign again gets a valid signature on a different history. What they cannot
produce is a consistency proof from a tree head someone else kept: the witness keeps the
last checkpoint it accepted (the state file) and accepts a new one only with a proof that
the old tree is a prefix of the new one (RFC 9162 §2.1.4). A smaller tree (rollback) or a
proof that fails (fork) is an alert.

Runs anywhere: it needs only the service's public endpoints and the `cryptography` package.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from consent_service.audit.note import NoteError, open_note, parse_checkpoint, parse_verifier_key
from consent_service.audit.tree import ProofError, verify_consistency

Fetch = Callable[[str], bytes]


class WitnessAlert(Exception):
    """The log forked, rolled back, or served something its key did not sign."""


class WitnessUnreachable(Exception):
    """The log could not be read (network, status, malformed answer): nothing was decided."""


@dataclass(frozen=True)
class Observation:
    origin: str
    size: int
    root: str  # base64
    previous_size: int | None

    def describe(self) -> str:
        if self.previous_size is None:
            return f"{self.origin}: first checkpoint seen, tree size {self.size}, root {self.root}"
        if self.previous_size == self.size:
            return f"{self.origin}: unchanged at tree size {self.size}"
        return (
            f"{self.origin}: tree size {self.previous_size} → {self.size} is consistent, "
            f"root {self.root}"
        )


def http_fetch(url: str) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise WitnessUnreachable(f"{url} is not an http(s) URL")
    # The scheme is checked above: no file: or custom schemes.
    request = urllib.request.Request(url, headers={"User-Agent": "consent-service-witness"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body: bytes = response.read(1 << 20)
            return body
    except (urllib.error.URLError, OSError) as exc:
        raise WitnessUnreachable(f"cannot fetch {url}: {exc}") from None


def load_state(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WitnessUnreachable(f"cannot read the state file {path}: {exc}") from None
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically (a crash leaves the old or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def witness(base_url: str, state: dict[str, Any], fetch: Fetch | None = None) -> dict[str, Any]:
    """Check the log's current checkpoint against `state`; return the new state.

    Raises WitnessAlert on a fork, a rollback, a changed key or a bad signature, and
    WitnessUnreachable when the log cannot be read.
    """
    fetch = fetch or http_fetch
    base = base_url.rstrip("/")
    published = fetch(f"{base}/api/v1/log/key").decode("utf-8", "replace").strip()
    key = state.get("key") or published
    if published != key:
        raise WitnessAlert(f"the log now publishes another key: {published} (was {key})")
    try:
        verifier = parse_verifier_key(key)
    except NoteError as exc:
        raise WitnessUnreachable(f"the published key is malformed: {exc}") from None
    note = fetch(f"{base}/api/v1/log/checkpoint").decode("utf-8", "replace")
    try:
        body = parse_checkpoint(open_note(note, verifier))
    except NoteError as exc:
        raise WitnessAlert(f"the checkpoint does not verify with the log's key: {exc}") from None
    if body.origin != verifier.name:
        raise WitnessAlert(f"the checkpoint names origin {body.origin}, the key {verifier.name}")
    old_size = state.get("size")
    if old_size is not None:
        old_root = base64.b64decode(state["root"])
        if body.size < old_size:
            raise WitnessAlert(
                f"rollback: the log's tree has {body.size} leaves, {old_size} were seen before"
            )
        proof: list[bytes] = []
        if body.size > old_size and old_size > 0:
            answer = fetch(f"{base}/api/v1/log/proof/consistency?from={old_size}&to={body.size}")
            try:
                proof = [base64.b64decode(h, validate=True) for h in json.loads(answer)["proof"]]
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise WitnessUnreachable("the consistency proof is malformed") from None
        try:
            verify_consistency(old_size, body.size, old_root, body.root, proof)
        except ProofError as exc:
            raise WitnessAlert(
                f"fork: the tree of {body.size} does not extend the tree of {old_size} seen "
                f"before ({exc})"
            ) from None
    observation = Observation(
        body.origin, body.size, base64.b64encode(body.root).decode(), old_size
    )
    return {
        "key": key,
        "origin": body.origin,
        "size": body.size,
        "root": observation.root,
        "checkpoint": note,
        "last": observation.describe(),
    }
