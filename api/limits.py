# Request limits of the public API: requests per key per minute (Redis or in-process) and the body size.
"""Limits.

Rate: `SYNCSTORE_API_RATE_LIMIT` requests per minute per API key (100 by default; 0 turns it
off), as GCRA: a key may spend its whole minute at once, then one request every 60/L seconds.
With `SYNCSTORE_REDIS_URL` the state lives in Redis (one Lua step on Redis' clock, shared by every
worker and host); without it, or while Redis does not answer, each process keeps its own.
Over the limit: 429 with `Retry-After` (whole seconds).

Body: a request whose body is larger than `SYNCSTORE_API_MAX_BODY_BYTES` gets 413 before any
route runs, whether it declares a Content-Length or streams.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis

from syncstore.ratelimit.redis_limiter import redis_client

logger = logging.getLogger(__name__)

WINDOW_S = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class Limiter(Protocol):
    def hit(self, subject: str) -> Verdict: ...


class NoLimit:
    def hit(self, subject: str) -> Verdict:
        return Verdict(True)


class MemoryLimiter:
    """GCRA per subject in this process."""

    def __init__(self, per_minute: int) -> None:
        self._interval = WINDOW_S / per_minute
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, subject: str) -> Verdict:
        now = time.monotonic()
        with self._lock:
            tat = max(self._tat.get(subject, now), now) + self._interval
            if tat - now > WINDOW_S:
                return Verdict(False, max(math.ceil(tat - now - WINDOW_S), 1))
            self._tat[subject] = tat
            if len(self._tat) > 100_000:  # forget subjects whose allowance is whole again
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            return Verdict(True)


# KEYS[1]: the subject's key. ARGV: interval (microseconds), window (microseconds). Returns retry-after in us (0: ok).
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > window then
  return new_tat - now - window
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(window / 1000) + 1000)
return 0
"""


class RedisLimiter:
    """GCRA per subject in Redis, on Redis' clock; falls back to `fallback` while Redis fails."""

    def __init__(self, url: str, per_minute: int, fallback: Limiter) -> None:
        self._client: redis.Redis[bytes] = redis_client(url)
        self._script: Any = self._client.register_script(_GCRA)
        self._interval_us = int(WINDOW_S * 1_000_000 / per_minute)
        self._fallback = fallback

    def hit(self, subject: str) -> Verdict:
        try:
            wait_us = int(self._script(keys=[f"syncstore:api:rl:{subject}"], args=[self._interval_us, 60_000_000]))
        except redis.RedisError as error:
            logger.warning("API rate limit: Redis failed (%s); this process limits alone", type(error).__name__)
            return self._fallback.hit(subject)
        if wait_us <= 0:
            return Verdict(True)
        return Verdict(False, max(math.ceil(wait_us / 1_000_000), 1))


def make_limiter(per_minute: int, redis_url: str | None) -> Limiter:
    if per_minute <= 0:
        return NoLimit()
    memory = MemoryLimiter(per_minute)
    return RedisLimiter(redis_url, per_minute, memory) if redis_url else memory
