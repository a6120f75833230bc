# Applying a shop's planned changes through its connector: batched calls, sync logs, baseline moved only on success.
"""Apply changes to one shop.

1. Every change gets its `sync_logs` row, `pending`, committed BEFORE any call (`sync_logs.open_logs`;
   a row left pending by a crash is found again by the change's idempotency key and reused).
   Changes with validation issues are not sent: their row is `failed` with the issues.
2. Changes are sent grouped to the platform's limits (the connector packs each call: one item per
   price or stock call, 50 or 20 items per status call); the connector's gate is the shop's rate limiter.
3. After each call, in one transaction: each change's row is finished (`success` or `failed`, per SKU
   for batch writes that fail partly), and on success the snapshot's remote value AND the baseline move
   to the value sent. A failed change leaves the baseline alone, so the next plan sends it again.

Why a re-run has one effect: price, stock, field and status writes set a value (sending it twice
changes nothing the second time); a create carries the change's key to the platform (TikTok Shop's
`idempotency_key`; on Shopee the connector first looks the listing up by its SKU), so a create
repeated after a crash finds the listing made before instead of making another.

A quota, revoked-authorization or expired-token answer stops the run for this shop: the changes not
yet sent are marked failed with that reason (the next run sends them).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    Connector,
    ConnectorError,
    Dimensions,
    ListingDraft,
    ListingFields,
    ListingStatus,
    QuotaExhausted,
    SkuDraft,
    SkuResult,
)
from syncstore import sync_logs
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListing, PlatformListingSku
from syncstore.db.types import utcnow
from syncstore.sync_inputs import Shop
from syncstore.sync_plan import PlannedChange, estimate_calls

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


class _Run:
    def __init__(self, engine: sa.Engine, shop: Shop, connector: Connector, log_ids: dict[str, int]) -> None:
        self.engine, self.shop, self.connector, self.log_ids = engine, shop, connector, log_ids
        self.succeeded = self.failed = 0
        self.stopped: ConnectorError | None = None
        self.sent: list[PlannedChange] = []

    def finish(
        self, session: Session, change: PlannedChange, ok: bool, *, response: Any = None, error: str | None = None,
        started: float | None = None, remote_item_id: str | None = None,
    ) -> None:  # fmt: skip
        duration = int((time.monotonic() - started) * 1000) if started is not None else None
        sync_logs.finish_log(
            session, self.log_ids[change.idempotency_key], ok=ok, response=response, error=error,
            duration_ms=duration, remote_item_id=remote_item_id,
        )  # fmt: skip
        if change.listing_id is not None and change.operation != "create":
            _mark_listing(session, change.listing_id, ok, error)
        if ok:
            self.succeeded += 1
        else:
            self.failed += 1

    def call(self, changes: Sequence[PlannedChange], send: Callable[[], Any],
             settle: Callable[[Session, Any, float], None]) -> None:  # fmt: skip
        """One platform call for `changes`; `settle` records the answer, a raised error fails them all."""
        if self.stopped is not None:
            self._fail_all(changes, f"not sent: {self.stopped}")
            return
        started = time.monotonic()
        self.sent.extend(changes)
        try:
            answer = send()
        except ConnectorError as error:
            if isinstance(error, STOPPING):
                self.stopped = error
            self._fail_all(changes, str(error), started)
            return
        with transaction(self.engine) as session:
            settle(session, answer, started)

    def _fail_all(self, changes: Sequence[PlannedChange], message: str, started: float | None = None) -> None:
        with transaction(self.engine) as session:
            for change in changes:
                self.finish(session, change, False, error=message, started=started)


def _mark_listing(session: Session, listing_id: int, ok: bool, error: str | None) -> None:
    listing = session.get(PlatformListing, listing_id)
    if listing is None:
        return
    if ok:
        if listing.sync_status != "failed" or listing.last_synced_at is None:
            listing.sync_status = "synced"
        listing.last_synced_at, listing.last_error = utcnow(), None
    else:
        listing.sync_status, listing.last_error = "failed", sync_logs.redact_message(error or "failed")


def apply(
    engine: sa.Engine, shop: Shop, connector: Connector, changes: Sequence[PlannedChange], run_id: str | None
) -> ApplyOutcome:
    """Send the changes (see the module docstring); adopt changes are the caller's (no call)."""
    changes = [change for change in changes if change.operation != "adopt"]
    entries = [
        sync_logs.LogEntry(
            idempotency_key=c.idempotency_key,
            connection_id=shop.connection_id,
            platform=shop.platform,
            operation=c.operation,
            product_id=c.product_id,
            variant_id=c.variant_id,
            remote_item_id=c.remote_item_id,
            request=c.payload,
        )
        for c in changes
    ]
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
                run.finish(session, change, False, error=message)
    valid = [c for c in changes if c.valid]
    by_operation: dict[str, list[PlannedChange]] = defaultdict(list)
    for change in valid:
        by_operation[change.operation].append(change)
    _bind(run, by_operation["bind"])
    _fields(run, by_operation["update_fields"])
    _sku_writes(run, by_operation["update_price"], "price")
    _sku_writes(run, by_operation["update_stock"], "stock")
    _status(run, by_operation["activate"], True)
    _status(run, by_operation["deactivate"], False)
    for change in by_operation["create"]:
        _create(run, change)
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
    entries = [
        sync_logs.LogEntry(
            c.idempotency_key,
            shop.connection_id,
            shop.platform,
            c.operation,
            c.product_id,
            c.variant_id,
            c.remote_item_id,
            c.payload,
        )
        for c in changes
    ]
    with transaction(engine) as session:
        ids = sync_logs.open_logs(session, entries, run_id)
        for change in changes:
            sync_logs.finish_log(session, ids[change.idempotency_key], ok=False, error=message)
    return ApplyOutcome(0, len(changes), 0, 0)


# --- bind (no call) -------------------------------------------------------------------------


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


def _bind(run: _Run, changes: Sequence[PlannedChange]) -> None:
    if not changes:
        return
    with transaction(run.engine) as session:
        for change in changes:
            assert change.listing_sku_id is not None and change.variant_id is not None
            _release_variants(session, run.shop.connection_id, [change.variant_id], change.listing_sku_id)
            sku = session.get_one(PlatformListingSku, change.listing_sku_id)
            sku.variant_id = change.variant_id
            listing = session.get_one(PlatformListing, sku.listing_id)
            if listing.product_id is None:
                listing.product_id = change.product_id
            session.flush()
            run.finish(session, change, True, response={"bound": True})


# --- item fields ----------------------------------------------------------------------------


def _fields(run: _Run, changes: Sequence[PlannedChange]) -> None:
    for change in changes:
        values = change.payload
        fields = ListingFields(
            title=values.get("title"), description=values.get("description"),
            images=tuple(values["images"]) if values.get("images") is not None else None,
        )  # fmt: skip
        item_id = change.remote_item_id
        assert item_id is not None

        def settle(session: Session, _answer: Any, started: float, change: PlannedChange = change) -> None:
            listing = session.get_one(PlatformListing, change.listing_id)
            for name, value in change.payload.items():
                setattr(listing, f"remote_{name}", value)
                setattr(listing, f"base_{name}", value)
            run.finish(session, change, True, response={"updated": sorted(change.payload)}, started=started)

        def send(item_id: str = item_id, fields: ListingFields = fields) -> None:
            run.connector.update_fields(item_id, fields)

        run.call([change], send, settle)


# --- prices and stock -----------------------------------------------------------------------


def _sku_writes(run: _Run, changes: Sequence[PlannedChange], name: str) -> None:
    per_item: dict[str, list[PlannedChange]] = defaultdict(list)
    for change in changes:
        assert change.remote_item_id is not None
        per_item[change.remote_item_id].append(change)
    for item_id, group in per_item.items():
        values: dict[str, Any] = {
            str(c.remote_sku_id): Decimal(c.payload["price"]) if name == "price" else int(c.payload["stock"])
            for c in group
        }

        def send(item_id: str = item_id, values: dict[str, Any] = values) -> Any:
            if name == "price":
                return run.connector.update_price(item_id, values)
            return run.connector.update_stock(item_id, values)

        def settle(session: Session, answer: Any, started: float, group: list[PlannedChange] = group,
                   values: dict[str, Any] = values) -> None:  # fmt: skip
            results: dict[str, SkuResult] = {r.sku_id: r for r in answer.results}
            for change in group:
                sku_id = str(change.remote_sku_id)
                result = results.get(sku_id)
                if result is None or not result.ok:
                    reason = result.message if result is not None else "the platform did not answer for this SKU"
                    run.finish(session, change, False, error=f"{sku_id}: {reason}", started=started,
                               response=result.model_dump() if result else None)  # fmt: skip
                    continue
                sku = session.get_one(PlatformListingSku, change.listing_sku_id)
                setattr(sku, f"remote_{name}", values[sku_id])
                setattr(sku, f"base_{name}", values[sku_id])
                sku.last_synced_at = utcnow()
                run.finish(session, change, True, response=result.model_dump(), started=started)

        run.call(group, send, settle)


# --- listing status -------------------------------------------------------------------------


def _status(run: _Run, changes: Sequence[PlannedChange], active: bool) -> None:
    if not changes:
        return
    by_item = {str(c.remote_item_id): c for c in changes}

    def settle(session: Session, answer: Any, started: float) -> None:
        results: dict[str, SkuResult] = {r.sku_id: r for r in answer}
        for item_id, change in by_item.items():
            result = results.get(item_id)
            ok = result is not None and result.ok
            if ok:
                listing = session.get_one(PlatformListing, change.listing_id)
                listing.remote_status = (ListingStatus.ACTIVE if active else ListingStatus.INACTIVE).value
            reason = result.message if result is not None else "the platform did not answer for this item"
            run.finish(session, change, ok, error=None if ok else f"{item_id}: {reason}", started=started,
                       response=result.model_dump() if result else None)  # fmt: skip

    run.call(list(by_item.values()), lambda: run.connector.set_active(list(by_item), active), settle)


# --- create ---------------------------------------------------------------------------------


def _draft(payload: dict[str, Any]) -> ListingDraft:
    box = payload.get("dimensions")
    return ListingDraft(
        title=payload["title"], description=payload["description"], category_id=str(payload["category_id"]),
        images=tuple(payload["images"]), weight_kg=Decimal(payload["weight_kg"]),
        dimensions=Dimensions(**{k: Decimal(v) for k, v in box.items()}) if box else None,
        currency=payload["currency"],
        skus=tuple(
            SkuDraft(
                seller_sku=s["seller_sku"], price=Decimal(s["price"]), stock=s["stock"], attributes=s["attributes"]
            )
            for s in payload["skus"]
        ),
        idempotency_key=payload["idempotency_key"],
    )  # fmt: skip


def _create(run: _Run, change: PlannedChange) -> None:
    draft = _draft(change.payload)

    def settle(session: Session, created: Any, started: float) -> None:
        payload = change.payload
        listing = session.scalar(
            sa.select(PlatformListing).where(
                PlatformListing.connection_id == run.shop.connection_id,
                PlatformListing.remote_item_id == created.item_id,
            )
        )
        existing: dict[str, PlatformListingSku] = {}
        if listing is None:
            listing = PlatformListing(connection_id=run.shop.connection_id, platform=run.shop.platform,
                                      remote_item_id=created.item_id)  # fmt: skip
            session.add(listing)
        else:
            existing = {sku.remote_sku_id: sku for sku in listing.skus}
        listing.product_id, listing.remote_status = change.product_id, ListingStatus.ACTIVE.value
        listing.remote_category_id = str(payload["category_id"])
        for name in ("title", "description", "images"):
            setattr(listing, f"remote_{name}", payload[name])
            setattr(listing, f"base_{name}", payload[name])
        listing.sync_status, listing.last_synced_at, listing.last_error = "synced", utcnow(), None
        _release_variants(session, run.shop.connection_id, [s["variant_id"] for s in payload["skus"]], None)
        session.flush()
        for sku_payload in payload["skus"]:
            remote_sku_id = created.sku_ids.get(sku_payload["seller_sku"])
            if remote_sku_id is None:
                continue
            sku = existing.get(remote_sku_id) or PlatformListingSku(
                listing_id=listing.id, connection_id=run.shop.connection_id, remote_sku_id=remote_sku_id
            )
            price, stock = Decimal(sku_payload["price"]), sku_payload["stock"]
            sku.variant_id, sku.seller_sku, sku.currency = (
                sku_payload["variant_id"],
                sku_payload["seller_sku"],
                payload["currency"],
            )
            sku.remote_price = sku.base_price = price
            sku.remote_stock = sku.base_stock = stock
            sku.last_synced_at = utcnow()
            session.add(sku)
        response = {"item_id": created.item_id, "sku_ids": dict(created.sku_ids)}
        run.finish(session, change, True, response=response, started=started, remote_item_id=created.item_id)

    run.call([change], lambda: run.connector.create_listing(draft), settle)
