"""Only a validly signed, unexpired cookie counts as a choice."""

from __future__ import annotations

import base64
import json
import time

import pytest
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from consent_service.consent.cookie import COOKIE_NAME, SALT, Choice, ChoiceCookie
from tests.conftest import SECRET, choice_body


def payload(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


GOOD = {"id": "7b0c1b8e-0000-4000-8000-000000000000", "v": 1,
        "c": {"functional": True, "statistics": True}}  # fmt: skip


def signed(data: object, key: str = SECRET) -> str:
    return TimestampSigner(key, salt=SALT).sign(payload(data)).decode()


def test_payload_is_readable_without_a_library() -> None:
    codec = ChoiceCookie([SECRET], 3600)
    value = codec.encode(Choice("abc", 3, True, False))
    body, _timestamp, _sig = value.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert decoded == {"id": "abc", "v": 3, "c": {"functional": True, "statistics": False}}
    assert codec.decode(value) == Choice("abc", 3, True, False)


@pytest.mark.parametrize(
    "value",
    [
        payload(GOOD) + ".AAAAAA.forged",  # unsigned payload with a made-up signature
        signed(GOOD, key="another-key-of-sufficient-length-000000000"),  # foreign key
        signed(GOOD).replace(payload(GOOD)[:10], payload(GOOD)[:9] + "Z"),  # tampered payload
        signed({"id": 1, "v": "1", "c": []}),  # signed but malformed
        signed("not an object"),
        "",
        "x" * 4000,
        "a.b.c",
    ],
    # Stable ids: the signed values carry a timestamp, and parallel workers must agree.
    ids=[
        "forged-signature",
        "foreign-key",
        "tampered-payload",
        "signed-malformed",
        "signed-non-object",
        "empty",
        "oversized",
        "three-dots",
    ],
)
def test_forged_and_tampered_cookies_count_as_no_consent(client: FlaskClient, value: str) -> None:
    client.set_cookie(COOKIE_NAME, value)
    assert client.get("/api/v1/consent").status_code == 404
    recorded = client.post("/api/v1/consent", json=choice_body()).json
    assert recorded and recorded["consent_id"] != GOOD["id"]  # a fresh grant, not an update


def test_expired_cookie_counts_as_no_consent() -> None:
    codec = ChoiceCookie([SECRET], max_age_seconds=60)
    old_signer = TimestampSigner(SECRET, salt=SALT)
    old_signer.get_timestamp = lambda: int(time.time()) - 3600  # type: ignore[method-assign]
    value = old_signer.sign(payload(GOOD)).decode()
    assert codec.decode(value) is None
    assert codec.decode(signed(GOOD)) is not None


def test_rotated_key_still_verifies_old_cookies() -> None:
    old_key, new_key = "old-key-" + "a" * 40, "new-key-" + "b" * 40
    value = ChoiceCookie([old_key], 3600).encode(Choice("id-1", 1, True, False))
    rotated = ChoiceCookie([old_key, new_key], 3600)
    assert rotated.decode(value) == Choice("id-1", 1, True, False)
    # The newest key signs.
    fresh = rotated.encode(Choice("id-2", 1, False, False))
    assert ChoiceCookie([new_key], 3600).decode(fresh) is not None
