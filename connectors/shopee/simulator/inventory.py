# The Shopee simulator's stock and price writes (update_stock, update_price) and their read-back shortcuts.
"""`InventoryMixin` serves update_price and update_stock and lets tests read and set stock, reserved stock and
prices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.shopee.simulator.codes import (
    MAX_BATCH,
    MSG_HOLIDAY,
    MSG_LACK_LOCATION,
    MSG_LOCATION_MISMATCH,
    MSG_PRICE_LOCK,
    MSG_RESERVED,
    Json,
)
from connectors.shopee.simulator.products import ProductsMixin
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    check_price_ratio,
    entries_of,
    int_param,
    param_error,
    region_price,
)
from connectors.shopee.simulator.state import SimModel, SimShop


class InventoryMixin(ProductsMixin):
    """Stock and price of `ShopeeSimulator`."""

    def _update_price(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        self._refuse_product_writes(shop)
        rows = entries_of(ctx.body.get("price_list"), "price_list", 1, MAX_BATCH)
        if shop.holiday_mode:
            raise ApiError("error_auth", MSG_HOLIDAY, 403)
        if item.price_locked:
            raise ApiError("error_in_item_promotion_item_price_lock", MSG_PRICE_LOCK)
        seen: set[Any] = set()
        for row in rows:
            if row.get("model_id", 0) in seen:
                raise ApiError("error_param", "Repeat model_id.")
            seen.add(row.get("model_id", 0))
        new_prices = {
            row.get("model_id", 0): region_price(row.get("original_price"), shop, "original_price") for row in rows
        }
        if item.has_model:
            after = {m.model_id: new_prices.get(m.model_id, m.original_price) for m in item.models.values()}
            check_price_ratio(list(after.values()), shop)
        successes: list[Json] = []
        failures: list[Json] = []
        for model_id, price in new_prices.items():
            model = item.models.get(model_id) if isinstance(model_id, int) else None
            if model is None:
                failures.append({"model_id": model_id, "failed_reason": "Wrong model_id."})
                continue
            old, model.original_price = model.original_price, price
            self.write_log.record(str(ctx.shop_id), str(item.item_id), str(model.model_id), "price", old, price)
            if old != price:
                self._touch(item, ctx.now)
            successes.append({"model_id": model.model_id, "original_price": price})
        return {"success_list": successes, "failure_list": failures}

    def _update_stock(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        self._refuse_product_writes(shop)
        rows = entries_of(ctx.body.get("stock_list"), "stock_list", 1, MAX_BATCH)
        if shop.holiday_mode:
            raise ApiError("error_auth", MSG_HOLIDAY, 403)
        planned: list[tuple[SimModel, dict[str, int]]] = []
        failures: list[Json] = []
        seen: set[Any] = set()
        for row in rows:
            model_id = row.get("model_id", 0)
            if model_id in seen:
                raise ApiError("error_param", "Repeat model_id.")
            seen.add(model_id)
            model = item.models.get(model_id) if isinstance(model_id, int) else None
            if model is None:
                failures.append({"model_id": model_id, "failed_reason": "Wrong model_id."})
                continue
            new_stock = self._new_stock(model, row.get("seller_stock"), shop)
            if sum(new_stock.values()) < model.reserved:
                raise ApiError("error_auth", MSG_RESERVED, 403)
            planned.append((model, new_stock))
        successes: list[Json] = []
        for model, new_stock in planned:  # every row was checked: apply them all
            old, new = model.total_stock, sum(new_stock.values())
            model.stock = new_stock
            self.write_log.record(str(ctx.shop_id), str(item.item_id), str(model.model_id), "stock", old, new)
            if old != new:
                self._touch(item, ctx.now)
            successes.extend(
                {"model_id": model.model_id, "location_id": location, "stock": qty}
                for location, qty in new_stock.items()
            )
        return {"success_list": successes, "failure_list": failures}

    @staticmethod
    def _new_stock(model: SimModel, seller_stock: Any, shop: SimShop) -> dict[str, int]:
        if not isinstance(seller_stock, list) or not seller_stock or not all(isinstance(s, dict) for s in seller_stock):
            raise param_error("seller_stock should have at least 1 entry.")
        stock = dict(model.stock)
        for row in seller_stock:
            if "location_id" not in row:
                if shop.multi_location:
                    raise ApiError("error_auth", MSG_LACK_LOCATION, 403)
                location = ""
            else:
                location = row["location_id"]
                if not isinstance(location, str) or not location or location not in shop.locations:
                    raise ApiError("error_auth", MSG_LOCATION_MISMATCH, 403)
            quantity = row.get("stock")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise param_error("stock must be an integer >= 0.")
            stock[location] = quantity
        return stock

    def model_ids(self, item_id: int) -> list[int]:
        with self._lock:
            return list(self.state.items[item_id].models)

    def stock_of(self, item_id: int, model_id: int = 0, location: str | None = None) -> int:
        """Sellable seller stock of a model (all locations, or one)."""
        with self._lock:
            model = self.state.items[item_id].models[model_id]
            return model.total_stock if location is None else model.stock.get(location, 0)

    def reserved_of(self, item_id: int, model_id: int = 0) -> int:
        """Stock reserved for promotions (not for orders)."""
        with self._lock:
            return self.state.items[item_id].models[model_id].reserved

    def set_promotion_reserved(self, item_id: int, model_id: int = 0, quantity: int = 0) -> None:
        """A promotion (flash sale) reserves `quantity` of the model's seller stock."""
        with self._lock:
            model = self.state.items[item_id].models[model_id]
            if not 0 <= quantity <= model.total_stock:
                raise ValueError("reserved stock must be between 0 and the seller stock")
            model.reserved = quantity

    def lock_price(self, item_id: int, locked: bool = True) -> None:
        """A promotion locks the item's original price: update_price is refused for it."""
        with self._lock:
            self.state.items[item_id].price_locked = locked

    def price_of(self, item_id: int, model_id: int = 0) -> Decimal:
        with self._lock:
            return self.state.items[item_id].models[model_id].original_price
