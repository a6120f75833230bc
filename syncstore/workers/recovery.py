# W9: what a lost webhook costs is minutes, never an order: orders polled by update time, lost pushes read.
"""The polling backstop for marketplace webhooks (reference principle 2, promise W9).

Webhooks are lossy: a receiver that is down when a platform gives up its retries (TikTok Shop
stops after about 12 hours, Shopee parks the push in its lost-push list for 3 days) never sees that
event again. Two paths recover them without a full reconcile:

- `poll_orders`: every connected shop's orders updated since its `order_cursor` (minus an overlap
  for late platform commits) are read through `Connector.list_changed_orders` and applied through
  the stock ledger (`inventory.apply_order`: each transition once, so a poll that sees an order
  the webhook path already applied changes nothing). The cursor moves to the poll's upper bound
  only after every order of the window is applied, so a crash re-reads the window. A disconnected
  shop keeps its cursor: when it is connected again, the next poll catches up on the orders it
  missed (Shopee windows of at most 15 days are the connector's business).
- `recover_lost_pushes`: each platform's undelivered pushes (Shopee `get_lost_push_message`; TikTok
  Shop has none) are stored as platform events through the receiver's own dedup (`store_batch`),
  so a push that also arrived live is stored once, and the events worker applies them.

`recover` runs both and pushes the stock that moved to every channel. The events worker calls it
every `order_poll_seconds`; the Dagster schedule `recover_orders` does the same when no worker runs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from connectors.base import Connector
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection
from syncstore.db.types import utcnow
from syncstore.events import outbox, webhooks
from syncstore.inventory import ledger as inventory
from syncstore.inventory import low_stock
from syncstore.orders import record as order_record
from syncstore.settings import Settings, get_settings
from syncstore.sync import engine as sync

logger = logging.getLogger(__name__)

ConnectorFactory = Callable[[int], Connector]


@dataclass
class PollReport:
    """One shop's order poll."""

    connection_id: int
    since: datetime
    until: datetime
    orders: int = 0
    transitions: int = 0
    variant_ids: set[int] = field(default_factory=set)
    error: str | None = None
    # The `inventory.changed` outbox events of the applied orders, held until `recover` has pushed their stock.
    held: list[outbox.ClaimedEvent] = field(default_factory=list)


@dataclass
class RecoveryReport:
    polls: list[PollReport] = field(default_factory=list)
    lost_pushes_stored: int = 0
    lost_push_errors: list[str] = field(default_factory=list)
    pushed_to: set[int] = field(default_factory=set)

    @property
    def transitions(self) -> int:
        return sum(poll.transitions for poll in self.polls)

    @property
    def failed_shops(self) -> list[int]:
        return [poll.connection_id for poll in self.polls if poll.error]


def _connected(engine: sa.Engine) -> list[tuple[int, str]]:
    with transaction(engine) as session:
        rows = session.execute(
            sa.select(PlatformConnection.id, PlatformConnection.platform)
            .where(PlatformConnection.status == "connected")
            .order_by(PlatformConnection.id)
        ).all()
    return [(row.id, row.platform) for row in rows]


def poll_shop_orders(
    engine: sa.Engine,
    connection_id: int,
    connector: Connector,
    *,
    now: datetime | None = None,
    overlap: timedelta = timedelta(minutes=5),
    hold_as: str | None = None,
) -> PollReport:
    """Apply every order of this shop updated since its cursor; the cursor moves only when all are applied.

    The first poll of a shop starts at the time it was connected: orders placed before are already
    in the stock the merchant imported. With `hold_as`, the `inventory.changed` outbox events of the
    applied orders commit held by that worker (`outbox.hold`, kept in `PollReport.held`): the
    caller pushes their stock itself and settles them.
    """
    until = now or utcnow()
    with transaction(engine) as session:
        connection = session.get_one(PlatformConnection, connection_id)
        cursor = connection.order_cursor or connection.created_at
    since = min(cursor - overlap, until)
    report = PollReport(connection_id, since, until)
    try:
        for order in connector.list_changed_orders(since, until):
            with transaction(engine) as session:
                connection = session.get_one(PlatformConnection, connection_id)
                effect = inventory.apply_order(session, connection, order)
                order_record.record_order(session, connection, order, effect)
                if effect.announcement_id is not None and hold_as is not None:
                    report.held += outbox.hold(session, [effect.announcement_id], worker_id=hold_as)
            report.orders += 1
            report.transitions += len(effect.applied)
            report.variant_ids.update(effect.variant_ids)
    except Exception as error:
        # The stock of the orders applied so far goes out through the outbox (after its back-off).
        outbox.settle(engine, report.held, f"order poll of connection {connection_id}: {type(error).__name__}")
        raise
    with transaction(engine) as session:
        connection = session.get_one(PlatformConnection, connection_id, with_for_update=True)
        if connection.order_cursor is None or connection.order_cursor < until:
            connection.order_cursor = until
    if report.transitions:
        logger.info(
            "order poll of connection %s recovered %d ledger transition(s) from %d order(s)",
            connection_id, report.transitions, report.orders,
        )  # fmt: skip
    return report


