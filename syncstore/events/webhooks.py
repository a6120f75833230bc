# Storing verified marketplace events: one webhook_logs row and its platform_events row, deduplicated.
"""The core side of the webhook receiver (no HTTP here).

- `WebhookRejected` and its subclasses name why an incoming webhook is refused; each carries a
  short `reason` the receiver uses as a metric label and a log field.
- `record_for` turns a verified, parsed `MarketplaceEvent` plus the raw request into an
  `EventRecord`: what gets written. It refuses (MalformedEvent) what the database could not hold
  (ids longer than their columns, NUL characters, non-finite numbers), so one bad event can never
  fail a whole group commit. `record_from_event` does the same for reconciled events (W9).
- `store_batch` (blocking; SQLite, or PostgreSQL from a thread) and the receiver's
  `webhook_receiver.pg_store.AsyncPostgresStore` (PostgreSQL on the event loop, built on the batch
  statement and helpers here) write many records in ONE transaction: `INSERT ... ON CONFLICT
  (platform, event_id) DO NOTHING RETURNING` into webhook_logs, then the normalized platform_events
  rows for the inserted ones (on PostgreSQL both in a single statement). UNIQUE(platform, event_id)
  is the truth for deduplication: a record whose key is already stored (or appears earlier in the
  same batch) comes back DUPLICATE. Either both rows of an event commit or neither does. If the
  database is unreachable (or its schema is broken) the whole batch raises `DatabaseUnavailable`;
  if a batch fails because of one record's data, the records are retried one by one so only that
  record is refused (REJECTED).
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from connectors.base import EventKind, MarketplaceEvent
from syncstore.db.models import PlatformEvent, WebhookLog
from syncstore.errors import SyncStoreError

# Column sizes of webhook_logs / platform_events (see syncstore.db.models).
MAX_EVENT_ID: Final = 128
MAX_EVENT_TYPE: Final = 100
MAX_ID: Final = 64
MAX_HEADER_VALUE: Final = 512
MAX_SIGNATURE: Final = 255

# Request headers worth keeping with an event. Authorization is NOT among them: its value (an HMAC of
# this very body) goes to the `signature` column, truncated; nothing secret is ever stored.
KEPT_HEADERS: Final = ("content-type", "content-length", "user-agent", "x-forwarded-for", "x-request-id")

LOG_RECEIVED: Final = "received"
LOG_IGNORED: Final = "ignored"
EVENT_PENDING: Final = "pending"
EVENT_IGNORED: Final = "ignored"


# --- why a webhook is refused -----------------------------------------------------------------


class WebhookRejected(SyncStoreError):
    """An incoming webhook was refused; `reason` is a short stable label (metrics, logs)."""

    reason = "rejected"


class UnknownPlatform(WebhookRejected):
    """No such platform."""

    reason = "unknown_platform"


class PlatformNotConfigured(WebhookRejected):
    """The platform's webhook keys are not set, so nothing from it can be verified."""

    reason = "not_configured"


class InvalidSignature(WebhookRejected):
    """The Authorization header is missing or is not the signature of these bytes."""

    reason = "bad_signature"


class MalformedEvent(WebhookRejected):
    """Correctly signed, but not an event SyncStore can read or store."""

    reason = "malformed"


class StaleEvent(WebhookRejected):
    """The event's own timestamp is further in the future than the tolerance (a clock or a forgery problem)."""

    reason = "stale"


class DatabaseUnavailable(SyncStoreError):
    """The batch was not written (nothing of it was): the sender should retry later."""


# --- what is written --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as stored: its webhook_logs row and the normalized fields of its platform_events row."""

    platform: str
    event_id: str
    event_type: str
    kind: EventKind
    shop_id: str | None
    order_id: str | None
    item_id: str | None
    occurred_at: datetime | None
    # The body as JSON text safe for both databases (see `record_for`); parsed only where needed.
    payload_json: str
    raw_body: str
    received_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)
    signature: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.event_id)

    @property
    def payload(self) -> Any:
        return json.loads(self.payload_json)

    @property
    def ignored(self) -> bool:
        """Unknown event types are stored and acknowledged, but nothing acts on them."""
        return self.kind is EventKind.UNKNOWN


class StoreOutcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


def record_for(
    event: MarketplaceEvent,
    raw_body: bytes,
    *,
    received_at: datetime,
    headers: Mapping[str, str] | None = None,
    signature: str | None = None,
) -> EventRecord:
    """The record to store for a verified event; MalformedEvent if the database could not hold it."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedEvent("body is not UTF-8") from None
    return EventRecord(
        platform=event.platform,
        event_id=_checked_id(event.event_id, "event id", MAX_EVENT_ID, required=True) or "",
        event_type=_checked_id(event.raw_type, "event type", MAX_EVENT_TYPE, required=True) or "",
        kind=event.kind,
        shop_id=_checked_id(event.shop_id, "shop_id", MAX_ID),
        order_id=_checked_id(event.order_id, "order_id", MAX_ID),
        item_id=_checked_id(event.item_id, "item_id", MAX_ID),
        occurred_at=event.occurred_at,
        payload_json=text if _plainly_storable(text) else json.dumps(storable_json(_parse_json(text))),
        # JSON text cannot hold a raw NUL (it is not whitespace, and strings escape it).
        raw_body=text,
        received_at=received_at,
        headers=kept_headers(headers or {}),
        signature=signature.strip()[:MAX_SIGNATURE] if signature else None,
    )


def record_from_event(event: MarketplaceEvent, *, received_at: datetime) -> EventRecord:
    """The record of an event that did not arrive as a webhook (W9 reconciliation).

    Shopee's lost-push API (`ShopeeConnector.get_lost_pushes`) hands back pushes that were never
    delivered; storing them through `store_batch` with this record gives them the same event id as
    the live push (see `connectors.shopee.push_event_id`), so an event that arrives both ways is
    stored once. The raw body is the event re-encoded (there are no original bytes to keep).
    """
    occurred = int(event.occurred_at.timestamp()) if event.occurred_at else None
    body = {"type": event.raw_type, "shop_id": event.shop_id, "timestamp": occurred, "data": dict(event.data)}
    text = json.dumps(storable_json(body), separators=(",", ":"), default=str)
    return EventRecord(
        platform=event.platform,
        event_id=_checked_id(event.event_id, "event id", MAX_EVENT_ID, required=True) or "",
        event_type=_checked_id(event.raw_type, "event type", MAX_EVENT_TYPE, required=True) or "",
        kind=event.kind,
        shop_id=_checked_id(event.shop_id, "shop_id", MAX_ID),
        order_id=_checked_id(event.order_id, "order_id", MAX_ID),
        item_id=_checked_id(event.item_id, "item_id", MAX_ID),
        occurred_at=event.occurred_at,
        payload_json=text,
        raw_body=text,
        received_at=received_at,
        headers={"x-syncstore-source": "reconciliation"},
    )


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers worth keeping (never Authorization), each cut to a bounded length."""
    kept: dict[str, str] = {}
    for name in KEPT_HEADERS:
        value = headers.get(name)
        if value is not None:
            kept[name] = _printable(value)[:MAX_HEADER_VALUE]
    return kept


