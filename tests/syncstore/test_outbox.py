# The outbox keeps promises O1-O5: events commit with their change, are leased once, retried with backoff.
"""Tests for syncstore.events.outbox on real databases (SQLite and PostgreSQL), no mocks.

Time is passed in through `now=` wherever a lease or a backoff is checked: no test sleeps to wait
for a lease or a retry. The concurrent tests (O2, O4 with two live transactions) run on PostgreSQL.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import AuditLog, MasterProduct, OutboxEvent
from syncstore.db.types import utcnow
from syncstore.errors import InvalidInput, NotFoundError, PermissionDenied
from syncstore.events import outbox
from syncstore.security.auth import Actor, Role
from syncstore.settings import get_settings

EDITOR = Actor(user_id=None, label="editor@example.com", role=Role.EDITOR)
VIEWER = Actor(user_id=None, label="viewer@example.com", role=Role.VIEWER)
# A fixed clock well after every row's creation time, so published events are due.
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def _product(handle: str) -> MasterProduct:
    return MasterProduct(
        handle=handle, title="Linen shirt", category="Fashion", base_price=Decimal("9.90"), currency="MYR"
    )


def _publish(engine: sa.Engine, count: int = 1, *, event_type: str = "product.updated") -> list[int]:
    with transaction(engine) as session:
        events = [
            outbox.publish(session, aggregate_type="product", aggregate_id=n, event_type=event_type, payload={"n": n})
            for n in range(count)
        ]
        session.flush()
        return [event.id for event in events]


def _event(engine: sa.Engine, event_id: int) -> OutboxEvent:
    with transaction(engine) as session:
        return session.get_one(OutboxEvent, event_id)


def _count(engine: sa.Engine, model: type[MasterProduct] | type[OutboxEvent] | type[AuditLog]) -> int:
    with transaction(engine) as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """An engine on the session's PostgreSQL database with an empty outbox."""
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM outbox_events")
    yield engine
    engine.dispose()


# --- O1: the change and its event commit together -------------------------------------------


