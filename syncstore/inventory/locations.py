# Stock locations: list, create, rename, deactivate; per-location levels; transfers; the locations each shop sells.
"""Locations (warehouses).

The default location is implicit: a variant's totals (`product_variants.stock` / `.reserved`) minus
its `location_stock` rows (one per non-default location holding stock). A transfer writes two
ledger rows (reason `transfer`) and leaves the totals unchanged. A shop sells the stock of its
source locations (`shop_stock_sources`; none chosen = every active location).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import (
    LocationStock,
    PlatformConnection,
    PlatformListingSku,
    ProductVariant,
    ShopStockSource,
    StockLocation,
)
from syncstore.errors import InvalidInput, NotFoundError, msg
from syncstore.inventory import ledger
from syncstore.security import audit
from syncstore.security.auth import Actor, Permission, requires

NAME_MAX = 100


@dataclass(frozen=True)
class Location:
    id: int
    name: str
    is_default: bool
    is_active: bool


@dataclass(frozen=True)
class LocationLevel:
    variant_id: int
    location_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


def _location(row: StockLocation) -> Location:
    return Location(row.id, row.name, row.is_default, row.is_active)


def list_locations(session: Session) -> list[Location]:
    """Every location, the default first, then by name."""
    ledger.default_location_id(session)
    rows = session.scalars(sa.select(StockLocation).order_by(StockLocation.is_default.desc(), StockLocation.name))
    return [_location(row) for row in rows]


def _clean_name(session: Session, name: str, location_id: int | None = None) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInput({"name": "cannot be empty"})
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(
            {"name": msg("at most {limit} characters (it has {count})", limit=NAME_MAX, count=len(cleaned))}
        )
    query = sa.select(StockLocation.id).where(sa.func.lower(StockLocation.name) == cleaned.lower())
    taken = session.scalar(query)
    if taken is not None and taken != location_id:
        raise InvalidInput({"name": msg("a location named {cleaned!r} already exists", cleaned=cleaned)})
    return cleaned


def _get(session: Session, location_id: int) -> StockLocation:
    row = session.get(StockLocation, location_id, with_for_update=True)
    if row is None:
        raise NotFoundError("location {location_id} not found", location_id=location_id)
    return row


@requires(Permission.INVENTORY_ADJUST)
def create_location(actor: Actor | None, session: Session, name: str) -> Location:
    """A new, active, non-default location (audited). A duplicate name (any case) is refused."""
    ledger.default_location_id(session)
    row = StockLocation(name=_clean_name(session, name), is_default=False, is_active=True)
    session.add(row)
    session.flush()
    audit.record(session, actor, "location.create", "location", row.id, after={"name": row.name})
    return _location(row)


@requires(Permission.INVENTORY_ADJUST)
def rename_location(actor: Actor | None, session: Session, location_id: int, name: str) -> Location:
    row = _get(session, location_id)
    before = row.name
    row.name = _clean_name(session, name, location_id)
    session.flush()
    audit.record(
        session, actor, "location.rename", "location", row.id, before={"name": before}, after={"name": row.name}
    )
    return _location(row)


@requires(Permission.INVENTORY_ADJUST)
def deactivate_location(actor: Actor | None, session: Session, location_id: int) -> Location:
    """Deactivate a location: refused for the default and while it holds stock (on hand or reserved)."""
    row = _get(session, location_id)
    if row.is_default:
        raise InvalidInput(
            {"location_id": msg("{name} is the default location and cannot be deactivated", name=row.name)}
        )
    held = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(LocationStock.on_hand), 0),
                  sa.func.coalesce(sa.func.sum(LocationStock.reserved), 0))
        .where(LocationStock.location_id == location_id)
    ).one()  # fmt: skip
    if held[0] or held[1]:
        raise InvalidInput(
            {
                "location_id": msg(
                    "{name} still holds {on_hand} on hand and {reserved} reserved; transfer them first",
                    name=row.name,
                    on_hand=held[0],
                    reserved=held[1],
                )
            }
        )
    row.is_active = False
    session.flush()
    audit.record(session, actor, "location.deactivate", "location", row.id, before={"is_active": True},
                 after={"is_active": False})  # fmt: skip
    return _location(row)


def location_levels(session: Session, variant_ids: Sequence[int]) -> list[LocationLevel]:
    """Per variant, every active location (the default computed from the totals), by variant then location."""
    if not variant_ids:
        return []
    default_id = ledger.default_location_id(session)
    active = session.execute(
        sa.select(StockLocation.id).where(StockLocation.is_active).order_by(StockLocation.is_default.desc(),
                                                                            StockLocation.name)
    ).scalars().all()  # fmt: skip
    totals = {
        v: (stock, reserved)
        for v, stock, reserved in session.execute(
            sa.select(ProductVariant.id, ProductVariant.stock, ProductVariant.reserved)
            .where(ProductVariant.id.in_(list(variant_ids))).order_by(ProductVariant.id)
        )
    }  # fmt: skip
    rows: dict[int, dict[int, tuple[int, int]]] = {}
    for v, location_id, on_hand, reserved in session.execute(
        sa.select(LocationStock.variant_id, LocationStock.location_id, LocationStock.on_hand, LocationStock.reserved)
        .where(LocationStock.variant_id.in_(list(totals)))
    ):  # fmt: skip
        if location_id != default_id:
            rows.setdefault(v, {})[location_id] = (on_hand, reserved)
    levels: list[LocationLevel] = []
    for v, (stock, reserved) in totals.items():
        others = rows.get(v, {})
        at = {**others, default_id: (stock - sum(q[0] for q in others.values()),
                                      reserved - sum(q[1] for q in others.values()))}  # fmt: skip
        levels.extend(LocationLevel(v, location_id, *at.get(location_id, (0, 0))) for location_id in active)
    return levels


@requires(Permission.INVENTORY_ADJUST)
def transfer_stock(
    actor: Actor | None,
    session: Session,
    variant_id: int,
    *,
    from_location_id: int,
    to_location_id: int,
    quantity: int,
    note: str | None = None,
) -> list[LocationLevel]:
    """Move on-hand units between two active locations: two ledger rows (reason `transfer`), totals unchanged.

    Refused when quantity <= 0, the locations are the same, or the source's available is below quantity.
    Announces `inventory.changed` (a shop fed by one location but not the other sees a new quantity).
    """
    if quantity <= 0:
        raise InvalidInput({"quantity": "must be 1 or more"})
    if from_location_id == to_location_id:
        raise InvalidInput({"to_location_id": "choose another location than the source"})
    variant = ledger.locked_variant(session, variant_id)
    default_id = ledger.default_location_id(session)
    names: dict[int, str] = {}
    for field, location_id in (("from_location_id", from_location_id), ("to_location_id", to_location_id)):
        row = session.get(StockLocation, location_id)
        if row is None or not row.is_active:
            raise InvalidInput(
                {field: msg("location {location_id} does not exist or is not active", location_id=location_id)}
            )
        names[location_id] = row.name
    at = ledger.location_quantities(session, variant, default_id)
    source_on_hand, source_reserved = at.get(from_location_id, (0, 0))
    if source_on_hand - source_reserved < quantity:
        raise InvalidInput(
            {
                "quantity": msg(
                    "{location} has {available} available of {sku}, fewer than {quantity}",
                    location=names[from_location_id],
                    available=max(source_on_hand - source_reserved, 0),
                    sku=variant.sku,
                    quantity=quantity,
                )
            }
        )
    target_on_hand, target_reserved = at.get(to_location_id, (0, 0))
    label = actor.label if actor else ""
    text = note or f"{names[from_location_id]} -> {names[to_location_id]}"
    ledger.change(session, variant, on_hand=source_on_hand - quantity, reserved=source_reserved, reason="transfer",
                  location_id=from_location_id, changed_by=label, note=text)  # fmt: skip
    ledger.change(session, variant, on_hand=target_on_hand + quantity, reserved=target_reserved, reason="transfer",
                  location_id=to_location_id, changed_by=label, note=text)  # fmt: skip
    ledger.announce(session, [variant.id], "transfer")
    audit.record(session, actor, "inventory.transfer", "variant", variant.id,
                 after={"from_location_id": from_location_id, "to_location_id": to_location_id,
                        "quantity": quantity, "note": note})  # fmt: skip
    return location_levels(session, [variant.id])


def shop_sources(session: Session) -> dict[int, frozenset[int]]:
    """connection id -> the locations it sells; a shop absent sells every active location."""
    found: dict[int, set[int]] = {}
    for connection_id, location_id in session.execute(sa.select(ShopStockSource.connection_id,
                                                                ShopStockSource.location_id)):  # fmt: skip
        found.setdefault(connection_id, set()).add(location_id)
    return {connection_id: frozenset(ids) for connection_id, ids in found.items()}


@requires(Permission.CONNECTIONS_MANAGE)
def set_shop_sources(actor: Actor | None, session: Session, connection_id: int, location_ids: Sequence[int]) -> None:
    """Choose the locations a shop sells (empty = every active location); audited.

    Announces ONE `inventory.changed` event naming every variant bound in that shop: the push that
    follows reads the shop's new channel quantities (and pushes to other shops only what differs
    from their snapshot, which is nothing). A per-shop event would be cheaper for the other shops,
    but the push already skips unchanged quantities, so one event keeps one consumer path.
    """
    connection = session.get(PlatformConnection, connection_id)
    if connection is None:
        raise NotFoundError("connection {connection_id} not found", connection_id=connection_id)
    wanted = sorted(set(location_ids))
    if wanted:
        active = set(session.scalars(sa.select(StockLocation.id).where(StockLocation.id.in_(wanted),
                                                                       StockLocation.is_active)))  # fmt: skip
        missing = [location_id for location_id in wanted if location_id not in active]
        if missing:
            raise InvalidInput(
                {"location_ids": msg("location {location_id} does not exist or is not active", location_id=missing[0])}
            )
    before = sorted(shop_sources(session).get(connection_id, frozenset()))
    session.execute(sa.delete(ShopStockSource).where(ShopStockSource.connection_id == connection_id))
    session.add_all(ShopStockSource(connection_id=connection_id, location_id=location_id) for location_id in wanted)
    session.flush()
    bound_query = sa.select(PlatformListingSku.variant_id).where(
        PlatformListingSku.connection_id == connection_id, PlatformListingSku.variant_id.is_not(None)
    )
    bound = sorted({v for v in session.scalars(bound_query) if v is not None})
    if bound and before != wanted:
        ledger.announce(session, bound, "shop stock sources")
    audit.record(session, actor, "connection.stock_sources", "connection", connection_id,
                 before={"location_ids": before}, after={"location_ids": wanted})  # fmt: skip
