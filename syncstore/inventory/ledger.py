# The stock ledger: on hand, reserved and available per variant and location; order transitions applied exactly once.
"""Inventory.

Every change of a variant's on-hand or reserved quantity writes one `inventory_history` row
(the ledger) per location changed, in the same transaction, with its reason: `order` (a new order
reserves), `cancellation` (releases), `shipment` (consumes: on hand and reserved both drop),
`transfer` (between locations), `manual`, `import`, `reconcile`, and the other person reasons of
`MANUAL_REASONS`. available = on hand - reserved. A ledger row's quantities are those of its
location (`location_id`; NULL on rows older than locations means the default location).

Locations: `product_variants.stock` / `.reserved` are the TOTALS over every location; the default
location is implicit (totals minus the `location_stock` rows, which exist for the other locations
only), so a merchant with one location has no rows and nothing changes for any reader of totals.

Order transitions carry an idempotency key `<platform>:<shop>:<order>:<line>:<transition>`,
unique in the ledger, so a webhook delivered twice, or an order fetched again by a snapshot,
has one effect. A line for a bundle moves each component (line units x component quantity) with
the key suffixed `:v<component id>`. Each change announces `inventory.changed` in the outbox,
which pushes the new available quantity to every channel (and to the bundles containing it).

The writes are set-based, the statements built once: every change (`change`, `adjust_stock`) goes
through `_write_change` (the ledger row, the location's row, the totals moved in SQL, no ORM object
flushed). `adjust_stock`, the API's and the app's stock edit, reads the variant (locked), every
location and the variant's location rows in ONE statement, and writes its outbox event and audit
row as plain INSERTs: about six statements, where loading and flushing ORM objects took a dozen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from connectors.base import OrderLine, OrderStatus, RemoteOrder
from syncstore.db.models import (
    BundleComponent,
    InventoryHistory,
    LocationStock,
    OutboxEvent,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductVariant,
    ShopStockSource,
    StockLocation,
)
from syncstore.errors import InvalidInput, Message, NotFoundError, VersionConflict, msg
from syncstore.events import outbox
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

# The reasons a person chooses in the app to change on hand; "other" needs a note saying why.
PERSON_REASONS = ("count", "damaged", "returned", "found", "other")
# The reasons the system writes itself (orders, transfers, imports, syncs): never offered to a person.
SYSTEM_REASONS = ("order", "cancellation", "shipment", "transfer", "import", "reconcile", "sync", "manual")
# Every reason `adjust_stock` accepts (the API's vocabulary): the person reasons and the earlier ones, kept.
MANUAL_REASONS = ("manual", "import", "reconcile", "count", "received", "damaged", "lost", "returned", "found", "other")
DEFAULT_LOCATION_NAME = "Main warehouse"


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


def locked_variant(session: Session, variant_id: int) -> ProductVariant:
    variant = session.get(ProductVariant, variant_id, with_for_update=True, populate_existing=True)
    if variant is None:
        raise NotFoundError("variant {variant_id} not found", variant_id=variant_id)
    return variant


def default_location_id(session: Session) -> int:
    """The default location's id (created, as the migration does, when a wiped database has none)."""
    found = session.scalar(sa.select(StockLocation.id).where(StockLocation.is_default))
    if found is not None:
        return found
    insert = _insert_ignore(session).values(name=DEFAULT_LOCATION_NAME, is_default=True, is_active=True,
                                            created_at=sa.func.now())  # fmt: skip
    session.execute(insert)
    found = session.scalar(sa.select(StockLocation.id).where(StockLocation.is_default))
    if found is None:  # a location of that name exists but is not the default: make it the default
        session.execute(
            sa.update(StockLocation).where(StockLocation.name == DEFAULT_LOCATION_NAME).values(is_default=True)
        )
        found = session.scalar(sa.select(StockLocation.id).where(StockLocation.is_default))
    return int(found)  # type: ignore[arg-type]


def _insert_ignore(session: Session) -> sa.Insert:
    """INSERT ... ON CONFLICT DO NOTHING into stock_locations, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(StockLocation).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(StockLocation).on_conflict_do_nothing()


def _location_rows(session: Session, variant_id: int) -> dict[int, tuple[int, int]]:
    rows = session.execute(
        sa.select(LocationStock.location_id, LocationStock.on_hand, LocationStock.reserved).where(
            LocationStock.variant_id == variant_id
        )
    ).all()
    return {location_id: (on_hand, reserved) for location_id, on_hand, reserved in rows}


def location_quantities_from(
    stock: int, reserved: int, rows: dict[int, tuple[int, int]], default_id: int
) -> dict[int, tuple[int, int]]:
    """(on hand, reserved) per location from the variant's totals and its `location_stock` rows."""
    found = {location_id: q for location_id, q in rows.items() if location_id != default_id}
    found[default_id] = (stock - sum(q[0] for q in found.values()), reserved - sum(q[1] for q in found.values()))
    return found


