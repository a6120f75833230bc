# The Lazada simulator's orders: one item row per unit with its own status, stock held and released, pushes.
"""`OrdersMixin`: `/orders/get`, `/order/get`, `/order/items/get`, `/orders/items/get`, and the shortcuts
`place_order` / `set_item_status` that move stock (withhold while unpaid, occupy while paid, consumed at
ready-to-ship, given back on cancel) and push message_type 0 for every unit whose status changes."""

from __future__ import annotations

import json
import random
from typing import Any

from starlette.responses import Response

from connectors.lazada.simulator.codes import (
    E_BAD_DATE,
    E_BAD_LIMIT,
    E_BAD_OFFSET,
    E_BAD_STATUS,
    E_MISSING,
    E_ORDER_NOT_IN_STORE,
    ORDER_FILTER_STATUSES,
    ORDER_IDS_MAX,
    ORDER_OFFSET_MAX,
    ORDER_PAGE_MAX,
    PUSH_ORDER,
)
from connectors.lazada.simulator.inventory import InventoryMixin
from connectors.lazada.simulator.requests import Ctx, SimError, integer, iso_text, ok, parse_iso, required
from connectors.lazada.simulator.state import SimOrder, SimOrderItem, SimSeller, SimSku

# Where a unit's stock sits in each status: withhold (unpaid), occupy (paid, not yet handed over),
# consumed (ready to ship and later), released (canceled).
_HELD = {
    "unpaid": "withhold",
    "pending": "occupy",
    "topack": "occupy",
    "toship": "occupy",
    "packed": "occupy",
    "repacked": "occupy",
}
_RELEASED = {"canceled"}


def _item_time(moment: float) -> str:
    """The order-items example's form: `2014-10-15 19:12:15 +0800`."""
    return iso_text(moment).replace("T", " ").replace("+08:00", " +0800")