def test_o1_product_and_its_event_commit_in_one_transaction(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        product = _product("linen-shirt")
        session.add(product)
        session.flush()
        event = outbox.publish(
            session,
            aggregate_type="product",
            aggregate_id=product.id,
            event_type="product.updated",
            payload={"price": product.base_price, "at": T0, "fields": ["base_price"]},
        )
    stored = _event(engine, event.id)
    assert (stored.status, stored.aggregate_id, stored.attempts) == ("pending", str(product.id), 0)
    assert stored.payload == {"price": "9.90", "at": T0.isoformat(), "fields": ["base_price"]}
    # Published with the real clock: due at once for a worker that uses the real clock too.
    [claimed] = outbox.claim(engine, worker_id="w1")
    assert claimed.id == event.id and claimed.payload["price"] == "9.90"


def test_o1_an_error_inside_the_transaction_leaves_neither_row(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError, match="boom"), transaction(engine) as session:
        product = _product("never-saved")
        session.add(product)
        session.flush()
        outbox.publish(
            session,
            aggregate_type="product",
            aggregate_id=product.id,
            event_type="product.created",
            payload={},
        )
        session.flush()
        raise RuntimeError("boom")
    assert _count(engine, MasterProduct) == 0
    assert _count(engine, OutboxEvent) == 0
    assert outbox.claim(engine, worker_id="w1", now=T0) == []


def test_publish_refuses_a_payload_that_is_not_json(engine: sa.Engine) -> None:
    with pytest.raises(InvalidInput) as caught, transaction(engine) as session:
        session.add(_product("bad-payload"))
        outbox.publish(session, aggregate_type="product", aggregate_id=1, event_type="x", payload={"blob": object()})
    assert "payload" in caught.value.errors
    with pytest.raises(InvalidInput) as caught, transaction(engine) as session:
        outbox.publish(session, aggregate_type="", aggregate_id="1" * 65, event_type="x", payload={})
    assert set(caught.value.errors) == {"aggregate_type", "aggregate_id"}
    assert _count(engine, MasterProduct) == 0
    assert _count(engine, OutboxEvent) == 0


# --- claiming -------------------------------------------------------------------------------


def test_claim_leases_due_events_oldest_first_and_hands_each_out_once(engine: sa.Engine) -> None:
    first, second, third = _publish(engine, 3)
    batch = outbox.claim(engine, worker_id="w1", limit=2, lease_seconds=30, now=T0)
    assert [e.id for e in batch] == [first, second]
    assert {e.attempts for e in batch} == {1}
    assert {e.locked_until for e in batch} == {T0 + timedelta(seconds=30)}
    assert batch[0].claim_token.startswith("w1:")
    assert batch[0].idempotency_key == f"outbox-{first}"

    rest = outbox.claim(engine, worker_id="w2", limit=10, now=T0)
    assert [e.id for e in rest] == [third]
    assert rest[0].claim_token != batch[0].claim_token
    assert outbox.claim(engine, worker_id="w3", now=T0 + timedelta(seconds=29)) == []
    stored = _event(engine, first)
    assert (stored.locked_by, stored.attempts) == (batch[0].claim_token, 1)


def test_claim_takes_only_the_event_types_asked_for(engine: sa.Engine) -> None:
    [price] = _publish(engine, event_type="price.changed")
    [stock] = _publish(engine, event_type="stock.changed")
    assert outbox.claim(engine, worker_id="w1", event_types=[], now=T0) == []
    assert [e.id for e in outbox.claim(engine, worker_id="w1", event_types=["stock.changed"], now=T0)] == [stock]
    assert [e.id for e in outbox.claim(engine, worker_id="w1", now=T0)] == [price]
    with transaction(engine) as session:
        assert outbox.pending_count(session) == 2
        assert outbox.pending_count(session, event_types=["price.changed"]) == 1


def test_complete_marks_done_once_and_complete_many_takes_a_batch(engine: sa.Engine) -> None:
    ids = _publish(engine, 4)
    batch = outbox.claim(engine, worker_id="w1", now=T0)
    assert outbox.complete(engine, batch[0].id, batch[0].claim_token, now=T0) is True
    assert outbox.complete(engine, batch[0].id, batch[0].claim_token, now=T0) is False
    assert outbox.complete_many(engine, batch, now=T0) == set(ids[1:])
    assert outbox.complete_many(engine, batch) == set()
    stored = _event(engine, ids[0])
    assert (stored.status, stored.processed_at, stored.locked_by, stored.locked_until) == (
        "done",
        T0,
        None,
        None,
    )
    with transaction(engine) as session:
        assert outbox.status_counts(session) == {"pending": 0, "done": 4, "failed": 0}
    assert outbox.claim(engine, worker_id="w1", now=T0 + timedelta(hours=1)) == []


# --- leases (O2 on one worker, O3) ----------------------------------------------------------


def test_o3_expired_lease_is_claimed_again_and_the_stale_worker_cannot_finish(engine: sa.Engine) -> None:
    [event_id] = _publish(engine)
    [first] = outbox.claim(engine, worker_id="slow", lease_seconds=60, now=T0)
    assert outbox.claim(engine, worker_id="other", now=T0 + timedelta(seconds=59)) == []

    [second] = outbox.claim(engine, worker_id="other", lease_seconds=60, now=T0 + timedelta(seconds=60))
    assert second.id == event_id and second.attempts == 2
    assert second.claim_token != first.claim_token
    # The re-run carries the same idempotency key: the platform applies the push once.
    assert second.idempotency_key == first.idempotency_key

    assert outbox.complete(engine, event_id, first.claim_token) is False
    assert outbox.fail(engine, event_id, first.claim_token, "late failure", now=T0) is None
    assert _event(engine, event_id).locked_by == second.claim_token
    assert outbox.complete(engine, event_id, second.claim_token) is True
    stored = _event(engine, event_id)
    assert (stored.status, stored.attempts, stored.last_error) == ("done", 2, None)


def test_an_event_whose_worker_keeps_dying_ends_failed(engine: sa.Engine) -> None:
    [event_id] = _publish(engine)
    at = T0
    for attempt in (1, 2, 3):
        [held] = outbox.claim(engine, worker_id=f"w{attempt}", lease_seconds=10, now=at)
        assert held.attempts == attempt
        at += timedelta(seconds=10)  # the worker is killed: no complete, no fail; the lease runs out
    assert outbox.claim(engine, worker_id="w4", now=at) == []
    stored = _event(engine, event_id)
    assert (stored.status, stored.attempts, stored.locked_by) == ("failed", 3, None)
    assert stored.last_error is not None and "lease" in stored.last_error


# --- O4: commit order differs from id order -------------------------------------------------


def test_o4_an_event_committed_after_a_higher_id_is_still_claimed(engine: sa.Engine) -> None:
    def publish_with_id(event_id: int) -> None:
        with transaction(engine) as session:
            event = outbox.publish(session, aggregate_type="product", aggregate_id=event_id, event_type="e", payload={})
            event.id = event_id

    publish_with_id(102)  # the transaction holding id 101 has not committed yet
    assert [e.id for e in outbox.claim(engine, worker_id="w1", now=T0)] == [102]
    publish_with_id(101)
    assert [e.id for e in outbox.claim(engine, worker_id="w1", now=T0)] == [101]


@pytest.mark.postgres
def test_o4_concurrent_transactions_committing_out_of_id_order(pg_engine: sa.Engine) -> None:
    def open_and_publish(session: Session) -> int:
        event = outbox.publish(session, aggregate_type="product", aggregate_id=1, event_type="e", payload={})
        session.flush()
        return event.id

    with Session(pg_engine) as early, Session(pg_engine) as late:
        low = open_and_publish(early)
        high = open_and_publish(late)
        assert low < high
        late.commit()  # the higher id commits first
        [between] = outbox.claim(pg_engine, worker_id="w1", now=T0)
        assert between.id == high
        early.commit()
    after = outbox.claim(pg_engine, worker_id="w1", now=T0)
    assert [e.id for e in after] == [low]


@pytest.mark.postgres
def test_o2_a_claim_skips_rows_locked_by_a_claim_in_progress_instead_of_waiting(pg_engine: sa.Engine) -> None:
    busy, free = _publish(pg_engine, 2)
    # The session closes (releasing its lock) before the pool waits for its thread.
    with ThreadPoolExecutor(1) as pool, Session(pg_engine) as other_claim:
        # Another worker's claim transaction has locked `busy` and not committed yet.
        other_claim.execute(sa.select(OutboxEvent.id).where(OutboxEvent.id == busy).with_for_update())
        claimed = pool.submit(outbox.claim, pg_engine, worker_id="w2", now=T0).result(timeout=10)
        assert [e.id for e in claimed] == [free]
        other_claim.rollback()
    assert [e.id for e in outbox.claim(pg_engine, worker_id="w3", now=T0)] == [busy]


# --- O5: backoff, failed, manual retry ------------------------------------------------------


def test_o5_three_failures_back_off_then_fail_and_a_manual_retry_requeues(engine: sa.Engine) -> None:
    settings = get_settings()
    [event_id] = _publish(engine)
    at = T0
    for attempt in (1, 2):
        [held] = outbox.claim(engine, worker_id="w1", now=at)
        assert held.attempts == attempt
        assert outbox.fail(engine, event_id, held.claim_token, f"HTTP 500 on try {attempt}", now=at) == "pending"
        stored = _event(engine, event_id)
        cap = min(settings.outbox_backoff_max_seconds, settings.outbox_backoff_base_seconds * 2 ** (attempt - 1))
        delay = (stored.next_attempt_at - at).total_seconds()
        assert outbox.MIN_BACKOFF_SECONDS <= delay <= cap
        assert (stored.status, stored.locked_by, stored.last_error) == (
            "pending",
            None,
            f"HTTP 500 on try {attempt}",
        )
        # Not due before its backoff ends, due exactly when it ends.
        assert outbox.claim(engine, worker_id="w1", now=stored.next_attempt_at - timedelta(microseconds=1)) == []
        at = stored.next_attempt_at

    [held] = outbox.claim(engine, worker_id="w1", now=at)
    assert held.attempts == settings.outbox_max_attempts == 3
    assert outbox.fail(engine, event_id, held.claim_token, "HTTP 500 on try 3", now=at) == "failed"
    assert outbox.claim(engine, worker_id="w1", now=at + timedelta(days=1)) == []
    with transaction(engine) as session:
        [listed] = outbox.list_events(session, status="failed")
        assert (listed.id, listed.last_error, listed.attempts) == (event_id, "HTTP 500 on try 3", 3)
        assert outbox.status_counts(session)["failed"] == 1
        assert outbox.pending_count(session) == 0

    with transaction(engine) as session:
        retried = outbox.retry(EDITOR, session, event_id, now=at)
        assert (retried.status, retried.attempts, retried.next_attempt_at) == ("pending", 0, at)
    with transaction(engine) as session:
        [row] = session.scalars(sa.select(AuditLog)).all()
        assert (row.action, row.entity_type, row.entity_id, row.actor_label) == (
            "outbox.retry",
            "outbox_event",
            str(event_id),
            EDITOR.label,
        )
        assert row.before == {
            "status": "failed",
            "attempts": 3,
            "next_attempt_at": at.isoformat(),
            "last_error": "HTTP 500 on try 3",
        }
        assert row.after == {
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": at.isoformat(),
            "last_error": "HTTP 500 on try 3",
        }
    [again] = outbox.claim(engine, worker_id="w2", now=at)
    assert (again.id, again.attempts) == (event_id, 1)
    assert outbox.complete(engine, event_id, again.claim_token) is True


def test_o5_a_viewer_cannot_retry_and_nothing_changes(engine: sa.Engine) -> None:
    [event_id] = _publish(engine)
    at = T0
    for _ in range(3):
        [held] = outbox.claim(engine, worker_id="w1", now=at)
        outbox.fail(engine, event_id, held.claim_token, "rejected", now=at)
        at += timedelta(minutes=10)
    before = _event(engine, event_id)
    assert before.status == "failed"
    for actor in (VIEWER, None):
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            outbox.retry(actor, session, event_id)
    after = _event(engine, event_id)
    assert (after.status, after.attempts, after.last_error, after.next_attempt_at) == (
        before.status,
        before.attempts,
        before.last_error,
        before.next_attempt_at,
    )
    assert _count(engine, AuditLog) == 0


def test_retry_refuses_a_missing_or_not_failed_event(engine: sa.Engine) -> None:
    [event_id] = _publish(engine)
    with pytest.raises(NotFoundError), transaction(engine) as session:
        outbox.retry(EDITOR, session, event_id + 1000)
    with pytest.raises(InvalidInput, match="only failed events"), transaction(engine) as session:
        outbox.retry(EDITOR, session, event_id)
    assert _count(engine, AuditLog) == 0


def test_backoff_grows_exponentially_with_jitter_inside_its_bounds() -> None:
    settings = get_settings()
    rng = random.Random(7)
    for attempts in range(1, 15):
        cap = min(settings.outbox_backoff_max_seconds, settings.outbox_backoff_base_seconds * 2 ** (attempts - 1))
        samples = [outbox.backoff_seconds(attempts, rng=rng) for _ in range(500)]
        assert all(outbox.MIN_BACKOFF_SECONDS <= s <= cap for s in samples)
        assert len(set(samples)) > 400  # jittered, not one fixed delay
        assert max(samples) > 0.9 * cap  # reaches up to the exponential cap
    assert outbox.backoff_seconds(10_000, rng=rng) <= settings.outbox_backoff_max_seconds


def test_a_long_error_is_cut_to_a_sane_length(engine: sa.Engine) -> None:
    [event_id] = _publish(engine)
    [held] = outbox.claim(engine, worker_id="w1", now=T0)
    outbox.fail(engine, event_id, held.claim_token, "x" * 100_000, now=T0)
    stored = _event(engine, event_id)
    assert stored.last_error is not None
    assert len(stored.last_error) < outbox.MAX_ERROR_CHARS + 100
    assert stored.last_error.endswith("[98000 more characters cut]")


def test_list_events_newest_first_and_filtered(engine: sa.Engine) -> None:
    ids = _publish(engine, 3, event_type="a") + _publish(engine, 2, event_type="b")
    with transaction(engine) as session:
        assert [e.id for e in outbox.list_events(session, limit=2)] == ids[:-3:-1]
        assert [e.id for e in outbox.list_events(session, event_type="a", status="pending")] == ids[2::-1]
        assert outbox.list_events(session, status="done") == []
        with pytest.raises(InvalidInput):
            outbox.list_events(session, status="processed")


# --- O2: four concurrent workers on PostgreSQL ----------------------------------------------

O2_EVENTS = 10_000
O2_WORKERS = 4
O2_LEASE_SECONDS = 3
# Every event whose id is a multiple of this "kills" its worker on its first attempt: it is neither
# completed nor failed, so it must be claimed again after its lease, and only then.
O2_CRASH_EVERY = 250


@pytest.mark.postgres
def test_o2_four_workers_claim_10000_events_without_overlapping_leases(pg_engine: sa.Engine, postgres_url: str) -> None:
    with transaction(pg_engine) as session:
        for n in range(O2_EVENTS):
            outbox.publish(
                session,
                aggregate_type="product",
                aggregate_id=n,
                event_type="product.updated",
                payload={"n": n},
            )
    with transaction(pg_engine) as session:
        all_ids = set(session.scalars(sa.select(OutboxEvent.id)))
    assert len(all_ids) == O2_EVENTS

    # Half the workers complete event by event, half a batch at a time.
    start = threading.Barrier(O2_WORKERS)
    deadline = time.monotonic() + 120

    def work(name: str, one_by_one: bool) -> tuple[list[tuple[int, str, datetime]], list[int], list[int]]:
        engine = create_engine(postgres_url, pool_size=1, max_overflow=0)
        claims: list[tuple[int, str, datetime]] = []
        completed: list[int] = []
        crashed: list[int] = []
        try:
            start.wait()
            while time.monotonic() < deadline:
                at = utcnow()
                batch = outbox.claim(engine, worker_id=name, limit=50, lease_seconds=O2_LEASE_SECONDS, now=at)
                claims.extend((event.id, event.claim_token, at) for event in batch)
                if not batch:
                    with transaction(engine) as session:
                        if outbox.pending_count(session) == 0:
                            return claims, completed, crashed
                    time.sleep(0.05)
                    continue
                finished = []
                for event in batch:
                    if event.id % O2_CRASH_EVERY == 0 and event.attempts == 1:
                        crashed.append(event.id)
                    elif not one_by_one:
                        finished.append(event)
                    elif outbox.complete(engine, event.id, event.claim_token):
                        completed.append(event.id)
                completed.extend(outbox.complete_many(engine, finished))
            raise TimeoutError(f"{name} still had work after 120 s")
        finally:
            engine.dispose()

    began = time.monotonic()
    with ThreadPoolExecutor(O2_WORKERS) as pool:
        results = [f.result() for f in [pool.submit(work, f"worker-{i}", i % 2 == 0) for i in range(O2_WORKERS)]]
    elapsed = time.monotonic() - began

    claims_by_event: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for claims, _, _ in results:
        for event_id, token, at in claims:
            claims_by_event[event_id].append((at, token))
    assert set(claims_by_event) == all_ids
    for event_id, claims_of_event in claims_by_event.items():
        claims_of_event.sort()
        for (earlier, earlier_token), (later, later_token) in itertools.pairwise(claims_of_event):
            # Claimed again only once the previous lease had run out, under a new token.
            assert later >= earlier + timedelta(seconds=O2_LEASE_SECONDS), event_id
            assert later_token != earlier_token

    completions = Counter(event_id for _, completed, _ in results for event_id in completed)
    assert set(completions) == all_ids
    assert set(completions.values()) == {1}
    crashed = {event_id for _, _, crashed in results for event_id in crashed}
    assert crashed == {event_id for event_id in all_ids if event_id % O2_CRASH_EVERY == 0}
    assert all(len(claims_by_event[event_id]) == 2 for event_id in crashed)
    assert sum(1 for claims, _, _ in results if claims) >= 2, "the workers did not run concurrently"

    with transaction(pg_engine) as session:
        assert outbox.status_counts(session) == {"pending": 0, "done": O2_EVENTS, "failed": 0}
        assert session.scalar(sa.select(sa.func.count()).where(OutboxEvent.locked_by.is_not(None))) == 0
    print(
        f"O2: {O2_EVENTS} events, {O2_WORKERS} workers, {sum(len(c) for c, _, _ in results)} claims, "
        f"{len(crashed)} crashed and re-claimed, {elapsed:.1f} s"
    )


def test_an_event_held_by_its_publisher_is_claimed_by_nobody_else_and_completed_by_it(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        event = outbox.publish(session, aggregate_type="inventory", aggregate_id="1", event_type="inventory.changed",
                               payload={"variant_ids": [1]})  # fmt: skip
        session.flush()
        [held] = outbox.hold(session, [event.id], worker_id="events:run-1", now=T0)
    assert (held.attempts, held.claim_token.startswith("events:run-1:")) == (1, True)
    assert outbox.claim(engine, worker_id="push", now=T0 + timedelta(seconds=1)) == []

    outbox.settle(engine, [held], None)

    assert _event(engine, held.id).status == "done"
    assert outbox.claim(engine, worker_id="push", now=T0 + timedelta(hours=1)) == []


def test_a_held_event_whose_work_failed_or_whose_holder_died_goes_back_to_the_outbox(engine: sa.Engine) -> None:
    failed_id, orphan_id = _publish(engine, 2, event_type="inventory.changed")
    with transaction(engine) as session:
        failed, _ = outbox.hold(session, [failed_id, orphan_id], worker_id="events", now=T0)

    outbox.settle(engine, [failed], "stock push: connection 2: 1 failed", now=T0)

    row = _event(engine, failed_id)
    assert (row.status, row.attempts, row.locked_by, row.last_error) == (
        "pending", 1, None, "stock push: connection 2: 1 failed"
    )  # fmt: skip
    assert outbox.claim(engine, worker_id="push", now=T0 + timedelta(seconds=0.1)) == []  # backing off; held
    # The failed one is retried after its back-off; the other's holder died: once its lease is over it is handed out.
    after_lease = T0 + timedelta(seconds=get_settings().outbox_lease_seconds + 1)
    later = outbox.claim(engine, worker_id="push", event_types=["inventory.changed"], now=after_lease)
    assert sorted((event.id, event.attempts) for event in later) == [(failed_id, 2), (orphan_id, 2)]
