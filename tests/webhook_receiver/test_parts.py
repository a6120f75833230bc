# The receiver's parts on their own: group commit, nonces, per-IP limits, the rejection log, metrics text.
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from connectors.tiktokshop.webhooks import parse_webhook
from syncstore.events.webhooks import DatabaseUnavailable, EventRecord, StoreOutcome, record_for
from tests.webhook_receiver.helpers import tiktok
from webhook_receiver.limits import IpLimiter, RejectionLog
from webhook_receiver.metrics import Histogram, Metrics
from webhook_receiver.nonces import NonceCache
from webhook_receiver.redis_link import RedisLink
from webhook_receiver.storage import GroupCommitWriter, StorageUnavailable, WriterClosed


def record(notification_id: str | None = None) -> EventRecord:
    _, body, _ = tiktok(notification_id=notification_id)
    return record_for(parse_webhook(body), body, received_at=datetime.now(UTC))


class FakeStore:
    """Remembers keys like UNIQUE(platform, event_id) would; can be told to fail."""

    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()
        self.batches: list[int] = []
        self.failing = False
        self.gate: asyncio.Event | None = None

    async def store(self, records: Sequence[EventRecord]) -> list[StoreOutcome]:
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise DatabaseUnavailable("database unavailable: OperationalError")
        self.batches.append(len(records))
        outcomes = []
        for item in records:
            outcomes.append(StoreOutcome.DUPLICATE if item.key in self.keys else StoreOutcome.STORED)
            self.keys.add(item.key)
        return outcomes


def writer_for(store: FakeStore, **kwargs: object) -> GroupCommitWriter:
    return GroupCommitWriter(store.store, nonces=NonceCache(None, 600), metrics=Metrics(["tiktokshop"]), **kwargs)


def test_concurrent_submissions_share_a_commit() -> None:
    async def scenario() -> tuple[list[StoreOutcome], list[int]]:
        store = FakeStore()
        store.gate = asyncio.Event()
        writer = writer_for(store)
        first = asyncio.ensure_future(writer.submit(record()))
        await asyncio.sleep(0.01)  # the first batch is now held at the gate
        rest = [asyncio.ensure_future(writer.submit(record())) for _ in range(50)]
        await asyncio.sleep(0.01)
        store.gate.set()
        outcomes = [await first, *[await task for task in rest]]
        await writer.aclose()
        return outcomes, store.batches

    outcomes, batches = asyncio.run(scenario())
    assert outcomes == [StoreOutcome.STORED] * 51
    assert batches == [1, 50]  # everything that queued during the first commit went in ONE second commit


def test_requests_arriving_while_a_batch_gathers_join_it() -> None:
    async def scenario() -> list[int]:
        store = FakeStore()
        writer = writer_for(store)

        async def arrive(turns: int) -> StoreOutcome:
            for _ in range(turns):  # one request per loop turn, as parsed requests reach the writer
                await asyncio.sleep(0)
            return await writer.submit(record())

        await asyncio.gather(*(arrive(turns) for turns in range(10)))
        await writer.aclose()
        return store.batches

    assert asyncio.run(scenario()) == [10]  # not [1, 9]: the writer waited while the list kept growing


def test_max_batch_caps_a_commit() -> None:
    async def scenario() -> list[int]:
        store = FakeStore()
        writer = writer_for(store, max_batch=7)
        await asyncio.gather(*(writer.submit(record()) for _ in range(30)))
        await writer.aclose()
        return store.batches

    batches = asyncio.run(scenario())
    assert sum(batches) == 30 and max(batches) <= 7


def test_a_failed_commit_fails_every_waiting_request() -> None:
    async def scenario() -> list[BaseException | StoreOutcome]:
        store = FakeStore()
        store.failing = True
        writer = writer_for(store)
        results = await asyncio.gather(*(writer.submit(record()) for _ in range(10)), return_exceptions=True)
        store.failing = False
        results.append(await writer.submit(record()))  # the writer lives on after a failure
        await writer.aclose()
        return results

    results = asyncio.run(scenario())
    assert all(isinstance(result, StorageUnavailable) for result in results[:10])
    assert results[10] == StoreOutcome.STORED


def test_a_bug_in_the_store_is_a_503_not_a_hang() -> None:
    async def scenario() -> BaseException | StoreOutcome:
        async def broken(records: Sequence[EventRecord]) -> list[StoreOutcome]:
            raise RuntimeError("bug")

        writer = GroupCommitWriter(broken, nonces=NonceCache(None, 600), metrics=Metrics(["tiktokshop"]))
        result = await asyncio.gather(writer.submit(record()), return_exceptions=True)
        await writer.aclose()
        return result[0]

    assert isinstance(asyncio.run(scenario()), StorageUnavailable)


def test_closing_writes_what_is_queued_and_refuses_more() -> None:
    async def scenario() -> tuple[list[StoreOutcome], bool]:
        store = FakeStore()
        writer = writer_for(store)
        pending = [asyncio.ensure_future(writer.submit(record())) for _ in range(5)]
        await asyncio.sleep(0)
        await writer.aclose()
        outcomes = [await task for task in pending]
        try:
            await writer.submit(record())
        except WriterClosed:
            return outcomes, True
        return outcomes, False

    outcomes, refused = asyncio.run(scenario())
    assert outcomes == [StoreOutcome.STORED] * 5 and refused


def test_a_cancelled_request_does_not_break_the_batch() -> None:
    async def scenario() -> list[int]:
        store = FakeStore()
        store.gate = asyncio.Event()
        writer = writer_for(store)
        doomed = asyncio.ensure_future(writer.submit(record()))
        others = [asyncio.ensure_future(writer.submit(record())) for _ in range(3)]
        await asyncio.sleep(0.01)
        doomed.cancel()
        store.gate.set()
        assert [await task for task in others] == [StoreOutcome.STORED] * 3
        await writer.aclose()
        return store.batches

    assert sum(asyncio.run(scenario())) == 4  # the cancelled request's event was still written


