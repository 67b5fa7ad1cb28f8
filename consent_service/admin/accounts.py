"""Staff accounts as an admin manages them: create, change, disable, one-time password links.

The admin pages and the `users` commands go through these rules, and each rule records
what it did in the staff access log itself, so no front end can forget to.

A new account has no password: the admin gets a one-time link (shown once) to pass on, and
its owner chooses the password there, under the same rule as a password change. Only the
SHA-256 of the link's 256-bit random token is stored. A link works once, for 72 hours, and
only while it is the account's newest; disabling the account closes it.

The sites an account works on (staff scoped per site) belong to the sites domain, which sits
above this layer: it adds them to these pages through its own rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consent_service.admin import sessions
from consent_service.admin.access import record_access
from consent_service.admin.auth import hash_password
from consent_service.admin.models import NO_PASSWORD, PasswordLink, Role, User
from consent_service.admin.passwords import password_problem
from consent_service.db import db, utcnow

LINK_LIFETIME = dt.timedelta(hours=72)
NAME_MAX = 64
EMAIL_MAX = 254
# What secrets.token_urlsafe(32) gives: 43 URL-safe characters. Anything else is refused
# before the database is asked.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# Deliberately loose (RFC 5321 allows far more than any pattern): one @, a dot after it, no
# spaces. Whether mail arrives is the address's owner's matter.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(Exception):
    """An action the rules refuse; `sv` is for the admin pages, `en` for the command line."""

    def __init__(self, code: str, sv: str, en: str) -> None:
        super().__init__(en)
        self.code, self.sv, self.en = code, sv, en


class LinkInvalid(Exception):
    """The link is unknown, used, replaced, expired, or its account is disabled."""


@dataclass(frozen=True)
class IssuedLink:
    """A link's token, shown to the admin once and never stored in the clear."""

    token: str
    expires_at: dt.datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def name_problem(name: str) -> AccountError | None:
    if not 1 <= len(name) <= NAME_MAX or not name.isprintable() or name != name.strip():
        return AccountError(
            "bad_name",
            f"Användarnamnet ska vara 1 till {NAME_MAX} tecken, utan mellanslag först och sist.",
            f"the name must be 1 to {NAME_MAX} printable characters without surrounding spaces",
        )
    return None


def clean_email(email: str | None) -> str | None:
    """The address to store (None for none); raises AccountError for one that cannot be."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > EMAIL_MAX or not EMAIL.fullmatch(email):
        raise AccountError(
            "bad_email",
            "E-postadressen ser inte ut som en e-postadress (namn@example.se).",
            "the e-mail address does not look like one (name@example.se)",
        )
    return email


def has_password(user: User) -> bool:
    return user.password_hash != NO_PASSWORD


def _issue(session: Session, user_id: int, actor: str, now: dt.datetime) -> IssuedLink:
    """Close the account's open links and add a new one (inside the caller's transaction)."""
    session.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id == user_id, PasswordLink.closed_at.is_(None))
        .values(closed_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + LINK_LIFETIME
    session.add(
        PasswordLink(token_hash=_digest(token), user_id=user_id, created_at=now,
                     expires_at=expires_at, created_by=actor[:80])
    )  # fmt: skip
    return IssuedLink(token, expires_at)


def create_account(
    *, name: str, role: Role, email: str | None, actor: str, now: dt.datetime | None = None
) -> tuple[User, IssuedLink]:
    """A new account without a password, and the one-time link to set it."""
    now = now or utcnow()
    problem = name_problem(name)
    if problem is not None:
        raise problem
    address = clean_email(email)
    taken = AccountError(
        "name_taken",
        f"Det finns redan ett konto som heter {name}.",
        f"a user named {name!r} exists already",
    )
    try:
        with db.writing() as session:
            # Unique regardless of case: "DSO" beside "dso" would only confuse colleagues.
            if session.scalar(select(User.id).where(func.lower(User.name) == name.lower())):
                raise taken
            user = User(name=name, role=role.value, password_hash=NO_PASSWORD, active=True,
                        created_at=now, email=address)  # fmt: skip
            session.add(user)
            session.flush()
            link = _issue(session, user.id, actor, now)
            session.expunge(user)
    except IntegrityError:
        # Two admins created the same name at the same moment (PostgreSQL): one wins.
        raise taken from None
    record_access(actor, "create_user", {"user": name, "role": role.value})
    return user, link


def issue_password_link(user: User, *, actor: str, now: dt.datetime | None = None) -> IssuedLink:
    """A new one-time link for `user` (a reset); earlier links stop working."""
    now = now or utcnow()
    if not user.active:
        raise AccountError(
            "disabled",
            f"Kontot {user.name} är avstängt. Aktivera det först.",
            f"{user.name} is disabled; enable it first",
        )
    with db.writing() as session:
        link = _issue(session, user.id, actor, now)
    record_access(actor, "password_link", {"user": user.name})
    return link


def open_link_expiry(user_id: int, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the account's open link expires, or None when it has none."""
    now = now or utcnow()
    return db.session.scalar(
        select(func.max(PasswordLink.expires_at)).where(
            PasswordLink.user_id == user_id,
            PasswordLink.closed_at.is_(None),
            PasswordLink.expires_at > now,
        )
    )


def link_account(token: str, now: dt.datetime | None = None) -> User:
    """The account an open link belongs to; raises LinkInvalid."""
    now = now or utcnow()
    if not TOKEN.fullmatch(token):
        raise LinkInvalid
    row = db.session.execute(
        select(PasswordLink, User)
        .join(User, User.id == PasswordLink.user_id)
        .where(PasswordLink.token_hash == _digest(token))
    ).first()
    if row is None:
        raise LinkInvalid
    link, user = row
    if link.closed_at is not None or link.expires_at <= now or not user.active:
        raise LinkInvalid
    return user


