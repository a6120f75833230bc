# The Lazada simulator's stock and price APIs: sellable update/adjust, price_quantity, campaign locks.
"""`InventoryMixin`: sellable = what buyers can buy; total = sellable + withhold + occupy. A call is applied
whole or refused whole: a refusal names each failing SKU in `detail[]` (`sku_id`, `seller_sku`, `code`)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from connectors.lazada.simulator.codes import (
    E_CAMPAIGN_LOCK,
    E_FAILED,
    E_FORMAT,
    E_NEGATIVE,
    E_SKU_MISSING,
    E_TOO_MANY_SKUS,
    PUSH_SHALLOW_STOCK,
    SHALLOW_STOCK_BELOW,
    SKU_LIMIT,
)
from connectors.lazada.simulator.products import ProductsMixin
from connectors.lazada.simulator.requests import (
    Ctx,
    SimError,
    as_list,
    decimal_text,
    integer,
    ok,
    parse_payload,
    required,
    skus_of,
)
from connectors.lazada.simulator.state import SimProduct, SimSeller, SimSku

# (product, sku, warehouse code -> new sellable)
Plan = tuple[SimProduct, SimSku, dict[str, int]]


class _Refusals:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, code: str, message: str, sku_id: str, seller_sku: str = "", field: str = "Quantity") -> None:
        self.rows.append({"field": field, "message": message, "code": code, "sku_id": sku_id, "seller_sku": seller_sku})

    def raise_if_any(self) -> None:
        if self.rows:
            first = self.rows[0]
            message = (
                first["message"] if len({row["code"] for row in self.rows}) == 1 else "Some SKUs failed, see detail"
            )
            raise SimError(
                first["code"] if len({row["code"] for row in self.rows}) == 1 else E_FAILED, message, detail=self.rows
            )


class InventoryMixin(ProductsMixin):
    """Stock and price writes."""

    def _locate(self, seller: SimSeller, row: dict[str, Any], refusals: _Refusals) -> tuple[SimProduct, SimSku] | None:
        item_id, sku_id = str(row.get("ItemId") or ""), str(row.get("SkuId") or "")
        if not item_id or not sku_id:
            refusals.add(
                "4193",
                "ItemId and SkuId are required (SellerSku is no longer a key)",
                sku_id,
                str(row.get("SellerSku") or ""),
            )
            return None
        product = self.state.products.get(item_id)
        sku = (
            product.sku(sku_id)
            if product and product.seller_id == seller.seller_id and product.status != "Deleted"
            else None
        )
        if product is None or sku is None or sku.status == "deleted":
            refusals.add(E_SKU_MISSING, f"SKU {sku_id} of item {item_id} does not exist", sku_id)
            return None
        return product, sku

    def _targets(
        self, seller: SimSeller, sku: SimSku, row: dict[str, Any], key: str, refusals: _Refusals
    ) -> dict[str, int] | None:
        """warehouse -> the quantity given: the single-warehouse or the MultiWarehouseInventories form."""
        multi = row.get("MultiWarehouseInventories")
        if multi not in (None, ""):
            if not seller.multi_warehouse:
                refusals.add(
                    E_FAILED,
                    "A single-warehouse seller must not use MultiWarehouseInventories",
                    sku.sku_id,
                    sku.seller_sku,
                )
                return None
            entries = as_list(multi.get("MultiWarehouseInventory")) if isinstance(multi, dict) else []
            targets: dict[str, int] = {}
            for entry in entries:
                code = str(entry.get("WarehouseCode") or "") if isinstance(entry, dict) else ""
                if code not in seller.warehouses:
                    refusals.add(E_FAILED, f"Unknown warehouse {code!r}", sku.sku_id, sku.seller_sku)
                    return None
                targets[code] = integer(entry.get(key), key)
            return targets
        if seller.multi_warehouse:
            refusals.add(
                E_FAILED, "A multi-warehouse seller must use MultiWarehouseInventories", sku.sku_id, sku.seller_sku
            )
            return None
        if row.get(key) in (None, ""):
            refusals.add("MissingParameter", f"{key} is required", sku.sku_id, sku.seller_sku)
            return None
        return {seller.warehouses[0]: integer(row[key], key)}

    def _rows(self, ctx: Ctx, *, xml_only: bool) -> list[dict[str, Any]]:
        request = parse_payload(required(ctx.params, "payload"), xml_only=xml_only)
        product = request.get("Product")
        rows = skus_of(product) if isinstance(product, dict) else []
        if not rows:
            raise SimError("30", "Empty request: no Sku")
        if len(rows) > SKU_LIMIT:
            raise SimError(E_TOO_MANY_SKUS, f"Too many SKUs in one request: at most {SKU_LIMIT}")
        return rows

    def _apply(self, seller: SimSeller, plans: list[Plan]) -> None:
        for product, sku, targets in plans:
            old = sku.total_sellable
            sku.sellable.update(targets)
            self.write_log.record(seller.seller_id, product.item_id, sku.sku_id, "stock", old, sku.total_sellable)
            if old != sku.total_sellable:
                product.updated_ms = self.now_ms()
                if sku.total_sellable < SHALLOW_STOCK_BELOW:
                    data = {
                        "seller_sku": sku.seller_sku,
                        "sku_id": int(sku.sku_id),
                        "warehouse": seller.warehouses[0],
                        "real_quantity": sku.total_sellable + sku.withhold + sku.occupy,
                        "withhold_quantity": sku.withhold,
                        "occupy_quantity": sku.occupy,
                        "pre_order_quantity": 0,
                    }
                    self.push(seller.seller_id, PUSH_SHALLOW_STOCK, data)

    def _check_lock(self, sku: SimSku, new_total: int, refusals: _Refusals) -> bool:
        """A campaign lock: sellable may not be lowered (4170) while stock is locked."""
        if sku.campaign_lock and new_total < sku.total_sellable:
            refusals.add(
                E_CAMPAIGN_LOCK, "The campaign forbids lowering the stock of this SKU", sku.sku_id, sku.seller_sku
            )
            return False
        return True

    def h_sellable_update(self, ctx: Ctx) -> Response:
        """Overwrite sellable stock (XML `SellableQuantity`, or per warehouse)."""
        refusals, plans = _Refusals(), []
        for row in self._rows(ctx, xml_only=True):
            found = self._locate(ctx.shop, row, refusals)
            if found is None:
                continue
            product, sku = found
            targets = self._targets(ctx.shop, sku, row, "SellableQuantity", refusals)
            if targets is None:
                continue
            if any(qty < 0 for qty in targets.values()):
                refusals.add(E_FORMAT, "Quantity must be >= 0", sku.sku_id, sku.seller_sku)
                continue
            new_total = sum({**sku.sellable, **targets}.values())
            if self._check_lock(sku, new_total, refusals):
                plans.append((product, sku, targets))
        refusals.raise_if_any()
        self._apply(ctx.shop, plans)
        return ok()

    def h_sellable_adjust(self, ctx: Ctx) -> Response:
        """Add to or subtract from sellable stock; 212 when it would go negative."""
        refusals, plans = _Refusals(), []
        for row in self._rows(ctx, xml_only=True):
            found = self._locate(ctx.shop, row, refusals)
            if found is None:
                continue
            product, sku = found
            deltas = self._targets(ctx.shop, sku, row, "SellableQuantity", refusals)
            if deltas is None:
                continue
            targets = {code: sku.sellable.get(code, 0) + delta for code, delta in deltas.items()}
            if any(qty < 0 for qty in targets.values()):
                refusals.add(E_NEGATIVE, "Sellable stock would become negative", sku.sku_id, sku.seller_sku)
                continue
            if self._check_lock(sku, sum({**sku.sellable, **targets}.values()), refusals):
                plans.append((product, sku, targets))
        refusals.raise_if_any()
        self._apply(ctx.shop, plans)
        return ok()

    def h_price_quantity(self, ctx: Ctx) -> Response:
        """`Price`, `SalePrice` (+ dates) and `Quantity` (TOTAL stock: >= withhold + occupy + campaign lock)."""
        refusals: _Refusals = _Refusals()
        changes: list[tuple[SimProduct, SimSku, dict[str, Any]]] = []
        for row in self._rows(ctx, xml_only=False):
            found = self._locate(ctx.shop, row, refusals)
            if found is None:
                continue
            product, sku = found
            change: dict[str, Any] = {}
            if row.get("Price") not in (None, ""):
                price = decimal_text(row["Price"], "Price")
                if float(price) <= 0:
                    refusals.add("4104", "Price must be above 0", sku.sku_id, sku.seller_sku, "Price")
                    continue
                change["price"] = price
            if row.get("SalePrice") not in (None, ""):
                change["special_price"] = decimal_text(row["SalePrice"], "SalePrice")
            if row.get("Quantity") not in (None, ""):
                total = integer(row["Quantity"], "Quantity")
                held = sku.withhold + sku.occupy
                if total < held + sku.campaign_lock or total < 0:
                    refusals.add(
                        E_CAMPAIGN_LOCK if sku.campaign_lock else E_FAILED,
                        "Quantity is below the stock held by orders and campaigns",
                        sku.sku_id,
                        sku.seller_sku,
                    )
                    continue
                if not self._check_lock(sku, total - held, refusals):
                    continue
                change["sellable"] = total - held
            changes.append((product, sku, change))
        refusals.raise_if_any()
        for product, sku, change in changes:
            if "price" in change:
                self.write_log.record(
                    ctx.shop.seller_id, product.item_id, sku.sku_id, "price", sku.price, change["price"]
                )
                sku.price = change["price"]
            if "special_price" in change:
                sku.special_price = change["special_price"]
            if "sellable" in change:
                self._apply(ctx.shop, [(product, sku, {ctx.shop.warehouses[0]: change["sellable"]})])
            product.updated_ms = self.now_ms()
        return ok()
