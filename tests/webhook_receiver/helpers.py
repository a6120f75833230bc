# Shared pieces of the receiver tests: test keys, signed Shopee/TikTok bodies, and a client for the ASGI app.
"""Helpers for tests/webhook_receiver.

`serve(app)` runs the app (lifespan included) on an event loop in a background thread and hands
back a synchronous `Client` that speaks real HTTP through `httpx.ASGITransport`; `post_many` sends
requests concurrently on that loop, so group commits and races are exercised for real.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import anyio.from_thread
import httpx
import sqlalchemy as sa
from starlette.applications import Starlette

from connectors.shopee.signing import sign_push
from connectors.tiktokshop.webhooks import sign_webhook
from syncstore.settings import Settings

PUBLIC_URL = "https://receiver.example"
SHOPEE_URL = f"{PUBLIC_URL}/webhooks/shopee"
PARTNER_KEY = "test-shopee-partner-key-4f6c"
APP_KEY = "testappkey29"
APP_SECRET = "test-tiktok-app-secret-9d1e"
FROZEN = 1_800_000_000.0  # 2027-01-15T08:00:00Z: the receiver's clock in these tests
SOURCE_IP = "203.0.113.7"
METRICS_TOKEN = "test-metrics-token-5b2e"  # `Client.get` sends it to /metrics

Request = tuple[str, bytes, Mapping[str, str]]


def settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": None,
        "public_url": PUBLIC_URL,
        "shopee_partner_key": PARTNER_KEY,
        "tiktokshop_app_key": APP_KEY,
        "tiktokshop_app_secret": APP_SECRET,
        "webhook_per_ip_per_minute": 0,
        "metrics_token": METRICS_TOKEN,
    }
    values.update(overrides)
    return Settings(**values)


def compact(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def shopee(
    *,
    code: int = 3,
    shop_id: int = 780001,
    timestamp: float = FROZEN,
    data: Mapping[str, Any] | None = None,
    order: str | None = None,
) -> Request:
    """A signed Shopee push (order status by default, with a fresh order number)."""
    if data is None:
        data = {"ordersn": order or f"O{uuid.uuid4().hex[:12].upper()}", "status": "READY_TO_SHIP"}
    body = compact({"code": code, "shop_id": shop_id, "timestamp": int(timestamp), "data": dict(data)})
    signature = sign_push(SHOPEE_URL, body, PARTNER_KEY)
    return "/webhooks/shopee", body, {"Authorization": signature, "Content-Type": "application/json"}


def tiktok(
    *,
    type_: int = 1,
    notification_id: str | None = None,
    shop_id: str = "7494001",
    timestamp: float | None = FROZEN,
    data: Mapping[str, Any] | None = None,
) -> Request:
    """A signed TikTok Shop webhook (order status by default, with a fresh notification id)."""
    payload: dict[str, Any] = {
        "type": type_,
        "tts_notification_id": notification_id or f"n-{uuid.uuid4().hex}",
        "shop_id": shop_id,
        "data": dict(data) if data is not None else {"order_id": f"5{uuid.uuid4().int % 10**17:017d}"},
    }
    if timestamp is not None:
        payload["timestamp"] = int(timestamp)
    return signed_tiktok(compact(payload))


def signed_tiktok(body: bytes) -> Request:
    """A TikTok Shop webhook with exactly this body, validly signed."""
    return "/webhooks/tiktokshop", body, {"Authorization": sign_webhook(APP_KEY, APP_SECRET, body)}


class Client:
    """A synchronous face over an httpx.AsyncClient running on the app's event loop."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal, self.client = portal, client

    def post(self, path: str, body: bytes, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self.portal.call(partial(self.client.post, path, content=body, headers=dict(headers or {})))

    def send(self, request: Request) -> httpx.Response:
        return self.post(*request)

    def get(self, path: str) -> httpx.Response:
        """GET `path`; /metrics with the test bearer token."""
        headers = {"Authorization": f"Bearer {METRICS_TOKEN}"} if path == "/metrics" else {}
        return self.portal.call(partial(self.client.get, path, headers=headers))

    def post_many(self, requests: Sequence[Request]) -> list[httpx.Response]:
        """All at once, concurrently."""

        async def go() -> list[httpx.Response]:
            return list(
                await asyncio.gather(
                    *(self.client.post(path, content=body, headers=dict(headers)) for path, body, headers in requests)
                )
            )

        return self.portal.call(go)

    def call(self, function: Any, *args: Any) -> Any:
        """Run `function(*args)` (sync or async) on the app's event loop."""
        return self.portal.call(function, *args)


@contextmanager
def serve(app: Starlette, client_ip: str = SOURCE_IP) -> Iterator[Client]:
    """The app with its lifespan running, and a client whose requests come from `client_ip`."""
    with anyio.from_thread.start_blocking_portal() as portal:
        transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
        with (
            portal.wrap_async_context_manager(app.router.lifespan_context(app)),
            portal.wrap_async_context_manager(httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)) as client,
        ):
            yield Client(portal, client)


def rows(engine: sa.Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