def location_quantities(session: Session, variant: ProductVariant, default_id: int) -> dict[int, tuple[int, int]]:
    """(on hand, reserved) per location holding a row, the default computed from the totals."""
    return location_quantities_from(variant.stock, variant.reserved, _location_rows(session, variant.id), default_id)


def _write_change(
    session: Session,
    variant_id: int,
    product_id: int,
    *,
    location_id: int,
    default_id: int,
    previous: tuple[int, int],
    new: tuple[int, int],
    location_row: bool,
    reason: str,
    changed_by: str,
    key: str | None = None,
    note: str | None = None,
    connection: PlatformConnection | None = None,
) -> None:
    """The statements of one change (the caller holds the variant's row lock): the ledger row, the location's
    row (other than the default's; `location_row`: it exists) and the variant's totals moved by the difference.

    Set-based (no ORM object loaded or flushed); a copy of the variant or location row the session holds
    is expired, so that it reads the new quantities."""
    (previous_on_hand, previous_reserved), (on_hand, reserved) = previous, new
    connection_ = session.connection()
    connection_.execute(
        _INSERT_HISTORY,
        {"product_id": product_id, "variant_id": variant_id, "connection_id": connection.id if connection else None,
         "platform": connection.platform if connection else None, "previous_quantity": previous_on_hand,
         "new_quantity": on_hand, "previous_reserved": previous_reserved, "new_reserved": reserved,
         "change_reason": reason, "idempotency_key": key, "changed_by": changed_by, "note": note,
         "location_id": location_id},
    )  # fmt: skip
    if location_id != default_id:
        quantities = {"variant_id": variant_id, "location_id": location_id, "on_hand": on_hand, "reserved": reserved}
        if location_row:
            connection_.execute(_UPDATE_LOCATION, {f"{name}_": value for name, value in quantities.items()})
        else:
            connection_.execute(_INSERT_LOCATION, quantities)
        held_location = session.identity_map.get(identity_key(LocationStock, (variant_id, location_id)))
        if held_location is not None:
            session.expire(held_location)
    connection_.execute(
        _MOVE_TOTALS,
        {
            "id_": variant_id,
            "on_hand_moved": on_hand - previous_on_hand,
            "reserved_moved": reserved - previous_reserved,
        },
    )


_INSERT_HISTORY: Final = sa.insert(InventoryHistory)
_INSERT_LOCATION: Final = sa.insert(LocationStock)
_UPDATE_LOCATION: Final = (
    sa.update(LocationStock)
    .where(
        LocationStock.variant_id == sa.bindparam("variant_id_"),
        LocationStock.location_id == sa.bindparam("location_id_"),
    )
    .values(on_hand=sa.bindparam("on_hand_"), reserved=sa.bindparam("reserved_"))
)
_MOVE_TOTALS: Final = (
    sa.update(ProductVariant)
    .where(ProductVariant.id == sa.bindparam("id_"))
    .values(stock=ProductVariant.stock + sa.bindparam("on_hand_moved", type_=sa.Integer),
            reserved=ProductVariant.reserved + sa.bindparam("reserved_moved", type_=sa.Integer))
)  # fmt: skip


def change(
    session: Session,
    variant: ProductVariant,
    *,
    on_hand: int,
    reserved: int,
    reason: str,
    changed_by: str,
    location_id: int | None = None,
    key: str | None = None,
    note: str | None = None,
    connection: PlatformConnection | None = None,
) -> None:
    """Write a location's new quantities, the variant's totals and one ledger row (the caller holds the row lock).

    `location_id` None is the default location. `variant` (loaded with the lock) shows the new totals after.
    """
    default_id = default_location_id(session)
    location_id = default_id if location_id is None else location_id
    session.flush()  # the variant's own pending changes first: its totals are moved in SQL below
    held = _location_rows(session, variant.id)
    previous = location_quantities_from(variant.stock, variant.reserved, held, default_id).get(location_id, (0, 0))
    _write_change(session, variant.id, variant.product_id, location_id=location_id, default_id=default_id,
                  previous=previous, new=(on_hand, reserved), location_row=location_id in held, reason=reason,
                  changed_by=changed_by, key=key, note=note, connection=connection)  # fmt: skip
    stock, now_reserved = variant.stock + on_hand - previous[0], variant.reserved + reserved - previous[1]
    set_committed_value(variant, "stock", stock)
    set_committed_value(variant, "reserved", now_reserved)
    session.expire(variant, ["updated_at"])


