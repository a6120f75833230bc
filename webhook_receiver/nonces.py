# The Redis nonce fast path: a redelivered event is answered without touching the database.
"""Nonces: `(platform, event_id)` keys in Redis, set only AFTER the event's row is committed.

A key is written with `SET NX EX <ttl>` once the group commit that stored (or found) the event has
committed; an event whose key exists is therefore a duplicate of a committed event. The writer
(`webhook_receiver.storage`) asks for a whole batch at once (one MGET) when duplicates are frequent
and whenever a commit fails: the duplicates Redis knows are acknowledged without touching the
database (even while it is down), the rest go to the INSERT. The key is never set before the
commit: a first delivery that fails (database down, 503) leaves no key behind, so its retry is
stored rather than mistaken for a duplicate. (Keys are set with one EVALSHA of a small Lua script
that runs `SET key 1 NX EX ttl` for each key of the batch. The key names travel as ONE argument,
separated by NUL bytes, which no key can hold (event ids with a NUL are refused before they are
stored): redis-py packs one argument far faster than hundreds. The script therefore names keys
that are not in KEYS, which a single Redis server allows and a Redis Cluster would not.)

Redis is only a shortcut: without Redis, or when it fails, every request goes to the database,
where UNIQUE(platform, event_id) decides (`syncstore.events.webhooks.store_batch`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any, Final

import redis.asyncio as aioredis

from webhook_receiver.redis_link import RedisDown, RedisLink

DEFAULT_PREFIX: Final = "syncstore:webhook:"
_SEPARATOR: Final = "\x00"
_SET_ALL_NX_EX: Final = (
    "for key in string.gmatch(ARGV[2], '%Z+') do redis.call('SET', key, '1', 'NX', 'EX', ARGV[1]) end return 1"
)


def nonce_key(platform: str, event_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}nonce:{platform}:{event_id}"


class NonceCache:
    """Remembers committed events for `ttl_s` seconds; a no-op without Redis."""

    def __init__(self, link: RedisLink | None, ttl_s: int, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._link, self._ttl_s, self._prefix = link, ttl_s, prefix
        self._script: Any = None

    @property
    def enabled(self) -> bool:
        return self._link is not None

    async def seen(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The keys Redis knows as committed (one round trip); any doubt sends an event to the database."""
        if self._link is None or not keys:
            return set()
        names = [nonce_key(platform, event_id, self._prefix) for platform, event_id in keys]

        async def fetch(client: aioredis.Redis[bytes]) -> list[bytes | None]:
            return list(await client.mget(names))

        try:
            values = await self._link.run(fetch)
        except RedisDown:
            return set()
        return {key for key, value in zip(keys, values, strict=True) if value is not None}

    async def remember(self, keys: Iterable[tuple[str, str]]) -> None:
        """Record committed events: `SET key 1 NX EX ttl` for each, in one script call; failures are ignored."""
        if self._link is None:
            return
        names = _SEPARATOR.join(
            name for name in (nonce_key(p, e, self._prefix) for p, e in keys) if _SEPARATOR not in name
        )
        if not names:
            return

        async def set_all(client: aioredis.Redis[bytes]) -> None:
            # One script call (EVALSHA) with one argument: redis-py spends far more CPU packing N
            # commands, or N arguments, than one.
            if self._script is None:
                self._script = client.register_script(_SET_ALL_NX_EX)
            await self._script(keys=[], args=[self._ttl_s, names])

        with contextlib.suppress(RedisDown):
            await self._link.run(set_all)
