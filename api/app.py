# Builds the FastAPI app: routers under /v1, problem details for every error, limits, the OpenAPI schema.
"""`create_app()`: the ASGI app `syncstore api run` serves (and the tests call in process).

The schema is at `/openapi.json`, the docs at `/docs`. Every error response is documented as
`application/problem+json` with the `Problem` model; FastAPI's own 422 model is replaced by it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any, Final

import anyio.to_thread
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import limits, problems
from api.deps import KeyCache
from api.fast_path import ProductListFastPath
from api.middleware import BodyLimit
from api.oidc import OidcVerifier
from api.pg_async import AsyncReads, conninfo
from api.read_audit import ReadAudit
from api.routes import bindings, channels, products, rules, stock, sync
from syncstore.db.engine import create_engine
from syncstore.settings import Settings, get_settings

DESCRIPTION = """The SyncStore public API: products, stock, rules, listings, conflicts, sync, orders and alerts.

Authenticate with an API key created in the app (`Authorization: Bearer ssk_...`). Keys act with their
role (Viewer: read only; Editor; Admin). Lists use cursor pages (`cursor`, `next_cursor`). Updates need
`If-Match` with the ETag you read (412 if it changed). Writes accept an `Idempotency-Key`. Errors are
RFC 9457 problem documents. Limit: SYNCSTORE_API_RATE_LIMIT requests per minute per key (429 + Retry-After).
"""

# Requests a worker process runs at once (its threads) and the database connections it keeps open.
# A few per core keep the CPU busy while others wait on PostgreSQL; more only queue behind the GIL,
# and a pool smaller than the threads would open and close a connection per request beyond it.
CONCURRENCY: Final = 8
# Room for a request that holds a connection and asks for a second one; never used in a steady state.
POOL_OVERFLOW: Final = 4
# Database connections older than this are closed when they come back to the pool (seconds).
POOL_RECYCLE_S: Final = 1800


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = CONCURRENCY
    try:
        yield
    finally:
        reads: ReadAudit = app.state.read_audit
        await anyio.to_thread.run_sync(reads.close)


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with every 4xx/5xx answer described as a problem document."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    ref = {"$ref": "#/components/schemas/Problem"}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method != "get":  # a write the core refuses for a state it is in (e.g. a shop no longer connected)
                operation["responses"].setdefault("409", {"description": HTTPStatus.CONFLICT.phrase})
            if "requestBody" in operation:  # a body that is not JSON (400) or too large (413)
                for status in ("400", "413"):
                    operation["responses"].setdefault(status, {"description": HTTPStatus(int(status)).phrase})
            for status, answer in operation.get("responses", {}).items():
                if status[0] in "45":
                    answer["content"] = {problems.MEDIA_TYPE: {"schema": ref}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = problems.Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in components["Problem"].pop("$defs", {}).items():
        components.setdefault(name, sub)
    app.openapi_schema = schema
    return schema


def _engine(url: str) -> sa.Engine:
    if sa.engine.make_url(url).get_backend_name() == "sqlite":
        return create_engine(url)
    # No pre-ping (a round trip per checkout): a connection the server dropped fails one request, and
    # SQLAlchemy then discards the whole pool; idle connections are replaced after POOL_RECYCLE_S.
    return create_engine(
        url, pool_size=CONCURRENCY, max_overflow=POOL_OVERFLOW, pool_pre_ping=False, pool_recycle=POOL_RECYCLE_S
    )


def create_app(engine: sa.Engine | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="SyncStore API", version="1.0.0", description=DESCRIPTION, lifespan=_lifespan)
    app.state.engine = engine or _engine(settings.resolved_database_url)
    app.state.read_audit = ReadAudit(app.state.engine)
    dsn = conninfo(app.state.engine)
    app.state.async_reads = AsyncReads(dsn, size=CONCURRENCY, recycle_s=POOL_RECYCLE_S) if dsn else None
    app.state.limiter = limits.make_limiter(settings.api_rate_limit, settings.redis_url)
    app.state.key_cache = KeyCache(settings.api_key_cache_seconds)
    metadata_url, audience = settings.api_oidc_metadata_url, settings.api_oidc_audience
    app.state.oidc = OidcVerifier(metadata_url, audience) if metadata_url and audience else None
    problems.install(app)
    for module in (products, stock, rules, channels, bindings, sync):
        app.include_router(module.router, prefix="/v1")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(ProductListFastPath)  # outermost of ours: the busiest read skips the rest
    return app
