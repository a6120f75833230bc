# The two work queues' consumers: outbox events become pushes, marketplace events become stock moves and pulls.
"""Dispatch: what the `push_changes` and `apply_events` runs do.

`process_events` (the latency path: an order on one marketplace moves stock on the others)
    Reads the oldest pending `platform_events` and handles them by kind:

    - `order_status`: per shop, ONE `connector.get_orders` call for all the orders named, then per
      order `inventory.apply_order` and `events.mark_processed` in one transaction (each ledger
      transition applies once, so a second delivery or a second run has no second effect), then
      `sync.push_stock` of the variants whose stock moved, to every connected shop (stock only,
      no snapshot pull). The `inventory.changed` outbox event `apply_order` publishes commits held
      by this pass (`outbox.hold`): when the push reaches every shop the event is completed (one
      push per order per shop, no second consumer pushes it again); when it fails the stock is
      still right in the master and the event is failed, so the outbox retries the push.
    - `product_change` and `stock_change`: per shop, `snapshot.pull_items` of the items named,
      then `sync.sync_shop` of the master products bound to them (a marketplace edit becomes a
      conflict or is adopted; stock drift is pushed back, the master is the ledger of record).
    - `authorization`: a deauthorization marks the connection `expired` (the merchant must
      connect the shop again); an upcoming expiry is noted on the connection; a grant changes
      nothing.
    - `unknown`, events of shops that are not connected, and events with nothing to act on are
      marked `ignored`.

    An event whose handling raises is counted as failed (`events.mark_failed`, with the error;
    it stays pending until its attempts are used up) and the others go on.

`serve_events` (the events worker: THE consumer of both queues in production)
    Dagster's sensors tick at most every 5 s and each run starts a process (about 6.5 s on a
    2-core machine), which alone breaks a 10 s order-to-stock target. `serve_events` is a
    long-lived loop over `process_events` then `push_outbox` that looks for work every half second
    with a warm connector factory, and records a heartbeat (`syncstore.workers.heartbeats`) every few seconds:
    while it is fresh Dagster's queue sensors start no run (they are the fallback when no worker
    runs). Every `recovery_interval_s` it also runs `syncstore.workers.recovery.recover` (W9): Shopee's
    lost pushes are read and every shop's orders polled by update time, so a lost webhook costs
    minutes. Should a fallback run overlap the worker, every effect still applies once.

`push_outbox`
    Claims due outbox events of the types below, groups the products they name per connected
    shop and runs `sync.sync_shop(product_ids=...)` once per shop; `inventory.changed` becomes
    one `sync.push_stock`; `sync.bulk_requested` runs `sync.run_bulk_sync`. An event is completed
    when every shop it concerns synced without a failed change, otherwise `outbox.fail` backs it
    off (and marks it failed after its last attempt).

After the stock of the orders applied, and after the outbox events naming variants, those variants'
low-stock alerts are judged (`syncstore.inventory.low_stock.after_stock_change`: opened and notified
once, or resolved; an error there is logged and never fails the pass).

Errors recorded here come from connectors and syncstore, whose messages carry no secret.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import Connector
from syncstore.db.engine import transaction
from syncstore.db.models import (
    OutboxEvent,
    PlatformConnection,
    PlatformEvent,
    PlatformListing,
    ProductVariant,
)
from syncstore.db.types import utcnow
from syncstore.events import outbox, platform_events
from syncstore.inventory import ledger as inventory
from syncstore.inventory import low_stock
from syncstore.ops import alerts
from syncstore.orders import record as order_record
from syncstore.settings import get_settings
from syncstore.sync import engine as sync
from syncstore.sync import snapshot
from syncstore.workers import heartbeats, recovery

logger = logging.getLogger(__name__)

ConnectorFactory = Callable[[int], Connector]

PRODUCT_EVENTS: Final = ("product.created", "product.updated", "product.deleted")
INVENTORY_CHANGED: Final = "inventory.changed"
CONFLICT_RESOLVED: Final = "conflict.resolved"
BULK_REQUESTED: Final = "sync.bulk_requested"
OUTBOX_EVENT_TYPES: Final = (*PRODUCT_EVENTS, INVENTORY_CHANGED, CONFLICT_RESOLVED, BULK_REQUESTED)

# Marketplace authorization events by platform and the platform's own type.
_REVOKED: Final = {(spec.name, code) for spec in registry.platforms() for code in spec.revoked_event_types}
_EXPIRING: Final = {(spec.name, code) for spec in registry.platforms() for code in spec.expiring_event_types}
# A product edit, a promotion's reserved stock (Shopee code 8) or an audit result (TikTok Shop type 5):
# each is "read this item again", never a stock move of its own.
_ITEM_KINDS: Final = ("product_change", "stock_change", "product_audit")


@dataclass(frozen=True)
class DispatchReport:
    """What one dispatch pass did: events taken, finished and failed; shops synced; variants whose stock was pushed."""

    claimed: int
    completed: int
    failed: int
    shops: int
    variants: int


@dataclass
class _Tally:
    completed: int = 0
    failed: int = 0
    shops: set[int] = field(default_factory=set)
    variants: set[int] = field(default_factory=set)
    # The `inventory.changed` outbox events the applied orders published, held while this pass pushes their stock.
    announcements: list[outbox.ClaimedEvent] = field(default_factory=list)


@dataclass(frozen=True)
class PendingWork:
    """Work waiting in a queue, as the sensors see it.

    `signature` changes whenever the waiting work changes (a new event, another attempt), and is
    "" when there is none: a sensor that names its runs after it never launches the same work twice.
    """

    count: int
    signature: str


def outbox_work(engine: sa.Engine, *, now: datetime | None = None) -> PendingWork:
    """Outbox events `push_outbox` could claim right now (due, not held by a lease)."""
    at = now or utcnow()
    query = sa.select(sa.func.count(), sa.func.max(OutboxEvent.id), sa.func.sum(OutboxEvent.attempts)).where(
        OutboxEvent.status == "pending",
        OutboxEvent.event_type.in_(OUTBOX_EVENT_TYPES),
        OutboxEvent.next_attempt_at <= at,
        sa.or_(OutboxEvent.locked_until.is_(None), OutboxEvent.locked_until <= at),
    )
    with engine.connect() as connection:
        count, last_id, attempts = connection.execute(query).one()
    return PendingWork(int(count), f"{last_id}.{attempts or 0}" if count else "")


def event_work(engine: sa.Engine) -> PendingWork:
    """Pending marketplace events (what `process_events` would take)."""
    query = sa.select(sa.func.count(), sa.func.max(PlatformEvent.id), sa.func.sum(PlatformEvent.attempts)).where(
        PlatformEvent.status == platform_events.PENDING
    )
    with engine.connect() as connection:
        count, last_id, attempts = connection.execute(query).one()
    return PendingWork(int(count), f"{last_id}.{attempts or 0}" if count else "")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# --- marketplace events ---------------------------------------------------------------------


def _connected_shops(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(platform, shop_id) -> connection id, for the connected shops among `keys`."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(PlatformConnection.id, PlatformConnection.platform, PlatformConnection.shop_id).where(
            PlatformConnection.status == "connected",
            PlatformConnection.shop_id.in_(sorted({shop_id for _, shop_id in wanted})),
        )
    ).all()
    return {(row.platform, row.shop_id): row.id for row in rows if (row.platform, row.shop_id) in wanted}


def _fail_events(
    engine: sa.Engine, batch: Sequence[platform_events.Event], error: BaseException, tally: _Tally
) -> None:
    message = _describe(error)
    logger.warning("%d marketplace event(s) failed: %s", len(batch), message)
    with transaction(engine) as session:
        for event in batch:
            platform_events.mark_failed(session, event.id, message)
    tally.failed += len(batch)


def _finish(engine: sa.Engine, batch: Sequence[platform_events.Event], tally: _Tally, *, ignored: bool = False) -> None:
    if not batch:
        return
    with transaction(engine) as session:
        ids = [event.id for event in batch]
        if ignored:
            platform_events.mark_ignored(session, ids)
        else:
            platform_events.mark_processed(session, ids)
    tally.completed += len(batch)


def _apply_orders(
    engine: sa.Engine,
    connection_id: int,
    batch: Sequence[platform_events.Event],
    connectors: ConnectorFactory,
    tally: _Tally,
    holder: str,
) -> None:
    """One shop's order events: one get_orders call, then each order applied with its events marked, atomically."""
    by_order: dict[str, list[platform_events.Event]] = defaultdict(list)
    for event in batch:
        by_order[str(event.order_id)].append(event)
    try:
        remote = connectors(connection_id).get_orders(sorted(by_order))
    except Exception as error:
        _fail_events(engine, batch, error, tally)
        return
    found = {order.order_id: order for order in remote}
    for order_id, order_events in by_order.items():
        order = found.get(order_id)
        if order is None:
            _fail_events(engine, order_events, LookupError(f"the marketplace returned no order {order_id}"), tally)
            continue
        try:
            with transaction(engine) as session:
                connection = session.get_one(PlatformConnection, connection_id)
                effect = inventory.apply_order(session, connection, order)
                order_record.record_order(session, connection, order, effect)
                platform_events.mark_processed(session, [event.id for event in order_events])
                # This pass pushes the stock itself: the announcement commits held, no other consumer pushes it.
                held = (
                    outbox.hold(session, [effect.announcement_id], worker_id=holder) if effect.announcement_id else []
                )
        except Exception as error:
            _fail_events(engine, order_events, error, tally)
            continue
        if effect.unknown_lines:
            logger.info("order %s: lines %s match no master variant", order_id, ", ".join(effect.unknown_lines))
        tally.completed += len(order_events)
        tally.variants.update(effect.variant_ids)
        tally.announcements.extend(held)


