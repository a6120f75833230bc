# What every API route depends on: the app's engine, the caller (API key -> Actor, rate limited), permissions.
"""Request dependencies.

`caller` reads `Authorization: Bearer <API key>`, resolves it to the Actor it acts as
(`syncstore.security.api_keys`), and spends one request of the key's rate allowance; no key, a
wrong, expired or revoked key: 401 (the same answer for each, so nothing is learned by guessing).
`writer(permission)` adds the permission check for writes (403), the same check the core repeats.
A read by a known caller is handed to the app's `ReadAudit` (an audit row, written in batches).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.limits import Limiter, MemoryLimiter, NoLimit
from api.oidc import OidcVerifier, looks_like_jwt
from api.problems import ApiProblem
from api.read_audit import ReadAudit
from syncstore.db.engine import transaction
from syncstore.db.models import ApiKey
from syncstore.db.types import utcnow
from syncstore.security import api_keys, auth
from syncstore.security.auth import Actor, Permission, can

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key (`ssk_...`), created on the app's API keys page: `Authorization: Bearer ssk_...`.",
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the Actor the key acts as, and the key (for idempotency and rate limits)."""

    actor: Actor
    # Whose allowance and idempotency keys these are: `key:<API key id>` or `oidc:<user id>`.
    owner: str


def engine(request: Request) -> sa.Engine:
    value: sa.Engine = request.app.state.engine
    return value


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    """A session for reads only. On PostgreSQL it runs in autocommit (no BEGIN/COMMIT round trips; each
    statement sees committed data); SQLite keeps its transaction (it serializes anyway)."""
    bound = engine(request)
    if bound.dialect.name != "postgresql":
        with transaction(bound) as session:
            yield session
        return
    with bound.connect() as connection, Session(bind=connection.execution_options(isolation_level="AUTOCOMMIT")) as s:
        yield s


def _limiter(request: Request) -> Limiter:
    value: Limiter = request.app.state.limiter
    return value


_READS = frozenset({"GET", "HEAD"})
_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="syncstore"'}


class KeyCache:
    """Keys recently checked against the database, by digest, for `ttl_s` seconds (0: no cache).

    A revoked key, or its owner's new role, takes effect within `ttl_s` (SYNCSTORE_API_KEY_CACHE_SECONDS);
    an expired key is refused at once. Saves a database round trip on almost every request.
    """

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, Caller, datetime | None]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Caller | None:
        if self.ttl_s <= 0:
            return None
        with self._lock:
            entry = self._entries.get(digest)
        if entry is None:
            return None
        until, who, expires_at = entry
        if time.monotonic() > until or (expires_at is not None and expires_at <= utcnow()):
            return None
        return who

    def put(self, digest: str, who: Caller, expires_at: datetime | None) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + self.ttl_s, who, expires_at)


def _oidc_caller(request: Request, token: str) -> tuple[Caller, datetime] | None:
    verifier: OidcVerifier | None = request.app.state.oidc
    identity = verifier.verify(token) if verifier is not None else None
    if identity is None:
        return None
    with transaction(engine(request)) as session:
        actor = auth.actor_for_email(session, identity.email)
    if actor is None or actor.user_id is None:
        return None
    actor = replace(actor, label=f"{actor.label} (oidc)"[:320])
    return Caller(actor, f"oidc:{actor.user_id}"), identity.expires_at


def _look_up(request: Request, presented: str, digest: str) -> Caller:
    cache: KeyCache = request.app.state.key_cache
    if looks_like_jwt(presented):
        found_token = _oidc_caller(request, presented)
        if found_token is None:
            raise ApiProblem(401, "the bearer token is not valid here", headers=_UNAUTHORIZED)
        cache.put(digest, *found_token)
        return found_token[0]
    with transaction(engine(request)) as session:
        found = api_keys.actor_for_key(session, presented)
        expires_at = (
            None if found is None else session.scalar(sa.select(ApiKey.expires_at).where(ApiKey.id == found[1]))
        )
    if found is None:
        raise ApiProblem(401, "the API key is unknown, expired or revoked", headers=_UNAUTHORIZED)
    who = Caller(found[0], f"key:{found[1]}")
    cache.put(digest, who, expires_at)
    return who


async def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """The caller of this request (async: a cached key costs no thread hop; the database is read in a thread)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblem(401, "send an API key: Authorization: Bearer ssk_...", headers=_UNAUTHORIZED)
    digest = api_keys.digest(credentials.credentials)
    cache: KeyCache = request.app.state.key_cache
    who = cache.get(digest)
    if who is None:
        who = await run_in_threadpool(_look_up, request, credentials.credentials, digest)
    await admit(request, who)
    return who


async def admit(request: Request, who: Caller) -> None:
    """Spend one request of the caller's allowance (429 when it is spent) and audit a read."""
    limiter = _limiter(request)
    verdict = (
        limiter.hit(who.owner)
        if isinstance(limiter, MemoryLimiter | NoLimit)
        else (await run_in_threadpool(limiter.hit, who.owner))
    )
    if not verdict.allowed:
        raise ApiProblem(
            429,
            f"rate limit reached for this key; retry in {verdict.retry_after_s} s",
            headers={"Retry-After": str(verdict.retry_after_s)},
        )
    if request.method in _READS:  # writes are audited by the core function they call
        reads: ReadAudit = request.app.state.read_audit
        reads.add(who.actor, request.scope["path"], request.scope["query_string"].decode("latin-1"))


def writer(permission: Permission) -> Callable[..., Awaitable[Caller]]:
    """A dependency: the caller, who must hold `permission` (403 otherwise)."""

    async def check(who: Caller = Depends(caller)) -> Caller:
        if not can(who.actor, permission):
            raise ApiProblem(403, f"{who.actor.role.value} may not {permission.value}")
        if who.actor.must_change_password:
            raise ApiProblem(403, "the key's owner must choose a new password first (an admin reset it)")
        return who

    return check
