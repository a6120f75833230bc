# Group commit: concurrent requests hand their event to one writer, which commits them together.
"""The receiver's path to the database: many concurrent requests, one transaction per batch.

Each request calls `await writer.submit(record)`: the record joins the waiting list with a future,
and the request waits. A writer task takes the waiting records (at most `max_batch`; it first lets
requests whose bytes have already arrived join, for as long as the list keeps growing) and:
1. when duplicates are frequent (a platform redelivering after an outage, a retry storm), asks the
   Redis nonces about the whole batch at once (one MGET): events Redis knows were committed are
   resolved DUPLICATE on the spot, without touching the database. In ordinary traffic it does not
   ask: the INSERT below answers duplicates in the same round trip as new events, so a Redis call
   first would only add latency;
2. writes the rest in ONE transaction (`INSERT ... ON CONFLICT DO NOTHING`) without ever blocking
   the event loop: on PostgreSQL through `webhook_receiver.pg_store.AsyncPostgresStore` (async
   connections, one round trip per batch), on SQLite through `ThreadedStore` (`store_batch` on a
   dedicated thread);
3. resolves every future: STORED or DUPLICATE (the request answers 200: its row is committed),
   REJECTED (400: this record's data cannot be stored), or `StorageUnavailable` when the commit
   failed (503: nothing of the batch was written, the platform retries), except for events Redis
   vouches for, which are acknowledged even while the database is down;
4. records the committed keys as Redis nonces in the background (acknowledging never waits for it),
   gathering the keys of many batches into one Redis call at most every `NONCE_FLUSH_INTERVAL_S`.

While a batch is being written the next one gathers, so the batch size follows the load: one row
when it is quiet, hundreds under a flood. Most of a commit's cost is per batch, not per event (the
statement, the WAL flush, the round trips), so the writer prefers fewer, fuller batches:
`max_in_flight` batches may be written at once (the store's connection count: 1 on PostgreSQL and
on SQLite). Two batches holding the same event id are still safe: the UNIQUE constraint makes the
second a DUPLICATE.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

from syncstore.events.webhooks import DatabaseUnavailable, EventRecord, StoreOutcome, store_batch
from webhook_receiver.metrics import Metrics
from webhook_receiver.nonces import NonceCache

DEFAULT_MAX_BATCH: Final = 500
FAILURE_LOG_INTERVAL_S: Final = 10.0  # a database outage is logged once per interval, not per request
# Redis is asked before the INSERT while at least this share of recent events were duplicates.
NONCE_CHECK_DUPLICATE_SHARE: Final = 0.02
RECENT_DECAY: Final = 0.95  # per batch: "recent" is the last few dozen batches
NONCE_FLUSH_INTERVAL_S: Final = 0.02  # committed keys go to Redis at most this often (one call each time)
GATHER_TURNS: Final = 8  # at most this many short waits for more requests before a batch is written
log = logging.getLogger("syncstore.events.webhooks")

StoreFunction = Callable[[Sequence[EventRecord]], Awaitable[list[StoreOutcome]]]


class StorageUnavailable(Exception):
    """The event was not stored (nothing of its batch was): answer 503 so the platform retries."""


class WriterClosed(StorageUnavailable):
    """The receiver is shutting down and takes no more events."""


@dataclass(slots=True)
class _Waiting:
    record: EventRecord
    future: asyncio.Future[StoreOutcome]


class GroupCommitWriter:
    """Batches concurrent `submit` calls into one transaction each (see the module docstring)."""

    def __init__(
        self,
        store: StoreFunction,
        *,
        nonces: NonceCache,
        metrics: Metrics,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_in_flight: int = 1,
    ) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be at least 1")
        self._store, self._nonces, self._metrics, self._max_batch = store, nonces, metrics, max_batch
        self._max_in_flight = max_in_flight
        # Requests waiting for a batch, oldest first. A plain list (not an asyncio.Queue): the writer
        # takes them in slices, and a submit costs one append.
        self._pending: list[_Waiting] = []
        self._wakeup: asyncio.Future[None] | None = None  # set while the writer sleeps on an empty list
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._to_remember: list[tuple[str, str]] = []  # committed keys not yet sent to Redis
        self._remembering: asyncio.Task[None] | None = None
        self._closed = False
        self._last_failure_log = -FAILURE_LOG_INTERVAL_S
        self._events = 0.0
        self._duplicates = 0.0

    async def submit(self, record: EventRecord) -> StoreOutcome:
        """Wait until `record` is committed (STORED / DUPLICATE) or refused; StorageUnavailable otherwise."""
        if self._closed:
            raise WriterClosed("the receiver is shutting down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoreOutcome] = loop.create_future()
        self._pending.append(_Waiting(record, future))
        self._wake(loop)
        # A request cancelled while waiting cancels only its future: the record is still written, and
        # the writer skips futures that are already done.
        return await future

    async def aclose(self) -> None:
        """Write what is queued, then stop the writer."""
        self._closed = True
        if self._task is not None and not self._task.done():
            self._wake(asyncio.get_running_loop())
            await self._task
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _wake(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the writer, or wake it if it sleeps on an empty list."""
        if self._task is None or self._task.done():
            self._wakeup = None
            self._task = loop.create_task(self._run(), name="webhook-writer")
            return
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def _next_batch(self) -> list[_Waiting] | None:
        """The oldest waiting requests (at most `max_batch`), once there are any; None when closed and drained."""
        while not self._pending:
            if self._closed:
                return None
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        # Requests whose bytes have already arrived reach `submit` within a loop turn or two: let them
        # join this batch while the list keeps growing (a few microseconds each; a commit costs far more
        # per batch than per event, so fuller batches mean less work per event).
        for _ in range(GATHER_TURNS):
            waiting = len(self._pending)
            if waiting >= self._max_batch:
                break
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if len(self._pending) == waiting:
                break
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        return batch

    async def _run(self) -> None:
        # A slot is taken BEFORE a batch is gathered: while every slot is busy, requests pile up and the
        # next batch is larger (the group commit adapts to the load by itself).
        slots = asyncio.Semaphore(self._max_in_flight)
        writes: set[asyncio.Task[None]] = set()
        loop = asyncio.get_running_loop()
        while True:
            await slots.acquire()
            batch = await self._next_batch()
            if batch is None:
                slots.release()
                break
            task = loop.create_task(self._write(batch))
            writes.add(task)
            task.add_done_callback(writes.discard)
            task.add_done_callback(lambda _: slots.release())
        if writes:
            await asyncio.gather(*writes, return_exceptions=True)

    async def _write(self, batch: list[_Waiting]) -> None:
        """Resolve every request of `batch`, whatever happens (a request must never hang)."""
        try:
            await self._write_batch(batch)
        except Exception as error:  # a bug must not lose events silently: 503, and the platform retries
            log.exception("group commit of %d webhook events failed", len(batch))
            self._fail(batch, f"unexpected {type(error).__name__}")

    async def _write_batch(self, batch: list[_Waiting]) -> None:
        asked = self._duplicates_are_frequent()
        fresh = await self._answer_known(batch) if asked else batch
        if not fresh:
            return
        records = [waiting.record for waiting in fresh]
        try:
            outcomes = await self._store(records)
        except DatabaseUnavailable as error:
            # The database is down: redeliveries of events committed before are still acknowledged.
            unanswered = fresh if asked else await self._answer_known(fresh)
            self._fail(unanswered, str(error))
            return
        self._metrics.batch_size.observe(len(fresh))
        duplicates = 0
        for waiting, outcome in zip(fresh, outcomes, strict=True):
            duplicates += outcome is StoreOutcome.DUPLICATE
            _resolve(waiting.future, outcome)
        self._note(len(batch), duplicates + len(batch) - len(fresh))
        if self._nonces.enabled:
            self._remember([r.key for r, o in zip(records, outcomes, strict=True) if o is not StoreOutcome.REJECTED])

    def _remember(self, keys: list[tuple[str, str]]) -> None:
        """Record committed keys as nonces in the background, one Redis call per interval at most."""
        self._to_remember.extend(keys)
        if self._remembering is None or self._remembering.done():
            self._remembering = self._spawn(self._remember_committed())

    async def _remember_committed(self) -> None:
        while self._to_remember:
            keys, self._to_remember = self._to_remember, []
            await self._nonces.remember(keys)
            # Let the next batches' keys gather: a Redis call costs far more than a key. A nonce set a
            # little later only means a redelivery in between is deduplicated by the database instead.
            await asyncio.sleep(NONCE_FLUSH_INTERVAL_S)

    async def _answer_known(self, batch: list[_Waiting]) -> list[_Waiting]:
        """Acknowledge the events Redis knows were committed (one MGET); the rest, still to be written."""
        known = await self._nonces.seen([waiting.record.key for waiting in batch])
        if not known:
            return batch
        rest = []
        for waiting in batch:
            if waiting.record.key in known:
                self._metrics.nonce_hits += 1
                _resolve(waiting.future, StoreOutcome.DUPLICATE)
            else:
                rest.append(waiting)
        return rest

    def _duplicates_are_frequent(self) -> bool:
        return self._nonces.enabled and self._duplicates >= NONCE_CHECK_DUPLICATE_SHARE * self._events

    def _note(self, events: int, duplicates: int) -> None:
        """Recent traffic, decayed per batch: what share of it were duplicates."""
        self._events = self._events * RECENT_DECAY + events
        self._duplicates = self._duplicates * RECENT_DECAY + duplicates

    def _fail(self, batch: list[_Waiting], message: str) -> None:
        """Nothing of the batch was written (one transaction): every request still waiting answers 503."""
        self._metrics.batch_failures += 1
        now = time.monotonic()
        if now - self._last_failure_log >= FAILURE_LOG_INTERVAL_S:
            self._last_failure_log = now
            log.warning("webhook events not stored (%s); answering 503 so the platforms retry", message)
        for waiting in batch:
            if not waiting.future.done():
                waiting.future.set_exception(StorageUnavailable(message))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


def _resolve(future: asyncio.Future[StoreOutcome], outcome: StoreOutcome) -> None:
    if not future.done():
        future.set_result(outcome)


class ThreadedStore:
    """`store_batch` on a dedicated writer thread (SQLite, or any engine without an async path)."""

    connections = 1  # SQLite has one write lock: batches are written one at a time

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook-writer")

    async def store(self, records: Sequence[EventRecord]) -> list[StoreOutcome]:
        return await asyncio.get_running_loop().run_in_executor(self._executor, store_batch, self._engine, records)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=True)
