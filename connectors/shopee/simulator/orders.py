# The Shopee simulator's orders: the order endpoints, buyers placing and cancelling, the random order generator.
"""`OrdersMixin` serves get_order_list and get_order_detail and moves orders on (place, status, partial
cancellation), taking and giving back stock."""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Sequence
from datetime import datetime

from connectors.shopee.simulator.codes import (
    MAX_BATCH,
    MAX_PAGE,
    MSG_ORDER_NOT_FOUND,
    MSG_ORDER_RANGE,
    ORDER_LIST_MAX_RANGE_S,
    ORDER_STATUSES,
    UTC8,
    Json,
)
from connectors.shopee.simulator.push_routes import PushRoutesMixin
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    comma_list,
    param_error,
    query_int,
    split_csv,
)
from connectors.shopee.simulator.state import SimModel, SimOrder, SimOrderLine, SimShop
from connectors.simulator.common import Ticker

log = logging.getLogger(__name__)


class OrdersMixin(PushRoutesMixin):
    """Orders of `ShopeeSimulator`."""

    def _order_list(self, ctx: Ctx) -> Json:
        field_name = ctx.query.get("time_range_field", "")
        if field_name not in ("create_time", "update_time"):
            raise param_error("time_range_field must be create_time or update_time.")
        time_from, time_to = query_int(ctx.query, "time_from"), query_int(ctx.query, "time_to")
        if time_from > time_to or time_to - time_from > ORDER_LIST_MAX_RANGE_S:
            raise ApiError("order.order_list_invalid_time", MSG_ORDER_RANGE)
        page_size = query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE:
            raise param_error(f"page_size should be between 1 and {MAX_PAGE}.")
        status = ctx.query.get("order_status")
        if status is not None and status not in ORDER_STATUSES:
            raise param_error(f"order_status {status} is not valid.")
        cursor = ctx.query.get("cursor", "")
        offset = 0
        if cursor:
            if cursor not in self._order_cursors:
                raise param_error("cursor is invalid.")
            offset = self._order_cursors[cursor]
        matches = sorted(
            (
                o
                for o in self.state.orders.values()
                if o.shop_id == ctx.shop_id
                and time_from <= getattr(o, field_name) <= time_to
                and (status is None or o.status == status)
            ),
            key=lambda o: (getattr(o, field_name), o.order_sn),
            reverse=True,
        )
        page = matches[offset : offset + page_size]
        more = offset + len(page) < len(matches)
        next_cursor = ""
        if more:
            next_cursor = secrets.token_urlsafe(12)  # opaque: a client may not compute it
            self._order_cursors[next_cursor] = offset + len(page)
        optional = set(split_csv(ctx.query.get("response_optional_fields", "")))
        rows = [
            {"order_sn": o.order_sn, **({"order_status": o.status} if "order_status" in optional else {})} for o in page
        ]
        return {"more": more, "next_cursor": next_cursor, "order_list": rows}

    def _order_detail(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        order_sns = comma_list(ctx.query, "order_sn_list", shop)
        if not 1 <= len(order_sns) <= MAX_BATCH:
            raise param_error(f"order_sn_list should have 1 to {MAX_BATCH} order numbers.")
        optional = set(comma_list(ctx.query, "response_optional_fields", shop))
        orders = []
        for order_sn in order_sns:
            order = self.state.orders.get(order_sn)
            if order is None or order.shop_id != ctx.shop_id:
                # One unknown order fails the whole call (the schema's error example).
                raise ApiError("error_not_found", MSG_ORDER_NOT_FOUND, 404)
            orders.append(order)
        return {"order_list": [self._order_json(order, shop, optional) for order in orders]}

    def _order_json(self, order: SimOrder, shop: SimShop, optional: set[str]) -> Json:
        row: Json = {
            "order_sn": order.order_sn,
            "region": shop.region,
            "currency": shop.currency,
            "cod": False,
            "order_status": order.status,
            "create_time": order.create_time,
            "update_time": order.update_time,
            "message_to_seller": "",
            "days_to_ship": 3,
            "ship_by_date": order.create_time + 3 * 86400,
        }
        if "item_list" in optional:
            row["item_list"] = [
                {
                    "item_id": line.item_id,
                    "item_name": line.item_name,
                    "item_sku": line.item_sku,
                    "model_id": line.model_id,
                    "model_name": line.model_sku,
                    "model_sku": line.model_sku,
                    "model_quantity_purchased": line.quantity,
                    "model_original_price": line.price,
                    "model_discounted_price": line.price,
                    "active_qty": 0 if order.status == "CANCELLED" else line.active,
                    "cancel_requested_qty": 0,
                    "cancelled_qty": line.quantity if order.status == "CANCELLED" else line.cancelled,
                    "return_requested_qty": 0,
                    "returned_qty": 0,
                    **({"product_location_id": ",".join(sorted(line.taken))} if shop.multi_location else {}),
                }
                for line in order.lines
            ]
        return row

    def place_order(
        self,
        shop_id: int,
        item_id: int,
        model_id: int = 0,
        quantity: int = 1,
        *,
        status: str = "UNPAID",
        lines: Sequence[tuple[int, int, int]] = (),
    ) -> str:
        """A buyer orders: the units leave the sellable stock at once; a code-3 push follows.

        `lines` adds more (item_id, model_id, quantity) lines to the same order.
        """
        with self._lock:
            wanted = [(item_id, model_id, quantity), *lines]
            order_lines = []
            for line_item, line_model, line_quantity in wanted:
                item = self.state.items[line_item]
                model = item.models[line_model]
                if item.shop_id != shop_id or item.status != "NORMAL":
                    raise ValueError(f"item {line_item} is not on sale in shop {shop_id}")
                if line_quantity < 1 or model.total_stock < line_quantity:
                    raise ValueError(f"not enough available stock for item {line_item} model {line_model}")
            for line_item, line_model, line_quantity in wanted:
                item = self.state.items[line_item]
                model = item.models[line_model]
                order_lines.append(
                    SimOrderLine(
                        item_id=line_item,
                        model_id=line_model,
                        quantity=line_quantity,
                        item_name=item.name,
                        item_sku=item.item_sku,
                        model_sku=model.model_sku,
                        price=model.original_price,
                        taken=self._take(model, line_quantity),
                    )
                )
            now = int(self._now())
            order_sn = f"{datetime.fromtimestamp(now, tz=UTC8):%y%m%d}SIM{self.state.next_order_no:06d}"
            self.state.next_order_no += 1
            self.state.orders[order_sn] = SimOrder(
                order_sn=order_sn, shop_id=shop_id, status=status, create_time=now, update_time=now, lines=order_lines
            )
        self._order_push(order_sn)
        return order_sn

    @staticmethod
    def _take(model: SimModel, quantity: int) -> dict[str, int]:
        """Lower the sellable stock by `quantity`, location by location; what was taken where."""
        taken: dict[str, int] = {}
        for location in list(model.stock):
            units = min(quantity - sum(taken.values()), model.stock[location])
            if units > 0:
                model.stock[location] -= units
                taken[location] = units
        # Promotion stock is part of the seller stock: it cannot exceed what is left.
        model.reserved = min(model.reserved, model.total_stock)
        return taken

    @staticmethod
    def _give_back(model: SimModel, line: SimOrderLine, units: int) -> None:
        """Return `units` of a line to the locations it took them from (last taken first)."""
        for location in reversed(list(line.taken)):
            back = min(units, line.taken[location])
            if back > 0:
                model.stock[location] = model.stock.get(location, 0) + back
                line.taken[location] -= back
                units -= back

    def set_order_status(self, order_sn: str, status: str) -> None:
        """Move an order on; CANCELLED gives the active units back to the sellable stock; pushes code 3."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status}")
        with self._lock:
            order = self.state.orders[order_sn]
            if status == "CANCELLED" and order.status != "CANCELLED":
                for line in order.lines:
                    model = self.state.items[line.item_id].models[line.model_id]
                    self._give_back(model, line, line.active)
            order.status = status
            order.update_time = max(order.update_time + 1, int(self._now()))
        self._order_push(order_sn)

    def cancel_units(self, order_sn: str, item_id: int, model_id: int = 0, quantity: int = 1) -> None:
        """A partial cancellation: `quantity` units of one line are cancelled and go back on sale.

        The line shows them as `cancelled_qty` (and the rest as `active_qty`); when no active unit is
        left in the order, it becomes CANCELLED. A code-3 push follows.
        """
        with self._lock:
            order = self.state.orders[order_sn]
            if order.status == "CANCELLED":
                raise ValueError(f"order {order_sn} is already cancelled")
            line = next((ln for ln in order.lines if (ln.item_id, ln.model_id) == (item_id, model_id)), None)
            if line is None or not 1 <= quantity <= line.active:
                raise ValueError(f"order {order_sn} has no {quantity} active units of {item_id}/{model_id}")
            self._give_back(self.state.items[item_id].models[model_id], line, quantity)
            line.cancelled += quantity
            if all(ln.active == 0 for ln in order.lines):
                order.status = "CANCELLED"
            order.update_time = max(order.update_time + 1, int(self._now()))
        self._order_push(order_sn)

    def start_order_generator(self, interval_s: float = 5.0, *, seed: int | None = None) -> None:
        """Random buyers: every tick one order is placed or an open order moves on."""
        rng = random.Random(seed)
        self._tickers.append(Ticker(interval_s, lambda: self._random_order_step(rng)).start())

    def _random_order_step(self, rng: random.Random) -> None:
        try:
            self._random_order(rng)
        except Exception:  # a ticker thread must keep ticking; log and go on
            log.exception("shopee simulator: random order step failed")

    def _random_order(self, rng: random.Random) -> None:
        with self._lock:
            open_orders = [
                (o.order_sn, o.status) for o in self.state.orders.values() if o.status in ("UNPAID", "READY_TO_SHIP")
            ]
            on_sale = [
                (item.shop_id, item.item_id, model.model_id)
                for item in self.state.items.values()
                if item.status == "NORMAL"
                for model in item.models.values()
                if model.total_stock > 0
            ]
        if open_orders and (not on_sale or rng.random() < 0.4):
            order_sn, current = rng.choice(open_orders)
            following = "READY_TO_SHIP" if current == "UNPAID" else "SHIPPED"
            self.set_order_status(order_sn, "CANCELLED" if rng.random() < 0.1 else following)
        elif on_sale:
            self.place_order(*rng.choice(on_sale))
