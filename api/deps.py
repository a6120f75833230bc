# What every API route depends on: the app's engine, the caller (API key -> Actor, rate limited), permissions.
"""Request dependencies.

`caller` reads `Authorization: Bearer <API key>`, resolves it to the Actor it acts as
(`syncstore.security.api_keys`), and spends one request of the key's rate allowance; no key, a
wrong, expired or revoked key: 401 (the same answer for each, so nothing is learned by guessing).
`writer(permission)` adds the permission check for writes (403), the same check the core repeats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.limits import Limiter
from api.problems import ApiProblem
from syncstore.db.engine import transaction
from syncstore.security import api_keys
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
    key_id: int

    @property
    def owner(self) -> str:
        return f"key:{self.key_id}"


def engine(request: Request) -> sa.Engine:
    value: sa.Engine = request.app.state.engine
    return value


def _limiter(request: Request) -> Limiter:
    value: Limiter = request.app.state.limiter
    return value


_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="syncstore"'}


def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblem(401, "send an API key: Authorization: Bearer ssk_...", headers=_UNAUTHORIZED)
    with transaction(engine(request)) as session:
        found = api_keys.actor_for_key(session, credentials.credentials)
    if found is None:
        raise ApiProblem(401, "the API key is unknown, expired or revoked", headers=_UNAUTHORIZED)
    actor, key_id = found
    verdict = _limiter(request).hit(f"key:{key_id}")
    if not verdict.allowed:
        raise ApiProblem(
            429,
            f"rate limit reached for this key; retry in {verdict.retry_after_s} s",
            headers={"Retry-After": str(verdict.retry_after_s)},
        )
    return Caller(actor, key_id)


def writer(permission: Permission) -> Callable[..., Caller]:
    """A dependency: the caller, who must hold `permission` (403 otherwise)."""

    def check(who: Caller = Depends(caller)) -> Caller:
        if not can(who.actor, permission):
            raise ApiProblem(403, f"{who.actor.role.value} may not {permission.value}")
        if who.actor.must_change_password:
            raise ApiProblem(403, "the key's owner must choose a new password first (an admin reset it)")
        return who

    return check