def set_password_with_link(token: str, password: str, now: dt.datetime | None = None) -> str | None:
    """Set the password of the link's account and close the link.

    Returns the key of the password rule's objection (the link stays open then), or None.
    Raises LinkInvalid. Every session of the account ends: a reset locks out whoever had it.
    """
    now = now or utcnow()
    user = link_account(token, now)
    problem = password_problem(password, user.name)
    if problem is not None:
        return problem
    # Hashed before the write lock is taken: Argon2 takes tens of milliseconds.
    password_hash = hash_password(password)
    with db.writing() as session:
        # Closing and checking in one statement: of two requests with one link, one wins.
        closed = session.execute(
            update(PasswordLink)
            .where(
                PasswordLink.token_hash == _digest(token),
                PasswordLink.closed_at.is_(None),
                PasswordLink.expires_at > now,
            )
            .values(closed_at=now)
        )
        changed = session.execute(
            update(User).where(User.id == user.id, User.active).values(password_hash=password_hash)
        )
        if not getattr(closed, "rowcount", 0) or not getattr(changed, "rowcount", 0):
            raise LinkInvalid  # leaving the block rolls back
    ended = sessions.end_sessions_of(user.id, now)
    record_access(user.name, "set_password", {"sessions_ended": ended})
    return None


def _active_admin_ids(session: Session) -> list[int]:
    """The active admins, locked (PostgreSQL) so two admins cannot demote each other at once."""
    stmt = select(User.id).where(User.role == Role.ADMIN.value, User.active).with_for_update()
    return list(session.scalars(stmt))


def _last_admin_error(user: User) -> AccountError:
    return AccountError(
        "last_admin",
        f"{user.name} är den enda aktiva administratören. Ge någon annan rollen först.",
        f"{user.name} is the only active admin; make someone else admin first",
    )


def set_active(
    user: User, active: bool, *, actor: User | str, now: dt.datetime | None = None
) -> int:
    """Disable or enable `user`; a disabled account's sessions and links end at once.

    Returns how many sessions ended. An admin cannot disable themselves, and the last
    active admin cannot be disabled.
    """
    now = now or utcnow()
    actor_name = actor if isinstance(actor, str) else actor.name
    if not active and isinstance(actor, User) and actor.id == user.id:
        raise AccountError(
            "self",
            "Du kan inte stänga av ditt eget konto.",
            "you cannot disable your own account",
        )
    with db.writing() as session:
        if not active and user.role == Role.ADMIN.value:
            admins = _active_admin_ids(session)
            if admins == [user.id]:
                raise _last_admin_error(user)
        session.execute(update(User).where(User.id == user.id).values(active=active))
        if not active:
            session.execute(
                update(PasswordLink)
                .where(PasswordLink.user_id == user.id, PasswordLink.closed_at.is_(None))
                .values(closed_at=now)
            )
    ended = sessions.end_sessions_of(user.id, now) if not active else 0
    action = "enable_user" if active else "disable_user"
    details: dict[str, object] = {"user": user.name}
    if not active:
        details["sessions_ended"] = ended
    record_access(actor_name, action, details)
    return ended


def change_account(user: User, *, role: Role, email: str | None, actor: User | str) -> list[str]:
    """Change the role and e-mail address; return what changed ("role", "email").

    An admin cannot take the admin role from themselves (another admin can), and the last
    active admin keeps it.
    """
    actor_name = actor if isinstance(actor, str) else actor.name
    address = clean_email(email)
    changed = []
    demoting = user.role == Role.ADMIN.value and role is not Role.ADMIN
    if demoting and isinstance(actor, User) and actor.id == user.id:
        raise AccountError(
            "self",
            "Du kan inte ta bort din egen administratörsroll. Be en annan administratör.",
            "you cannot remove your own admin role; ask another admin",
        )
    with db.writing() as session:
        if demoting and user.active and _active_admin_ids(session) == [user.id]:
            raise _last_admin_error(user)
        values: dict[str, object] = {}
        if user.role != role.value:
            values["role"] = role.value
            changed.append("role")
        if user.email != address:
            values["email"] = address
            changed.append("email")
        if values:
            session.execute(update(User).where(User.id == user.id).values(**values))
    if changed:
        details: dict[str, object] = {"user": user.name}
        if "role" in changed:
            details["role"] = [user.role, role.value]
        if "email" in changed:
            details["email"] = "changed"
        record_access(actor_name, "change_user", details)
    return changed


@dataclass(frozen=True)
class AccountRow:
    """One line of the account list."""

    user: User
    open_sessions: int
    link_expires_at: dt.datetime | None

    @property
    def has_password(self) -> bool:
        return has_password(self.user)


def account_rows(now: dt.datetime | None = None) -> list[AccountRow]:
    """Every account, by name, with its live sessions and open link."""
    now = now or utcnow()
    users = db.session.scalars(select(User).order_by(User.name)).all()
    open_sessions = sessions.open_session_counts(now)
    rows = db.session.execute(
        select(PasswordLink.user_id, func.max(PasswordLink.expires_at))
        .where(and_(PasswordLink.closed_at.is_(None), PasswordLink.expires_at > now))
        .group_by(PasswordLink.user_id)
    )
    links: dict[int, dt.datetime] = {user_id: expires for user_id, expires in rows}
    return [AccountRow(u, open_sessions.get(u.id, 0), links.get(u.id)) for u in users]
