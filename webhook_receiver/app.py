# The webhook receiver's Starlette app: the webhook endpoints, health, metrics and the OAuth callbacks.
"""`create_app()` builds the receiver; `syncstore receiver run` serves it with uvicorn.

Routes:
- `POST /webhooks/shopee`, `POST /webhooks/tiktokshop`: a marketplace event (`webhook_receiver.receiver`:
  verify, deduplicate, store, then acknowledge with an EMPTY 200).
- `GET /healthz`: `{"database": {...}, "redis": {...}}`; 200 when the database answers, else 503.
- `GET /metrics`: Prometheus text (see `webhook_receiver.metrics`).
- `GET /oauth/shopee/callback`, `GET /oauth/tiktokshop/callback` (`webhook_receiver.oauth_routes`).

The receiver never migrates the database (`syncstore db upgrade` does); on shutdown it writes what
is queued before it stops.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any, Final

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from syncstore.db.engine import create_engine
from syncstore.health import check_database, check_redis
from syncstore.settings import Settings, get_settings
from webhook_receiver.oauth_routes import routes as oauth_routes
from webhook_receiver.receiver import REDIS_PREFIX, Receiver, WebhookEndpoint
from webhook_receiver.storage import DEFAULT_MAX_BATCH

POSTGRES_CONNECT_TIMEOUT_S: Final = 5
METRICS_MEDIA_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


def create_app(
    settings: Settings | None = None,
    engine: sa.Engine | None = None,
    *,
    clock: Callable[[], float] | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    redis_prefix: str = REDIS_PREFIX,
) -> Starlette:
    """The receiver app. Without arguments it reads SYNCSTORE_* settings and opens its own engine.

    `clock` (Unix seconds) is injectable so tests can freeze time; `max_batch` caps a group commit;
    `redis_prefix` namespaces the Redis keys (nonces, per-IP counts).
    """
    settings = settings or get_settings()
    owns_engine = engine is None
    database = engine if engine is not None else _engine_for(settings)
    receiver = Receiver(settings, database, clock=clock or time.time, max_batch=max_batch, redis_prefix=redis_prefix)

    async def healthz(request: Request) -> Response:
        db = await run_in_threadpool(check_database, database)
        redis = await run_in_threadpool(check_redis, settings.redis_url)
        body: dict[str, Any] = {"database": asdict(db), "redis": asdict(redis)}
        return JSONResponse(body, status_code=200 if db.ok else 503)

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(receiver.metrics.render(), media_type=METRICS_MEDIA_TYPE)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await receiver.aclose()
            if owns_engine:
                database.dispose()

    routes: list[BaseRoute] = [
        Route("/webhooks/shopee", WebhookEndpoint(receiver, "shopee"), methods=["POST"]),
        Route("/webhooks/tiktokshop", WebhookEndpoint(receiver, "tiktokshop"), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *oauth_routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    # The OAuth routes read settings and engine from here; tests reach the receiver through it too.
    app.state.settings = settings
    app.state.engine = database
    app.state.receiver = receiver
    return app


def _engine_for(settings: Settings) -> sa.Engine:
    url = settings.resolved_database_url
    if sa.engine.make_url(url).get_backend_name() == "postgresql":
        return create_engine(url, connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S})
    return create_engine(url)
