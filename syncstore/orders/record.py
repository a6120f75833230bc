# Upserts an order and its lines from a RemoteOrder, in the caller's transaction (right after the ledger applied it).
"""Recording orders.

`record_order(session, connection, order, effect)` is called once after each `inventory.apply_order`, in the
same transaction, by every path an order reaches the ledger through (webhooks in `workers.dispatch`, polls
in `workers.recovery`). It inserts the order the first time it is seen and refreshes it on every sighting:

- `last_seen_at` always moves;
- the status, the platform's update time and the lines are replaced only when the sighting's
  `updated_at` is not older than the one held (a late webhook never takes a shipped order back to paid);
- each line keeps the master variant it bound to: None for the lines the ledger found no variant for
  (`OrderEffect.unknown_lines`), otherwise the SKU bound in this shop, or the variant whose SKU is the
  line's seller SKU (as the ledger binds an unbound line).

The order row is locked (inserted with ON CONFLICT DO NOTHING, then read FOR UPDATE), so a webhook and a
poll recording the same order at once both land, in their platform-time order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.base import OrderLine, RemoteOrder
from syncstore.db.models import (
    Order,
    OrderLineRow,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    ProductVariant,
)
from syncstore.db.types import utcnow
from syncstore.inventory.ledger import OrderEffect


def record_order(session: Session, connection: PlatformConnection, order: RemoteOrder, effect: OrderEffect) -> Order:
    """Insert or refresh the order's row and its lines; the caller's transaction commits them with the ledger."""
    now = utcnow()
    row = _locked_row(session, connection, order, now)
    row.last_seen_at = now
    if order.updated_at < row.updated_at:
        return row  # an older sighting: the status and lines held are newer
    row.status, row.raw_status, row.updated_at = order.status.value, order.raw_status[:64], order.updated_at
    bound = _bound_variants(session, connection.id, order.lines, set(effect.unknown_lines))
    existing = {line.line_id: line for line in row.lines}
    for line in order.lines:
        kept = existing.get(line.line_id)
        if kept is None:
            kept = OrderLineRow(line_id=line.line_id)
            row.lines.append(kept)
        kept.item_id, kept.sku_id = line.item_id, line.sku_id
        kept.seller_sku = line.seller_sku[:100] if line.seller_sku else line.seller_sku
        kept.quantity, kept.cancelled_quantity = line.quantity, line.cancelled_quantity
        kept.variant_id = bound.get(line.line_id)
    row.line_count = len(row.lines)
    row.units = sum(line.quantity for line in row.lines)
    session.flush()
    return row


def _locked_row(session: Session, connection: PlatformConnection, order: RemoteOrder, now: datetime) -> Order:
    values = {
        "connection_id": connection.id,
        "platform": connection.platform,
        "shop_id": connection.shop_id,
        "order_id": order.order_id,
        "status": order.status.value,
        "raw_status": order.raw_status[:64],
        "updated_at": order.updated_at,
        "first_seen_at": now,
        "last_seen_at": now,
        "line_count": 0,
        "units": 0,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Order).values(**values).on_conflict_do_nothing(index_elements=["connection_id", "order_id"]))
    query = sa.select(Order).where(Order.connection_id == connection.id, Order.order_id == order.order_id)
    return session.scalars(query.with_for_update().execution_options(populate_existing=True)).one()


def _bound_variants(
    session: Session, connection_id: int, lines: Sequence[OrderLine], unknown: set[str]
) -> dict[str, int]:
    """line id -> master variant id, for the lines the ledger bound (one query per kind of binding)."""
    wanted = [line for line in lines if line.line_id not in unknown]
    if not wanted:
        return {}
    by_remote = _variants_by_remote_sku(session, connection_id, {line.sku_id for line in wanted})
    found: dict[str, int] = {}
    for line in wanted:
        variant_id = by_remote.get((line.item_id, line.sku_id))
        if variant_id is not None:
            found[line.line_id] = variant_id
    by_sku = _variants_by_sku(session, {line.seller_sku for line in wanted if line.line_id not in found})
    for line in wanted:
        if line.line_id not in found and line.seller_sku and line.seller_sku.lower() in by_sku:
            found[line.line_id] = by_sku[line.seller_sku.lower()]
    return found


def _variants_by_remote_sku(session: Session, connection_id: int, sku_ids: set[str]) -> dict[tuple[str, str], int]:
    query = (
        sa.select(PlatformListing.remote_item_id, PlatformListingSku.remote_sku_id, PlatformListingSku.variant_id)
        .join(PlatformListing, PlatformListing.id == PlatformListingSku.listing_id)
        .where(
            PlatformListingSku.connection_id == connection_id,
            PlatformListingSku.remote_sku_id.in_(sorted(sku_ids)),
            PlatformListingSku.variant_id.is_not(None),
        )
    )
    return {(item, sku): variant for item, sku, variant in session.execute(query) if variant is not None}


def _variants_by_sku(session: Session, skus: Iterable[str | None]) -> dict[str, int]:
    lowered = sorted({sku.lower() for sku in skus if sku})
    if not lowered:
        return {}
    query = sa.select(sa.func.lower(ProductVariant.sku), ProductVariant.id).where(
        sa.func.lower(ProductVariant.sku).in_(lowered)
    )
    return {sku: variant_id for sku, variant_id in session.execute(query)}
