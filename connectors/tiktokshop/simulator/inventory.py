# The TikTok Shop simulator's stock and price writes: inventory/update and prices/update.
"""`InventoryMixin` serves the inventory and price updates of a product's SKUs."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors.tiktokshop.simulator.codes import (
    E_CURRENCY,
    E_MULTIPLE_WAREHOUSES,
    E_PRICE_LOCKED,
    E_SKU_NOT_IN_PRODUCT,
    E_WAREHOUSE_MISSING,
    E_WRONG_STATUS,
)
from connectors.tiktokshop.simulator.core import SimulatorCore
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    business_error,
    decimal_text,
    param,
    quantity_field,
    sku_error,
)
from connectors.tiktokshop.simulator.state import SimShop


class InventoryMixin(SimulatorCore):
    """Stock and price writes of `TikTokShopSimulator`."""

    @staticmethod
    def _skus_param(ctx: Ctx) -> list[dict[str, Any]]:
        skus = ctx.body.get("skus")
        if not isinstance(skus, list) or not skus or not all(isinstance(sku, dict) for sku in skus):
            raise param("skus", "a non-empty list of SKU objects is required")
        return skus

    @staticmethod
    def _inventory_rows(shop: SimShop, rows: Any, name: str, *, require_warehouse: bool = False) -> dict[str, int]:
        """{warehouse_id: quantity} from `inventory[{warehouse_id?, quantity}]`, checked against the shop."""
        if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
            raise param(name, "a non-empty list of {warehouse_id, quantity}")
        sales = {w.id for w in shop.sales_warehouses()}
        result: dict[str, int] = {}
        for j, row in enumerate(rows):
            quantity = quantity_field(row.get("quantity"), f"{name}[{j}].quantity")
            warehouse = row.get("warehouse_id")
            if warehouse in (None, ""):
                if require_warehouse:
                    raise param(f"{name}[{j}].warehouse_id", "required")
                if len(sales) > 1:
                    raise business_error(
                        E_MULTIPLE_WAREHOUSES,
                        "Multiple warehouses detected. Include all warehouse IDs and the corresponding details "
                        "and try again.",
                    )
                warehouse = shop.warehouse_id
            if str(warehouse) not in sales:
                raise business_error(E_WAREHOUSE_MISSING, f"The warehouse does not exist: {warehouse}")
            result[str(warehouse)] = quantity
        return result

    def _update_inventory(self, ctx: Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop = self._shop(ctx)
        skus = self._skus_param(ctx)
        planned = [
            (str(entry.get("id", "")), self._inventory_rows(shop, entry.get("inventory"), f"skus[{i}].inventory"))
            for i, entry in enumerate(skus)
        ]  # the whole request is refused on any invalid quantity or warehouse
        if product.status != "ACTIVATE":
            raise business_error(
                E_WRONG_STATUS,
                "The product in its current status is not available for this operation. Change the product "
                f"status and try again. (status: {product.status}; only live products take stock updates)",
            )
        errors: list[dict[str, Any]] = []
        for sku_id, rows in planned:
            sku = product.sku(sku_id)
            if sku is None:
                errors.append(sku_error(E_SKU_NOT_IN_PRODUCT, sku_id, "The SKU ID does not belong to the product."))
                continue
            old = sku.available
            sku.inventory.update(rows)
            self.write_log.record(shop.id, product.id, sku.id, "stock", old, sku.available)
        product.update_time = max(self.now(), product.update_time)
        return {"errors": errors} if errors else {}

    def _update_prices(self, ctx: Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop = self._shop(ctx)
        skus = self._skus_param(ctx)
        amounts: list[tuple[str, Decimal]] = []
        for i, entry in enumerate(skus):  # shape errors refuse the whole request
            price = entry.get("price")
            if not isinstance(price, dict):
                raise param(f"skus[{i}].price", "required")
            amount = decimal_text(price.get("amount"), f"skus[{i}].price.amount")
            if amount.as_tuple().exponent < -2:  # type: ignore[operator]
                raise business_error(12052012, f"Incorrect price format: 'skus[{i}].price.amount' has over 2 decimals")
            if price.get("currency") != shop.currency:
                raise business_error(E_CURRENCY, "The provided currency is not available for this shop/region.")
            amounts.append((str(entry.get("id", "")), amount))
        locked = [sku.id for sku in product.skus if sku.price_locked and any(sku.id == s for s, _ in amounts)]
        if locked:
            raise business_error(E_PRICE_LOCKED, f"price is locked (a promotion holds the price of SKU {locked[0]})")
        errors: list[dict[str, Any]] = []
        for (sku_id, amount), entry in zip(amounts, skus, strict=True):
            sku = product.sku(sku_id)
            if sku is None:
                errors.append(sku_error(E_SKU_NOT_IN_PRODUCT, sku_id, "The SKU ID does not belong to the product."))
                continue
            old = Decimal(sku.price)
            sku.price = entry["price"]["amount"]
            self._reprice(shop, sku, amount)
            self.write_log.record(shop.id, product.id, sku.id, "price", old, amount)
        product.update_time = max(self.now(), product.update_time)
        return {"errors": errors} if errors else {}