def source_locations(session: Session, connection_id: int) -> list[int]:
    """The active locations a shop sells (its chosen sources, or every active location), default first."""
    default_id = default_location_id(session)
    query = sa.select(StockLocation.id).where(StockLocation.is_active).order_by(StockLocation.id)
    chosen = set(
        session.scalars(sa.select(ShopStockSource.location_id).where(ShopStockSource.connection_id == connection_id))
    )
    active = [location_id for location_id in session.scalars(query) if not chosen or location_id in chosen]
    return sorted(active, key=lambda location_id: location_id != default_id)


def bundle_parts(session: Session, variant_ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
    """(component id, quantity) per bundle among `variant_ids`, components by id; plain variants absent."""
    parts: dict[int, list[tuple[int, int]]] = {}
    if not variant_ids:
        return parts
    query = (
        sa.select(BundleComponent.bundle_variant_id, BundleComponent.component_variant_id, BundleComponent.quantity)
        .where(BundleComponent.bundle_variant_id.in_(list(variant_ids)))
        .order_by(BundleComponent.bundle_variant_id, BundleComponent.component_variant_id)
    )
    for bundle_id, component_id, quantity in session.execute(query):
        parts.setdefault(bundle_id, []).append((component_id, quantity))
    return parts


def _announcement(variant_ids: Sequence[int], cause: str) -> dict[str, Any]:
    return {
        "aggregate_type": "inventory",
        "aggregate_id": ",".join(str(v) for v in sorted(variant_ids))[:64],
        "event_type": "inventory.changed",
        "payload": {"variant_ids": sorted(variant_ids), "cause": cause},
    }


def announce(session: Session, variant_ids: Sequence[int], cause: str) -> OutboxEvent:
    return outbox.publish(session, **_announcement(variant_ids, cause))


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
    location_id: int | None = None,
) -> StockLevel:
    """Set or change a variant's on-hand quantity at a location, with a reason; the new stock reaches every channel.

    `location_id` None is the default location; `set_to`, `delta` and `expected_on_hand` are that
    location's on hand. `expected_on_hand`: the quantity the person saw; when the location no longer
    has it (someone or an order changed it since), VersionConflict is raised and nothing is written (S2).
    Returns the variant's totals.
    """
    errors: dict[str, Message] = {}
    if (set_to is None) == (delta is None):
        errors["quantity"] = msg("give either a new quantity or a change, not both")
    if reason not in MANUAL_REASONS:
        errors["reason"] = msg("must be one of {choices}", choices=", ".join(MANUAL_REASONS))
    elif reason == "other" and not (note or "").strip():
        errors["note"] = msg("say why in the note when the reason is other")
    if errors:
        raise InvalidInput(errors)
    found = _locked_with_locations(session, variant_id)
    if found is None:
        raise NotFoundError("variant {variant_id} not found", variant_id=variant_id)
    before, places, held = found
    if not any(place.is_default for place in places.values()):  # a wiped database: create the default
        default_location_id(session)
        _, places, held = _locked_with_locations(session, variant_id) or found
    default_id = next(place.id for place in places.values() if place.is_default)
    location_id = default_id if location_id is None else location_id
    location = places.get(location_id)
    if location is None or not location.is_active:
        raise InvalidInput(
            {"location_id": msg("location {location_id} does not exist or is not active", location_id=location_id)}
        )
    quantities = location_quantities_from(before.on_hand, before.reserved, held, default_id)
    on_hand_there, reserved_there = quantities.get(location_id, (0, 0))
    if expected_on_hand is not None and on_hand_there != expected_on_hand:
        raise VersionConflict("variant", variant_id, expected_on_hand, on_hand_there)
    new_on_hand = set_to if set_to is not None else on_hand_there + (delta or 0)
    if new_on_hand < 0:
        raise InvalidInput(
            {
                "quantity": msg(
                    "on hand cannot go below 0 (it is {on_hand_there} at {name})",
                    on_hand_there=on_hand_there,
                    name=location.name,
                )
            }
        )
    _write_change(session, variant_id, before.product_id, location_id=location_id, default_id=default_id,
                  previous=(on_hand_there, reserved_there), new=(new_on_hand, reserved_there),
                  location_row=location_id in held, reason=reason, changed_by=actor.label if actor else "",
                  note=note)  # fmt: skip
    after = replace(before, on_hand=before.on_hand + new_on_hand - on_hand_there)
    held_variant = session.identity_map.get(identity_key(ProductVariant, variant_id))
    if held_variant is not None:  # a copy the caller loaded reads the new totals
        session.expire(held_variant, ["stock", "reserved", "updated_at"])
    outbox.publish_now(session, **_announcement([variant_id], reason))
    audit.record_now(
        session, actor, "inventory.adjust", "variant", variant_id,
        before={"on_hand": before.on_hand, "reserved": before.reserved, "location_on_hand": on_hand_there},
        after={"on_hand": after.on_hand, "reserved": after.reserved, "reason": reason, "note": note,
               "location_id": location_id, "location_on_hand": new_on_hand},
    )  # fmt: skip
    return after


