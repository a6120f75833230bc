# The webhook receiver's Starlette app: the webhook endpoints, health, metrics and the OAuth callbacks.
"""`create_app()` builds the receiver; `syncstore receiver run` serves it with uvicorn.

Routes:
- `POST /webhooks/shopee`, `POST /webhooks/tiktokshop`: a marketplace event (`webhook_receiver.receiver`:
  verify, deduplicate, store, then acknowledge with an EMPTY 200), dispatched by `ReceiverApp`
  before Starlette's middleware and router.
- `GET /healthz`: for load balancers, `{"status": "ok"}` with 200 when the database answers and is
  migrated, else `{"status": "unavailable"}` with 503; nothing else (`syncstore doctor` gives detail).
- `GET /metrics`: Prometheus text (see `webhook_receiver.metrics`), only with
  `Authorization: Bearer <SYNCSTORE_METRICS_TOKEN>` (compared in constant time; else 401); 404
  when no token is configured. A token rather than a second listening address: one port to run and
  firewall, and the counters are closed by default.
- `GET /oauth/shopee/callback`, `GET /oauth/tiktokshop/callback` (`webhook_receiver.oauth_routes`).

The receiver never migrates the database (`syncstore db upgrade` does); on shutdown it writes what
is queued before it stops.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors import registry
from syncstore.db.engine import create_engine
from syncstore.ops.health import check_database
from syncstore.ops.logging_setup import configure_logging
from syncstore.settings import Settings, get_settings
from webhook_receiver.oauth_routes import routes as oauth_routes
from webhook_receiver.proxies import TrustedProxies
from webhook_receiver.receiver import REDIS_PREFIX, Receiver, WebhookEndpoint
from webhook_receiver.storage import DEFAULT_MAX_BATCH

POSTGRES_CONNECT_TIMEOUT_S: Final = 5
METRICS_MEDIA_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


class ReceiverApp(Starlette):
    """The receiver's Starlette app, with a shortcut for the webhook POSTs.

    Every marketplace event takes the webhook path, so a POST to a webhook URL goes straight to its
    endpoint (raw ASGI, see `webhook_receiver.receiver`), skipping Starlette's middleware and router:
    the endpoint answers every request itself and never raises, so they would add nothing but
    per-request work. Everything else (other methods, other paths, a mounted root path, lifespan)
    goes through Starlette as usual, so the routes below still answer 405 to a GET on a webhook URL.
    """

    def __init__(
        self, *, webhooks: Mapping[str, ASGIApp], proxies: TrustedProxies | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._webhooks = dict(webhooks)
        self._proxies = proxies or TrustedProxies(())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._proxies and scope["type"] in ("http", "websocket"):
            scope = self._proxies.resolve(scope)  # the sender behind a trusted proxy (S6)
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = self._webhooks.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


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
    configure_logging(settings)
    owns_engine = engine is None
    database = engine if engine is not None else _engine_for(settings)
    receiver = Receiver(settings, database, clock=clock or time.time, max_batch=max_batch, redis_prefix=redis_prefix)

    async def healthz(request: Request) -> Response:
        # For load balancers: up or down, nothing more (no schema revision, backend or counters).
        db = await run_in_threadpool(check_database, database)
        return JSONResponse({"status": "ok"} if db.ok else {"status": "unavailable"}, status_code=200 if db.ok else 503)

    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else b""

    async def metrics(request: Request) -> Response:
        if not token:
            return PlainTextResponse("Not Found", status_code=404)
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), token):
            return PlainTextResponse("Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return PlainTextResponse(receiver.metrics.render(), media_type=METRICS_MEDIA_TYPE)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await receiver.aclose()
            if owns_engine:
                database.dispose()

    webhooks = {f"/webhooks/{platform}": WebhookEndpoint(receiver, platform) for platform in registry.names()}
    routes: list[BaseRoute] = [
        *(Route(path, endpoint, methods=["POST"]) for path, endpoint in webhooks.items()),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *oauth_routes,
    ]
    proxies = TrustedProxies(settings.trusted_proxies)
    app = ReceiverApp(webhooks=webhooks, proxies=proxies, routes=routes, lifespan=lifespan)
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
