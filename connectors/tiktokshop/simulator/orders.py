# The TikTok Shop simulator's orders: the order endpoints, buyers placing and cancelling, the order generator.
"""`OrdersMixin` serves order detail and search and moves orders on (place, status, line cancellation),
taking and releasing stock."""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Mapping
from typing import Any

from connectors.simulator.common import Ticker
from connectors.tiktokshop.simulator.codes import (
    MAX_ORDER_IDS,
    ORDER_STATUSES,
    SHIPPED_STATUSES,
)
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    int_field,
    order_wire,
    param,
)
from connectors.tiktokshop.simulator.state import (
    SimLineItem,
    SimOrder,
    SimShop,
    SimSku,
)
from connectors.tiktokshop.simulator.webhooks import WebhooksMixin


class OrdersMixin(WebhooksMixin):
    """Orders of `TikTokShopSimulator`."""

    def place_order(
        self, shop_id: str, product_id: str, sku_id: str, qty: int = 1, *, status: str = "AWAITING_SHIPMENT"
    ) -> str:
        """A buyer orders `qty` units (one line item each): available stock drops; type 1 is pushed."""
        if qty < 1 or status not in ORDER_STATUSES or status in SHIPPED_STATUSES or status == "CANCELLED":
            raise ValueError("qty must be >= 1 and status an open order status")
        with self._lock:
            product = self.state.products[product_id]
            sku = product.sku(sku_id)
            if product.shop_id != shop_id or sku is None:
                raise ValueError("no such SKU in this shop")
            if sku.available < qty:
                raise ValueError(f"only {sku.available} available")
            shop = self.state.shops[shop_id]
            taken = self._take(sku, shop, qty)
            now = self.now()
            lines = [
                SimLineItem(
                    self.state.new_id(),
                    product_id,
                    sku_id,
                    sku.seller_sku,
                    sku.sale_price or sku.price,
                    sku.currency,
                    display_status=status,
                    warehouse_id=warehouse,
                )
                for warehouse in taken
            ]
            order = SimOrder(self.state.new_id(), shop_id, status, now, now, lines)
            self.state.orders[order.id] = order
        self._notify_order(order)
        return order.id

    @staticmethod
    def _take(sku: SimSku, shop: SimShop, qty: int) -> list[str]:
        """Take `qty` available units (the default warehouse first); the warehouse of each unit."""
        taken: list[str] = []
        for warehouse in sorted(sku.inventory, key=lambda w: w != shop.warehouse_id):
            step = min(qty - len(taken), sku.inventory[warehouse])
            sku.inventory[warehouse] -= step
            taken.extend([warehouse] * step)
        sku.reserved += qty
        return taken

    def _release(self, line: SimLineItem, shop: SimShop) -> None:
        sku = self.state.products[line.product_id].sku(line.sku_id)
        if sku is not None:
            warehouse = line.warehouse_id or shop.warehouse_id
            sku.reserved -= 1
            sku.inventory[warehouse] = sku.inventory.get(warehouse, 0) + 1

    def set_order_status(self, order_id: str, status: str) -> None:
        """Move an order: CANCELLED gives open units back, IN_TRANSIT (or later) consumes them; type 1 pushed."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status}")
        with self._lock:
            order = self.state.orders[order_id]
            shop = self.state.shops[order.shop_id]
            closed = order.status == "CANCELLED" or order.status in SHIPPED_STATUSES
            for line in order.line_items:
                if closed or line.display_status == "CANCELLED":
                    continue
                if status == "CANCELLED":
                    self._release(line, shop)
                    line.cancel_reason, line.cancel_user = "Buyer cancelled", "BUYER"
                elif status in SHIPPED_STATUSES:
                    sku = self.state.products[line.product_id].sku(line.sku_id)
                    if sku is not None:
                        sku.reserved -= 1
                line.display_status = status
            order.status, order.update_time = status, max(self.now(), order.update_time)
        if status == "CANCELLED":
            self._notify(order.shop_id, 11, self._cancellation_data(order, "CANCELLED"))
        self._notify_order(order)

    def cancel_line(self, order_id: str, line_item_id: str, *, reason: str = "Out of stock") -> None:
        """One line item (one unit) is cancelled; its unit goes back to stock. When it was the last open
        line the whole order is CANCELLED. Types 11 and 1 are pushed."""
        with self._lock:
            order = self.state.orders[order_id]
            line = next((item for item in order.line_items if item.id == line_item_id), None)
            if line is None:
                raise KeyError(line_item_id)
            if line.display_status == "CANCELLED" or order.status in SHIPPED_STATUSES:
                raise ValueError("this line item can no longer be cancelled")
            self._release(line, self.state.shops[order.shop_id])
            line.display_status, line.cancel_reason, line.cancel_user = "CANCELLED", reason, "SELLER"
            if all(item.display_status == "CANCELLED" for item in order.line_items):
                order.status = "CANCELLED"
            order.update_time = max(self.now(), order.update_time)
        self._notify(order.shop_id, 11, self._cancellation_data(order, "PARTIAL"))
        self._notify_order(order)

    @staticmethod
    def _cancellation_data(order: SimOrder, kind: str) -> dict[str, Any]:
        return {
            "order_id": order.id,
            "cancellation_status": "COMPLETED",
            "cancel_type": kind,
            "update_time": order.update_time,
        }

    def start_order_generator(self, interval_s: float, *, seed: int | None = None) -> None:
        """Place a random 1-2 unit order on a random in-stock active SKU every `interval_s` seconds."""
        rng = random.Random(seed)

        def tick() -> None:
            with self._lock:
                candidates = [
                    (product.shop_id, product.id, sku.id)
                    for product in self.state.products.values()
                    if product.status == "ACTIVATE"
                    for sku in product.skus
                    if sku.available > 0
                ]
            if candidates:
                shop_id, product_id, sku_id = rng.choice(candidates)
                with contextlib.suppress(ValueError):  # sold out between the pick and the order
                    self.place_order(shop_id, product_id, sku_id, rng.randint(1, 2))

        self._ticker = Ticker(interval_s, tick).start()

    def stop_order_generator(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _orders(self, ctx: Ctx) -> Mapping[str, Any]:
        ids = [i for i in ctx.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= MAX_ORDER_IDS:
            raise param("ids", "between 1 and 50 order ids")
        shop_id = self._shop(ctx).id
        found = [
            self.state.orders[i] for i in ids if i in self.state.orders and self.state.orders[i].shop_id == shop_id
        ]
        return {"orders": [order_wire(order) for order in found]}

    def _order_search(self, ctx: Ctx) -> Mapping[str, Any]:
        shop, body = self._shop(ctx), ctx.body
        bounds = {
            name: int_field(body[name], name)
            for name in ("update_time_ge", "update_time_lt", "create_time_ge", "create_time_lt")
            if name in body
        }
        status = body.get("order_status")
        if status is not None and status not in ORDER_STATUSES:
            raise param("order_status", "unknown order status")
        fingerprint = json.dumps(["orders", shop.id, bounds, status], sort_keys=True)
        page_size, offset = self._page(ctx, fingerprint)

        def inside(order: SimOrder) -> bool:
            return (
                order.update_time >= bounds.get("update_time_ge", 0)
                and order.update_time < bounds.get("update_time_lt", 2**62)
                and order.create_time >= bounds.get("create_time_ge", 0)
                and order.create_time < bounds.get("create_time_lt", 2**62)
                and (status is None or order.status == status)
            )

        matches = sorted(
            (o for o in self.state.orders.values() if o.shop_id == shop.id and inside(o)),
            key=lambda o: (o.update_time, o.id),
        )
        page = matches[offset : offset + page_size]
        end = offset + len(page)
        return {
            "orders": [order_wire(order) for order in page],
            "total_count": len(matches),
            "next_page_token": self._next_token(fingerprint, end) if end < len(matches) else "",
        }
