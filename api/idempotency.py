# Idempotency-Key for the API's writes: the first answer is stored with the effect, and a replay returns it.
"""Idempotent writes.

A write sent with `Idempotency-Key: <key>` runs its effect and stores its answer in ONE
transaction (`api_idempotency`, unique per caller and key). The same key again, with the same
request, returns the stored answer (header `Idempotent-Replayed: true`) and does nothing; with a
different request it is refused (422). Two identical requests racing: the second one's insert
meets the unique constraint, its transaction (effect included) rolls back, and it answers the
first one's stored answer. Without the header a write simply runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Final

import sqlalchemy as sa
from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.deps import Caller
from api.problems import ApiProblem
from syncstore.db.engine import transaction
from syncstore.db.models import ApiIdempotency

KEY_MAX = 200

IdempotencyKey = Header(
    default=None,
    alias="Idempotency-Key",
    max_length=KEY_MAX,
    min_length=1,
    pattern=r"^[\x21-\x7e]+$",
    description="Any unique text (e.g. a UUID) per intended write: retries with it have one effect "
    "and get the first answer.",
)


def fingerprint(method: str, path: str, body: BaseModel | dict[str, Any] | None) -> str:
    """What identifies a request for replay: method, path and its validated body."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    text = json.dumps([method, path, data], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# Prepared once (set-based: no ORM object per write, the statements compiled once).
_SELECT: Final = sa.select(ApiIdempotency.request_hash, ApiIdempotency.status_code, ApiIdempotency.body).where(
    ApiIdempotency.owner == sa.bindparam("owner"), ApiIdempotency.key == sa.bindparam("key")
)
_INSERT: Final = sa.insert(ApiIdempotency)


def _stored(session: Session, owner: str, key: str) -> sa.Row[Any, Any, Any] | None:
    return session.connection().execute(_SELECT, {"owner": owner, "key": key}).first()


def _replay(row: sa.Row[Any, Any, Any], request_hash: str) -> JSONResponse:
    if row.request_hash != request_hash:
        raise ApiProblem(
            422, "this Idempotency-Key was used for a different request; use a new key", kind="idempotency-key-reused"
        )
    return JSONResponse(row.body, status_code=row.status_code, headers={"Idempotent-Replayed": "true"})


def run(
    engine: sa.Engine,
    who: Caller,
    key: str | None,
    request_hash: str,
    status: int,
    work: Callable[[Session], BaseModel],
    headers: Callable[[BaseModel], dict[str, str]] | None = None,
) -> JSONResponse:
    """Run `work` in one transaction and answer its result; with a key, at most once per caller and key."""
    try:
        with transaction(engine) as session:
            if key is not None:  # in the same transaction as the effect: one checkout, one BEGIN/COMMIT
                row = _stored(session, who.owner, key)
                if row is not None:
                    return _replay(row, request_hash)
            result = work(session)
            body = result.model_dump(mode="json")
            if key is not None:
                session.flush()  # whatever `work` left pending, then the answer
                session.connection().execute(_INSERT, {"owner": who.owner, "key": key, "request_hash": request_hash,
                                                       "status_code": status, "body": body})  # fmt: skip
    except IntegrityError:
        if key is None:
            raise
        with transaction(engine) as session:
            row = _stored(session, who.owner, key)
        if row is None:
            raise
        return _replay(row, request_hash)
    return JSONResponse(body, status_code=status, headers=headers(result) if headers else None)