def _push_stock(
    engine: sa.Engine,
    variant_ids: set[int],
    connectors: ConnectorFactory,
    run_id: str | None,
    announcements: Sequence[outbox.ClaimedEvent],
) -> set[int]:
    """Push the new available stock everywhere and settle the held announcements; the shops reached.

    Pushed to every shop without a failed change: the announcements are completed (the stock was
    pushed once). Otherwise they are failed and the outbox retries the push after its back-off;
    the shops already reached then see no change (their stock is already the pushed value).
    A failure is logged, not raised.
    """
    error, shops = _push_everywhere(engine, variant_ids, connectors, run_id)
    outbox.settle(engine, announcements, error)
    if error:
        logger.warning("pushing stock of %d variant(s) failed (the outbox retries it): %s", len(variant_ids), error)
    return shops


def _push_everywhere(
    engine: sa.Engine, variant_ids: set[int], connectors: ConnectorFactory, run_id: str | None
) -> tuple[str | None, set[int]]:
    """Push these variants' stock to every shop listing them; (None or why it failed, the shops reached)."""
    if not variant_ids:
        return None, set()
    try:
        reports = sync.push_stock(engine, sorted(variant_ids), connectors, run_id=run_id)
    except Exception as error:
        return f"stock push: {_describe(error)}", set()
    failed = [report for report in reports if report.failed]
    shops = {report.connection_id for report in reports}
    if failed:
        detail = ", ".join(f"connection {r.connection_id}: {r.failed} failed" for r in failed)
        return f"stock push: {detail}", shops
    return None, shops


