# Users, roles and THE permission check every mutating service function calls (promises A1, A2).
"""Who may do what.

Roles are Admin, Editor and Viewer. `require(actor, permission)` is the one check; mutating
service functions are declared with `@requires(permission)`, which calls it before anything
else and registers the function so a test can enumerate every mutation (deny by default).
"""

from __future__ import annotations

import enum
import functools
import getpass
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, EmailStr, Field, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncstore.db.models import SignInThrottle, User
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, InvalidValue, Message, NotFoundError, PermissionDenied, msg
from syncstore.security import audit


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Permission(enum.StrEnum):
    CATALOG_WRITE = "catalog.write"
    INVENTORY_ADJUST = "inventory.adjust"
    SYNC_RUN = "sync.run"
    CONFLICTS_RESOLVE = "conflicts.resolve"
    RULES_WRITE = "rules.write"
    CONNECTIONS_MANAGE = "connections.manage"
    USERS_MANAGE = "users.manage"
    KEYS_MANAGE = "keys.manage"
    SETTINGS_MANAGE = "settings.manage"


_EDITOR = frozenset(
    {
        Permission.CATALOG_WRITE,
        Permission.INVENTORY_ADJUST,
        Permission.SYNC_RUN,
        Permission.CONFLICTS_RESOLVE,
        Permission.RULES_WRITE,
    }
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: _EDITOR,
    Role.VIEWER: frozenset(),
}


@dataclass(frozen=True)
class Actor:
    """Someone acting: a signed-in user, or the operator at the command line."""

    user_id: int | None
    label: str
    role: Role
    # An Admin reset the password: nothing is allowed until the user chooses a new one.
    must_change_password: bool = False

    @classmethod
    def from_user(cls, user: User) -> Actor:
        return cls(
            user_id=user.id,
            label=user.email,
            role=Role(user.role),
            must_change_password=bool(user.must_change_password),
        )

    @classmethod
    def command_line(cls) -> Actor:
        """The operator running `syncstore ...` on the server: shell access is admin access."""
        return cls(user_id=None, label=f"cli:{getpass.getuser()}", role=Role.ADMIN)


def can(actor: Actor | None, permission: Permission) -> bool:
    """Whether `actor` holds `permission` (anonymous holds none). For showing or hiding controls."""
    return actor is not None and permission in ROLE_PERMISSIONS[actor.role]


def require(actor: Actor | None, permission: Permission) -> Actor:
    """Raise PermissionDenied unless `actor` holds `permission`; returns the actor for convenience."""
    if actor is None:
        raise PermissionDenied("sign in first: anonymous users cannot change anything")
    if not can(actor, permission):
        raise PermissionDenied("{role} may not {permission}", role=actor.role.value, permission=permission.value)
    if actor.must_change_password:
        raise PermissionDenied("choose a new password first: an admin reset yours")
    return actor


P = ParamSpec("P")
R = TypeVar("R")

# Every function declared with @requires, by qualified name: the A1 test enumerates these.
MUTATIONS: dict[str, Permission] = {}


def requires(
    permission: Permission,
) -> Callable[[Callable[Concatenate[Actor | None, P], R]], Callable[Concatenate[Actor | None, P], R]]:
    """Declare a mutating service function whose first argument is the acting user."""

    def decorate(
        func: Callable[Concatenate[Actor | None, P], R],
    ) -> Callable[Concatenate[Actor | None, P], R]:
        @functools.wraps(func)
        def checked(actor: Actor | None, /, *args: P.args, **kwargs: P.kwargs) -> R:
            require(actor, permission)
            return func(actor, *args, **kwargs)

        MUTATIONS[f"{func.__module__}.{func.__qualname__}"] = permission
        checked.required_permission = permission  # type: ignore[attr-defined]
        return checked

    return decorate


# --- users ----------------------------------------------------------------------------------

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")

# Password rules (NIST 800-63B): length, not one repeated character, not blank, not a common password.
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 200
COMMON_PASSWORDS_PATH = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"


