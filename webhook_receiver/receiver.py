# What one receiver process holds, and the hot path: one webhook in, one answer out (raw ASGI).
"""The webhook path of the receiver.

`Receiver` holds the settings, keys, limits, writer and metrics of one process. `WebhookEndpoint`
is the ASGI app of one platform's webhook URL. It is raw ASGI on purpose: it is the path every
marketplace event takes, so it skips Starlette's Request/Response objects (and, through
`webhook_receiver.app.ReceiverApp`, Starlette's middleware and router) and talks to the server
directly (the headers it uses from the scope, body from `receive`, two `send` calls for the answer).

A webhook goes through, in order (each step's refusal in brackets):
1. the body, read incrementally up to `webhook_max_body_bytes` within `receiver_body_timeout_seconds`
   [413; 400 for a bad Content-Length; 408 and the connection closed when it comes too slowly];
2. the signature over the raw bytes, through `syncstore.events.webhook_verification` [401; 404 when the
   platform's keys are not configured];
3. the per-source limits (S6), each with its own budget per source IP and minute: a request refused
   in 1 or 2 is charged to `webhook_rejected_per_ip_per_minute` [429 with Retry-After, reason
   `rejected_rate_limited`, once spent], an authenticated one to `webhook_per_ip_per_minute` [429,
   reason `rate_limited`], so unsigned junk never spends a genuine sender's allowance. The source is
   the TCP peer, or the sender a trusted proxy names (`webhook_receiver.proxies`);
4. parsing [400] and the clock check: an event of ANY age is accepted (platforms retry the original
   body for hours, W2); only a timestamp more than `webhook_timestamp_tolerance_seconds` in the
   future is refused [400, reason `stale`: authentic but not acceptable, a client error];
5. the group commit (`webhook_receiver.storage`), which first asks the Redis nonces, then writes
   [503 with Retry-After when the database is unavailable; 400 for an event whose data cannot be
   stored].
Success is 200 with an EMPTY body (Shopee counts any body as a failed delivery), sent only once the
event's row is committed, or was already (a duplicate gets the same 200 and no new row). No bad
input produces a 5xx: the only 5xx is 503, meaning "not stored, send it again". Every refusal is
counted by reason; the log gets at most `webhook_rejections_logged_per_minute` of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from starlette.types import Receive, Scope, Send

from connectors import registry
from syncstore.events.webhook_verification import WebhookKeys, check_fresh, parse, verify
from syncstore.events.webhooks import (
    KEPT_HEADERS,
    InvalidSignature,
    MalformedEvent,
    PlatformNotConfigured,
    StaleEvent,
    StoreOutcome,
    UnknownPlatform,
    WebhookRejected,
    record_for,
)
from syncstore.settings import Settings
from webhook_receiver.body import BodyRefused, read_body
from webhook_receiver.limits import WINDOW_S, IpLimiter, RejectionLog
from webhook_receiver.metrics import Metrics
from webhook_receiver.nonces import NonceCache
from webhook_receiver.pg_store import AsyncPostgresStore
from webhook_receiver.redis_link import RedisLink
from webhook_receiver.storage import DEFAULT_MAX_BATCH, GroupCommitWriter, StorageUnavailable, ThreadedStore

Clock = Callable[[], float]
RawHeaders = list[tuple[bytes, bytes]]

# HTTP answer for each refusal raised by the core.
STATUS_FOR: Final[dict[type[WebhookRejected], int]] = {
    InvalidSignature: 401,
    StaleEvent: 400,
    MalformedEvent: 400,
    PlatformNotConfigured: 404,
    UnknownPlatform: 404,
}
RETRY_AFTER_UNAVAILABLE_S: Final = 5
REDIS_PREFIX: Final = "syncstore:webhook:"
_EMPTY_OK: Final[RawHeaders] = [(b"content-length", b"0")]
# The request headers the webhook path reads: the body's length and those kept with the event (plus the
# platform's signature header, `PlatformSpec.webhook_signature_header`).
_USED_HEADERS: Final = frozenset(name.encode() for name in KEPT_HEADERS)


class Refused(Exception):
    """A refusal decided in the face (rate limit, unstorable data, storage down)."""

    def __init__(self, reason: str, status: int, detail: str, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.reason, self.status, self.retry_after_s = reason, status, retry_after_s


class Receiver:
    """Everything one receiver process holds: settings, keys, limits, the writer, metrics."""

    def __init__(
        self,
        settings: Settings,
        engine: sa.Engine,
        *,
        clock: Clock = time.time,
        max_batch: int = DEFAULT_MAX_BATCH,
        redis_prefix: str = REDIS_PREFIX,
    ) -> None:
        self.settings, self.engine, self.clock = settings, engine, clock
        self.keys = WebhookKeys.from_settings(settings)
        self.metrics = Metrics(registry.names())
        self.redis = RedisLink(settings.redis_url, on_error=self._count_redis_error) if settings.redis_url else None
        self.nonces = NonceCache(self.redis, settings.webhook_nonce_ttl_seconds, prefix=redis_prefix)
        self.ip_limiter = IpLimiter(settings.webhook_per_ip_per_minute, self.redis, clock=clock, prefix=redis_prefix)
        self.rejected_limiter = IpLimiter(
            settings.webhook_rejected_per_ip_per_minute, self.redis, clock=clock, prefix=f"{redis_prefix}rejected:"
        )
        self.rejections = RejectionLog(settings.webhook_rejections_logged_per_minute, clock=clock)
        self.store: AsyncPostgresStore | ThreadedStore = (
            AsyncPostgresStore(engine.url) if engine.dialect.name == "postgresql" else ThreadedStore(engine)
        )
        self.writer = GroupCommitWriter(
            self.store.store,
            nonces=self.nonces,
            metrics=self.metrics,
            max_batch=max_batch,
            max_in_flight=self.store.connections,
        )

    def _count_redis_error(self) -> None:
        self.metrics.redis_errors += 1

    async def aclose(self) -> None:
        """Write what is queued, then let go of the database and Redis."""
        await self.writer.aclose()
        await self.ip_limiter.aclose()
        await self.rejected_limiter.aclose()
        await self.store.aclose()
        if self.redis is not None:
            await self.redis.aclose()

    async def handle(self, platform: str, scope: Scope, receive: Receive) -> tuple[int, RawHeaders, bytes]:
        """One webhook: (status, response headers, response body). Never raises."""
        started = time.perf_counter()
        self.metrics.count_received(platform)
        try:
            duplicate = await self._accept(platform, scope, receive)
        except WebhookRejected as error:
            return self._refuse(platform, scope, error.reason, STATUS_FOR.get(type(error), 400), str(error))
        except BodyRefused as error:
            return self._refuse(platform, scope, error.reason, error.status, str(error))
        except Refused as error:
            return self._refuse(platform, scope, error.reason, error.status, str(error), error.retry_after_s)
        except Exception as error:  # a bug: never a 500, never a lost event; 503 makes the platform retry
            return self._refuse(
                platform, scope, "internal", 503, type(error).__name__, RETRY_AFTER_UNAVAILABLE_S, exc_info=True
            )
        self.metrics.count_accepted(platform, duplicate=duplicate, seconds=time.perf_counter() - started)
        return 200, _EMPTY_OK, b""

    async def _accept(self, platform: str, scope: Scope, receive: Receive) -> bool:
        """Store the webhook; True when it was already stored (a duplicate)."""
        # Only the headers used here or kept with the event are decoded. ASGI header names are lower
        # case; a repeated header keeps its last value.
        signature_header = registry.spec(platform).webhook_signature_header
        used = _USED_HEADERS | {signature_header.encode()}
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"] if name in used}
        authorization = headers.pop(signature_header, None)
        try:
            body = await read_body(
                receive,
                self.settings.webhook_max_body_bytes,
                headers.get("content-length"),
                timeout_s=self.settings.receiver_body_timeout_seconds,
            )
            verify(platform, body, authorization, self.keys)
        except (WebhookRejected, BodyRefused):
            # Unauthenticated: it spends the source's budget for junk, never the genuine one (S6).
            self._charge(self.rejected_limiter, scope, "rejected_rate_limited")
            raise
        self._charge(self.ip_limiter, scope, "rate_limited")
        now = self.clock()
        event = parse(platform, body)
        check_fresh(event, now=now, tolerance_s=self.settings.webhook_timestamp_tolerance_seconds)
        record = record_for(
            event, body, received_at=datetime.fromtimestamp(now, UTC), headers=headers, signature=authorization
        )
        try:
            outcome = await self.writer.submit(record)
        except StorageUnavailable as error:
            raise Refused("unavailable", 503, str(error), RETRY_AFTER_UNAVAILABLE_S) from None
        if outcome is StoreOutcome.REJECTED:
            raise Refused("unstorable", 400, "the event's data cannot be stored")
        return outcome is StoreOutcome.DUPLICATE

    def _charge(self, limiter: IpLimiter, scope: Scope, reason: str) -> None:
        """Count one request against `limiter`'s budget for its source; Refused (429) when it is spent."""
        if limiter.enabled and not limiter.allow(_source(scope)):
            wait = WINDOW_S - int(self.clock()) % WINDOW_S
            raise Refused(reason, 429, f"over {limiter.per_minute}/min", wait)

    def _refuse(
        self,
        platform: str,
        scope: Scope,
        reason: str,
        status: int,
        detail: str,
        retry_after_s: int | None = None,
        *,
        exc_info: bool = False,
    ) -> tuple[int, RawHeaders, bytes]:
        self.metrics.count_rejected(platform, reason)
        self.rejections.record(platform, reason, _source(scope), detail, exc_info=exc_info)
        body = json.dumps({"error": reason}).encode()
        headers: RawHeaders = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if retry_after_s is not None:
            headers.append((b"retry-after", str(max(1, retry_after_s)).encode()))
        if status == 408:  # the rest of a late body may still come: the connection cannot be reused
            headers.append((b"connection", b"close"))
        return status, headers, body


def _source(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class WebhookEndpoint:
    """The ASGI app behind one platform's webhook URL."""

    def __init__(self, receiver: Receiver, platform: str) -> None:
        self.receiver, self.platform = receiver, platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        status, headers, body = await self.receiver.handle(self.platform, scope, receive)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