def poll_orders(
    engine: sa.Engine,
    connectors: ConnectorFactory,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
    hold_as: str | None = None,
) -> list[PollReport]:
    """Poll every connected shop; one shop's failure is reported and the others go on."""
    settings = settings or get_settings()
    overlap = timedelta(seconds=settings.order_poll_overlap_seconds)
    reports = []
    for connection_id, _platform in _connected(engine):
        try:
            connector = connectors(connection_id)
            reports.append(
                poll_shop_orders(engine, connection_id, connector, now=now, overlap=overlap, hold_as=hold_as)
            )
        except Exception as error:
            logger.warning("order poll of connection %s failed: %s", connection_id, error)
            until = now or utcnow()
            reports.append(PollReport(connection_id, until, until, error=f"{type(error).__name__}: {error}"))
    return reports


def recover_lost_pushes(
    engine: sa.Engine, connectors: ConnectorFactory, *, now: datetime | None = None
) -> tuple[int, list[str]]:
    """Store every platform's lost pushes as events (deduplicated); (how many were new, errors)."""
    by_platform: dict[str, int] = {}
    for connection_id, platform in _connected(engine):
        by_platform.setdefault(platform, connection_id)  # lost pushes are per app: one shop asks for all
    stored, errors = 0, []
    for platform, connection_id in sorted(by_platform.items()):
        try:
            missed = connectors(connection_id).fetch_missed_events()
            received_at = now or utcnow()
            records = [webhooks.record_from_event(event, received_at=received_at) for event in missed]
            outcomes = webhooks.store_batch(engine, records)
        except Exception as error:
            logger.warning("reading %s lost pushes failed: %s", platform, error)
            errors.append(f"{platform}: {type(error).__name__}: {error}")
            continue
        stored += sum(outcome is webhooks.StoreOutcome.STORED for outcome in outcomes)
    return stored, errors


def recover(
    engine: sa.Engine,
    connectors: ConnectorFactory,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
    run_id: str | None = None,
) -> RecoveryReport:
    """Lost pushes, then order polls, then the stock that moved pushed to every channel.

    The stock is pushed once: the `inventory.changed` events the polled orders published stay held
    until this push, then are completed (or failed, and the outbox retries the push).
    """
    report = RecoveryReport()
    report.lost_pushes_stored, report.lost_push_errors = recover_lost_pushes(engine, connectors, now=now)
    holder = f"recovery:{run_id or uuid.uuid4().hex}"
    report.polls = poll_orders(engine, connectors, now=now, settings=settings, hold_as=holder)
    moved: set[int] = set().union(*(poll.variant_ids for poll in report.polls)) if report.polls else set()
    held = [event for poll in report.polls for event in poll.held]
    if moved:
        try:
            reports = sync.push_stock(engine, sorted(moved), connectors, run_id=run_id)
        except Exception as error:
            outbox.settle(engine, held, f"stock push: {type(error).__name__}: {error}")
            raise
        report.pushed_to = {shop.connection_id for shop in reports}
        failed = [f"connection {shop.connection_id}: {shop.failed} failed" for shop in reports if shop.failed]
        outbox.settle(engine, held, f"stock push: {', '.join(failed)}" if failed else None)
    else:
        outbox.settle(engine, held, None)
    low_stock.after_stock_change(engine, moved)
    return report


def due(last_run: float | None, now: float, interval_s: float) -> bool:
    """Whether a recovery pass is due (the events worker's timer)."""
    return last_run is None or now - last_run >= interval_s
