# Test helpers: marketplace orders as a connector returns them, seen the way the workers see them.
"""`remote_order(...)` builds a RemoteOrder; `see(engine, connection_id, order)` applies it to the ledger and
records it in one transaction, as `workers.dispatch` and `workers.recovery` do."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from connectors.base import OrderLine, OrderStatus, RemoteOrder
from syncstore.db.engine import transaction
from syncstore.db.models import Order, PlatformConnection
from syncstore.inventory import ledger as inventory
from syncstore.orders import record

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def line(
    line_id: str,
    seller_sku: str | None,
    quantity: int = 1,
    *,
    item_id: str = "555",
    sku_id: str = "0",
    cancelled: int = 0,
) -> OrderLine:
    return OrderLine(
        line_id=line_id,
        item_id=item_id,
        sku_id=sku_id,
        seller_sku=seller_sku,
        quantity=quantity,
        cancelled_quantity=cancelled,
    )


def remote_order(
    connection: tuple[str, str],
    order_id: str,
    status: OrderStatus,
    *lines: OrderLine,
    updated_at: datetime = T0,
    raw_status: str = "",
) -> RemoteOrder:
    platform, shop_id = connection
    return RemoteOrder(
        platform=platform,
        shop_id=shop_id,
        order_id=order_id,
        status=status,
        raw_status=raw_status or status.value,
        lines=lines,
        updated_at=updated_at,
    )


def see(engine: sa.Engine, connection_id: int, order: RemoteOrder) -> inventory.OrderEffect:
    """What a worker does with an order it fetched: the ledger applies it, the order is recorded, one commit."""
    with transaction(engine) as session:
        connection = session.get_one(PlatformConnection, connection_id)
        effect = inventory.apply_order(session, connection, order)
        record.record_order(session, connection, order, effect)
        return effect


def stored(engine: sa.Engine, connection_id: int, order_id: str) -> Order:
    with transaction(engine) as session:
        row = session.scalars(
            sa.select(Order).where(Order.connection_id == connection_id, Order.order_id == order_id)
        ).one()
        _ = list(row.lines)  # loaded before the session closes
        session.expunge(row)
        return row
