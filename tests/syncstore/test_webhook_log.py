# The webhook event log the Webhooks page reads: filters, SQL pagination, one event's payload, nothing secret.
from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.shopee.webhooks import parse_push
from connectors.tiktokshop.webhooks import parse_webhook
from syncstore.db.engine import transaction
from syncstore.db.models import WebhookLog
from syncstore.errors import InvalidInput, NotFoundError
from syncstore.events import platform_events, webhook_log
from syncstore.events.webhooks import EventRecord, StoreOutcome, record_for, store_batch

NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def tiktok_order(at: datetime, order_id: str = "576461413038785752") -> EventRecord:
    body = json.dumps(
        {
            "type": 1,
            "tts_notification_id": uuid.uuid4().hex,
            "shop_id": "7494001",
            "timestamp": int(at.timestamp()),
            "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT"},
        }
    ).encode()
    return record_for(
        parse_webhook(body), body, received_at=at,
        headers={"content-type": "application/json", "user-agent": "TikTok-Webhook"},
        signature="8d9f0e2b1c3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6",
    )  # fmt: skip


def shopee_item(at: datetime, item_id: int = 42, extra: dict[str, object] | None = None) -> EventRecord:
    data: dict[str, object] = {"item_id": item_id, **(extra or {})}
    body = json.dumps({"code": 8, "shop_id": 780001, "timestamp": int(at.timestamp()), "data": data}).encode()
    return record_for(parse_push(body), body, received_at=at)


@pytest.fixture
def stored(engine: sa.Engine) -> list[EventRecord]:
    """Five events: three TikTok orders and two Shopee stock pushes, a minute apart (newest last)."""
    records = [
        tiktok_order(NOW - timedelta(minutes=4), "1001"),
        shopee_item(NOW - timedelta(minutes=3), 41),
        tiktok_order(NOW - timedelta(minutes=2), "1002"),
        shopee_item(NOW - timedelta(minutes=1), 42),
        tiktok_order(NOW, "1003"),
    ]
    assert store_batch(engine, records) == [StoreOutcome.STORED] * 5
    return records


def test_the_log_lists_newest_first_and_pages_in_sql(engine: sa.Engine, stored: list[EventRecord]) -> None:
    with transaction(engine) as session:
        first, total = webhook_log.list_webhooks(session, limit=2)
        second, _ = webhook_log.list_webhooks(session, limit=2, offset=2)
        last, _ = webhook_log.list_webhooks(session, limit=2, offset=4)
    assert total == 5
    assert [e.order_id or e.item_id for e in first + second + last] == ["1003", "42", "1002", "41", "1001"]
    newest = first[0]
    assert (newest.platform, newest.kind, newest.status, newest.shop_id) == (
        "tiktokshop", "order_status", "received", "7494001",
    )  # fmt: skip
    assert newest.received_at == NOW and newest.event_row_id is not None


def test_filters_combine_and_the_total_counts_the_filtered_set(engine: sa.Engine, stored: list[EventRecord]) -> None:
    with transaction(engine) as session:
        tiktok, tiktok_total = webhook_log.list_webhooks(session, platform="tiktokshop", limit=1)
        stock, _ = webhook_log.list_webhooks(session, kind="stock_change")
        recent, recent_total = webhook_log.list_webhooks(session, since=NOW - timedelta(minutes=2))
        window, _ = webhook_log.list_webhooks(
            session, since=NOW - timedelta(minutes=3), until=NOW - timedelta(minutes=1)
        )
        by_type, _ = webhook_log.list_webhooks(session, event_type="8")
        by_shop, shop_total = webhook_log.list_webhooks(session, shop_id="780001", kind="stock_change", limit=1)
        none, none_total = webhook_log.list_webhooks(session, platform="shopee", kind="order_status")
    assert tiktok_total == 3 and len(tiktok) == 1 and tiktok[0].order_id == "1003"
    assert [e.item_id for e in stock] == ["42", "41"]
    assert recent_total == 3 and {e.order_id or e.item_id for e in recent} == {"1002", "42", "1003"}
    assert [e.order_id or e.item_id for e in window] == ["1002", "41"]  # since inclusive, until exclusive
    assert [e.item_id for e in by_type] == ["42", "41"]
    assert shop_total == 2 and len(by_shop) == 1
    assert (none, none_total) == ([], 0)


