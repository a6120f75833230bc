# Async PostgreSQL connections for the API's hot reads: a small psycopg pool on the worker's event loop.
"""Async reads on PostgreSQL.

The product list is the API's busiest read. Run in the thread pool it paid a thread hop, the GIL
shared with 8 threads, SQLAlchemy's per-statement work and a pool pre-ping round trip per request;
here it is one `await` on a psycopg `AsyncConnection` on the event loop, the statement prepared on
the server (psycopg prepares a statement it has seen a few times), read-only in autocommit.

`AsyncReads` keeps up to `size` connections per event loop (uvicorn runs one loop per worker; a
TestClient may run several, one after the other). A connection is not pinged on checkout: one
that fails is closed and the read is retried once on a fresh connection, and a connection older
than `recycle_s` is closed when it comes back (as SQLAlchemy's `pool_recycle`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import sqlalchemy as sa


def conninfo(engine: sa.Engine) -> str | None:
    """The libpq URL of a PostgreSQL engine (None for any other database)."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class _Pool:
    """The connections of one event loop: idle ones in a queue, at most `size` open."""

    def __init__(self, dsn: str, size: int, recycle_s: float) -> None:
        self.dsn, self.size, self.recycle_s = dsn, size, recycle_s
        self.idle: asyncio.Queue[tuple[psycopg.AsyncConnection[Any], float]] = asyncio.Queue()
        self.open = 0

    async def take(self) -> tuple[psycopg.AsyncConnection[Any], float]:
        if self.idle.empty() and self.open < self.size:
            self.open += 1
            try:
                connection = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            except BaseException:
                self.open -= 1
                raise
            return connection, time.monotonic()
        return await self.idle.get()

    async def give(self, connection: psycopg.AsyncConnection[Any], born: float, broken: bool) -> None:
        if broken or connection.closed or time.monotonic() - born > self.recycle_s:
            self.open -= 1
            await connection.close()
            return
        self.idle.put_nowait((connection, born))


class AsyncReads:
    """Read-only statements on PostgreSQL from async routes, on a pool per event loop."""

    def __init__(self, dsn: str, *, size: int = 8, recycle_s: float = 1800.0) -> None:
        self.dsn, self.size, self.recycle_s = dsn, size, recycle_s
        self._pools: dict[asyncio.AbstractEventLoop, _Pool] = {}

    def _pool(self) -> _Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            for old in [other for other in self._pools if other.is_closed()]:
                del self._pools[old]
            pool = self._pools[loop] = _Pool(self.dsn, self.size, self.recycle_s)
        return pool

    async def one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
        """The single row `sql` answers (retried once on a new connection if the one taken had failed)."""
        pool = self._pool()
        for attempt in (1, 2):
            connection, born = await pool.take()
            try:
                cursor = await connection.execute(sql, params)  # SQL compiled once by SQLAlchemy
                row = await cursor.fetchone()
            except psycopg.OperationalError:
                await pool.give(connection, born, broken=True)
                if attempt == 2:
                    raise
                continue
            except BaseException:  # a refused statement leaves the connection idle; a cancelled one may not
                idle = connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                await pool.give(connection, born, broken=not idle)
                raise
            await pool.give(connection, born, broken=False)
            if row is None:
                raise LookupError("the statement answered no row")
            return tuple(row)
        raise AssertionError("unreachable")
