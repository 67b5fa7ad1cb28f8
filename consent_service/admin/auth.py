"""Sign-in state and the role check every admin view goes through.

Views declare who may use them with `@role_required(Role.PRIVACY_OFFICER)`; anyone else
gets 403, and someone not signed in is sent to the sign-in page (JSON callers get 401).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service import ratelimit
from consent_service.admin import sessions
from consent_service.admin.models import Role, User
from consent_service.db import db, utcnow

P = ParamSpec("P")
R = TypeVar("R")

# The session cookie holds only this: a random id whose row in `staff_sessions` decides.
SESSION_KEY = "sid"
# Argon2id with its library defaults (64 MiB, 3 passes): memory-hard against GPU guessing.
hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the name is unknown, so that unknown and known names take as long.

    Made on first use, not at import: hashing takes 64 MiB, which every command line
    process (`audit verify`, `audit export`) would otherwise pay for nothing.
    """
    return hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    try:
        return hasher.verify(user.password_hash if user else _dummy_hash(), password) and bool(
            user and user.active
        )
    except (VerificationError, InvalidHashError):
        return False


def create_user(name: str, role: Role, password: str) -> User:
    user = User(name=name, role=role.value, password_hash=hash_password(password), active=True,
                created_at=utcnow())  # fmt: skip
    db.session.add(user)
    db.session.commit()
    return user


def _limits() -> tuple[tuple[str, str, int], ...]:
    config = current_app.config
    return (
        ("sign-in-account", "SIGN_IN_LIMIT_ACCOUNT", config["SIGN_IN_LIMIT_ACCOUNT"]),
        ("sign-in-client", "SIGN_IN_LIMIT_CLIENT", config["SIGN_IN_LIMIT_CLIENT"]),
    )


def _limit_keys(name: str) -> dict[str, str]:
    # Case-folded so that "DSO" and "dso" share one budget of attempts.
    return {"sign-in-account": name.casefold(), "sign-in-client": ratelimit.client_key()}


def sign_in_blocked(name: str) -> ratelimit.Limit | None:
    """The exhausted limit (per account or per client) that blocks signing in, if any.

    Counted in the database, so every worker and instance sees the same failures.
    """
    window = current_app.config["SIGN_IN_WINDOW_SECONDS"]
    keys = _limit_keys(name)
    for bucket, _setting, limit in _limits():
        state = ratelimit.peek(bucket, keys[bucket], limit, window)
        if not state.allowed:
            return state
    return None


def count_failed_sign_in(name: str) -> None:
    window = current_app.config["SIGN_IN_WINDOW_SECONDS"]
    keys = _limit_keys(name)
    for bucket, _setting, limit in _limits():
        ratelimit.hit(bucket, keys[bucket], limit, window)


def blocked_message(limit: ratelimit.Limit) -> str:
    minutes = max(1, -(-limit.retry_after // 60))
    return (
        "För många misslyckade inloggningsförsök. Av säkerhetsskäl är inloggningen spärrad en "
        f"stund: försök igen om {minutes} {'minut' if minutes == 1 else 'minuter'}."
    )


def sign_in(user: User) -> None:
    # A fresh session at sign-in: nothing from before (a planted session) carries over.
    session.clear()
    session[SESSION_KEY] = sessions.start_session(user, utcnow())
    session.permanent = False


def sign_out() -> None:
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        sessions.end_session(token, utcnow())
    session.clear()


def _live_session() -> sessions.LiveSession | None:
    if "live_session" in g:
        live: sessions.LiveSession | None = g.live_session
        return live
    live = None
    token = session.get(SESSION_KEY)
    if isinstance(token, str):
        live = sessions.resolve_session(token, utcnow())
        if live is None:
            session.clear()
    g.live_session = live
    return live


def current_user() -> User | None:
    live = _live_session()
    return live.user if live is not None else None


def current_session_id() -> str | None:
    """The database id of the current staff session (to keep it when ending the others)."""
    live = _live_session()
    return live.session_id if live is not None else None


def role_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R | BaseResponse]]:
    """Let only signed-in users with one of `roles` through."""

    def decorator(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
            user = current_user()
            if user is None:
                if request.accept_mimetypes.best == "application/json":
                    abort(401)
                return redirect(url_for("admin.sign_in_page", next=request.full_path))
            if user.role_enum not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator
