# Applying a shop's planned changes through its connector: batched calls, sync logs, baseline moved only on success.
"""Apply changes to one shop.

1. Every change gets its `sync_logs` row, `pending`, committed BEFORE any call (`sync_logs.open_logs`;
   a row left pending by a crash is found again by the change's idempotency key and reused).
   Changes with validation issues are not sent: their row is `failed` with the issues.
2. Each variant's handler (`syncstore.plan.handlers`) groups its changes into calls to the platform's
   limits (the connector packs each call: one item per price or stock call, 50 or 20 items per status
   call); the connector's gate is the shop's rate limiter.
3. After each call, in one transaction: each change's row is finished (`success` or `failed`, per SKU
   for batch writes that fail partly), and on success the handler's snapshot write moves the remote
   value AND the baseline to the value sent. A failed change leaves the baseline alone, so the next
   plan sends it again.

Why a re-run has one effect: price, stock, field and status writes set a value (sending it twice
changes nothing the second time); a create carries the change's key to the platform (TikTok Shop's
`idempotency_key`; on Shopee the connector first looks the listing up by its SKU), so a create
repeated after a crash finds the listing made before instead of making another.

A quota, revoked-authorization or expired-token answer stops the run for this shop: the changes not
yet sent are marked failed with that reason (the next run sends them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.base import AuthExpired, AuthRevoked, Connector, ConnectorError, ListingStatus, QuotaExhausted
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, PlatformListingSku
from syncstore.db.types import utcnow
from syncstore.media.uploads import ensure_uploaded
from syncstore.plan.calls import estimate_calls
from syncstore.plan.changes import Adopt, PlannedChange
from syncstore.plan.handlers import (
    Call,
    ContentWritten,
    ListingCreated,
    Outcome,
    SkuBound,
    SkuPriceWritten,
    SkuStockWritten,
    SnapshotWrite,
    StatusWritten,
    VariantAdded,
    calls_for,
)
from syncstore.plan.inputs import Shop
from syncstore.plan.validation import rules_for
from syncstore.sync import logs as sync_logs
from syncstore.sync.snapshot import IN_REVIEW

# Errors after which nothing more is sent to this shop in this run.
STOPPING: Final = (QuotaExhausted, AuthRevoked, AuthExpired)
OPEN_CHUNK: Final = 500


# connection_id -> that shop's Connector (rate limited); faces build it with marketplaces.connector_for.
ConnectorFactory = Callable[[int], Connector]


@dataclass(frozen=True)
class SyncReport:
    connection_id: int
    planned: int
    succeeded: int
    failed: int
    invalid: int
    conflicts: int
    adopted: int
    api_calls: int


@dataclass(frozen=True)
class ApplyOutcome:
    succeeded: int
    failed: int
    invalid: int
    api_calls: int


def log_entry(shop: Shop, change: PlannedChange) -> sync_logs.LogEntry:
    """The sync log row of a change: its key, where it lands and its request (JSON, Decimal as text)."""
    return sync_logs.LogEntry(
        idempotency_key=change.idempotency_key, connection_id=shop.connection_id, platform=shop.platform,
        operation=change.operation, product_id=change.product_id, variant_id=change.variant_id,
        remote_item_id=change.remote_item_id, request=change.request(),
    )  # fmt: skip


class _Run:
    def __init__(self, engine: sa.Engine, shop: Shop, connector: Connector, log_ids: dict[str, int]) -> None:
        self.engine, self.shop, self.connector, self.log_ids = engine, shop, connector, log_ids
        self.succeeded = self.failed = 0
        self.stopped: ConnectorError | None = None
        self.sent: list[PlannedChange] = []

    def finish(self, session: Session, outcome: Outcome, started: float | None = None) -> None:
        change = outcome.change
        duration = int((time.monotonic() - started) * 1000) if started is not None else None
        sync_logs.finish_log(
            session, self.log_ids[change.idempotency_key], ok=outcome.ok, response=outcome.response,
            error=outcome.error, duration_ms=duration, remote_item_id=outcome.remote_item_id,
        )  # fmt: skip
        if change.listing_id is not None and change.operation != "create":
            _mark_listing(session, change.listing_id, outcome.ok, outcome.error)
        if outcome.ok:
            self.succeeded += 1
        else:
            self.failed += 1

    def call(self, call: Call) -> None:
        """One platform call; its outcomes (and snapshot writes) recorded, a raised error fails them all."""
        if self.stopped is not None and call.remote:
            self._fail_all(call.changes, f"not sent: {self.stopped}")
            return
        started = time.monotonic()
        if call.remote:
            self.sent.extend(call.changes)
        try:
            outcomes = call.run(self.connector)
        except ConnectorError as error:
            if isinstance(error, STOPPING):
                self.stopped = error
            self._fail_all(call.changes, str(error), started)
            return
        with transaction(self.engine) as session:
            for outcome in outcomes:
                if outcome.ok and outcome.write is not None:
                    _write(session, self.shop, outcome.write)
                    session.flush()
                self.finish(session, outcome, started if call.remote else None)

    def _fail_all(self, changes: Sequence[PlannedChange], message: str, started: float | None = None) -> None:
        with transaction(self.engine) as session:
            for change in changes:
                self.finish(session, Outcome(change, False, error=message), started)


def _mark_listing(session: Session, listing_id: int, ok: bool, error: str | None) -> None:
    listing = session.get(PlatformListing, listing_id)
    if listing is None:
        return
    if ok:
        if listing.sync_status not in ("failed", IN_REVIEW) or listing.last_synced_at is None:
            listing.sync_status = "synced"
        listing.last_synced_at, listing.last_error = utcnow(), None
    else:
        listing.sync_status, listing.last_error = "failed", sync_logs.redact_message(error or "failed")


def apply(
    engine: sa.Engine, shop: Shop, connector: Connector, changes: Sequence[PlannedChange], run_id: str | None
) -> ApplyOutcome:
    """Send the changes (see the module docstring); adopt changes are the caller's (no call)."""
    changes = [change for change in changes if not isinstance(change, Adopt)]
    entries = [log_entry(shop, change) for change in changes]
    log_ids: dict[str, int] = {}
    for start in range(0, len(entries), OPEN_CHUNK):
        with transaction(engine) as session:
            log_ids.update(sync_logs.open_logs(session, entries[start : start + OPEN_CHUNK], run_id))
    run = _Run(engine, shop, connector, log_ids)
    invalid = [c for c in changes if not c.valid]
    if invalid:
        with transaction(engine) as session:
            for change in invalid:
                message = "not sent: " + "; ".join(f"{i.field}: {i.message}" for i in change.issues)
                run.finish(session, Outcome(change, False, error=message))

    def image_ids(shop_connector: Connector, refs: Sequence[str]) -> tuple[str, ...]:
        return tuple(ensure_uploaded(engine, shop.connection_id, shop_connector, refs))

    for call in calls_for([c for c in changes if c.valid], image_ids):
        run.call(call)
    with transaction(engine) as session:
        connection = session.get(PlatformConnection, shop.connection_id)
        if connection is not None:
            connection.last_synced_at = utcnow()
            if run.stopped is not None:
                connection.last_error = sync_logs.redact_message(str(run.stopped))
    return ApplyOutcome(run.succeeded, run.failed - len(invalid), len(invalid), estimate_calls(shop.platform, run.sent))


def fail_unsent(
    engine: sa.Engine, shop: Shop, changes: Sequence[PlannedChange], message: str, run_id: str | None
) -> ApplyOutcome:
    """Log every change as failed without sending it (the shop's connector could not be built)."""
    entries = [log_entry(shop, change) for change in changes]
    with transaction(engine) as session:
        ids = sync_logs.open_logs(session, entries, run_id)
        for change in changes:
            sync_logs.finish_log(session, ids[change.idempotency_key], ok=False, error=message)
    return ApplyOutcome(0, len(changes), 0, 0)


# --- snapshot writes after a successful call ---------------------------------------------------


def _write(session: Session, shop: Shop, write: SnapshotWrite) -> None:
    """The snapshot's remote value and the baseline move to what the platform accepted."""
    match write:
        case SkuPriceWritten(listing_sku_id, price):
            sku = session.get_one(PlatformListingSku, listing_sku_id)
            sku.remote_price = sku.base_price = price
            sku.last_synced_at = utcnow()
        case SkuStockWritten(listing_sku_id, stock):
            sku = session.get_one(PlatformListingSku, listing_sku_id)
            sku.remote_stock = sku.base_stock = stock
            sku.last_synced_at = utcnow()
        case ContentWritten(listing_id, change):
            listing = session.get_one(PlatformListing, listing_id)
            for name in change.fields:
                setattr(listing, f"remote_{name}", change.value(name))
                setattr(listing, f"base_{name}", change.value(name))
            if rules_for(shop.platform).audited:  # an edit is audited again before it goes live
                listing.remote_status, listing.sync_status = ListingStatus.IN_REVIEW.value, IN_REVIEW
        case StatusWritten(listing_id, active):
            listing = session.get_one(PlatformListing, listing_id)
            listing.remote_status = (ListingStatus.ACTIVE if active else ListingStatus.INACTIVE).value
        case SkuBound(listing_sku_id, variant_id, product_id):
            _release_variants(session, shop.connection_id, [variant_id], listing_sku_id)
            sku = session.get_one(PlatformListingSku, listing_sku_id)
            sku.variant_id = variant_id
            listing = session.get_one(PlatformListing, sku.listing_id)
            if listing.product_id is None:
                listing.product_id = product_id
        case ListingCreated():
            _created(session, shop, write)
        case VariantAdded():
            _variant_added(session, shop, write)


def _release_variants(
    session: Session, connection_id: int, variant_ids: Sequence[int], keep_sku_id: int | None
) -> None:
    """A variant binds to one SKU per shop: drop its stale bindings (e.g. to a listing deleted remotely)."""
    session.execute(
        sa.update(PlatformListingSku)
        .where(
            PlatformListingSku.connection_id == connection_id,
            PlatformListingSku.variant_id.in_(list(variant_ids)),
            PlatformListingSku.id != (keep_sku_id or 0),
        )
        .values(variant_id=None)
    )


def _created(session: Session, shop: Shop, created: ListingCreated) -> None:
    """The new listing (or the one a repeated create found) in the snapshot, bound to its variants."""
    change = created.change
    listing = session.scalar(
        sa.select(PlatformListing).where(
            PlatformListing.connection_id == shop.connection_id, PlatformListing.remote_item_id == created.item_id
        )
    )
    existing: dict[str, PlatformListingSku] = {}
    if listing is None:
        listing = PlatformListing(connection_id=shop.connection_id, platform=shop.platform,
                                  remote_item_id=created.item_id)  # fmt: skip
        session.add(listing)
    else:
        existing = {sku.remote_sku_id: sku for sku in listing.skus}
    listing.product_id = change.product_id
    listing.remote_status = (ListingStatus.IN_REVIEW if created.in_review else ListingStatus.ACTIVE).value
    listing.remote_category_id = change.category_id
    listing.remote_title = listing.base_title = change.title
    listing.remote_description = listing.base_description = change.description
    listing.remote_images = listing.base_images = list(change.images)
    listing.sync_status = IN_REVIEW if created.in_review else "synced"
    listing.last_synced_at, listing.last_error = utcnow(), None
    _release_variants(session, shop.connection_id, [sku.variant_id for sku in change.skus], None)
    session.flush()
    for new in change.skus:
        remote_sku_id = created.sku_ids.get(new.seller_sku)
        if remote_sku_id is None:
            continue
        sku = existing.get(remote_sku_id) or PlatformListingSku(
            listing_id=listing.id, connection_id=shop.connection_id, remote_sku_id=remote_sku_id
        )
        sku.variant_id, sku.seller_sku, sku.currency = new.variant_id, new.seller_sku, change.currency
        sku.remote_price = sku.base_price = new.price
        sku.remote_stock = sku.base_stock = new.stock
        sku.last_synced_at = utcnow()
        session.add(sku)


def _variant_added(session: Session, shop: Shop, added: VariantAdded) -> None:
    """The new SKU in the snapshot, bound to its variant, its baseline what was sent."""
    change, new = added.change, added.change.new_sku
    assert new is not None
    listing = session.get_one(PlatformListing, added.listing_id)
    _release_variants(session, shop.connection_id, [new.variant_id], None)
    sku = session.scalar(
        sa.select(PlatformListingSku).where(
            PlatformListingSku.listing_id == listing.id, PlatformListingSku.remote_sku_id == added.remote_sku_id
        )
    ) or PlatformListingSku(listing_id=listing.id, connection_id=shop.connection_id, remote_sku_id=added.remote_sku_id)
    sku.variant_id, sku.seller_sku, sku.currency = new.variant_id, new.seller_sku, change.currency
    sku.remote_price = sku.base_price = new.price
    sku.remote_stock = sku.base_stock = new.stock
    sku.last_synced_at = utcnow()
    session.add(sku)
    if added.in_review:
        listing.remote_status, listing.sync_status = ListingStatus.IN_REVIEW.value, IN_REVIEW