class OrdersMixin(InventoryMixin):
    """Orders and their unit rows."""

    def _order_wire(self, order: SimOrder) -> dict[str, Any]:
        statuses = sorted({item.status for item in order.items})
        return {
            "order_id": int(order.order_id),
            "order_number": int(order.order_id),
            "created_at": iso_text(order.created_at),
            "updated_at": iso_text(order.updated_at),
            "price": format(sum(float(item.price) for item in order.items), ".2f"),
            "shipping_fee": 0.0,
            "voucher": 0.0,
            "payment_method": "COD",
            "items_count": len(order.items),
            "statuses": statuses,
            "warehouse_code": order.items[0].warehouse_code if order.items else "dropshipping",
            "address_shipping": {"country": self.state.sellers[order.seller_id].country.upper()},
        }

    def _item_wire(self, order: SimOrder, item: SimOrderItem) -> dict[str, Any]:
        country = self.state.sellers[order.seller_id].country.upper()
        return {
            "order_item_id": int(item.order_item_id),
            "order_id": int(order.order_id),
            "sku": item.seller_sku,
            "shop_sku": f"{item.item_id}_{country}-{item.sku_id}",
            "sku_id": item.sku_id,
            "product_id": item.item_id,
            "name": item.name,
            "variation": "",
            "item_price": float(item.price),
            "paid_price": float(item.price),
            "currency": {"SG": "SGD", "MY": "MYR", "TH": "THB", "VN": "VND", "PH": "PHP", "ID": "IDR"}.get(
                country, "USD"
            ),
            "status": item.status,
            "warehouse_code": item.warehouse_code,
            "is_fbl": 0,
            "created_at": _item_time(item.created_at),
            "updated_at": _item_time(item.updated_at),
        }

    def _own_order(self, seller: SimSeller, order_id: str) -> SimOrder:
        order = self.state.orders.get(order_id)
        if order is None or order.seller_id != seller.seller_id:
            raise SimError(E_ORDER_NOT_IN_STORE, f"Order {order_id} is not in this store")
        return order

    # --- APIs ----------------------------------------------------------------------------------

    def h_orders_get(self, ctx: Ctx) -> Response:
        params = ctx.params
        if not params.get("created_after") and not params.get("update_after"):
            raise SimError(E_MISSING, "One of created_after and update_after is required")
        bounds = {
            key: parse_iso(params[key], E_BAD_DATE)
            for key in ("created_after", "created_before", "update_after", "update_before")
            if params.get(key)
        }
        status = params.get("status")
        if status is not None and status not in ORDER_FILTER_STATUSES and status != "all":
            raise SimError(E_BAD_STATUS, f"Invalid status filter: {status}")
        sort_by = params.get("sort_by", "created_at")
        if sort_by not in {"created_at", "updated_at"}:
            raise SimError("75", "Invalid sort_by")
        direction = params.get("sort_direction", "DESC")
        if direction not in {"ASC", "DESC"}:
            raise SimError("74", "Invalid sort_direction")
        offset, limit = integer(params.get("offset", "0"), "offset"), integer(params.get("limit", "100"), "limit")
        if not 1 <= limit <= ORDER_PAGE_MAX:
            raise SimError(E_BAD_LIMIT, f"Invalid Limit: at most {ORDER_PAGE_MAX}")
        if not 0 <= offset <= ORDER_OFFSET_MAX:
            raise SimError(E_BAD_OFFSET, f"Invalid Offset: at most {ORDER_OFFSET_MAX}")
        rows = []
        for order in self.state.orders.values():
            if order.seller_id != ctx.shop.seller_id:
                continue
            created, updated = int(order.created_at), int(order.updated_at)  # the wire has whole seconds
            if created < bounds.get("created_after", created) or created > bounds.get("created_before", created):
                continue
            if updated < bounds.get("update_after", updated) or updated > bounds.get("update_before", updated):
                continue
            if status not in (None, "all") and status not in {item.status for item in order.items}:
                continue
            rows.append(order)
        key = (
            (lambda o: (o.updated_at, o.order_id))
            if sort_by == "updated_at"
            else (lambda o: (o.created_at, o.order_id))
        )
        rows.sort(key=key, reverse=direction == "DESC")
        page = rows[offset : offset + limit]
        return ok({"count": len(page), "countTotal": len(rows), "orders": [self._order_wire(order) for order in page]})

    def h_order_get(self, ctx: Ctx) -> Response:
        return ok(self._order_wire(self._own_order(ctx.shop, required(ctx.params, "order_id"))))

    def h_order_items_get(self, ctx: Ctx) -> Response:
        order = self._own_order(ctx.shop, required(ctx.params, "order_id"))
        return ok([self._item_wire(order, item) for item in order.items])

    def h_orders_items_get(self, ctx: Ctx) -> Response:
        try:
            ids = json.loads(required(ctx.params, "order_ids"))
        except ValueError:
            raise SimError("37", "order_ids must be a bracketed list like [1,2,3]") from None
        if not isinstance(ids, list) or not ids:
            raise SimError("37", "order_ids must be a bracketed list like [1,2,3]")
        if len(ids) > ORDER_IDS_MAX:
            raise SimError("56", f"Too many order ids: at most {ORDER_IDS_MAX}")
        out = []
        for raw in ids:
            order = self.state.orders.get(str(raw))
            if order is None or order.seller_id != ctx.shop.seller_id:
                continue
            out.append(
                {
                    "order_id": int(order.order_id),
                    "order_number": int(order.order_id),
                    "order_items": [self._item_wire(order, item) for item in order.items],
                }
            )
        return ok(out)

    # --- shortcuts (tests, the demo, the order generator) ----------------------------------------

    def _hold(self, seller: SimSeller, sku: SimSku, bucket: str) -> str:
        """Take one unit of sellable stock (default warehouse first) into `bucket`; the warehouse it came from."""
        for code in seller.warehouses:
            if sku.sellable.get(code, 0) > 0:
                sku.sellable[code] -= 1
                setattr(sku, bucket, getattr(sku, bucket) + 1)
                return code
        raise ValueError(f"SKU {sku.sku_id} is out of stock")

    def place_order(self, seller_id: str, lines: list[tuple[str, str, int]], *, status: str = "pending") -> str:
        """An order of `units` rows per (item, SKU); stock is held at once. Returns the order id."""
        with self._lock:
            seller = self.state.sellers[seller_id]
            now = self.clock.now()
            order = SimOrder(order_id=self.state.new_id(), seller_id=seller_id, created_at=now, updated_at=now)
            bucket = _HELD.get(status, "occupy")
            for item_id, sku_id, units in lines:
                product = self.state.products[item_id]
                sku = product.sku(sku_id)
                if sku is None:
                    raise ValueError(f"no SKU {sku_id} in item {item_id}")
                for _ in range(units):
                    warehouse = self._hold(seller, sku, bucket)
                    order.items.append(
                        SimOrderItem(
                            self.state.new_id(),
                            item_id,
                            sku_id,
                            sku.seller_sku,
                            product.name,
                            sku.price,
                            status,
                            warehouse,
                            now,
                            now,
                        )
                    )
                product.updated_ms = self.now_ms()
            self.state.orders[order.order_id] = order
            for item in order.items:
                self._push_item(order, item)
            return order.order_id

    def set_item_status(self, order_id: str, status: str, order_item_ids: list[str] | None = None) -> None:
        """Move units (all by default) to `status`, with the stock effect of the move."""
        with self._lock:
            order = self.state.orders[order_id]
            seller = self.state.sellers[order.seller_id]
            now = self.clock.now()
            for item in order.items:
                if order_item_ids is not None and item.order_item_id not in order_item_ids:
                    continue
                if item.status == status:
                    continue
                self._move_stock(seller, item, item.status, status)
                item.status, item.updated_at = status, now
                order.updated_at = now
                self._push_item(order, item)

    def _move_stock(self, seller: SimSeller, item: SimOrderItem, old: str, new: str) -> None:
        product = self.state.products.get(item.item_id)
        sku = product.sku(item.sku_id) if product else None
        if sku is None or old in _RELEASED:
            return
        was = _HELD.get(old)
        if was is None:  # already consumed (shipped): a later status moves nothing
            return
        setattr(sku, was, max(getattr(sku, was) - 1, 0))
        if new in _RELEASED:
            sku.sellable[item.warehouse_code] = sku.sellable.get(item.warehouse_code, 0) + 1
        elif new in _HELD:
            bucket = _HELD[new]
            setattr(sku, bucket, getattr(sku, bucket) + 1)
        if product is not None:
            product.updated_ms = self.now_ms()

    def _push_item(self, order: SimOrder, item: SimOrderItem) -> None:
        data = {
            "order_status": item.status,
            "trade_order_id": order.order_id,
            "trade_order_line_id": item.order_item_id,
            "status_update_time": int(item.updated_at),
        }
        self.push(order.seller_id, PUSH_ORDER, data)

    def random_order(self) -> str | None:
        """One unit of a random active, stocked SKU of a random seller (the order generator's tick)."""
        with self._lock:
            choices = [
                (product.seller_id, product.item_id, sku.sku_id)
                for product in self.state.products.values()
                if product.status == "Active"
                for sku in product.skus
                if sku.status == "active" and sku.total_sellable > 0
            ]
        if not choices:
            return None
        seller_id, item_id, sku_id = random.choice(choices)
        return self.place_order(seller_id, [(item_id, sku_id, 1)])
