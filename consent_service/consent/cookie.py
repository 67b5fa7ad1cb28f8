"""The signed `consent` cookie: `<payload>.<timestamp>.<signature>`.

The payload is base64url JSON that page scripts read without a library, so it is never
compressed; only the signature makes it trustworthy.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, SignatureExpired
from werkzeug.wrappers import Response as BaseResponse

from consent_service.sites.services import current_site
from consent_service.web.sessions import KeyCachingSigner

COOKIE_NAME = "consent"
SALT = "consent-cookie"


@dataclass(frozen=True)
class Choice:
    consent_id: str
    policy_version: int
    functional: bool
    statistics: bool

    @property
    def choices(self) -> dict[str, bool]:
        return {"functional": self.functional, "statistics": self.statistics}


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ChoiceCookie:
    def __init__(self, keys: list[str], max_age_seconds: int) -> None:
        self.signer = KeyCachingSigner(keys, salt=SALT)
        self.max_age_seconds = max_age_seconds

    def encode(self, choice: Choice) -> str:
        payload = json.dumps(
            {"id": choice.consent_id, "v": choice.policy_version, "c": choice.choices},
            separators=(",", ":"),
        ).encode()
        return self.signer.sign(_b64encode(payload)).decode()

    def decode(self, value: str | None) -> Choice | None:
        """Return the choice in a validly signed, unexpired cookie, else None."""
        if not value or len(value) > 1024:
            return None
        try:
            payload = self.signer.unsign(value, max_age=self.max_age_seconds)
            data: Any = json.loads(_b64decode(payload.decode()))
        except (BadSignature, SignatureExpired, binascii.Error, ValueError, UnicodeDecodeError):
            return None
        try:
            choices = data["c"]
            choice = Choice(
                consent_id=data["id"],
                policy_version=data["v"],
                functional=choices["functional"],
                statistics=choices["statistics"],
            )
        except (KeyError, TypeError):
            return None
        if not (
            isinstance(choice.consent_id, str)
            and isinstance(choice.policy_version, int)
            and isinstance(choice.functional, bool)
            and isinstance(choice.statistics, bool)
        ):
            return None
        return choice


# ---------------------------------------------------------------- the cookie on a request


def choice_cookie() -> ChoiceCookie:
    codec: ChoiceCookie | None = current_app.extensions.get("choice_cookie")
    if codec is None:
        codec = current_app.extensions["choice_cookie"] = ChoiceCookie(
            current_app.config["SIGNING_KEYS"], current_app.config["CHOICE_MAX_AGE_DAYS"] * 86400
        )
    return codec


def current_choice() -> Choice | None:
    return choice_cookie().decode(request.cookies.get(COOKIE_NAME))


def set_choice_cookie(response: BaseResponse, choice: Choice) -> None:
    config = current_app.config
    response.set_cookie(
        COOKIE_NAME,
        choice_cookie().encode(choice),
        max_age=config["CHOICE_MAX_AGE_DAYS"] * 86400,
        domain=current_site().cookie_domain,
        secure=config["COOKIE_SECURE"],
        httponly=False,  # the banner reads the payload to skip a request on every page
        samesite="Lax",
        path="/",
    )


def expire_cookies(response: BaseResponse, names: Iterable[str]) -> None:
    """Delete these cookies (a refused category's) where this service can reach them.

    A cookie sent here was set for this host or for a parent domain; the browser does not say
    which, so both are expired. The banner clears the ones on the host page's own host.
    """
    domain = current_site().cookie_domain
    for name in names:
        response.delete_cookie(name, path="/")
        if domain:
            response.delete_cookie(name, path="/", domain=domain)


def clear_choice_cookie(response: BaseResponse) -> None:
    config = current_app.config
    response.delete_cookie(
        COOKIE_NAME,
        domain=current_site().cookie_domain,
        secure=config["COOKIE_SECURE"],
        samesite="Lax",
        path="/",
    )
