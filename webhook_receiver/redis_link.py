# The receiver's optional asyncio Redis connection, with a breaker so a dead Redis costs nothing per request.
"""Redis for the receiver's fast paths (nonces, per-IP counts): optional and never load-bearing.

`syncstore.ratelimit.redis_limiter.redis_client` is the synchronous fail-fast client; the receiver is async, so it
uses the asyncio client with the same 1 s timeouts and no retry. Any Redis error raises
`RedisDown` to the caller (who falls back to the database or the process) and opens a breaker for
`cooldown_s`: during that time no call is even attempted, so a hung Redis cannot add a timeout to
every request.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from syncstore.ratelimit.redis_limiter import REDIS_TIMEOUT_S

T = TypeVar("T")
log = logging.getLogger("syncstore.events.webhooks")


class RedisDown(Exception):
    """Redis did not answer (or the breaker is open): use the fallback."""


class RedisLink:
    """One asyncio Redis client for one event loop, guarded by a breaker."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = REDIS_TIMEOUT_S,
        cooldown_s: float = 5.0,
        on_error: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client: aioredis.Redis[bytes] = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
        )
        self._cooldown_s, self._on_error, self._clock = cooldown_s, on_error, clock
        self._open_until = 0.0

    @property
    def available(self) -> bool:
        return self._clock() >= self._open_until

    async def run(self, operation: Callable[[aioredis.Redis[bytes]], Awaitable[T]]) -> T:
        """`operation(client)`, or RedisDown if Redis fails or the breaker is open."""
        if not self.available:
            raise RedisDown("breaker open")
        try:
            return await operation(self._client)
        except (redis.RedisError, OSError) as error:
            if self.available:
                log.warning("redis unavailable (%s); falling back for %.0f s", type(error).__name__, self._cooldown_s)
            self._open_until = self._clock() + self._cooldown_s
            if self._on_error is not None:
                self._on_error()
            raise RedisDown(type(error).__name__) from None

    async def aclose(self) -> None:
        # `aclose` (redis >= 5) is missing from the types-redis stubs; `close` is its deprecated alias.
        closer = getattr(self._client, "aclose", None) or self._client.close
        with contextlib.suppress(redis.RedisError, OSError):
            await closer()