def test_nonces_are_set_after_the_commit_and_found_in_one_call(redis_url: str, redis_prefix: str) -> None:
    async def scenario() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        link = RedisLink(redis_url)
        nonces = NonceCache(link, 600, prefix=redis_prefix)
        keys = [("tiktokshop", "a"), ("shopee", "b")]
        before = await nonces.seen(keys)
        await nonces.remember(keys[:1])
        after = await nonces.seen(keys)
        await link.aclose()
        return before, after

    before, after = asyncio.run(scenario())
    assert before == set() and after == {("tiktokshop", "a")}


def test_nonces_hold_any_event_id_a_platform_may_send(redis_url: str, redis_prefix: str) -> None:
    # The keys travel to Redis as one NUL-separated argument: every other character must survive.
    odd = ["with space", "line\nbreak", "tab\tand|pipe", "ünïcødé-✓", "%Z+ and [^%z]", "a" * 128]

    async def scenario() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        link = RedisLink(redis_url)
        nonces = NonceCache(link, 600, prefix=redis_prefix)
        keys = [("tiktokshop", event_id) for event_id in odd]
        await nonces.remember(keys[:-1])
        found = await nonces.seen(keys)
        await link.aclose()
        return set(keys[:-1]), found

    remembered, found = asyncio.run(scenario())
    assert found == remembered  # each one found, nothing split or merged, the unset one not found


def test_the_writer_remembers_every_committed_event_across_batches(redis_url: str, redis_prefix: str) -> None:
    async def scenario() -> tuple[list[int], set[tuple[str, str]], list[tuple[str, str]]]:
        link = RedisLink(redis_url)
        nonces = NonceCache(link, 600, prefix=redis_prefix)
        store = FakeStore()
        writer = GroupCommitWriter(store.store, nonces=nonces, metrics=Metrics(["tiktokshop"]), max_batch=5)
        records = [record() for _ in range(23)]
        await asyncio.gather(*(writer.submit(item) for item in records))
        await writer.aclose()  # waits for the background nonce writes
        keys = [item.key for item in records]
        found = await nonces.seen(keys)
        await link.aclose()
        return store.batches, found, keys

    batches, found, keys = asyncio.run(scenario())
    assert len(batches) == 5  # several commits ...
    assert found == set(keys)  # ... and every committed event became a nonce (in fewer Redis calls)


def test_a_dead_redis_opens_the_breaker_and_nonces_say_not_seen() -> None:
    async def scenario() -> tuple[set[tuple[str, str]], bool, int]:
        errors = []
        link = RedisLink("redis://127.0.0.1:1/0", on_error=lambda: errors.append(1), cooldown_s=60)
        nonces = NonceCache(link, 600)
        seen = await nonces.seen([("shopee", "x")])
        await nonces.remember([("shopee", "x")])  # skipped: the breaker is open
        available = link.available
        await link.aclose()
        return seen, available, len(errors)

    seen, available, errors = asyncio.run(scenario())
    assert seen == set() and available is False and errors == 1


def test_the_ip_limit_is_exact_in_one_process() -> None:
    async def scenario() -> list[bool]:
        limiter = IpLimiter(5, None, clock=lambda: 600.0)
        return [limiter.allow("198.51.100.1") for _ in range(8)] + [limiter.allow("198.51.100.2")]

    assert asyncio.run(scenario()) == [True] * 5 + [False] * 3 + [True]


def test_the_ip_limit_window_turns_every_minute() -> None:
    now = [600.0]

    async def scenario() -> list[bool]:
        limiter = IpLimiter(2, None, clock=lambda: now[0])
        first = [limiter.allow("a") for _ in range(3)]
        now[0] += 60
        return [*first, limiter.allow("a")]

    assert asyncio.run(scenario()) == [True, True, False, True]


def test_workers_share_the_ip_limit_through_redis(redis_url: str, redis_prefix: str) -> None:
    async def scenario() -> int:
        links = [RedisLink(redis_url), RedisLink(redis_url)]
        workers = [IpLimiter(100, link, prefix=redis_prefix, sync_interval_s=0.0) for link in links]
        admitted = 0
        for round_ in range(150):
            worker = workers[round_ % 2]
            admitted += worker.allow("192.0.2.9")
            await asyncio.sleep(0)
            await worker.sync()
        for link in links:
            await link.aclose()
        return admitted

    admitted = asyncio.run(scenario())
    assert 100 <= admitted <= 102  # two workers together stay at the limit (plus what one sync lags)


def test_the_rejection_log_is_bounded_per_minute(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RejectionLog(3, logger=logging.getLogger("test.rejections"), clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="test.rejections")
    for _ in range(10):
        log.record("shopee", "bad_signature", "192.0.2.1", "missing or wrong signature")
    now[0] = 61.0
    log.record("shopee", "bad_signature", "192.0.2.1", "line\nbreak")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 5  # 3 logged, 1 summary of the 7 left out, 1 in the new minute
    assert "7 more webhook rejections" in messages[3]
    assert "\n" not in messages[4]


def test_histograms_are_cumulative() -> None:
    histogram = Histogram((0.1, 1.0))
    for value in (0.05, 0.5, 0.5, 5.0):
        histogram.observe(value)
    assert list(histogram.lines("h", 'p="x"')) == [
        'h_bucket{p="x",le="0.1"} 1',
        'h_bucket{p="x",le="1"} 3',
        'h_bucket{p="x",le="+Inf"} 4',
        'h_sum{p="x"} 6.050000',
        'h_count{p="x"} 4',
    ]
