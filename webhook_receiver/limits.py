# Per-source-IP request limit (429) and the bounded rejection log, so a flood costs little and logs little.
"""Flood protection for the receiver.

`IpLimiter`: at most `per_minute` requests per source IP per clock minute (a fixed window; 0 turns
it off). Counting is in-process (no network call per request); with Redis the counts are shared by
every worker and replica through a sync a few times a second. It runs before the body is read, so
a refused request costs almost nothing.

`RejectionLog`: every refused request is counted in the metrics; at most `per_minute` of them are
also written to the log (platform, reason, source IP, a short detail; never a header value or the
body), and the number left out is logged once when the minute turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Final

import redis.asyncio as aioredis

from webhook_receiver.redis_link import RedisDown, RedisLink

DEFAULT_PREFIX: Final = "syncstore:webhook:"
WINDOW_S: Final = 60
log = logging.getLogger("syncstore.events.webhooks")


class IpLimiter:
    """Fixed-window request counts per source IP, counted in-process and shared through Redis.

    Each request is counted locally (no network call per request). Every `sync_interval_s` the
    counts gathered since the last sync are added to Redis (INCRBY, one pipelined round trip) and
    the shared totals come back; a request is admitted while the other processes' share (as of the
    last sync) plus this process' own count stays under the limit. Between syncs several processes
    together may admit a little more than the limit (about workers x rate x interval); a single
    process is exact. Without Redis, or while it is down, each process enforces the limit alone.
    """

    def __init__(
        self,
        per_minute: int,
        link: RedisLink | None,
        *,
        clock: Callable[[], float] = time.time,
        prefix: str = DEFAULT_PREFIX,
        sync_interval_s: float = 0.25,
    ) -> None:
        self.per_minute, self._link, self._clock, self._prefix = per_minute, link, clock, prefix
        self._sync_interval_s = sync_interval_s
        self._window = -1
        self._counted: dict[str, int] = {}  # admitted here this window
        self._flushed: dict[str, int] = {}  # of which already added to Redis
        self._others: dict[str, int] = {}  # admitted by other processes, as of the last sync
        self._last_sync = 0.0
        self._sync: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def allow(self, ip: str) -> bool:
        """Count one request from `ip`; False when it is over the limit (the refused one is not counted)."""
        if not self.enabled:
            return True
        now = self._clock()
        window = int(now // WINDOW_S)
        if window != self._window:
            # Only the current window is kept: memory is bounded by the IPs seen in one minute.
            self._window, self._counted, self._flushed, self._others = window, {}, {}, {}
        counted = self._counted.get(ip, 0)
        if self._others.get(ip, 0) + counted >= self.per_minute:
            return False
        self._counted[ip] = counted + 1
        if self._link is not None and now - self._last_sync >= self._sync_interval_s:
            self._last_sync = now
            if self._sync is None or self._sync.done():
                self._sync = asyncio.get_running_loop().create_task(self.sync())
        return True

    async def sync(self) -> None:
        """Add this process' new counts to Redis and read back everyone's totals (errors: stay local)."""
        if self._link is None:
            return
        window = self._window
        deltas = {ip: n - self._flushed.get(ip, 0) for ip, n in self._counted.items() if n > self._flushed.get(ip, 0)}
        if not deltas:
            return
        keys = {ip: f"{self._prefix}ip:{window}:{ip}" for ip in deltas}

        async def add(client: aioredis.Redis[bytes]) -> list[int]:
            async with client.pipeline(transaction=False) as pipe:
                for ip, delta in deltas.items():
                    pipe.incrby(keys[ip], delta)
                    pipe.expire(keys[ip], WINDOW_S * 2)
                replies = await pipe.execute()
            return [int(total) for total in replies[0::2]]

        try:
            totals = await self._link.run(add)
        except RedisDown:
            return
        if window != self._window:
            return  # the minute turned while we waited: these counts belong to the old window
        for (ip, delta), total in zip(deltas.items(), totals, strict=True):
            flushed = self._flushed.get(ip, 0) + delta
            self._flushed[ip] = flushed
            self._others[ip] = max(0, total - flushed)

    async def aclose(self) -> None:
        if self._sync is not None and not self._sync.done():
            with contextlib.suppress(Exception):
                await self._sync


class RejectionLog:
    """Logs refused requests up to `per_minute` a minute; the rest are only counted."""

    def __init__(
        self, per_minute: int, *, logger: logging.Logger = log, clock: Callable[[], float] = time.time
    ) -> None:
        self.per_minute, self._logger, self._clock = per_minute, logger, clock
        self._window = -1
        self._logged = 0
        self._suppressed = 0

    def record(self, platform: str, reason: str, source: str, detail: str, *, exc_info: bool = False) -> None:
        """Count one refusal toward this minute's budget; log it if the budget allows."""
        window = int(self._clock() // WINDOW_S)
        if window != self._window:
            if self._suppressed:
                self._logger.warning("%d more webhook rejections in the last minute were not logged", self._suppressed)
            self._window, self._logged, self._suppressed = window, 0, 0
        if self._logged >= self.per_minute:
            self._suppressed += 1
            return
        self._logged += 1
        self._logger.warning(
            "webhook rejected: platform=%s reason=%s source=%s detail=%r",
            platform,
            reason,
            source,
            detail[:200],
            exc_info=exc_info,
        )