def _bound_products(session: Session, connection_id: int, item_ids: Sequence[str]) -> list[int]:
    rows = session.scalars(
        sa.select(PlatformListing.product_id)
        .where(PlatformListing.connection_id == connection_id, PlatformListing.remote_item_id.in_(list(item_ids)))
        .distinct()
    )
    return sorted(product_id for product_id in rows if product_id is not None)


def _apply_item_changes(
    engine: sa.Engine,
    connection_id: int,
    batch: Sequence[platform_events.Event],
    connectors: ConnectorFactory,
    run_id: str | None,
    tally: _Tally,
) -> None:
    """One shop's product and stock events: pull those items, then sync the products bound to them."""
    item_ids = sorted({str(event.item_id) for event in batch})
    try:
        connector = connectors(connection_id)
        snapshot.pull_items(engine, connection_id, connector, item_ids)
        with transaction(engine) as session:
            product_ids = _bound_products(session, connection_id, item_ids)
        if product_ids:
            sync.sync_shop(engine, connection_id, connector, product_ids=product_ids, run_id=run_id)
            tally.shops.add(connection_id)
    except Exception as error:
        _fail_events(engine, batch, error, tally)
        return
    _finish(engine, batch, tally)


def _apply_authorization(engine: sa.Engine, connection_id: int, event: platform_events.Event, tally: _Tally) -> None:
    with transaction(engine) as session:
        connection = session.get_one(PlatformConnection, connection_id, with_for_update=True)
        key = (event.platform, event.event_type)
        if key in _REVOKED:
            connection.status = "expired"
            connection.last_error = (
                f"the seller withdrew the authorization on {event.platform} ({utcnow():%Y-%m-%d %H:%M} UTC): "
                "connect the shop again"
            )
        elif key in _EXPIRING:
            connection.last_error = (
                f"the {event.platform} authorization expires soon: connect the shop again to renew it"
            )
        platform_events.mark_processed(session, [event.id])
    tally.completed += 1