@functools.cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> Message | None:
    """What is wrong with `password` as a new password, or None when it may be used."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return msg("must be at least {limit} characters", limit=PASSWORD_MIN_LENGTH)
    if len(password) > PASSWORD_MAX_LENGTH:
        return msg("must be at most {limit} characters", limit=PASSWORD_MAX_LENGTH)
    if not password.strip():
        return msg("must not be only spaces")
    if len(set(password)) == 1:
        return msg("must not be one character repeated")
    if password.strip().casefold() in _common_passwords():
        return msg("is too common (it is on the list of passwords attackers try first); choose another")
    return None


def check_password(password: str) -> str:
    """`password` when it meets the rules, else InvalidInput naming the password field."""
    problem = password_problem(password)
    if problem is not None:
        raise InvalidInput({"password": problem})
    return password


class NewUser(BaseModel):
    email: EmailStr
    name: str = Field(default="", max_length=200)
    role: Role
    password: str | None = None

    @field_validator("password")
    @classmethod
    def _password_rules(cls, value: str | None) -> str | None:
        if value is not None:
            problem = password_problem(value)
            if problem is not None:
                raise InvalidValue(problem.template, **problem.params)
        return value


def _user_view(user: User) -> dict[str, object]:
    return {"email": user.email, "name": user.name, "role": user.role, "is_active": user.is_active}


@requires(Permission.USERS_MANAGE)
def create_user(
    actor: Actor | None,
    session: Session,
    *,
    email: str,
    role: Role | str,
    password: str | None,
    name: str = "",
) -> User:
    """Add a user; the password is stored only as an argon2 hash."""
    try:
        data = NewUser(email=email, role=Role(role), password=password, name=name)
    except (ValidationError, ValueError) as error:
        raise InvalidInput.from_exception(error) from None
    email_key = str(data.email).lower()
    if session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email_key)) is not None:
        raise InvalidInput({"email": msg("a user with e-mail {email_key} already exists", email_key=email_key)})
    user = User(
        email=email_key,
        name=data.name,
        role=data.role.value,
        password_hash=_hasher.hash(data.password) if data.password else None,
        password_changed_at=utcnow() if data.password else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, after=_user_view(user))
    return user


@requires(Permission.USERS_MANAGE)
def set_role(actor: Actor | None, session: Session, user_id: int, role: Role | str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("user {user_id} not found", user_id=user_id)
    new_role = Role(role)
    if new_role is not Role.ADMIN:
        _keep_an_admin(session, user)
    before = _user_view(user)
    user.role = new_role.value
    session.flush()
    audit.record(session, actor, "user.set_role", "user", user.id, before=before, after=_user_view(user))
    return user


@requires(Permission.USERS_MANAGE)
def deactivate_user(actor: Actor | None, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("user {user_id} not found", user_id=user_id)
    _keep_an_admin(session, user)
    before = _user_view(user)
    user.is_active = False
    session.flush()
    # Signed-in browsers of the user are signed out at once (their next reload or click shows the sign-in).
    from syncstore.security.sessions import revoke_user_sessions

    ended = revoke_user_sessions(session, user.id)
    audit.record(session, actor, "user.deactivate", "user", user.id, before=before,
                 after={**_user_view(user), "sessions_ended": ended})  # fmt: skip
    return user


@requires(Permission.USERS_MANAGE)
def activate_user(actor: Actor | None, session: Session, user_id: int) -> User:
    """Let a deactivated user sign in again."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("user {user_id} not found", user_id=user_id)
    before = _user_view(user)
    user.is_active = True
    session.flush()
    audit.record(session, actor, "user.activate", "user", user.id, before=before, after=_user_view(user))
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could manage users any more.

    The active admin rows are locked (in id order, so two callers never deadlock) before they are
    counted: two admins demoting each other at once on PostgreSQL are serialised, and the second
    sees the first's change and is refused (S8).
    """
    if user.role != Role.ADMIN.value or not user.is_active:
        return
    admins = session.scalars(
        sa.select(User.id)
        .where(User.role == Role.ADMIN.value, User.is_active)
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    session.refresh(user)
    if user.role != Role.ADMIN.value or not user.is_active:
        return
    if not [admin_id for admin_id in admins if admin_id != user.id]:
        raise InvalidInput(
            {"role": msg("{email} is the last active admin; make someone else admin first", email=user.email)}
        )


# --- sign-in (S1) ------------------------------------------------------------------------------

# Failures allowed before each further attempt must wait; the wait then doubles per failure.
SIGN_IN_FREE_FAILURES = 5
SIGN_IN_FIRST_DELAY = timedelta(seconds=2)
SIGN_IN_MAX_DELAY = timedelta(minutes=15)
# After this many failures in a row an account is locked (a notice says so) until a success after
# SIGN_IN_LOCKOUT, or an Admin unlocks it or resets its password.
SIGN_IN_LOCKOUT_FAILURES = 20
SIGN_IN_LOCKOUT = timedelta(hours=1)
# A counter whose last failure is older than this starts again from zero (lockouts excepted).
SIGN_IN_FAILURE_MEMORY = timedelta(hours=24)
UNKNOWN_SOURCE = "unknown"

WRONG_CREDENTIALS = "Wrong e-mail or password (or the user is deactivated)."


@dataclass(frozen=True)
class SignInResult:
    """What a sign-in attempt gave: the actor on success, else the message to show (the same for every e-mail)."""

    actor: Actor | None
    message: str | None = None
    retry_at: datetime | None = None
    locked: bool = False

    @property
    def must_change_password(self) -> bool:
        return self.actor is not None and self.actor.must_change_password


def _account_key(email: str) -> str:
    return email.strip().lower()[:320]


def _throttle_row(session: Session, scope: str, key: str) -> SignInThrottle:
    """The counter for (scope, key), locked for this transaction; created when missing."""
    query = (
        sa.select(SignInThrottle)
        .where(SignInThrottle.scope == scope, SignInThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = SignInThrottle(scope=scope, key=key, failures=0)
            session.add(row)
    except IntegrityError:  # another attempt created it at the same moment
        row = session.scalar(query)
        assert row is not None
    return row


def _delay_after(failures: int) -> timedelta | None:
    if failures >= SIGN_IN_LOCKOUT_FAILURES:
        return SIGN_IN_LOCKOUT
    if failures < SIGN_IN_FREE_FAILURES:
        return None
    return min(SIGN_IN_FIRST_DELAY * (1 << (failures - SIGN_IN_FREE_FAILURES)), SIGN_IN_MAX_DELAY)


def _wait_text(retry_at: datetime, now: datetime) -> str:
    seconds = max(int((retry_at - now).total_seconds() + 0.999), 1)
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


def _throttled_result(rows: list[SignInThrottle], now: datetime) -> SignInResult | None:
    waiting = [row for row in rows if row.next_allowed_at is not None and row.next_allowed_at > now]
    if not waiting:
        return None
    retry_at = max(row.next_allowed_at for row in waiting if row.next_allowed_at is not None)
    locked = any(row.scope == "account" and row.failures >= SIGN_IN_LOCKOUT_FAILURES for row in waiting)
    if locked:
        message = (
            "This account is locked after too many failed sign-ins. Ask an admin to unlock it, "
            f"or try again in {_wait_text(retry_at, now)}."
        )
    else:
        message = (
            f"Too many failed sign-ins for this e-mail or from this address. Try again in {_wait_text(retry_at, now)}."
        )
    return SignInResult(None, message, retry_at, locked)


def _count_failure(row: SignInThrottle, now: datetime) -> None:
    stale = row.last_failure_at is not None and now - row.last_failure_at > SIGN_IN_FAILURE_MEMORY
    row.failures = 1 if stale else row.failures + 1
    row.last_failure_at = now
    delay = _delay_after(row.failures)
    row.next_allowed_at = now + delay if delay is not None else None


def _verify(user: User | None, password: str) -> bool:
    """Whether `password` is the active `user`'s; the same argon2 work whether or not the user exists."""
    stored = user.password_hash if user is not None and user.is_active and user.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def sign_in(
    session: Session, email: str, password: str, *, source: str | None = None, now: datetime | None = None
) -> SignInResult:
    """Check a password sign-in, throttled per account and per source and audited either way (S1).

    Every e-mail, known or not, is counted, delayed and locked alike, with the same message and
    one argon2 verification, so nothing tells which e-mails exist. An attempt before the next
    allowed time is refused without looking at the password. The password is never recorded.
    """
    now = now or utcnow()
    account = _account_key(email)
    origin = (source or UNKNOWN_SOURCE)[:320]
    rows = [_throttle_row(session, "account", account), _throttle_row(session, "source", origin)]
    user = session.scalar(sa.select(User).where(sa.func.lower(User.email) == account))
    entity_id = user.id if user is not None else None
    details = {"email": account, "source": origin}
    throttled = _throttled_result(rows, now)
    if throttled is not None:
        audit.record(session, None, "user.sign_in_refused", "user", entity_id,
                     after={**details, "reason": "locked" if throttled.locked else "throttled"})  # fmt: skip
        return throttled
    if not _verify(user, password) or user is None:
        for row in rows:
            _count_failure(row, now)
        audit.record(session, None, "user.sign_in_failed", "user", entity_id,
                     after={**details, "failures": rows[0].failures})  # fmt: skip
        if rows[0].failures >= SIGN_IN_LOCKOUT_FAILURES:
            locked = _throttled_result(rows, now)
            if locked is not None:
                return locked
        waits = [row.next_allowed_at for row in rows if row.next_allowed_at is not None]
        return SignInResult(None, WRONG_CREDENTIALS, max(waits) if waits else None)
    stored = user.password_hash
    if stored is not None and _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    rows[0].failures = 0
    rows[0].next_allowed_at = None
    user.last_login_at = now
    actor = Actor.from_user(user)
    audit.record(session, actor, "user.sign_in", "user", user.id, after=details)
    return SignInResult(actor)