_LOCK_WITH_LOCATIONS: Final = (
    sa.select(ProductVariant.id, ProductVariant.product_id, ProductVariant.sku, ProductVariant.stock,
              ProductVariant.reserved, ProductVariant.low_stock_threshold, StockLocation.id, StockLocation.name,
              StockLocation.is_active, StockLocation.is_default, LocationStock.on_hand, LocationStock.reserved)
    .select_from(ProductVariant)
    .outerjoin(StockLocation, sa.true())
    .outerjoin(LocationStock, sa.and_(LocationStock.variant_id == ProductVariant.id,
                                      LocationStock.location_id == StockLocation.id))
    .where(ProductVariant.id == sa.bindparam("variant_id"))
    .with_for_update(of=ProductVariant)
)  # fmt: skip


@dataclass(frozen=True)
class _Place:
    id: int
    name: str
    is_active: bool
    is_default: bool


def _locked_with_locations(
    session: Session, variant_id: int
) -> tuple[StockLevel, dict[int, _Place], dict[int, tuple[int, int]]] | None:
    """In one statement: the variant's row, locked (FOR UPDATE), every location, and the variant's
    `location_stock` rows (None when the variant does not exist)."""
    session.flush()  # the caller's pending changes first: this reads and writes in SQL
    rows = session.connection().execute(_LOCK_WITH_LOCATIONS, {"variant_id": variant_id}).all()
    if not rows:
        return None
    first = rows[0]
    level = StockLevel(first[0], first[1], first[2], first[3], first[4], first[5])
    places: dict[int, _Place] = {}
    held: dict[int, tuple[int, int]] = {}
    for row in rows:
        if row[6] is None:
            continue
        places[row[6]] = _Place(row[6], row[7], row[8], row[9])
        if row[10] is not None:
            held[row[6]] = (row[10], row[11])
    return level, places, held


@requires(Permission.INVENTORY_ADJUST)
def set_low_stock_threshold(
    actor: Actor | None, session: Session, variant_id: int, threshold: int | None
) -> StockLevel:
    if threshold is not None and threshold < 0:
        raise InvalidInput({"low_stock_threshold": "must be 0 or more (or empty for no alert)"})
    variant = locked_variant(session, variant_id)
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


@dataclass(frozen=True)
class _Target:
    """A variant an order line moves: the line's own variant, or each component of a bundle."""

    variant_id: int
    per_unit: int  # units of this variant per unit of the line
    suffix: str  # "" for a plain line (today's keys), ":v<component id>" for a bundle's component


def _targets(session: Session, variant_ids: Sequence[int]) -> dict[int, list[_Target]]:
    parts = bundle_parts(session, variant_ids)
    return {
        v: [_Target(c, q, f":v{c}") for c, q in parts[v]] if v in parts else [_Target(v, 1, "")] for v in variant_ids
    }


def _reserve_location(session: Session, variant: ProductVariant, connection_id: int, default_id: int) -> int:
    """Among the shop's source locations, the one with the most available for the variant (default on ties)."""
    quantities = location_quantities(session, variant, default_id)
    best, best_available = default_id, None
    for location_id in source_locations(session, connection_id):
        on_hand, reserved = quantities.get(location_id, (0, 0))
        if best_available is None or on_hand - reserved > best_available:
            best, best_available = location_id, on_hand - reserved
    return best


def _reserve_locations(session: Session, keys: Sequence[str]) -> dict[str, int | None]:
    query = sa.select(InventoryHistory.idempotency_key, InventoryHistory.location_id).where(
        InventoryHistory.idempotency_key.in_(list(keys))
    )
    return {key: location_id for key, location_id in session.execute(query) if key is not None}