def process_events(
    engine: sa.Engine, connectors: ConnectorFactory, *, limit: int = 500, run_id: str | None = None
) -> DispatchReport:
    """Handle up to `limit` pending marketplace events, oldest first (see the module docstring)."""
    with transaction(engine) as session:
        batch = platform_events.pending(session, limit)
        shops = _connected_shops(session, {(e.platform, e.shop_id) for e in batch if e.shop_id is not None})
    tally = _Tally()
    ignored: list[platform_events.Event] = []
    orders: dict[int, list[platform_events.Event]] = defaultdict(list)
    items: dict[int, list[platform_events.Event]] = defaultdict(list)
    authorizations: list[tuple[int, platform_events.Event]] = []
    for event in batch:
        connection_id = shops.get((event.platform, event.shop_id or ""))
        if connection_id is None or event.kind == "unknown":
            ignored.append(event)
        elif event.kind == "order_status" and event.order_id:
            orders[connection_id].append(event)
        elif event.kind in _ITEM_KINDS and event.item_id:
            items[connection_id].append(event)
        elif event.kind == "authorization":
            authorizations.append((connection_id, event))
        else:
            ignored.append(event)
    _finish(engine, ignored, tally, ignored=True)
    # Orders first: stock is what buyers see, and a stock event then pulls stock the ledger already knows.
    holder = f"events:{run_id or uuid.uuid4().hex}"
    for connection_id, order_events in orders.items():
        _apply_orders(engine, connection_id, order_events, connectors, tally, holder)
    tally.shops |= _push_stock(engine, tally.variants, connectors, run_id, tally.announcements)
    low_stock.after_stock_change(engine, tally.variants)
    for connection_id, item_events in items.items():
        _apply_item_changes(engine, connection_id, item_events, connectors, run_id, tally)
    for connection_id, event in authorizations:
        try:
            _apply_authorization(engine, connection_id, event, tally)
        except Exception as error:
            _fail_events(engine, [event], error, tally)
    return DispatchReport(
        claimed=len(batch), completed=tally.completed, failed=tally.failed, shops=len(tally.shops),
        variants=len(tally.variants),
    )  # fmt: skip


@dataclass(frozen=True)
class DatabaseOutage:
    """The database stopped answering at `since` (UTC) with an error of kind `error` (never its text)."""

    since: datetime
    error: str


def record_database_outage(engine: sa.Engine, subject: str, outage: DatabaseOutage, *, who: str) -> bool:
    """Record an outage that just ended as a `database_error` alert (and notify it); False if still down.

    Called once the database answers again: the alert written during the outage could not be stored.
    """
    back = utcnow()
    message = (
        f"{who} lost the database at {outage.since:%Y-%m-%d %H:%M:%S} UTC ({outage.error}); it answered again "
        f"at {back:%Y-%m-%d %H:%M:%S} UTC"
    )
    details = {"error": outage.error, "down_since": outage.since.isoformat(), "back_at": back.isoformat()}
    try:
        with transaction(engine) as session:
            alert, opened = alerts.raise_alert(
                session, alerts.DATABASE_ERROR, subject, message, severity="critical", details=details
            )
    except SQLAlchemyError as error:
        logger.warning("%s: the database outage is not recorded yet (%s)", who, type(error).__name__)
        return False
    logger.warning("%s", message)
    if opened:
        alerts.notify(engine, [alert])
    return True


def serve_events(
    engine: sa.Engine,
    connectors: ConnectorFactory,
    *,
    stop: threading.Event,
    poll_interval_s: float = 0.5,
    error_pause_s: float = 5.0,
    limit: int = 500,
    recovery_interval_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    worker_id: str | None = None,
    heartbeat_interval_s: float | None = None,
    drain_outbox: bool = True,
) -> int:
    """Consume both queues as work arrives until `stop` is set; the number of marketplace events handled.

    Each pass runs `process_events`, then `push_outbox` (unless `drain_outbox` is False): the worker
    is the one consumer of both queues. Looks again every `poll_interval_s` while idle and goes
    straight on while work keeps coming. With a `worker_id` it records a heartbeat
    (`syncstore.workers.heartbeats.beat`) every `heartbeat_interval_s` (default `worker_heartbeat_seconds`),
    which keeps Dagster's queue sensors quiet, and removes it when it stops.

    A database error is logged and reported once (a `database_error` alert, POSTed to the alert
    webhook unrecorded when the database cannot take it), then retried after `error_pause_s`;
    the loop itself never dies of one. The outage is remembered and recorded as a `database_error`
    alert (when it began, when it ended, the error) as soon as the database answers again (S9).
    """
    handled = 0
    outage: DatabaseOutage | None = None
    last_recovery: float | None = None
    last_beat: float | None = None
    beat_every = heartbeat_interval_s if heartbeat_interval_s is not None else get_settings().worker_heartbeat_seconds
    try:
        while not stop.is_set():
            if worker_id is not None and (last_beat is None or clock() - last_beat >= beat_every):
                last_beat = clock()
                _beat(engine, worker_id)
            report = _serve_pass(engine, connectors, limit, recovery_interval_s, last_recovery, clock, drain_outbox)
            if report.recovered_at is not None:
                last_recovery = report.recovered_at
            if report.error is not None:
                if outage is None:
                    outage = DatabaseOutage(since=utcnow(), error=type(report.error).__name__)
                    logger.warning("events worker: the database failed (%s); retrying", outage.error)
                    # Recorded if the database still takes writes, else POSTed to the alert webhook unrecorded.
                    alerts.report_failure(
                        engine, alerts.DATABASE_ERROR, "events-worker",
                        f"the events worker lost the database: {report.error}",
                        details={"error": outage.error, "down_since": outage.since.isoformat()},
                    )  # fmt: skip
                stop.wait(error_pause_s)
                continue
            if outage is not None and record_database_outage(engine, "events-worker", outage, who="the events worker"):
                outage = None  # else the database answered a read but not the write: tried again next pass
            handled += report.handled
            # Idle, or only failures (they are retried on a later pass): wait before the next look.
            if not report.progressed:
                stop.wait(poll_interval_s)
    finally:
        if worker_id is not None:
            try:
                heartbeats.forget(engine, worker_id)
            except SQLAlchemyError as error:
                logger.warning("events worker: its heartbeat was not removed (%s)", type(error).__name__)
    return handled


def _beat(engine: sa.Engine, worker_id: str) -> None:
    try:
        heartbeats.beat(engine, worker_id)
    except SQLAlchemyError as error:  # the pass that follows reports the outage
        logger.warning("events worker: heartbeat not recorded (%s)", type(error).__name__)


@dataclass(frozen=True)
class _Pass:
    handled: int = 0
    progressed: bool = False
    recovered_at: float | None = None
    error: SQLAlchemyError | None = None


def _serve_pass(
    engine: sa.Engine,
    connectors: ConnectorFactory,
    limit: int,
    recovery_interval_s: float | None,
    last_recovery: float | None,
    clock: Callable[[], float],
    drain_outbox: bool,
) -> _Pass:
    """One pass of the worker: recovery when due, then the marketplace events, then the outbox."""
    recovered_at = None
    if recovery_interval_s is not None and recovery.due(last_recovery, clock(), recovery_interval_s):
        recovered_at = clock()
        try:
            recovered = recovery.recover(engine, connectors, run_id="events-worker")
            if recovered.transitions or recovered.lost_pushes_stored:
                logger.info(
                    "recovery: %d lost push(es) stored, %d ledger transition(s) from order polls",
                    recovered.lost_pushes_stored, recovered.transitions,
                )  # fmt: skip
        except Exception as error:
            logger.warning("recovery pass failed (%s); next pass in %.0f s", error, recovery_interval_s)
    try:
        report = process_events(engine, connectors, limit=limit, run_id="events-worker")
        pushed = push_outbox(engine, connectors, limit=limit, run_id="events-worker") if drain_outbox else None
    except SQLAlchemyError as error:
        return _Pass(recovered_at=recovered_at, error=error)
    progressed = (report.claimed > 0 and report.completed > 0) or (
        pushed is not None and pushed.claimed > 0 and pushed.completed > 0
    )
    return _Pass(report.completed + report.failed, progressed, recovered_at)


# --- the outbox -----------------------------------------------------------------------------


@dataclass
class _OutboxWork:
    """What the claimed events ask for, and which shops (or pushes) each event depends on."""

    products_per_shop: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    shops_of_event: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    stock_variants: set[int] = field(default_factory=set)
    stock_events: list[int] = field(default_factory=list)
    bulk_jobs: dict[int, int] = field(default_factory=dict)  # event id -> job id
    invalid: dict[int, str] = field(default_factory=dict)  # event id -> why it cannot be done