def authenticate(session: Session, email: str, password: str, *, source: str | None = None) -> Actor | None:
    """The actor for a correct e-mail and password of an active user, else None (see `sign_in`)."""
    return sign_in(session, email, password, source=source).actor


def _clear_account_throttle(session: Session, email: str) -> None:
    session.execute(
        sa.delete(SignInThrottle).where(SignInThrottle.scope == "account", SignInThrottle.key == _account_key(email))
    )


def change_password(session: Session, actor: Actor, current_password: str, new_password: str) -> str | None:
    """The signed-in user's own password change; None when changed, else why not.

    A wrong current password counts as a failed sign-in of the account (and is audited), so the
    caller must commit this transaction even then; a new password that breaks the rules raises
    InvalidInput naming the field.
    """
    if actor.user_id is None:
        raise PermissionDenied("only a signed-in user has a password to change")
    user = session.get(User, actor.user_id)
    if user is None or not user.is_active:
        raise PermissionDenied("sign in first")
    now = utcnow()
    row = _throttle_row(session, "account", _account_key(user.email))
    throttled = _throttled_result([row], now)
    if throttled is not None:
        return throttled.message
    if not _verify(user, current_password):
        _count_failure(row, now)
        audit.record(session, actor, "user.password_change_failed", "user", user.id, after={"failures": row.failures})
        return "The current password is wrong."
    if new_password == current_password:
        raise InvalidInput({"password": "must differ from the current password"})
    check_password(new_password)
    user.password_hash = _hasher.hash(new_password)
    user.must_change_password = False
    user.password_changed_at = now
    row.failures = 0
    row.next_allowed_at = None
    audit.record(session, actor, "user.change_password", "user", user.id)
    return None