@dataclass
class _Moved:
    applied: list[str]
    already: list[str]


def _apply_line(
    session: Session,
    connection: PlatformConnection,
    order: RemoteOrder,
    line: OrderLine,
    target: _Target,
    variant: ProductVariant,
    line_prefix: str,
    default_id: int,
    transitions: tuple[str, ...],
) -> _Moved:
    """The transitions of one line on one variant (its own, or one component of a bundle), each once."""
    moved = _Moved([], [])
    keys = {t: f"{line_prefix}:{t}{target.suffix}" for t in ("reserve", "release", "consume")}
    partial_keys = {n: f"{line_prefix}:cancel-units:{n}{target.suffix}" for n in range(1, line.quantity + 1)}
    done = _applied_keys(session, [*keys.values(), *partial_keys.values()])
    released = max((n for n, key in partial_keys.items() if key in done), default=0)
    location_id = _reserve_locations(session, [keys["reserve"]]).get(keys["reserve"]) or default_id
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
            moved.already.append(key)
            continue
        if transition == "release" and (keys["reserve"] not in done or keys["consume"] in done):
            continue  # nothing was reserved, or it already left the warehouse
        units *= target.per_unit
        if transition == "reserve":
            location_id = _reserve_location(session, variant, connection.id, default_id)
        on_hand, reserved = location_quantities(session, variant, default_id).get(location_id, (0, 0))
        if transition == "reserve":
            reserved += units
        elif transition in ("release", "cancel-units"):
            reserved -= units
        else:
            on_hand, reserved = on_hand - units, reserved - units
        change(session, variant, on_hand=max(on_hand, 0), reserved=max(reserved, 0), location_id=location_id,
                reason=_REASONS[transition], changed_by=f"system:{connection.platform}", key=key,
                connection=connection)  # fmt: skip
        done.add(key)
        if transition == "cancel-units":
            released = min(line.cancelled_quantity, line.quantity)
        moved.applied.append(key)
    return moved


def apply_order(session: Session, connection: PlatformConnection, order: RemoteOrder) -> OrderEffect:
    """Reserve, release or consume stock for an order's lines, each transition exactly once.

    A line reserves what was bought (`quantity`) when the order is first seen. Units cancelled while
    the order goes on (`cancelled_quantity`, a partial cancellation) are released once, as they
    grow (key `cancel-units:<n>`: n units released so far). A full cancellation releases what is
    still reserved; a shipment consumes what was not cancelled.

    A line for a bundle moves each component instead (line units x component quantity; keys end in
    `:v<component id>`). The reserve takes the location, among the shop's source locations, with
    the most available (the default on ties); release, cancel-units and consume use the location
    the reserve recorded. Variants are locked in id order, so concurrent orders cannot deadlock.

    A system action (driven by webhooks, order polls and snapshots). The caller's transaction
    commits the ledger rows, the new quantities and one `inventory.changed` outbox event together.
    """
    applied: list[str] = []
    already: list[str] = []
    unknown: list[str] = []
    changed: set[int] = set()
    transitions = _TRANSITIONS[order.status]
    prefix = f"{connection.platform}:{connection.shop_id}:{order.order_id}"
    line_variants: dict[str, int] = {}
    for line in order.lines:
        variant_id = _variant_for_line(session, connection.id, line.item_id, line.sku_id, line.seller_sku)
        if variant_id is None:
            unknown.append(line.line_id)
        else:
            line_variants[line.line_id] = variant_id
    targets = _targets(session, sorted(set(line_variants.values())))
    # Lock first, then read what was applied: a concurrent worker's commit is then visible.
    locked = {v: locked_variant(session, v) for v in sorted({t.variant_id for ts in targets.values() for t in ts})}
    default_id = default_location_id(session) if locked else 0
    for line in order.lines:
        if line.line_id not in line_variants:
            continue
        for target in targets[line_variants[line.line_id]]:
            variant = locked[target.variant_id]
            moved = _apply_line(session, connection, order, line, target, variant, f"{prefix}:{line.line_id}",
                                default_id, transitions)  # fmt: skip
            applied.extend(moved.applied)
            already.extend(moved.already)
            if moved.applied:
                changed.add(variant.id)
    session.flush()
    announcement_id = None
    if changed:
        announcement = announce(session, sorted(changed), f"order {order.order_id}")
        session.flush()
        announcement_id = announcement.id
    return OrderEffect(
        order.order_id, tuple(applied), tuple(already), tuple(unknown), tuple(sorted(changed)), announcement_id
    )