def storable_json(value: Any) -> Any:
    """`value` as both databases store it: no NUL characters, no lone surrogates, no NaN/Infinity.

    NUL and lone surrogates are replaced (PostgreSQL's jsonb and text refuse them; the raw body keeps
    the original escapes); a non-finite number is not JSON at all, so it makes the event malformed.
    """
    if isinstance(value, str):
        return _printable(value)
    if isinstance(value, dict):
        return {_printable(key): storable_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedEvent("body holds NaN or Infinity, which JSON does not allow")
    return value


def _plainly_storable(text: str) -> bool:
    """True when JSON text can be stored as it is: without escapes or NaN/Infinity nothing can be unstorable.

    (A raw NUL or a lone surrogate cannot appear in valid UTF-8 JSON text except through a \\u escape.)
    Anything else takes the slow path: parse, clean, serialise again.
    """
    return "\\u" not in text and "NaN" not in text and "Infinity" not in text


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise MalformedEvent("body is not JSON: {kind}", kind=type(error).__name__) from None


def _printable(text: str) -> str:
    if text.isascii():
        return text.replace("\x00", "\ufffd") if "\x00" in text else text
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _checked_id(value: str | None, name: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise MalformedEvent("{name} is missing", name=name)
        return None
    if len(value) > limit:
        raise MalformedEvent("{name} is longer than {limit} characters", name=name, limit=limit)
    if "\x00" in value or (not value.isascii() and _printable(value) != value):
        raise MalformedEvent("{name} holds a NUL or an unpaired surrogate", name=name)
    return value


# --- writing ----------------------------------------------------------------------------------

_LOGS: Final = cast(sa.Table, WebhookLog.__table__)
_EVENTS: Final = cast(sa.Table, PlatformEvent.__table__)
Key = tuple[str, str]


def store_batch(engine: sa.Engine, records: Sequence[EventRecord]) -> list[StoreOutcome]:
    """Write `records` (one transaction); the outcome of each, in order. Raises DatabaseUnavailable.

    Blocking: call it from a worker thread. On PostgreSQL the receiver's `AsyncPostgresStore`
    (webhook_receiver.pg_store) does the same on the event loop.
    """
    if not records:
        return []
    try:
        return _store(engine, records)
    except Exception as error:
        if not is_data_error(error):
            raise DatabaseUnavailable(describe_failure(error)) from error
    # One record's data broke the batch: write them one by one so only that record is refused.
    outcomes: list[StoreOutcome] = []
    for record in records:
        try:
            outcomes.extend(_store(engine, [record]))
        except Exception as error:
            if not is_data_error(error):
                raise DatabaseUnavailable(describe_failure(error)) from error
            outcomes.append(StoreOutcome.REJECTED)
    return outcomes


def _store(engine: sa.Engine, records: Sequence[EventRecord]) -> list[StoreOutcome]:
    first, unique = first_occurrences(records)
    if engine.dialect.name == "postgresql":
        # One statement writes both tables, so it is atomic on its own: autocommit, one round trip.
        with engine.connect() as connection:
            result = connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                POSTGRES_BATCH, {"rows": batch_rows_json(unique)}
            )
            inserted = {(row[0], row[1]) for row in result}
    else:
        with engine.begin() as connection:
            inserted = _write_portable(connection, unique)
    return batch_outcomes(records, first, inserted)


def first_occurrences(records: Sequence[EventRecord]) -> tuple[dict[Key, int], list[EventRecord]]:
    first: dict[Key, int] = {}
    for index, record in enumerate(records):
        first.setdefault(record.key, index)
    return first, [records[index] for index in first.values()]


def batch_outcomes(records: Sequence[EventRecord], first: dict[Key, int], inserted: set[Key]) -> list[StoreOutcome]:
    """STORED for the first record of each newly inserted key; DUPLICATE for everything else."""
    return [
        StoreOutcome.STORED if record.key in inserted and first[record.key] == index else StoreOutcome.DUPLICATE
        for index, record in enumerate(records)
    ]


# PostgreSQL: the whole batch in ONE statement with a constant text (prepared once per connection).
# The rows travel as one JSON document of positional arrays (cheap to build; jsonb_array_elements
# unpacks them faster than json_to_recordset matches field names), times as Unix seconds. They are
# inserted into webhook_logs skipping known keys, and the new ones get their platform_events rows.
# A statement is atomic, so this needs no explicit transaction.
POSTGRES_BATCH: Final = """
WITH incoming AS (
    SELECT r->>0 AS platform, r->>1 AS event_id, r->>2 AS event_type, r->>3 AS shop_id, r->>4 AS payload,
           r->>5 AS raw_body, r->6 AS headers, r->>7 AS signature, r->>8 AS log_status,
           to_timestamp((r->>9)::float8) AS received_at, r->>10 AS kind, r->>11 AS order_id, r->>12 AS item_id,
           to_timestamp((r->>13)::float8) AS occurred_at, r->>14 AS event_status
    FROM jsonb_array_elements(%(rows)s::jsonb) AS r
),
stored AS (
    INSERT INTO webhook_logs (platform, event_id, event_type, shop_id, payload, raw_body, headers, signature,
                              status, attempts, received_at)
    SELECT platform, event_id, event_type, shop_id, COALESCE(payload, raw_body)::jsonb, raw_body, headers,
           signature, log_status, 0, received_at
    FROM incoming
    ON CONFLICT (platform, event_id) DO NOTHING
    RETURNING id, platform, event_id
),
normalized AS (
    INSERT INTO platform_events (webhook_log_id, platform, kind, event_type, shop_id, order_id, item_id,
                                 occurred_at, status, attempts, created_at)
    SELECT s.id, i.platform, i.kind, i.event_type, i.shop_id, i.order_id, i.item_id, i.occurred_at,
           i.event_status, 0, i.received_at
    FROM stored AS s JOIN incoming AS i ON i.platform = s.platform AND i.event_id = s.event_id
)
SELECT platform, event_id FROM stored
"""


def batch_rows_json(records: Sequence[EventRecord]) -> str:
    """The batch as the JSON document `POSTGRES_BATCH` unpacks: one array per record, in column order.

    The payload is left out (null) when it is the raw body itself, as it is for nearly every event:
    the statement stores the raw body as the payload then, and the body travels once, not twice.
    """
    return json.dumps(
        [
            [
                r.platform,
                r.event_id,
                r.event_type,
                r.shop_id,
                None if r.payload_json is r.raw_body else r.payload_json,
                r.raw_body,
                r.headers,
                r.signature,
                LOG_IGNORED if r.ignored else LOG_RECEIVED,
                r.received_at.timestamp(),
                r.kind.value,
                r.order_id,
                r.item_id,
                r.occurred_at.timestamp() if r.occurred_at else None,
                EVENT_IGNORED if r.ignored else EVENT_PENDING,
            ]
            for r in records
        ]
    )


def _write_portable(connection: sa.Connection, records: Sequence[EventRecord]) -> set[tuple[str, str]]:
    """SQLite (and any other dialect with ON CONFLICT and RETURNING): two statements, one transaction."""
    statement = (
        sqlite.insert(_LOGS)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(_LOGS.c.id, _LOGS.c.platform, _LOGS.c.event_id)
    )
    inserted = {
        (row.platform, row.event_id): row.id
        for row in connection.execute(statement, [_log_row(record) for record in records])
    }
    if inserted:
        by_key = {record.key: record for record in records}
        connection.execute(sa.insert(_EVENTS), [_event_row(by_key[key], log_id) for key, log_id in inserted.items()])
    return set(inserted)


def _log_row(record: EventRecord) -> dict[str, Any]:
    return {
        "platform": record.platform,
        "event_id": record.event_id,
        "event_type": record.event_type,
        "shop_id": record.shop_id,
        "payload": record.payload,
        "raw_body": record.raw_body,
        "headers": dict(record.headers),
        "signature": record.signature,
        "status": LOG_IGNORED if record.ignored else LOG_RECEIVED,
        "attempts": 0,
        "received_at": record.received_at,
    }


def _event_row(record: EventRecord, log_id: int) -> dict[str, Any]:
    return {
        "webhook_log_id": log_id,
        "platform": record.platform,
        "kind": record.kind.value,
        "event_type": record.event_type,
        "shop_id": record.shop_id,
        "order_id": record.order_id,
        "item_id": record.item_id,
        "occurred_at": record.occurred_at,
        "status": EVENT_IGNORED if record.ignored else EVENT_PENDING,
        "attempts": 0,
        "created_at": record.received_at,
    }


def is_data_error(error: Exception) -> bool:
    """True when the batch failed because of what a record holds, not because of the database."""
    if isinstance(error, sa.exc.DataError | sa.exc.IntegrityError | psycopg.DataError | psycopg.IntegrityError):
        return True
    if isinstance(error, sa.exc.DBAPIError | psycopg.Error | OSError | TimeoutError):
        return False  # connection, schema, lock or server trouble: the whole batch waits
    # Raised while binding a value (a StatementError that is no DBAPIError), or before reaching SQL.
    return isinstance(error, sa.exc.StatementError | WebhookRejected | ValueError | TypeError | UnicodeError)


def describe_failure(error: Exception) -> str:
    # The driver's class name, never its message (which may quote row values).
    original = getattr(error, "orig", None) or error
    return f"database unavailable: {type(original).__name__}"
