"""Device cookies (OWASP): a browser that signed in before keeps its own budget of attempts.

Without them anyone who knows a staff member's user name can lock the account for the
whole window by sending wrong passwords. A successful sign-in leaves a signed, HttpOnly,
long-lived cookie naming the account and a random nonce. An attempt that carries a valid
one for the account it names is counted under that nonce alone, so strangers' failures do
not lock it out, and its own failures lock only that browser.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.wrappers import Response

DEVICE_DAYS = 180
_SALT = "staff-device"


def cookie_name() -> str:
    # __Host-: only over https, for this host alone, for the whole site (no Domain, Path=/).
    return "__Host-consent_device" if current_app.config["COOKIE_SECURE"] else "consent_device"


def _serializer() -> URLSafeTimedSerializer:
    # Every signing key, oldest first: the newest signs and all verify (key rotation).
    return URLSafeTimedSerializer(current_app.config["SIGNING_KEYS"], salt=_SALT)


def remember_device(response: Response, name: str) -> None:
    """Mark this browser as one that signed in to `name` (a new nonce each time)."""
    value = _serializer().dumps({"u": name.casefold(), "n": secrets.token_urlsafe(16)})
    response.set_cookie(
        cookie_name(),
        value,
        max_age=DEVICE_DAYS * 86400,
        path="/",
        secure=current_app.config["COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def known_device(name: str) -> str | None:
    """The nonce of a valid device cookie for the account `name`, or None."""
    raw = request.cookies.get(cookie_name())
    if not raw or len(raw) > 512:
        return None
    try:
        data: Any = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("u") != name.casefold():
        return None
    nonce = data.get("n")
    return nonce if isinstance(nonce, str) else None
