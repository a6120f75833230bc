# The receiver's PostgreSQL writer: `store_batch` on the event loop, over psycopg async connections.
"""`AsyncPostgresStore`: the webhook receiver's own database store (the core keeps the blocking `store_batch`).

It writes a batch of `EventRecord`s with the core's single atomic statement
(`syncstore.events.webhooks.POSTGRES_BATCH`) and answers exactly like `store_batch`: STORED, DUPLICATE or
REJECTED per record, `DatabaseUnavailable` for the whole batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Final

import psycopg
import sqlalchemy as sa

from syncstore.events.webhooks import (
    POSTGRES_BATCH,
    DatabaseUnavailable,
    EventRecord,
    StoreOutcome,
    batch_outcomes,
    batch_rows_json,
    describe_failure,
    first_occurrences,
    is_data_error,
)

WRITER_CONNECT_TIMEOUT_S: Final = 5
WRITER_TIMEOUT_S: Final = 10
WRITER_CONNECTIONS: Final = 1


class AsyncPostgresStore:
    """`store_batch` for PostgreSQL on the event loop: psycopg async connections, no thread.

    A writer thread would have to win the GIL back from a busy event loop after every network wait;
    on the loop, a batch costs one round trip and the loop serves requests meanwhile. The statement
    is the same single atomic statement (autocommit). Up to `connections` batches are written at
    once, each on its own connection. One is the default: the requests that arrive while a batch
    commits make the next batch, and a fuller batch costs the receiver and the database less per
    event (most of a commit's cost is per statement and per WAL flush). A broken connection is
    dropped and opened again for the next batch; a batch taking longer than `timeout_s` is
    abandoned (503; if it did commit after all, the retry is a DUPLICATE).
    """

    def __init__(
        self,
        url: str | sa.URL,
        *,
        connections: int = WRITER_CONNECTIONS,
        connect_timeout_s: float = WRITER_CONNECT_TIMEOUT_S,
        timeout_s: float = WRITER_TIMEOUT_S,
    ) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        parsed = sa.engine.make_url(url)
        self._conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.connections = connections
        self._connect_timeout_s, self._timeout_s = connect_timeout_s, timeout_s
        # Idle connection slots; None is a slot whose connection is not open (yet, or any more).
        self._idle: list[psycopg.AsyncConnection[tuple[Any, ...]] | None] = [None] * connections
        self._free: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"AsyncPostgresStore(connections={self.connections})"  # the conninfo may hold a password

    async def store(self, records: Sequence[EventRecord]) -> list[StoreOutcome]:
        """Like `store_batch`. Raises DatabaseUnavailable."""
        if not records:
            return []
        if self._free is None:
            self._free = asyncio.Semaphore(self.connections)
        async with self._free:
            connection = self._idle.pop()
            try:
                connection, outcomes = await self._store_isolating(connection, records)
            except _Failed as failed:
                connection = failed.connection
                raise DatabaseUnavailable(describe_failure(failed.error)) from failed.error
            finally:
                self._idle.append(connection)
            return outcomes

    async def aclose(self) -> None:
        idle, self._idle = self._idle, [None] * self.connections
        for connection in idle:
            await _close(connection)

    async def _store_isolating(
        self, connection: psycopg.AsyncConnection[tuple[Any, ...]] | None, records: Sequence[EventRecord]
    ) -> tuple[psycopg.AsyncConnection[tuple[Any, ...]] | None, list[StoreOutcome]]:
        try:
            return await self._store(connection, records)
        except _Failed as failed:
            if not is_data_error(failed.error):
                raise
            connection = failed.connection
        # One record's data broke the batch: write them one by one so only that record is refused.
        outcomes: list[StoreOutcome] = []
        for record in records:
            try:
                connection, outcome = await self._store(connection, [record])
                outcomes.extend(outcome)
            except _Failed as failed:
                if not is_data_error(failed.error):
                    raise
                connection = failed.connection
                outcomes.append(StoreOutcome.REJECTED)
        return connection, outcomes

    async def _store(
        self, connection: psycopg.AsyncConnection[tuple[Any, ...]] | None, records: Sequence[EventRecord]
    ) -> tuple[psycopg.AsyncConnection[tuple[Any, ...]] | None, list[StoreOutcome]]:
        first, unique = first_occurrences(records)
        try:
            async with asyncio.timeout(self._timeout_s):
                if connection is None or connection.closed:
                    connection = await psycopg.AsyncConnection.connect(
                        self._conninfo, autocommit=True, connect_timeout=max(1, int(self._connect_timeout_s))
                    )
                cursor = await connection.execute(POSTGRES_BATCH, {"rows": batch_rows_json(unique)})
                inserted = {(row[0], row[1]) for row in await cursor.fetchall()}
        except Exception as error:
            if connection is not None and (connection.broken or connection.closed or isinstance(error, TimeoutError)):
                await _close(connection)
                connection = None
            raise _Failed(error, connection) from error
        except BaseException:
            await _close(connection)  # cancelled half way: the connection's state is unknown
            raise
        return connection, batch_outcomes(records, first, inserted)


class _Failed(Exception):
    """A batch statement failed; carries the connection to keep using (None: it was dropped)."""

    def __init__(self, error: Exception, connection: psycopg.AsyncConnection[tuple[Any, ...]] | None) -> None:
        super().__init__(str(error))
        self.error, self.connection = error, connection


async def _close(connection: psycopg.AsyncConnection[tuple[Any, ...]] | None) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.close()
