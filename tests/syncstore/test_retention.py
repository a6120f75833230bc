# Retention: sync logs past 90 days go to Parquet and then out of the database; a crash between keeps both.
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from connectors.tiktokshop.webhooks import parse_webhook
from syncstore.db.engine import transaction
from syncstore.db.models import ApiIdempotency, SyncLog
from syncstore.events import platform_events
from syncstore.events.webhooks import EventRecord, record_for, store_batch
from syncstore.ops import retention
from syncstore.settings import Settings

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def add_logs(engine: sa.Engine, ages_days: list[int]) -> list[int]:
    with transaction(engine) as session:
        rows = [
            SyncLog(
                platform="shopee",
                operation="update_stock",
                status="success" if i % 2 else "failed",
                idempotency_key=f"k-{i}",
                request_data={"stock": i, "price": "9.90"},
                response_data=None,
                error_message=None if i % 2 else "shopee [error_param]: bad",
                duration_ms=40 + i,
                created_at=NOW - timedelta(days=age),
                synced_at=NOW - timedelta(days=age),
            )
            for i, age in enumerate(ages_days)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def remaining_ids(engine: sa.Engine) -> set[int]:
    with transaction(engine) as session:
        return set(session.scalars(sa.select(SyncLog.id)))


def test_old_logs_are_archived_to_parquet_then_deleted(engine: sa.Engine, settings: Settings) -> None:
    ids = add_logs(engine, [200, 120, 91, 89, 10, 0])
    report = retention.archive_sync_logs(engine, settings, now=NOW, batch_size=2)
    assert (report.archived, report.deleted, len(report.files)) == (3, 3, 2)
    assert remaining_ids(engine) == set(ids[3:])
    archived = retention.read_archive(settings)
    assert archived["id"].to_list() == ids[:3]
    first = archived.row(0, named=True)
    assert first["request_data"] == '{"price": "9.90", "stock": 0}'
    assert first["error_message"] == "shopee [error_param]: bad"
    assert first["created_at"] == NOW - timedelta(days=200)
    assert all(path.parent == settings.data_dir / "archive" / "sync_logs" for path in report.files)
    assert not list(report.files[0].parent.glob(".*.tmp"))
    # Nothing left to archive: a second run writes no file.
    assert retention.archive_sync_logs(engine, settings, now=NOW).files == ()


def test_a_crash_after_the_file_keeps_the_rows_and_a_rerun_finishes(
    engine: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_logs(engine, [150, 100, 95])

    def crash(*_: object) -> int:
        raise RuntimeError("killed between the file and the delete")

    monkeypatch.setattr(retention, "_delete", crash)
    with pytest.raises(RuntimeError):
        retention.archive_sync_logs(engine, settings, now=NOW)
    assert remaining_ids(engine) == set(ids)  # still in the database ...
    assert retention.read_archive(settings)["id"].to_list() == ids  # ... and in the archive
    monkeypatch.undo()
    retention.archive_sync_logs(engine, settings, now=NOW)
    assert remaining_ids(engine) == set()
    assert retention.read_archive(settings)["id"].to_list() == ids  # once each


def test_a_failed_write_deletes_nothing(engine: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = add_logs(engine, [100])

    def full_disk(self: pl.DataFrame, *_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full_disk)
    with pytest.raises(retention.RetentionError, match="No space left"):
        retention.archive_sync_logs(engine, settings, now=NOW)
    assert remaining_ids(engine) == set(ids)
    assert not list((settings.data_dir / "archive" / "sync_logs").glob("*"))


def webhook_event(received_at: datetime, event_id: str) -> EventRecord:
    body = json.dumps(
        {"type": 1, "tts_notification_id": event_id, "shop_id": "7001", "timestamp": int(received_at.timestamp()),
         "data": {"order_id": event_id, "order_status": "UNPAID"}}
    ).encode()  # fmt: skip
    return record_for(parse_webhook(body), body, received_at=received_at)


def test_the_daily_run_also_prunes_old_handled_webhook_events(engine: sa.Engine, settings: Settings) -> None:
    add_logs(engine, [100])
    store_batch(engine, [webhook_event(NOW - timedelta(days=30), "old"), webhook_event(NOW - timedelta(days=1), "new")])
    with transaction(engine) as session:
        platform_events.mark_processed(session, [e.id for e in platform_events.pending(session)])
    report = retention.run(engine, settings, now=NOW)
    assert report.sync_logs.archived == 1 and report.webhook_events_pruned == 1


def add_idempotency_keys(engine: sa.Engine, ages_hours: list[int]) -> list[str]:
    with transaction(engine) as session:
        session.add_all(
            ApiIdempotency(owner="key:1", key=f"k-{age}h", request_hash="0" * 64, status_code=201,
                           body={"id": i}, created_at=NOW - timedelta(hours=age))
            for i, age in enumerate(ages_hours)
        )  # fmt: skip
    return [f"k-{age}h" for age in ages_hours]


def remaining_keys(engine: sa.Engine) -> set[str]:
    with transaction(engine) as session:
        return set(session.scalars(sa.select(ApiIdempotency.key)))


def test_api_idempotency_keys_past_their_retention_are_pruned_in_batches(engine: sa.Engine) -> None:
    keys = add_idempotency_keys(engine, [200, 49, 25, 23, 1])
    assert retention.prune_api_idempotency(engine, 1, now=NOW, batch_size=2) == 3
    assert remaining_keys(engine) == set(keys[3:])
    assert retention.prune_api_idempotency(engine, 1, now=NOW) == 0
    with pytest.raises(ValueError):
        retention.prune_api_idempotency(engine, 0, now=NOW)


def test_the_daily_run_prunes_api_idempotency_keys_by_the_setting(engine: sa.Engine, tmp_path: Path) -> None:
    keys = add_idempotency_keys(engine, [80, 47, 2])
    report = retention.run(engine, Settings(data_dir=tmp_path, api_idempotency_days=2), now=NOW)
    assert report.api_idempotency_pruned == 1 and remaining_keys(engine) == set(keys[1:])
    assert Settings(data_dir=tmp_path).api_idempotency_days == 1