def _int_list(value: object) -> list[int]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, int) and not isinstance(item, bool)]


def _plan_outbox(session: Session, claimed: Sequence[outbox.ClaimedEvent]) -> _OutboxWork:
    work = _OutboxWork()
    connected = list(session.scalars(sa.select(PlatformConnection.id).where(PlatformConnection.status == "connected")))
    for event in claimed:
        payload = event.payload
        if event.event_type == BULK_REQUESTED:
            job_id = payload.get("job_id")
            if isinstance(job_id, int):
                work.bulk_jobs[event.id] = job_id
            else:
                work.invalid[event.id] = "sync.bulk_requested without an integer job_id"
        elif event.event_type == INVENTORY_CHANGED:
            work.stock_variants.update(_int_list(payload.get("variant_ids")))
            work.stock_events.append(event.id)
        else:
            product_id = payload.get("product_id")
            if not isinstance(product_id, int):
                # A variant-only payload still names its products.
                variant_ids = _int_list(payload.get("variant_ids"))
                products = set(
                    session.scalars(sa.select(ProductVariant.product_id).where(ProductVariant.id.in_(variant_ids)))
                )
            else:
                products = {product_id}
            target = payload.get("connection_id") if event.event_type == CONFLICT_RESOLVED else None
            shops = [target] if isinstance(target, int) and target in connected else connected
            for connection_id in shops:
                work.products_per_shop[connection_id] |= products
                work.shops_of_event[event.id].add(connection_id)
    return work


def _sync_shops(
    engine: sa.Engine, work: _OutboxWork, connectors: ConnectorFactory, run_id: str | None
) -> dict[int, str | None]:
    """Sync each shop's products once; connection id -> None when it went through, else the reason."""
    outcome: dict[int, str | None] = {}
    for connection_id, product_ids in sorted(work.products_per_shop.items()):
        if not product_ids:
            outcome[connection_id] = None
            continue
        try:
            report = sync.sync_shop(
                engine, connection_id, connectors(connection_id), product_ids=sorted(product_ids), run_id=run_id
            )
        except Exception as error:
            outcome[connection_id] = f"connection {connection_id}: {_describe(error)}"
            continue
        failed = report.failed
        outcome[connection_id] = f"connection {connection_id}: {failed} change(s) failed" if failed else None
    return outcome


def push_outbox(
    engine: sa.Engine, connectors: ConnectorFactory, *, limit: int = 500, run_id: str | None = None
) -> DispatchReport:
    """Claim due outbox events and push what they announce (see the module docstring)."""
    worker = f"push:{run_id or uuid.uuid4().hex}"
    claimed = outbox.claim(engine, worker_id=worker, limit=limit, event_types=OUTBOX_EVENT_TYPES)
    if not claimed:
        return DispatchReport(claimed=0, completed=0, failed=0, shops=0, variants=0)
    with transaction(engine) as session:
        work = _plan_outbox(session, claimed)
    shop_outcome = _sync_shops(engine, work, connectors, run_id)
    stock_error, stock_shops = _push_everywhere(engine, work.stock_variants, connectors, run_id)
    errors: dict[int, str] = dict(work.invalid)
    for event_id, shops in work.shops_of_event.items():
        reasons = [reason for shop in sorted(shops) if (reason := shop_outcome.get(shop))]
        if reasons:
            errors[event_id] = "; ".join(reasons)
    if stock_error:
        errors.update(dict.fromkeys(work.stock_events, stock_error))
    for event_id, job_id in work.bulk_jobs.items():
        try:
            sync.run_bulk_sync(engine, job_id, connectors, run_id=run_id)
        except Exception as error:
            errors[event_id] = f"bulk sync job {job_id}: {_describe(error)}"
    done = [event for event in claimed if event.id not in errors]
    completed = len(outbox.complete_many(engine, done))
    failed = 0
    for event in claimed:
        if event.id in errors:
            outbox.fail(engine, event.id, event.claim_token, errors[event.id])
            failed += 1
    if errors:
        logger.warning("%d outbox event(s) failed; first: %s", len(errors), next(iter(errors.values())))
    # Stock changes and catalog edits naming variants: their low-stock alerts open or resolve.
    low_stock.after_stock_change(engine, {v for event in claimed for v in _int_list(event.payload.get("variant_ids"))})
    return DispatchReport(
        claimed=len(claimed), completed=completed, failed=failed,
        shops=len(set(shop_outcome) | stock_shops), variants=len(work.stock_variants),
    )  # fmt: skip
