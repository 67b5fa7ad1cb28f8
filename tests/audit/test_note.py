"""C2SP signed notes, checked against the known answers of Go's golang.org/x/mod/sumdb/note.

If our signer reproduces Go's note byte for byte and our verifier accepts it, any witness or
note library of the C2SP ecosystem reads the log's checkpoints and keys.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent_service.audit.note import (
    NoteError,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key,
)

# sumdb/note's example (note.go and note_test.go).
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZS"
    "NXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# A verifier key whose base64 holds a '+' (transparency-dev/formats' tests).
PLUS_KEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"


def go_private_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])  # the base64 may hold a "+"
    assert seed[0] == 1  # the Ed25519 type byte, then the 32-byte seed
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_we_sign_exactly_what_go_signs() -> None:
    key = go_private_key()
    assert sign_note(GO_TEXT, "PeterNeumann", key) == GO_NOTE
    assert verifier_key("PeterNeumann", key.public_key()) == GO_VERIFIER


def test_we_open_a_note_go_signed() -> None:
    assert open_note(GO_NOTE, parse_verifier_key(GO_VERIFIER)) == GO_TEXT
    tampered = GO_NOTE.replace("problem,", "problem;")
    with pytest.raises(NoteError):
        open_note(tampered, parse_verifier_key(GO_VERIFIER))


def test_a_verifier_key_with_a_plus_in_its_base64_parses() -> None:
    verifier = parse_verifier_key(PLUS_KEY)
    assert verifier.name == "TEST" and verifier.hash.hex() == "7997405c"


@pytest.mark.parametrize(
    "key",
    [GO_VERIFIER.replace("c74f20a3", "c74f20a4"), GO_VERIFIER[:-2], "PeterNeumann+c74f20a3",
     "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"],
)  # fmt: skip
def test_mangled_verifier_keys_are_refused(key: str) -> None:
    with pytest.raises(NoteError):
        parse_verifier_key(key)


def test_a_signature_by_an_unknown_key_of_the_same_name_is_ignored() -> None:
    other = Ed25519PrivateKey.generate()
    note = sign_note(GO_TEXT, "PeterNeumann", other)
    with pytest.raises(NoteError, match="no signature by PeterNeumann"):
        open_note(note, parse_verifier_key(GO_VERIFIER))


@pytest.mark.parametrize(
    "body",
    ["example.org/log\n12\n", "example.org/log\n-1\nAAAA\n", "example.org/log\n01\n"
     + base64.b64encode(bytes(32)).decode() + "\n", "\n1\n" + base64.b64encode(bytes(32)).decode()
     + "\n", "example.org/log\n1\n" + base64.b64encode(bytes(31)).decode() + "\n"],
)  # fmt: skip
def test_malformed_checkpoints_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)
