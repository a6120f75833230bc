# API keys for the public HTTP API: create (shown once), list, revoke, and resolve a presented key to an Actor.
"""API keys.

A key is `ssk_<prefix>_<secret>`: `prefix` (12 hex characters) is its public id, used to find the
row; `secret` is 32 random bytes. Only the SHA-256 digest of the whole key is stored, and it is
compared in constant time. A fast hash is enough here, and argon2 would be wrong: argon2 makes
guessing LOW-entropy passwords expensive, at ~50 ms of CPU per check, which every API request
would pay; a key carries 256 random bits, so no guess can be tested against a stolen digest in any
useful time, whatever the hash's speed.

A key acts for the user who created it, with the role chosen at creation (theirs or a lower one),
never more than the user's CURRENT role: a demoted or deactivated user's keys shrink or stop with
them. Creating and revoking keys is audited; what a key does is audited by the service functions
it calls, under the label `<email> (key <prefix>)`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import ApiKey, User
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, Message, NotFoundError, PermissionDenied, msg
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, Role, can

KEY_PREFIX = "ssk"
_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}
# last_used_at is written at most this often per key, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(seconds=60)
NAME_MAX = 100


@dataclass(frozen=True)
class ApiKeyView:
    """What may be shown of a key: never the key or its digest."""

    id: int
    prefix: str
    name: str
    user_id: int
    owner_email: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


@dataclass(frozen=True)
class NewKey:
    """A key just created: `secret` is the whole key, shown to its creator once and stored nowhere."""

    view: ApiKeyView
    secret: str


def digest(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _view(row: ApiKey, email: str) -> ApiKeyView:
    return ApiKeyView(
        row.id, row.prefix, row.name, row.user_id, email, Role(row.role), row.created_at,
        row.expires_at, row.last_used_at, row.revoked_at,
    )  # fmt: skip


def role_allowed(creator: Role, wanted: Role) -> bool:
    """A key may carry its creator's role or a lower one."""
    return _RANK[wanted] <= _RANK[creator]


def _signed_in(actor: Actor | None) -> Actor:
    if actor is None:
        raise PermissionDenied("sign in first: anonymous users cannot manage API keys")
    if actor.must_change_password:
        raise PermissionDenied("choose a new password first: an admin reset yours")
    if actor.user_id is None:
        raise PermissionDenied("API keys belong to a user; the command line has none")
    return actor


def create_key(
    session: Session,
    actor: Actor | None,
    *,
    name: str,
    role: Role | str | None = None,
    expires_at: datetime | None = None,
) -> NewKey:
    """Create a key for `actor` (any signed-in user), with their role or a lower one.

    Like `auth.change_password`, this is a person's own business, not a role's permission (a Viewer
    may have read-only keys): the session comes first and the actor is checked here.
    """
    creator = _signed_in(actor)
    errors: dict[str, Message] = {}
    clean_name = name.strip()
    if not clean_name or len(clean_name) > NAME_MAX:
        errors["name"] = msg("must be 1 to {limit} characters", limit=NAME_MAX)
    try:
        key_role = Role(role) if role is not None else creator.role
    except ValueError:
        errors["role"] = msg("must be admin, editor or viewer")
        key_role = creator.role
    if not role_allowed(creator.role, key_role):
        errors["role"] = msg("a {role} may create keys with the {role} role or a lower one", role=creator.role.value)
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        errors["expires_at"] = msg("must be a timezone-aware time in the future")
    if errors:
        raise InvalidInput(errors)
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    assert creator.user_id is not None  # _signed_in
    row = ApiKey(prefix=prefix, key_hash=digest(secret), name=clean_name, user_id=creator.user_id,
                 role=key_role.value, expires_at=expires_at)  # fmt: skip
    session.add(row)
    session.flush()
    after = {"prefix": prefix, "name": clean_name, "role": key_role.value, "expires_at": expires_at}
    audit.record(session, creator, "api_key.create", "api_key", row.id, after=after)
    return NewKey(_view(row, creator.label), secret)


def list_keys(session: Session, *, user_id: int | None = None) -> list[ApiKeyView]:
    """Keys, newest first: one user's, or everyone's (the Admin page)."""
    query = sa.select(ApiKey, User.email).join(User, User.id == ApiKey.user_id).order_by(ApiKey.id.desc())
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return [_view(row, email) for row, email in session.execute(query)]


def revoke_key(session: Session, actor: Actor | None, key_id: int) -> ApiKeyView:
    """Revoke a key at once: its owner may, and an Admin may revoke anyone's."""
    revoker = _signed_in(actor)
    found = session.execute(
        sa.select(ApiKey, User.email).join(User, User.id == ApiKey.user_id).where(ApiKey.id == key_id)
    ).first()
    if found is None:
        raise NotFoundError("API key {key_id} not found", key_id=key_id)
    row, email = found
    if row.user_id != revoker.user_id and not can(revoker, Permission.KEYS_MANAGE):
        raise PermissionDenied("only the key's owner or an admin may revoke it")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), revoker.label
        session.flush()
        audit.record(session, revoker, "api_key.revoke", "api_key", row.id, after={"prefix": row.prefix})
    return _view(row, email)


def _split(presented: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


def actor_for_key(session: Session, presented: str) -> tuple[Actor, int] | None:
    """The Actor a presented key acts as, and the key's id; None when unknown, wrong, expired or revoked.

    The role is the lower of the key's and the user's current one. Updates `last_used_at` (at most
    once a minute per key) in the caller's transaction.
    """
    prefix = _split(presented)
    if prefix is None:
        return None
    found = session.execute(
        sa.select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.prefix == prefix)
    ).first()
    if found is None:
        hmac.compare_digest(digest(presented), digest(""))  # same work for an unknown prefix
        return None
    row, user = found
    if not hmac.compare_digest(row.key_hash, digest(presented)):
        return None
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now) or not user.is_active:
        return None
    user_role, key_role = Role(user.role), Role(row.role)
    role = key_role if _RANK[key_role] <= _RANK[user_role] else user_role
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    label = f"{user.email} (key {row.prefix})"[:320]
    actor = Actor(user_id=user.id, label=label, role=role, must_change_password=bool(user.must_change_password))
    return actor, row.id
