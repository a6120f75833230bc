# Reads of the orders seen: a filtered, paged list (newest first) and one order with its lines and ledger effects.
"""Order reads, for the Orders page and the public API.

`list_orders` pages the orders of every shop (newest first by default: the order SyncStore saw last
comes first; `oldest_first` for the API's stable cursor), filtered by shop, normalized status, the
time SyncStore first saw them and a search over the order number and the SKUs (the line's seller SKU
or the master SKU it bound to). Pages go by offset (the page number) or by keyset (`after_id`: the
last row id of the previous page; the order of rows is the row id's, which is the order they were
first seen in).

`get_order` is one order, its lines with their master SKUs, the ledger rows it wrote (every key that
starts with `<platform>:<shop_id>:<order_id>:`, bundle components' `:v<id>` keys included, at most
`MAX_EFFECTS`) and the link to the order in the platform's seller centre when the platform has one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import OrderStatus
from syncstore.db.models import InventoryHistory, Order, OrderLineRow, PlatformConnection, ProductVariant
from syncstore.errors import InvalidInput, Message, NotFoundError, msg

STATUSES: Final = tuple(status.value for status in OrderStatus)
MAX_PAGE: Final = 200
MAX_EFFECTS: Final = 500
# `<line id>:<transition>` then, for a bundle's component, `:v<component variant id>`.
_KEY_TAIL: Final = re.compile(
    r"^(?P<line>.+?):(?P<transition>reserve|release|consume|cancel-units:\d+)(?::v(?P<c>\d+))?$"
)


@dataclass(frozen=True)
class OrderFilters:
    """What the list shows: every filter left None matches everything."""

    connection_id: int | None = None
    platform: str | None = None
    order_id: str | None = None  # exactly this order number
    status: str | None = None
    since: datetime | None = None  # first seen at or after (inclusive)
    until: datetime | None = None  # first seen before (exclusive)
    search: str | None = None  # part of the order number, a seller SKU or a master SKU (any case)


@dataclass(frozen=True)
class LineView:
    line_id: str
    item_id: str
    sku_id: str
    seller_sku: str | None
    quantity: int
    cancelled_quantity: int
    variant_id: int | None
    master_sku: str | None  # None: the line is bound to no master variant


@dataclass(frozen=True)
class OrderView:
    id: int
    connection_id: int
    platform: str
    shop_id: str
    shop_name: str
    region: str
    order_id: str
    status: str
    raw_status: str
    updated_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    line_count: int
    units: int
    lines: tuple[LineView, ...]

    @property
    def order_ref(self) -> str:
        """The prefix of the order's ledger keys."""
        return f"{self.platform}:{self.shop_id}:{self.order_id}:"


@dataclass(frozen=True)
class LedgerEffect:
    """One ledger row the order wrote: a transition of one line on one variant."""

    ledger_id: int
    line_id: str
    transition: str  # reserve | release | consume | cancel-units:<n>
    reason: str
    variant_id: int | None
    sku: str | None
    on_hand_change: int
    reserved_change: int
    at: datetime
    component: bool  # a bundle line's component (key suffix `:v<id>`)


@dataclass(frozen=True)
class OrderDetail:
    order: OrderView
    effects: tuple[LedgerEffect, ...]
    seller_url: str | None


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderView]
    total: int
    next_after_id: int | None  # pass as `after_id` for the next page; None on the last page


def _check(filters: OrderFilters, limit: int, offset: int) -> None:
    errors: dict[str, Message] = {}
    if filters.status is not None and filters.status not in STATUSES:
        errors["status"] = msg("must be one of {choices}", choices=", ".join(STATUSES))
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        errors["until"] = msg("must be after the start of the range")
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = msg("must be 1 to {limit}", limit=MAX_PAGE)
    if offset < 0:
        errors["offset"] = msg("must not be negative")
    if errors:
        raise InvalidInput(errors)


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: OrderFilters) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.connection_id is not None:
        conditions.append(Order.connection_id == filters.connection_id)
    if filters.platform is not None:
        conditions.append(Order.platform == filters.platform)
    if filters.order_id is not None:
        conditions.append(Order.order_id == filters.order_id)
    if filters.status is not None:
        conditions.append(Order.status == filters.status)
    if filters.since is not None:
        conditions.append(Order.first_seen_at >= filters.since)
    if filters.until is not None:
        conditions.append(Order.first_seen_at < filters.until)
    term = (filters.search or "").strip().lower()
    if term:
        pattern = f"%{_like(term)}%"
        line_matches = (
            sa.select(OrderLineRow.id)
            .outerjoin(ProductVariant, ProductVariant.id == OrderLineRow.variant_id)
            .where(
                OrderLineRow.order_row_id == Order.id,
                sa.or_(
                    sa.func.lower(OrderLineRow.seller_sku).like(pattern, escape="\\"),
                    sa.func.lower(ProductVariant.sku).like(pattern, escape="\\"),
                ),
            )
        )
        conditions.append(sa.or_(sa.func.lower(Order.order_id).like(pattern, escape="\\"), line_matches.exists()))
    return conditions


