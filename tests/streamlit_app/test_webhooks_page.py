# The Webhooks page: the event log with filters, paging and a payload viewer that never shows a secret.
from __future__ import annotations

import dataclasses
import json
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from connectors.shopee.webhooks import parse_push
from connectors.tiktokshop.webhooks import parse_webhook
from syncstore.db.engine import transaction
from syncstore.events import platform_events
from syncstore.events.webhooks import EventRecord, StoreOutcome, record_for, store_batch
from tests.streamlit_app.conftest import AppAs, SeededDatabase

SIGNATURE = "8d9f0e2b1c3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6"
LEAKED_TOKEN = "live-access-token-4f1c"


def tiktok_order(at: datetime, order_id: str) -> EventRecord:
    body = json.dumps(
        {
            "type": 1, "tts_notification_id": uuid.uuid4().hex, "shop_id": "7001", "timestamp": int(at.timestamp()),
            "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT"},
        }
    ).encode()  # fmt: skip
    return record_for(
        parse_webhook(body), body, received_at=at, headers={"content-type": "application/json"}, signature=SIGNATURE
    )


def shopee_stock(at: datetime, item_id: int, extra: dict[str, object] | None = None) -> EventRecord:
    data: dict[str, object] = {"item_id": item_id, **(extra or {})}
    body = json.dumps({"code": 8, "shop_id": 1001, "timestamp": int(at.timestamp()), "data": data}).encode()
    return record_for(parse_push(body), body, received_at=at)


def store(db: SeededDatabase, records: list[EventRecord]) -> None:
    engine = db.engine()
    assert store_batch(engine, records) == [StoreOutcome.STORED] * len(records)
    engine.dispose()


def event_column(at: object, column: str = "Event") -> list[object]:
    """One column of the event table, blanks as None."""
    values = at.dataframe[0].value[column]  # type: ignore[attr-defined]
    return [None if isinstance(value, float) and math.isnan(value) else value for value in values]


def metrics(at: object) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}  # type: ignore[attr-defined]


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def received(seeded_db: SeededDatabase, now: datetime) -> None:
    """Two TikTok orders and a Shopee stock push this past hour, a Shopee push 3 hours ago, one 3 days ago."""
    store(
        seeded_db,
        [
            shopee_stock(now - timedelta(days=3), 40),
            shopee_stock(now - timedelta(hours=3), 41),
            tiktok_order(now - timedelta(minutes=20), "5001"),
            shopee_stock(now - timedelta(minutes=10), 42, {"access_token": LEAKED_TOKEN}),
            tiktok_order(now - timedelta(minutes=5), "5002"),
        ],
    )


@pytest.mark.parametrize("role", ["admin", "editor", "viewer"])
def test_every_role_reads_the_log_and_nothing_on_it_writes(app_as: AppAs, received: None, role: str) -> None:
    at = app_as(role, "webhooks")
    assert not at.exception
    assert metrics(at) == {"Received": "4", "Processed": "0", "Ignored": "0", "Failed": "0"}  # last 24 h
    assert event_column(at, "Order") == ["5002", None, "5001", None]
    assert event_column(at, "Item") == [None, "42", None, "41"]
    assert {b.label for b in at.button} == {"Sign out"}


def test_filters_narrow_the_log(app_as: AppAs, seeded_db: SeededDatabase, received: None) -> None:
    engine = seeded_db.engine()
    with transaction(engine) as session:
        oldest_pending = platform_events.pending(session, 1)[0]
        platform_events.mark_failed(session, oldest_pending.id, "shop 1001 is not connected any more", max_attempts=1)
    engine.dispose()
    at = app_as("viewer", "webhooks")
    at.selectbox(key="wh_time").select("Any time").run()
    assert len(event_column(at)) == 5 and metrics(at)["Failed"] == "1"
    at.selectbox(key="wh_platform").set_value("shopee").run()
    assert event_column(at, "Item") == ["42", "41", "40"]
    at.selectbox(key="wh_status").set_value("failed").run()
    assert event_column(at, "Item") == ["40"]
    assert event_column(at, "Error") == ["shop 1001 is not connected any more"]
    at.selectbox(key="wh_status").set_value(None).run()
    at.selectbox(key="wh_platform").set_value(None).run()
    at.selectbox(key="wh_kind").set_value("order_status").run()
    assert event_column(at, "Order") == ["5002", "5001"]
    at.selectbox(key="wh_time").select("Last hour").run()
    at.selectbox(key="wh_kind").set_value(None).run()
    at.selectbox(key="wh_type").set_value("8").run()
    assert event_column(at, "Item") == ["42"]
    assert not at.exception


def test_between_dates_includes_both_days(app_as: AppAs, received: None, now: datetime) -> None:
    at = app_as("viewer", "webhooks")
    at.selectbox(key="wh_time").select("Between dates").run()
    three_days_ago = (now - timedelta(days=3)).date()
    at.date_input(key="wh_dates").set_value((three_days_ago, three_days_ago)).run()
    assert not at.exception
    assert event_column(at, "Item") == ["40"]


def test_the_payload_viewer_shows_the_body_but_no_secret(app_as: AppAs, received: None) -> None:
    at = app_as("viewer", "webhooks")
    shopee_id = event_column(at)[1]
    at.selectbox(key="wh_event").set_value(shopee_id).run()
    payload = json.loads(at.json[0].value)
    assert payload["data"]["item_id"] == 42 and payload["data"]["access_token"] == "[redacted]"
    tiktok_id = event_column(at)[0]
    at.selectbox(key="wh_event").set_value(tiktok_id).run()
    assert json.loads(at.json[0].value)["data"]["order_id"] == "5002"
    assert any("signature present" in c.value for c in at.caption)
    page = " ".join(str(getattr(node, "value", "")) for node in at.main)
    assert LEAKED_TOKEN not in page and SIGNATURE not in page
    assert not at.exception


def test_a_long_log_is_paged(sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase, now: datetime) -> None:
    first = shopee_stock(now - timedelta(minutes=59), 1000)
    store(
        sqlite_seeded_db,
        [dataclasses.replace(first, event_id=f"bulk-{i}", received_at=now - timedelta(seconds=i)) for i in range(60)],
    )
    at = sqlite_app_as("viewer", "webhooks")
    assert len(event_column(at)) == 50
    assert any("Events 1 to 50 of 60" in c.value for c in at.caption)
    at.pagination[0].select(2).run()
    assert not at.exception
    assert len(event_column(at)) == 10
    assert any("Events 51 to 60 of 60" in c.value for c in at.caption)


def test_an_empty_log_says_so(app_as: AppAs) -> None:
    at = app_as("viewer", "webhooks")
    assert not at.exception
    assert any("No webhook event matches" in i.value for i in at.info)