@requires(Permission.USERS_MANAGE)
def reset_password(actor: Actor | None, session: Session, user_id: int, new_password: str | None = None) -> str:
    """An Admin sets a temporary password (generated when None, returned to hand over once).

    The user must choose a new one at their next sign-in; a lockout on the account is lifted.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("user {user_id} not found", user_id=user_id)
    password = check_password(new_password) if new_password is not None else secrets.token_urlsafe(12)
    user.password_hash = _hasher.hash(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    _clear_account_throttle(session, user.email)
    session.flush()
    audit.record(session, actor, "user.reset_password", "user", user.id, after={"must_change_password": True})
    return password


@requires(Permission.USERS_MANAGE)
def unlock_sign_in(actor: Actor | None, session: Session, user_id: int) -> User:
    """Lift a lockout (or delay) on a user's account after failed sign-ins."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("user {user_id} not found", user_id=user_id)
    _clear_account_throttle(session, user.email)
    audit.record(session, actor, "user.unlock_sign_in", "user", user.id)
    return user


def sign_in_locks(session: Session, now: datetime | None = None) -> dict[str, datetime]:
    """E-mails whose sign-in is delayed or locked now, with the time it is allowed again (Admin page)."""
    now = now or utcnow()
    rows = session.scalars(
        sa.select(SignInThrottle).where(SignInThrottle.scope == "account", SignInThrottle.next_allowed_at > now)
    )
    return {row.key: row.next_allowed_at for row in rows if row.next_allowed_at is not None}


@dataclass(frozen=True)
class UserView:
    """A user as the Admin page shows it (never the password hash)."""

    id: int
    email: str
    name: str
    role: Role
    is_active: bool
    has_password: bool
    last_login_at: datetime | None
    created_at: datetime


def list_users(session: Session, *, include_inactive: bool = True) -> list[UserView]:
    """Every user, by e-mail."""
    query = sa.select(User).order_by(User.email)
    if not include_inactive:
        query = query.where(User.is_active)
    return [
        UserView(
            id=user.id,
            email=user.email,
            name=user.name,
            role=Role(user.role),
            is_active=user.is_active,
            has_password=user.password_hash is not None,
            last_login_at=user.last_login_at,
            created_at=user.created_at,
        )
        for user in session.scalars(query)
    ]


def actor_for_email(session: Session, email: str) -> Actor | None:
    """The actor of an active user by e-mail (used after an OIDC sign-in)."""
    user = session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None or not user.is_active:
        return None
    return Actor.from_user(user)