def test_status_follows_processing_and_counts_per_status(engine: sa.Engine, stored: list[EventRecord]) -> None:
    with transaction(engine) as session:
        pending = platform_events.pending(session, 10)
        platform_events.mark_processed(session, [pending[0].id])
        platform_events.mark_failed(session, pending[1].id, "get_orders: 503 from the platform", max_attempts=1)
    with transaction(engine) as session:
        failed, failed_total = webhook_log.list_webhooks(session, status="failed")
        counts = webhook_log.status_counts(session)
        recent_counts = webhook_log.status_counts(session, since=NOW - timedelta(seconds=30))
    assert failed_total == 1 and failed[0].item_id == "41"
    assert failed[0].error_message == "get_orders: 503 from the platform" and failed[0].attempts == 1
    assert counts == {"received": 3, "processed": 1, "ignored": 0, "failed": 1}
    assert recent_counts == {"received": 1, "processed": 0, "ignored": 0, "failed": 0}


def test_one_event_shows_its_payload_but_never_a_secret(engine: sa.Engine) -> None:
    record = shopee_item(NOW, extra={"access_token": "live-token-abc", "nested": [{"partner_key": "k", "ok": 1}]})
    # A header kept by an older receiver version that would carry a credential.
    leaky = dataclasses.replace(record, headers={"content-type": "application/json", "x-signature": "s1g"})
    signed = tiktok_order(NOW + timedelta(seconds=1))
    assert store_batch(engine, [leaky, signed]) == [StoreOutcome.STORED] * 2
    with transaction(engine) as session:
        ids = dict(session.execute(sa.select(WebhookLog.platform, WebhookLog.id)).all())
        shopee = webhook_log.get_webhook(session, ids["shopee"])
        tiktok = webhook_log.get_webhook(session, ids["tiktokshop"])
    assert shopee.payload["data"]["item_id"] == 42
    assert shopee.payload["data"]["access_token"] == webhook_log.REDACTED
    assert shopee.payload["data"]["nested"] == [{"partner_key": webhook_log.REDACTED, "ok": 1}]
    assert shopee.headers == {"content-type": "application/json", "x-signature": webhook_log.REDACTED}
    assert not shopee.signature_present
    assert tiktok.signature_present and tiktok.headers["user-agent"] == "TikTok-Webhook"
    assert tiktok.payload["data"]["order_status"] == "AWAITING_SHIPMENT"
    assert tiktok.body_bytes > 0
    shown = repr(shopee) + repr(tiktok)
    assert "live-token-abc" not in shown and "s1g" not in shown and "8d9f0e2b" not in shown


def test_event_types_lists_what_was_received(engine: sa.Engine, stored: list[EventRecord]) -> None:
    with transaction(engine) as session:
        assert webhook_log.event_types(session) == ["1", "8"]
        assert webhook_log.event_types(session, "shopee") == ["8"]


def test_unknown_filters_and_missing_events_are_refused(engine: sa.Engine) -> None:
    with transaction(engine) as session:
        with pytest.raises(InvalidInput) as bad:
            webhook_log.list_webhooks(session, platform="nowhere", status="done", kind="x")
        assert set(bad.value.errors) == {"platform", "status", "kind"}
        with pytest.raises(InvalidInput):
            webhook_log.list_webhooks(session, since=datetime(2027, 1, 1))  # naive time
        with pytest.raises(InvalidInput):
            webhook_log.list_webhooks(session, limit=0)
        with pytest.raises(InvalidInput):
            webhook_log.list_webhooks(session, since=NOW, until=NOW - timedelta(days=1))
        with pytest.raises(NotFoundError):
            webhook_log.get_webhook(session, 999_999)