def list_orders(
    session: Session,
    filters: OrderFilters | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
    after_id: int | None = None,
    oldest_first: bool = False,
) -> OrderPage:
    """One page of the orders matching `filters`, and how many match in all."""
    chosen = filters or OrderFilters()
    _check(chosen, limit, offset)
    conditions = _conditions(chosen)
    total = int(session.scalar(sa.select(sa.func.count()).select_from(Order).where(*conditions)) or 0)
    query = sa.select(Order, PlatformConnection.shop_name, PlatformConnection.region).join(
        PlatformConnection, PlatformConnection.id == Order.connection_id
    )
    if after_id is not None:
        conditions.append(Order.id > after_id if oldest_first else Order.id < after_id)
    query = query.where(*conditions).order_by(Order.id.asc() if oldest_first else Order.id.desc())
    rows = session.execute(query.limit(limit + 1).offset(offset)).all()
    page = rows[:limit]
    lines = _lines(session, [order.id for order, _, _ in page])
    views = [_view(order, name, region, lines.get(order.id, ())) for order, name, region in page]
    return OrderPage(views, total, page[-1][0].id if len(rows) > limit else None)


def _lines(session: Session, order_ids: Sequence[int]) -> dict[int, tuple[LineView, ...]]:
    if not order_ids:
        return {}
    query = (
        sa.select(OrderLineRow, ProductVariant.sku)
        .outerjoin(ProductVariant, ProductVariant.id == OrderLineRow.variant_id)
        .where(OrderLineRow.order_row_id.in_(order_ids))
        .order_by(OrderLineRow.order_row_id, OrderLineRow.id)
    )
    found: dict[int, list[LineView]] = defaultdict(list)
    for line, sku in session.execute(query):
        found[line.order_row_id].append(
            LineView(
                line.line_id,
                line.item_id,
                line.sku_id,
                line.seller_sku,
                line.quantity,
                line.cancelled_quantity,
                line.variant_id,
                sku,
            )
        )
    return {order_id: tuple(views) for order_id, views in found.items()}


def _view(order: Order, shop_name: str, region: str, lines: tuple[LineView, ...]) -> OrderView:
    return OrderView(
        order.id,
        order.connection_id,
        order.platform,
        order.shop_id,
        shop_name or order.shop_id,
        region,
        order.order_id,
        order.status,
        order.raw_status,
        order.updated_at,
        order.first_seen_at,
        order.last_seen_at,
        order.line_count,
        order.units,
        lines,
    )


def get_order(session: Session, order_row_id: int) -> OrderDetail:
    """One order (by its row id) with its lines, its ledger effects and its seller-centre link."""
    query = (
        sa.select(Order, PlatformConnection.shop_name, PlatformConnection.region)
        .join(PlatformConnection, PlatformConnection.id == Order.connection_id)
        .where(Order.id == order_row_id)
    )
    row = session.execute(query).first()
    if row is None:
        raise NotFoundError("order {order_row_id} not found", order_row_id=order_row_id)
    order, name, region = row
    view = _view(order, name, region, _lines(session, [order.id]).get(order.id, ()))
    return OrderDetail(view, ledger_effects(session, view.order_ref), seller_url(view.platform, region, view.order_id))


def ledger_effects(session: Session, order_ref: str) -> tuple[LedgerEffect, ...]:
    """The ledger rows whose idempotency key starts with `order_ref`, oldest first (at most MAX_EFFECTS)."""
    key = InventoryHistory.idempotency_key
    match: sa.ColumnElement[bool] = key.like(f"{_like(order_ref)}%", escape="\\")
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's LIKE ignores case and so no index serves it: the range reads the unique index (binary order).
        match = sa.and_(match, key >= order_ref, key < order_ref[:-1] + chr(ord(order_ref[-1]) + 1))
    query = (
        sa.select(InventoryHistory, ProductVariant.sku)
        .outerjoin(ProductVariant, ProductVariant.id == InventoryHistory.variant_id)
        .where(match)
        .order_by(InventoryHistory.id)
        .limit(MAX_EFFECTS)
    )
    effects = []
    for entry, sku in session.execute(query):
        tail = _KEY_TAIL.match((entry.idempotency_key or "")[len(order_ref) :])
        if tail is None:
            continue
        effects.append(
            LedgerEffect(
                entry.id,
                tail["line"],
                tail["transition"],
                entry.change_reason,
                entry.variant_id,
                sku,
                entry.new_quantity - entry.previous_quantity,
                entry.new_reserved - entry.previous_reserved,
                entry.created_at,
                tail["c"] is not None,
            )
        )
    return tuple(effects)


def seller_url(platform: str, region: str, order_id: str) -> str | None:
    """The order's page in the platform's seller centre; None when the platform offers none (or is unknown)."""
    try:
        build = registry.spec(platform).seller_order_url
    except registry.UnknownPlatform:
        return None
    return build(region, order_id) if build is not None else None


def shop_choices(session: Session) -> list[tuple[int, str, str]]:
    """(connection id, platform, shop name) of every connected or once-connected shop, for the shop filter."""
    shop = PlatformConnection
    query = sa.select(shop.id, shop.platform, shop.shop_name, shop.shop_id).order_by(shop.platform, shop.shop_name)
    return [(cid, platform, name or shop_id) for cid, platform, name, shop_id in session.execute(query)]
