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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, EmailStr, Field, ValidationError
from sqlalchemy.orm import Session

from syncstore import audit
from syncstore.db.models import User
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied


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

    @classmethod
    def from_user(cls, user: User) -> Actor:
        return cls(user_id=user.id, label=user.email, role=Role(user.role))

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
        raise PermissionDenied(f"{actor.role.value} may not {permission.value}")
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


class NewUser(BaseModel):
    email: EmailStr
    name: str = Field(default="", max_length=200)
    role: Role
    password: str | None = Field(default=None, min_length=10, max_length=200)


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
        raise InvalidInput({"email": f"a user with e-mail {email_key} already exists"})
    user = User(
        email=email_key,
        name=data.name,
        role=data.role.value,
        password_hash=_hasher.hash(data.password) if data.password else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, after=_user_view(user))
    return user


@requires(Permission.USERS_MANAGE)
def set_role(actor: Actor | None, session: Session, user_id: int, role: Role | str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
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
        raise NotFoundError(f"user {user_id} not found")
    _keep_an_admin(session, user)
    before = _user_view(user)
    user.is_active = False
    session.flush()
    audit.record(session, actor, "user.deactivate", "user", user.id, before=before, after=_user_view(user))
    return user


@requires(Permission.USERS_MANAGE)
def activate_user(actor: Actor | None, session: Session, user_id: int) -> User:
    """Let a deactivated user sign in again."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    before = _user_view(user)
    user.is_active = True
    session.flush()
    audit.record(session, actor, "user.activate", "user", user.id, before=before, after=_user_view(user))
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could manage users any more."""
    if user.role != Role.ADMIN.value or not user.is_active:
        return
    others = session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.is_active, User.id != user.id)
    )
    if not others:
        raise InvalidInput({"role": f"{user.email} is the last active admin; make someone else admin first"})


def authenticate(session: Session, email: str, password: str) -> Actor | None:
    """The actor for a correct e-mail and password of an active user, else None."""
    user = session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    stored = user.password_hash if user is not None and user.is_active and user.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return Actor.from_user(user)


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
