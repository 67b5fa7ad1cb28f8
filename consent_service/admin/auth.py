"""Sign-in state and the role check every admin view goes through.

Views declare who may use them with `@role_required(Role.PRIVACY_OFFICER)`; anyone else
gets 403, and someone not signed in is sent to the sign-in page (JSON callers get 401).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import update
from werkzeug.wrappers import Response as BaseResponse

from consent_service import ratelimit
from consent_service.admin import devices, sessions
from consent_service.admin.models import NO_PASSWORD, Role, User
from consent_service.db import db, utcnow
from consent_service.sites.services import all_sites, current_site, use_site

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
    # An account whose owner has not yet set a password takes as long as any other.
    usable = user is not None and user.password_hash != NO_PASSWORD
    try:
        return hasher.verify(user.password_hash if user and usable else _dummy_hash(),
                             password) and bool(usable and user and user.active)  # fmt: skip
    except (VerificationError, InvalidHashError):
        return False


def create_user(name: str, role: Role, password: str) -> User:
    user = User(name=name, role=role.value, password_hash=hash_password(password), active=True,
                created_at=utcnow())  # fmt: skip
    db.session.add(user)
    db.session.commit()
    return user


@dataclass(frozen=True)
class SignInAttempt:
    """An attempt, counted before its password is checked."""

    # The exhausted limit that refuses it (the longest wait), or None: check the password.
    blocked: ratelimit.Limit | None
    # (bucket, key) of every counter it went into, to give back after a success.
    counted: tuple[tuple[str, str], ...]


def _budgets(name: str) -> list[tuple[str, str, int]]:
    config = current_app.config
    device = devices.known_device(name)
    if device is not None:
        # A browser that signed in to this account before counts on its own: others'
        # failures cannot lock it out, and its failures lock out only itself.
        return [("sign-in-device", device, config["SIGN_IN_LIMIT_ACCOUNT"])]
    return [
        # Case-folded so that "DSO" and "dso" share one budget of attempts.
        ("sign-in-account", name.casefold(), config["SIGN_IN_LIMIT_ACCOUNT"]),
        ("sign-in-client", ratelimit.client_key(), config["SIGN_IN_LIMIT_CLIENT"]),
    ]


def count_sign_in_attempt(name: str) -> SignInAttempt:
    """Count the attempt first, then decide whether its password may be checked.

    Reading the count, checking the password and only then counting a failure let tries
    made at the same moment all read the same count: 30 parallel tries got 8 password
    checks against a limit of 5. The counter's atomic increment (one upsert in the shared
    database) gives each try its own number, so only the first `limit` are checked, on
    every worker and instance together.
    """
    return _count_attempt(_budgets(name))


def count_password_check(user: User) -> SignInAttempt:
    """Count a check of a signed-in user's password (changing it), as sign-in does."""
    limit = current_app.config["SIGN_IN_LIMIT_ACCOUNT"]
    return _count_attempt([("password-check", str(user.id), limit)])


def _count_attempt(budgets: list[tuple[str, str, int]]) -> SignInAttempt:
    window = current_app.config["SIGN_IN_WINDOW_SECONDS"]
    blocked: ratelimit.Limit | None = None
    counted = []
    for bucket, key, limit in budgets:
        state = ratelimit.hit(bucket, key, limit, window)
        counted.append((bucket, key))
        if not state.allowed and (blocked is None or state.retry_after > blocked.retry_after):
            blocked = state
    attempt = SignInAttempt(blocked, tuple(counted))
    if blocked is not None:
        # A refused try checks no password, so it uses up nothing (as before this order):
        # only checked passwords stay counted, and those are never more than the limit.
        refund_sign_in_attempt(attempt)
    return attempt


def refund_sign_in_attempt(attempt: SignInAttempt) -> None:
    """Give back what a successful sign-in counted: colleagues behind one address sign in
    many times a day."""
    window = current_app.config["SIGN_IN_WINDOW_SECONDS"]
    for bucket, key in attempt.counted:
        ratelimit.refund(bucket, key, window)


def change_password(user: User, new_password: str, *, keep_session: str | None) -> int:
    """Store the new password and end the account's other sessions; return how many ended."""
    with db.writing() as writer:
        writer.execute(
            update(User).where(User.id == user.id).values(password_hash=hash_password(new_password))
        )
    return sessions.end_sessions_of(user.id, utcnow(), keep=keep_session)


def blocked_message(limit: ratelimit.Limit) -> str:
    minutes = max(1, -(-limit.retry_after // 60))
    return (
        "För många misslyckade inloggningsförsök. Av säkerhetsskäl är inloggningen spärrad en "
        f"stund: försök igen om {minutes} {'minut' if minutes == 1 else 'minuter'}."
    )


def sign_in(user: User) -> None:
    # A fresh session at sign-in: nothing from before (a planted session) carries over, and
    # a session this browser still had ends.
    now = utcnow()
    previous = session.get(SESSION_KEY)
    if isinstance(previous, str):
        sessions.end_session(previous, now)
    session.clear()
    session[SESSION_KEY] = sessions.start_session(user, now)
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


def _keep_to_own_sites(user: User) -> None:
    """Staff scoped to some sites work on one of theirs: the chosen site when it is theirs,
    else their first site that this deployment serves (403 when none is)."""
    own = user.site_list
    if not own or current_site().domain in own:
        return
    served = {site.domain: site for site in all_sites()}
    mine = [served[domain] for domain in own if domain in served]
    if not mine:
        abort(403)
    use_site(mine[0])


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
            _keep_to_own_sites(user)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator
