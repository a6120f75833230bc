# The stock ledger: on hand, reserved and available per variant; order transitions applied exactly once.
"""Inventory.

Every change of a variant's on-hand or reserved quantity writes one `inventory_history` row
(the ledger) in the same transaction, with its reason: `order` (a new order reserves),
`cancellation` (releases), `shipment` (consumes: on hand and reserved both drop), `manual`,
`import`, `reconcile`. available = on hand - reserved.

Order transitions carry an idempotency key `<platform>:<shop>:<order>:<line>:<transition>`,
unique in the ledger, so a webhook delivered twice, or an order fetched again by a snapshot,
has one effect. Each change announces `inventory.changed` in the outbox, which pushes the new
available quantity to every channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.base import OrderStatus, RemoteOrder
from syncstore.db.models import (
    InventoryHistory,
    OutboxEvent,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductVariant,
)
from syncstore.errors import InvalidInput, NotFoundError, VersionConflict
from syncstore.events import outbox
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

MANUAL_REASONS = ("manual", "import", "reconcile")


@dataclass(frozen=True)
class StockLevel:
    variant_id: int
    product_id: int
    sku: str
    on_hand: int
    reserved: int
    low_stock_threshold: int | None

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)

    @property
    def is_low(self) -> bool:
        return self.low_stock_threshold is not None and self.available <= self.low_stock_threshold


def _level(variant: ProductVariant) -> StockLevel:
    return StockLevel(
        variant.id, variant.product_id, variant.sku, variant.stock, variant.reserved, variant.low_stock_threshold
    )


def levels(session: Session, variant_ids: Sequence[int] | None = None) -> list[StockLevel]:
    """Stock levels, by SKU."""
    query = sa.select(ProductVariant).order_by(ProductVariant.sku)
    if variant_ids is not None:
        query = query.where(ProductVariant.id.in_(variant_ids))
    return [_level(v) for v in session.scalars(query)]


def low_stock(session: Session) -> list[StockLevel]:
    """Active variants at or under their low-stock threshold."""
    query = (
        sa.select(ProductVariant)
        .where(
            ProductVariant.is_active,
            ProductVariant.low_stock_threshold.is_not(None),
            ProductVariant.stock - ProductVariant.reserved <= ProductVariant.low_stock_threshold,
        )
        .order_by(ProductVariant.sku)
    )
    return [_level(v) for v in session.scalars(query)]


def history(session: Session, variant_id: int, *, limit: int = 200) -> Sequence[InventoryHistory]:
    """The ledger of one variant, newest first."""
    query = (
        sa.select(InventoryHistory)
        .where(InventoryHistory.variant_id == variant_id)
        .order_by(InventoryHistory.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def last_changed_by(session: Session, variant_id: int) -> str | None:
    """Who made the latest change to a variant's stock (a person's label or `system:<platform>`)."""
    query = (
        sa.select(InventoryHistory.changed_by)
        .where(InventoryHistory.variant_id == variant_id)
        .order_by(InventoryHistory.id.desc())
        .limit(1)
    )
    return session.scalar(query) or None


def _locked_variant(session: Session, variant_id: int) -> ProductVariant:
    variant = session.get(ProductVariant, variant_id, with_for_update=True, populate_existing=True)
    if variant is None:
        raise NotFoundError(f"variant {variant_id} not found")
    return variant


def _change(
    session: Session,
    variant: ProductVariant,
    *,
    on_hand: int,
    reserved: int,
    reason: str,
    changed_by: str,
    key: str | None = None,
    note: str | None = None,
    connection: PlatformConnection | None = None,
) -> None:
    """Write the new quantities and their ledger row (the caller holds the row lock)."""
    session.add(
        InventoryHistory(
            product_id=variant.product_id,
            variant_id=variant.id,
            connection_id=connection.id if connection else None,
            platform=connection.platform if connection else None,
            previous_quantity=variant.stock,
            new_quantity=on_hand,
            previous_reserved=variant.reserved,
            new_reserved=reserved,
            change_reason=reason,
            idempotency_key=key,
            changed_by=changed_by,
            note=note,
        )
    )
    variant.stock, variant.reserved = on_hand, reserved


def _announce(session: Session, variant_ids: Sequence[int], cause: str) -> OutboxEvent:
    return outbox.publish(
        session,
        aggregate_type="inventory",
        aggregate_id=",".join(str(v) for v in sorted(variant_ids))[:64],
        event_type="inventory.changed",
        payload={"variant_ids": sorted(variant_ids), "cause": cause},
    )


@requires(Permission.INVENTORY_ADJUST)
def adjust_stock(
    actor: Actor | None,
    session: Session,
    variant_id: int,
    *,
    set_to: int | None = None,
    delta: int | None = None,
    reason: str = "manual",
    note: str | None = None,
    expected_on_hand: int | None = None,
) -> StockLevel:
    """Set or change a variant's on-hand quantity, with a reason; the new stock reaches every channel.

    `expected_on_hand`: the quantity the person saw; when the variant no longer has it (someone or
    an order changed it since), VersionConflict is raised and nothing is written (S2).
    """
    errors: dict[str, str] = {}
    if (set_to is None) == (delta is None):
        errors["quantity"] = "give either a new quantity or a change, not both"
    if reason not in MANUAL_REASONS:
        errors["reason"] = f"must be one of {', '.join(MANUAL_REASONS)}"
    if errors:
        raise InvalidInput(errors)
    variant = _locked_variant(session, variant_id)
    if expected_on_hand is not None and variant.stock != expected_on_hand:
        raise VersionConflict("variant", variant.id, expected_on_hand, variant.stock)
    new_on_hand = set_to if set_to is not None else variant.stock + (delta or 0)
    if new_on_hand < 0:
        raise InvalidInput({"quantity": f"on hand cannot go below 0 (it is {variant.stock})"})
    before = _level(variant)
    _change(session, variant, on_hand=new_on_hand, reserved=variant.reserved, reason=reason,
            changed_by=actor.label if actor else "", note=note)  # fmt: skip
    session.flush()
    _announce(session, [variant.id], reason)
    audit.record(
        session, actor, "inventory.adjust", "variant", variant.id,
        before={"on_hand": before.on_hand, "reserved": before.reserved},
        after={"on_hand": variant.stock, "reserved": variant.reserved, "reason": reason, "note": note},
    )  # fmt: skip
    return _level(variant)


@requires(Permission.INVENTORY_ADJUST)
def set_low_stock_threshold(
    actor: Actor | None, session: Session, variant_id: int, threshold: int | None
) -> StockLevel:
    if threshold is not None and threshold < 0:
        raise InvalidInput({"low_stock_threshold": "must be 0 or more (or empty for no alert)"})
    variant = _locked_variant(session, variant_id)
    before = variant.low_stock_threshold
    variant.low_stock_threshold = threshold
    session.flush()
    audit.record(session, actor, "inventory.threshold", "variant", variant.id,
                 before={"low_stock_threshold": before}, after={"low_stock_threshold": threshold})  # fmt: skip
    return _level(variant)


# --- orders ---------------------------------------------------------------------------------

# Which transitions an order status implies, in the order they must be applied.
_TRANSITIONS: dict[OrderStatus, tuple[str, ...]] = {
    OrderStatus.PENDING: ("reserve",),
    OrderStatus.PAID: ("reserve",),
    OrderStatus.SHIPPED: ("reserve", "consume"),
    OrderStatus.COMPLETED: ("reserve", "consume"),
    OrderStatus.CANCELLED: ("release",),
    OrderStatus.OTHER: (),
}
_REASONS = {"reserve": "order", "release": "cancellation", "cancel-units": "cancellation", "consume": "shipment"}


@dataclass(frozen=True)
class OrderEffect:
    order_id: str
    applied: tuple[str, ...]  # transition keys applied now
    already_applied: tuple[str, ...]
    unknown_lines: tuple[str, ...]  # lines whose SKU is bound to no master variant
    variant_ids: tuple[int, ...] = ()  # variants whose stock moved now
    # The `inventory.changed` outbox event announcing the move (None when nothing moved): a caller that pushes
    # the stock itself holds it (`outbox.hold`) and completes it, so the stock is pushed once.
    announcement_id: int | None = None

    @property
    def variant_changed(self) -> bool:
        return bool(self.applied)


def _variant_for_line(
    session: Session, connection_id: int, item_id: str, sku_id: str, seller_sku: str | None
) -> int | None:
    bound = session.scalar(
        sa.select(PlatformListingSku.variant_id)
        .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
        .where(
            PlatformListingSku.connection_id == connection_id,
            PlatformListing.remote_item_id == item_id,
            PlatformListingSku.remote_sku_id == sku_id,
        )
    )
    if bound is not None or not seller_sku:
        return bound
    # Not bound yet: the seller SKU names the master variant.
    return session.scalar(sa.select(ProductVariant.id).where(sa.func.lower(ProductVariant.sku) == seller_sku.lower()))


def _applied_keys(session: Session, keys: Sequence[str]) -> set[str]:
    query = sa.select(InventoryHistory.idempotency_key).where(InventoryHistory.idempotency_key.in_(keys))
    return {key for key in session.scalars(query) if key is not None}


def apply_order(session: Session, connection: PlatformConnection, order: RemoteOrder) -> OrderEffect:
    """Reserve, release or consume stock for an order's lines, each transition exactly once.

    A line reserves what was bought (`quantity`) when the order is first seen. Units cancelled while
    the order goes on (`cancelled_quantity`, a partial cancellation) are released once, as they
    grow (key `cancel-units:<n>`: n units released so far). A full cancellation releases what is
    still reserved; a shipment consumes what was not cancelled.

    A system action (driven by webhooks, order polls and snapshots). The caller's transaction
    commits the ledger rows, the new quantities and one `inventory.changed` outbox event together.
    """
    applied: list[str] = []
    already: list[str] = []
    unknown: list[str] = []
    changed: set[int] = set()
    transitions = _TRANSITIONS[order.status]
    prefix = f"{connection.platform}:{connection.shop_id}:{order.order_id}"
    for line in order.lines:
        variant_id = _variant_for_line(session, connection.id, line.item_id, line.sku_id, line.seller_sku)
        if variant_id is None:
            unknown.append(line.line_id)
            continue
        keys = {t: f"{prefix}:{line.line_id}:{t}" for t in ("reserve", "release", "consume")}
        partial_keys = {n: f"{prefix}:{line.line_id}:cancel-units:{n}" for n in range(1, line.quantity + 1)}
        # Lock first, then read what was applied: a concurrent worker's commit is then visible.
        variant = _locked_variant(session, variant_id)
        done = _applied_keys(session, [*keys.values(), *partial_keys.values()])
        released = max((n for n, key in partial_keys.items() if key in done), default=0)
        steps = list(transitions)
        if line.cancelled_quantity and order.status is not OrderStatus.CANCELLED and "reserve" in steps:
            steps.insert(steps.index("reserve") + 1, "cancel-units")
        for transition in steps:
            if transition == "cancel-units":
                cancelled = min(line.cancelled_quantity, line.quantity)
                if cancelled <= released or keys["consume"] in done:
                    continue  # nothing new cancelled, or the units already left the warehouse
                key, units = partial_keys[cancelled], cancelled - released
            else:
                key = keys[transition]
                units = line.quantity if transition == "reserve" else line.quantity - released
            if key in done:
                already.append(key)
                continue
            if transition == "release" and (keys["reserve"] not in done or keys["consume"] in done):
                continue  # nothing was reserved, or it already left the warehouse
            on_hand, reserved = variant.stock, variant.reserved
            if transition == "reserve":
                reserved += units
            elif transition in ("release", "cancel-units"):
                reserved -= units
            else:
                on_hand, reserved = on_hand - units, reserved - units
            _change(session, variant, on_hand=max(on_hand, 0), reserved=max(reserved, 0),
                    reason=_REASONS[transition], changed_by=f"system:{connection.platform}", key=key,
                    connection=connection)  # fmt: skip
            done.add(key)
            if transition == "cancel-units":
                released = min(line.cancelled_quantity, line.quantity)
            applied.append(key)
            changed.add(variant.id)
    session.flush()
    announcement_id = None
    if changed:
        announcement = _announce(session, sorted(changed), f"order {order.order_id}")
        session.flush()
        announcement_id = announcement.id
    return OrderEffect(
        order.order_id, tuple(applied), tuple(already), tuple(unknown), tuple(sorted(changed)), announcement_id
    )
