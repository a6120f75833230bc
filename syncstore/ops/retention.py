# Housekeeping: old sync logs archived to Parquet then deleted; old webhook events and API idempotency keys pruned.
"""Retention.

`archive_sync_logs` moves `sync_logs` rows created more than `SYNC_LOG_RETENTION_DAYS` (90) days
ago into Parquet files under `<data_dir>/archive/sync_logs/`, oldest first, in batches:

1. read one batch (ids ascending) into a Polars frame;
2. write it to `sync_logs-<first id>-<last id>.parquet` through a temporary file that is flushed to
   disk and then renamed into place (a reader never sees half a file);
3. only then delete exactly those ids, in one transaction.

A crash between 2 and 3 leaves the rows in the database AND in the file, never in neither. The
next run archives them again (the same first id, so usually the same file name, overwritten);
should a batch boundary move, an id can sit in two files: readers deduplicate on `id`
(`read_archive` does). JSON columns (`request_data`, `response_data`) are kept as JSON text;
times are UTC.

`run` is the daily job: archive the sync logs, then `events.prune` (webhook events past their
retention, never pending ones), then `prune_api_idempotency` (the public API's stored first answers
to writes sent with an `Idempotency-Key`, older than `SYNCSTORE_API_IDEMPOTENCY_DAYS`, 1 by default:
a retry after that runs as a new write).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl
import sqlalchemy as sa

from syncstore.db.models import ApiIdempotency, SyncLog
from syncstore.db.types import utcnow
from syncstore.errors import SyncStoreError
from syncstore.events import platform_events
from syncstore.settings import Settings, get_settings

SYNC_LOG_RETENTION_DAYS: Final = 90
DEFAULT_BATCH_SIZE: Final = 10_000
ARCHIVE_DIR_NAME: Final = "archive"
SYNC_LOG_ARCHIVE: Final = "sync_logs"

# The archive's columns and their Parquet types, in order.
ARCHIVE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "id": pl.Int64(),
    "connection_id": pl.Int64(),
    "product_id": pl.Int64(),
    "variant_id": pl.Int64(),
    "platform": pl.String(),
    "operation": pl.String(),
    "status": pl.String(),
    "platform_product_id": pl.String(),
    "idempotency_key": pl.String(),
    "error_message": pl.String(),
    "request_data": pl.String(),
    "response_data": pl.String(),
    "attempts": pl.Int64(),
    "duration_ms": pl.Int64(),
    "run_id": pl.String(),
    "synced_at": pl.Datetime("us", "UTC"),
    "created_at": pl.Datetime("us", "UTC"),
}
_JSON_COLUMNS: Final = frozenset({"request_data", "response_data"})


class RetentionError(SyncStoreError):
    """The archive could not be written; nothing was deleted."""


@dataclass(frozen=True)
class ArchiveReport:
    archived: int
    deleted: int
    files: tuple[Path, ...]
    cutoff: datetime


@dataclass(frozen=True)
class RetentionReport:
    sync_logs: ArchiveReport
    webhook_events_pruned: int
    api_idempotency_pruned: int


def archive_dir(settings: Settings | None = None) -> Path:
    """Where sync-log archives go: `<data_dir>/archive/sync_logs`."""
    return (settings or get_settings()).data_dir / ARCHIVE_DIR_NAME / SYNC_LOG_ARCHIVE


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _batch(engine: sa.Engine, cutoff: datetime, after_id: int, limit: int) -> pl.DataFrame:
    columns = [getattr(SyncLog, name) for name in ARCHIVE_SCHEMA]
    query = (
        sa.select(*columns).where(SyncLog.created_at < cutoff, SyncLog.id > after_id).order_by(SyncLog.id).limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    data: dict[str, list[Any]] = {name: [] for name in ARCHIVE_SCHEMA}
    for row in rows:
        for name, value in zip(ARCHIVE_SCHEMA, row, strict=True):
            data[name].append(_json_text(value) if name in _JSON_COLUMNS else value)
    return pl.DataFrame(data, schema=ARCHIVE_SCHEMA)


def _write_durably(frame: pl.DataFrame, target: Path) -> None:
    """Write the file under a temporary name, flush it to disk, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        frame.write_parquet(temporary, compression="zstd", statistics=True)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise RetentionError(
            "could not write the sync-log archive {name}: {error}", name=target.name, error=error
        ) from error


def _delete(engine: sa.Engine, ids: list[int]) -> int:
    with engine.begin() as connection:
        result = connection.execute(sa.delete(SyncLog).where(SyncLog.id.in_(ids)))
    return int(result.rowcount or 0)


def archive_sync_logs(
    engine: sa.Engine,
    settings: Settings | None = None,
    *,
    older_than_days: int = SYNC_LOG_RETENTION_DAYS,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ArchiveReport:
    """Archive sync logs older than `older_than_days` to Parquet, then delete them (see the module docstring)."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    directory = archive_dir(settings)
    files: list[Path] = []
    archived = deleted = 0
    after_id = 0
    while True:
        frame = _batch(engine, cutoff, after_id, batch_size)
        if frame.is_empty():
            break
        ids = frame["id"].to_list()
        target = directory / f"{SYNC_LOG_ARCHIVE}-{ids[0]:012d}-{ids[-1]:012d}.parquet"
        _write_durably(frame, target)
        archived += len(ids)
        files.append(target)
        deleted += _delete(engine, ids)
        after_id = ids[-1]
    return ArchiveReport(archived=archived, deleted=deleted, files=tuple(files), cutoff=cutoff)


def read_archive(settings: Settings | None = None) -> pl.DataFrame:
    """Every archived sync log, one row per id (an id archived twice after a crash counts once)."""
    directory = archive_dir(settings)
    paths = sorted(directory.glob(f"{SYNC_LOG_ARCHIVE}-*.parquet"))
    if not paths:
        return pl.DataFrame(schema=ARCHIVE_SCHEMA)
    frame = pl.read_parquet(paths)
    return frame.unique("id", keep="last").sort("id")


def prune_api_idempotency(
    engine: sa.Engine, older_than_days: int, *, now: datetime | None = None, batch_size: int = 5000
) -> int:
    """Delete the API's stored Idempotency-Key answers created more than `older_than_days` ago.

    In batches of `batch_size` ids (short transactions beside a live API); returns the rows deleted.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    deleted = 0
    while True:
        with engine.begin() as connection:
            ids = list(
                connection.scalars(
                    sa.select(ApiIdempotency.id)
                    .where(ApiIdempotency.created_at < cutoff)
                    .order_by(ApiIdempotency.id)
                    .limit(batch_size)
                )
            )
            if ids:
                connection.execute(sa.delete(ApiIdempotency).where(ApiIdempotency.id.in_(ids)))
        deleted += len(ids)
        if len(ids) < batch_size:
            return deleted


def run(engine: sa.Engine, settings: Settings | None = None, *, now: datetime | None = None) -> RetentionReport:
    """The daily housekeeping: archive old sync logs, prune webhook events and API idempotency keys past retention."""
    settings = settings or get_settings()
    archive = archive_sync_logs(engine, settings, now=now)
    pruned = platform_events.prune(engine, settings.webhook_retention_days, now=now)
    keys = prune_api_idempotency(engine, settings.api_idempotency_days, now=now)
    return RetentionReport(sync_logs=archive, webhook_events_pruned=pruned, api_idempotency_pruned=keys)
