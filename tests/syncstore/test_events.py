# Normalized platform events: written with their webhook log, read oldest-first, finished, pruned.
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.shopee.webhooks import parse_push
from connectors.tiktokshop.webhooks import parse_webhook
from syncstore.db.engine import transaction
from syncstore.events import platform_events
from syncstore.events.webhooks import EventRecord, StoreOutcome, record_for, record_from_event, store_batch

NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def tiktok_record(
    type_: int = 1, *, received_at: datetime = NOW, data: dict[str, object] | None = None, event_id: str | None = None
) -> EventRecord:
    body = json.dumps(
        {
            "type": type_,
            "tts_notification_id": event_id or uuid.uuid4().hex,
            "shop_id": "7494001",
            "timestamp": int(received_at.timestamp()),
            "data": data if data is not None else {"order_id": uuid.uuid4().hex[:18], "order_status": "UNPAID"},
        }
    ).encode()
    return record_for(parse_webhook(body), body, received_at=received_at, headers={"content-type": "application/json"})


def shopee_record(code: int = 3, *, received_at: datetime = NOW) -> EventRecord:
    data = {"ordersn": uuid.uuid4().hex[:14].upper(), "status": "READY_TO_SHIP"} if code == 3 else {"item_id": 42}
    body = json.dumps({"code": code, "shop_id": 780001, "timestamp": int(received_at.timestamp()), "data": data})
    return record_for(parse_push(body.encode()), body.encode(), received_at=received_at)


def test_an_event_and_its_log_are_written_together_and_read_back(engine: sa.Engine) -> None:
    order = tiktok_record(data={"order_id": "576461413038785752", "order_status": "AWAITING_SHIPMENT"})
    product = tiktok_record(15, data={"product_id": "1729", "changed_fields": ["title"]})
    stock = shopee_record(8)
    assert store_batch(engine, [order, product, stock]) == [StoreOutcome.STORED] * 3
    with transaction(engine) as session:
        found = platform_events.pending(session)
    assert [(e.platform, e.kind, e.order_id, e.item_id) for e in found] == [
        ("tiktokshop", "order_status", "576461413038785752", None),
        ("tiktokshop", "product_change", None, "1729"),
        ("shopee", "stock_change", None, "42"),
    ]
    first = found[0]
    assert first.status == "pending" and first.attempts == 0
    assert first.occurred_at == NOW and first.created_at == NOW
    assert first.payload["data"]["order_status"] == "AWAITING_SHIPMENT"
    assert first.shop_id == "7494001"


def test_pending_is_oldest_first_limited_and_filtered_by_kind(engine: sa.Engine) -> None:
    records = [tiktok_record() for _ in range(5)] + [tiktok_record(15, data={"product_id": "9"})]
    store_batch(engine, records)
    with transaction(engine) as session:
        two = platform_events.pending(session, limit=2)
        products = platform_events.pending(session, kinds=["product_change"])
        with pytest.raises(ValueError, match="unknown event kinds"):
            platform_events.pending(session, kinds=["orders"])
    assert [e.id for e in two] == sorted(e.id for e in two) and len(two) == 2
    assert [e.item_id for e in products] == ["9"]


def test_duplicates_are_one_event(engine: sa.Engine) -> None:
    record = tiktok_record(event_id="same-id")
    assert store_batch(engine, [record, record]) == [StoreOutcome.STORED, StoreOutcome.DUPLICATE]
    assert store_batch(engine, [record]) == [StoreOutcome.DUPLICATE]
    with transaction(engine) as session:
        assert len(platform_events.pending(session)) == 1


def test_processed_events_leave_the_queue_and_the_log_says_so(engine: sa.Engine) -> None:
    store_batch(engine, [tiktok_record(), tiktok_record()])
    with transaction(engine) as session:
        first, second = platform_events.pending(session)
        assert platform_events.mark_processed(session, [first.id], now=NOW) == 1
        assert platform_events.mark_ignored(session, [second.id], now=NOW) == 1
        assert platform_events.mark_processed(session, []) == 0
    with transaction(engine) as session:
        assert platform_events.pending(session) == []
        done = platform_events.get(session, first.id)
        assert done is not None and done.status == "processed"
    with engine.connect() as connection:
        statuses = dict(connection.exec_driver_sql("SELECT event_id, status FROM webhook_logs").all())
    assert sorted(statuses.values()) == ["ignored", "processed"]


def test_a_failure_reported_after_another_worker_processed_the_event_changes_nothing(engine: sa.Engine) -> None:
    store_batch(engine, [tiktok_record()])
    with transaction(engine) as session:
        [event] = platform_events.pending(session)
        platform_events.mark_processed(session, [event.id])
    with transaction(engine) as session:
        assert (
            platform_events.mark_failed(session, event.id, "late failure from a second worker", max_attempts=1)
            == "processed"
        )
    with transaction(engine) as session:
        done = platform_events.get(session, event.id)
    assert done is not None and (done.status, done.attempts) == ("processed", 0)


def test_failures_count_attempts_then_fail_the_event(engine: sa.Engine) -> None:
    store_batch(engine, [tiktok_record()])
    with transaction(engine) as session:
        [event] = platform_events.pending(session)
    outcomes = []
    for attempt in range(3):
        with transaction(engine) as session:
            outcomes.append(
                platform_events.mark_failed(session, event.id, f"order fetch failed ({attempt})", max_attempts=3)
            )
    assert outcomes == ["pending", "pending", "failed"]
    with transaction(engine) as session:
        assert platform_events.pending(session) == []
        failed = platform_events.get(session, event.id)
        assert failed is not None and failed.attempts == 3
        with pytest.raises(LookupError):
            platform_events.mark_failed(session, 10**9, "nope")
    with engine.connect() as connection:
        row = connection.exec_driver_sql("SELECT status, attempts, error_message FROM webhook_logs").one()
    assert tuple(row) == ("failed", 3, "order fetch failed (2)")


def test_the_backlog_reports_the_oldest_pending_event(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        assert platform_events.backlog(session) == platform_events.Backlog(0, None)
    store_batch(engine, [tiktok_record(received_at=NOW - timedelta(minutes=7)), tiktok_record(received_at=NOW)])
    store_batch(engine, [tiktok_record(999, data={})])  # unknown: ignored, not part of the backlog
    with transaction(engine) as session:
        backlog = platform_events.backlog(session)
    assert backlog.pending == 2
    assert backlog.oldest_age(NOW) == timedelta(minutes=7)


def test_prune_keeps_recent_and_pending_events_and_refuses_to_drop_dedup_keys_early(engine: sa.Engine) -> None:
    old_done, old_pending, recent = (
        tiktok_record(received_at=NOW - timedelta(days=20)),
        tiktok_record(received_at=NOW - timedelta(days=20)),
        tiktok_record(received_at=NOW - timedelta(days=1)),
    )
    store_batch(engine, [old_done, old_pending, recent])
    with transaction(engine) as session:
        by_id = {e.webhook_log_id: e for e in platform_events.pending(session)}
        done = next(e for e in by_id.values() if e.created_at == NOW - timedelta(days=20))
        platform_events.mark_processed(session, [done.id])
    with pytest.raises(ValueError, match="at least 14 days"):
        platform_events.prune(engine, 13, now=NOW)
    assert platform_events.prune(engine, 14, now=NOW, batch_size=1) == 1
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM webhook_logs").scalar_one() == 2
        assert connection.exec_driver_sql("SELECT count(*) FROM platform_events").scalar_one() == 2
    # The pruned event's key is gone, so a (very late) redelivery would be stored again; the kept ones dedupe.
    assert store_batch(engine, [recent, old_pending]) == [StoreOutcome.DUPLICATE, StoreOutcome.DUPLICATE]


def test_w9_a_lost_push_fetched_later_is_the_same_event_as_the_live_push(engine: sa.Engine) -> None:
    # Shopee re-sends nothing after its retries; the lost-push API (and snapshot pulls) fill the gap.
    # Its events carry the live push's id, so an event that arrives both ways is stored once.
    body = b'{"code":3,"shop_id":780001,"timestamp":1800000000,"data":{"ordersn":"LOST0001","status":"SHIPPED"}}'
    live = record_for(parse_push(body), body, received_at=NOW)
    refetched = parse_push(
        json.dumps(
            {
                "code": 3,
                "shop_id": 780001,
                "timestamp": 1800000000,
                "data": {"status": "SHIPPED", "ordersn": "LOST0001"},
            }
        ).encode()
    )
    lost = record_from_event(refetched, received_at=NOW + timedelta(hours=5))
    assert store_batch(engine, [lost]) == [StoreOutcome.STORED]
    assert store_batch(engine, [live]) == [StoreOutcome.DUPLICATE]
    with transaction(engine) as session:
        [event] = platform_events.pending(session)
    assert (event.order_id, event.payload["data"]["status"]) == ("LOST0001", "SHIPPED")
