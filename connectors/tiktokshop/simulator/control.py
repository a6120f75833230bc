# The TikTok Shop simulator's control API and shortcuts for tests and the demo: seeding and seller actions.
"""`ControlMixin` seeds shops and products, plays the seller's actions (edits, price locks, revoking the
authorization) and serves the demo's `/_simulator/...` control endpoints."""

from __future__ import annotations

import base64
import json
import random
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.tiktokshop.simulator.codes import (
    RETURN_WAREHOUSE,
    SALES_WAREHOUSE,
)
from connectors.tiktokshop.simulator.orders import OrdersMixin
from connectors.tiktokshop.simulator.state import (
    ShopOptions,
    SimOrder,
    SimProduct,
    SimShop,
    SimSku,
    SimWarehouse,
)
from connectors.tiktokshop.simulator.webhooks import WebhooksMixin


class ControlMixin(OrdersMixin, WebhooksMixin):
    """Seeding, seller actions and the control API of `TikTokShopSimulator`."""

    def add_shop(
        self,
        shop_id: str,
        name: str,
        *,
        region: str = "US",
        currency: str = "USD",
        warehouse_id: str | None = None,
        warehouses: int | Sequence[Mapping[str, Any]] | None = None,
        seller_id: str | None = None,
        seller_type: str = "LOCAL",
        tax_rate: Decimal | str | None = None,
        **options: Any,
    ) -> str:
        """A shop that has authorized the app; returns its shop_cipher.

        `warehouses`: a count of sales warehouses (the first is the default; a return warehouse is added)
        or explicit `{id, name, type, is_default, effect_status}` rows. `seller_id` groups shops under one
        seller (one token pair for all of them); by default each shop is its own seller. Other keywords
        are `ShopOptions` fields.
        """
        if seller_type not in ("LOCAL", "CROSS_BORDER"):
            raise ValueError("seller_type is LOCAL or CROSS_BORDER")
        rate = tax_rate if tax_rate is not None else ("0.10" if seller_type == "CROSS_BORDER" else "0")
        with self._lock:
            rows = self._warehouse_rows(warehouse_id, warehouses)
            default = next((w for w in rows if w.is_default and w.type == SALES_WAREHOUSE), None)
            if default is None:
                raise ValueError("a shop needs a default sales warehouse")
            shop = SimShop(
                id=shop_id,
                cipher="TTP_" + secrets.token_urlsafe(18),
                name=name,
                region=region,
                currency=currency,
                warehouse_id=default.id,
                seller_id=seller_id or f"seller-{shop_id}",
                warehouses=rows,
                options=ShopOptions(seller_type=seller_type, tax_rate=str(Decimal(str(rate))), **options),
            )
            self.state.shops[shop_id] = shop
            return shop.cipher

    def _warehouse_rows(
        self, warehouse_id: str | None, warehouses: int | Sequence[Mapping[str, Any]] | None
    ) -> list[SimWarehouse]:
        if warehouses is None or isinstance(warehouses, int):
            count = 1 if warehouses is None else warehouses
            if count < 1:
                raise ValueError("at least one sales warehouse")
            rows = [
                SimWarehouse(
                    (warehouse_id if i == 0 and warehouse_id else self.state.new_id()),
                    f"Sales warehouse {i + 1}",
                    is_default=i == 0,
                )
                for i in range(count)
            ]
            return [*rows, SimWarehouse(self.state.new_id(), "Returns", type=RETURN_WAREHOUSE)]
        return [
            SimWarehouse(
                id=str(row.get("id") or self.state.new_id()),
                name=str(row.get("name", "Warehouse")),
                type=str(row.get("type", SALES_WAREHOUSE)),
                is_default=bool(row.get("is_default", False)),
                effect_status=str(row.get("effect_status", "ENABLED")),
            )
            for row in warehouses
        ]

    def set_shop_options(self, shop_id: str, **changes: Any) -> ShopOptions:
        """Change a shop's behaviour at runtime (any `ShopOptions` field)."""
        with self._lock:
            options = self.state.shops[shop_id].options
            for key, value in changes.items():
                if not hasattr(options, key):
                    raise AttributeError(f"no shop option {key}")
                setattr(options, key, value)
            return options

    def warehouses(self, shop_id: str) -> list[SimWarehouse]:
        with self._lock:
            return list(self.state.shops[shop_id].warehouses)

    def add_product(
        self,
        shop_id: str,
        *,
        title: str = "Simulated product",
        description: str = "<p>Simulated product</p>",
        category_id: str = "600001",
        images: Sequence[str] = ("https://img.example.com/p1.jpg",),
        weight_kg: str = "0.5",
        dimensions_cm: tuple[str, str, str] | None = ("10", "10", "5"),
        status: str = "ACTIVATE",
        skus: Sequence[Mapping[str, Any]] | None = None,
        update_time: int | None = None,
    ) -> str:
        """A product; each sku mapping may give seller_sku, price (tax-exclusive, str), stock (int, in the
        default warehouse) or inventory ({warehouse_id: quantity}), attributes (dict), price_locked (bool)."""
        with self._lock:
            shop = self.state.shops[shop_id]
            now = self.now()
            sku_specs = skus or [{"seller_sku": f"SKU-{self.state.next_id + 1}", "price": "10.00", "stock": 10}]
            product = SimProduct(
                id=self.state.new_id(),
                shop_id=shop_id,
                title=title,
                description=description,
                category_id=category_id,
                main_images=list(images),
                package_weight={"value": weight_kg, "unit": "KILOGRAM"},
                package_dimensions=(
                    dict(zip(("length", "width", "height"), dimensions_cm, strict=True)) | {"unit": "CENTIMETER"}
                    if dimensions_cm
                    else None
                ),
                create_time=now,
                update_time=update_time if update_time is not None else now,
                skus=[self._seed_sku(shop, spec) for spec in sku_specs],
                status=status,
            )
            self.state.products[product.id] = product
            return product.id

    def _seed_sku(self, shop: SimShop, spec: Mapping[str, Any]) -> SimSku:
        attributes = [
            {"id": "100000", "name": k, "value_id": "0", "value_name": v} for k, v in spec.get("attributes", {}).items()
        ]
        if "inventory" in spec:
            inventory = {str(w): int(q) for w, q in dict(spec["inventory"]).items()}
        else:
            inventory = {shop.warehouse_id: int(spec.get("stock", 0))}
        sku = SimSku(
            id=self.state.new_id(),
            seller_sku=str(spec.get("seller_sku", "")),
            price=str(spec.get("price", "10.00")),
            currency=shop.currency,
            inventory=inventory,
            sales_attributes=attributes,
            price_locked=bool(spec.get("price_locked", False)),
        )
        self._reprice(shop, sku, Decimal(sku.price))
        return sku

    def add_many_products(
        self, shop_id: str, n: int, update_time_range: tuple[int, int], *, seed: int = 0
    ) -> list[str]:
        """`n` one-SKU products with update times spread uniformly over the (inclusive) range; fast."""
        rng = random.Random(seed)
        low, high = update_time_range
        ids: list[str] = []
        with self._lock:
            shop = self.state.shops[shop_id]
            for index in range(n):
                product_id, sku_id = self.state.new_id(), self.state.new_id()
                sku = SimSku(sku_id, f"BULK-{index}", "9.99", shop.currency, {shop.warehouse_id: 5})
                self._reprice(shop, sku, Decimal(sku.price))
                self.state.products[product_id] = SimProduct(
                    id=product_id,
                    shop_id=shop_id,
                    title=f"Bulk product {index}",
                    description="<p>bulk</p>",
                    category_id="600001",
                    main_images=["https://img.example.com/bulk.jpg"],
                    package_weight={"value": "0.2", "unit": "KILOGRAM"},
                    package_dimensions=None,
                    create_time=low,
                    update_time=rng.randint(low, high),
                    skus=[sku],
                )
                ids.append(product_id)
        return ids

    def sku_ids(self, product_id: str) -> list[str]:
        with self._lock:
            return [sku.id for sku in self.state.products[product_id].skus]

    def product(self, product_id: str) -> SimProduct:
        """The live product record, for assertions and seeding (the server may change it concurrently)."""
        return self.state.products[product_id]

    def order(self, order_id: str) -> SimOrder:
        return self.state.orders[order_id]

    def lock_price(self, product_id: str, sku_id: str, locked: bool = True) -> None:
        """A promotion locks (or releases) this SKU's price: price updates of the product answer 12019045."""
        with self._lock:
            self._sku(self.state.products[product_id], sku_id).price_locked = locked

    def fail_next_audit(self, reason: str, *, product_id: str | None = None, shop_id: str | None = None) -> None:
        """The next audit of this product (or the next one in this shop) fails with `reason`."""
        with self._lock:
            if product_id is not None:
                self.state.products[product_id].fail_next_audit = reason
            elif shop_id is not None:
                self.state.shops[shop_id].options.fail_next_audit = reason
            else:
                raise ValueError("give product_id or shop_id")

    def revoke_shop(self, shop_id: str) -> None:
        """The seller deauthorizes the app for this shop: its requests fail; type 6 is pushed."""
        with self._lock:
            self.state.shops[shop_id].authorized = False
        self._notify(shop_id, 6, {"shop_id": shop_id, "reason": "seller deauthorized"})

    def edit_product(
        self,
        product_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        prices: Mapping[str, Decimal | str] | None = None,
        stock: Mapping[str, int] | None = None,
        status: str | None = None,
    ) -> None:
        """The seller edits the product in Seller Center (not through our API): bumps update_time; pushes
        type 15 (and 68 when stock changed). `prices` are tax-exclusive; `stock` goes to the default
        warehouse and every other warehouse of the SKU is set to 0."""
        changed: list[str] = []
        with self._lock:
            product = self.state.products[product_id]
            shop = self.state.shops[product.shop_id]
            if title is not None:
                product.title = title
                changed.append("title")
            if description is not None:
                product.description = description
                changed.append("description")
            if status is not None:
                product.status = status
                changed.append("status")
            for sku_id, price in (prices or {}).items():
                sku = self._sku(product, sku_id)
                sku.price = str(price)
                self._reprice(shop, sku, Decimal(str(price)))
                changed.append("price")
            for sku_id, quantity in (stock or {}).items():
                sku = self._sku(product, sku_id)
                sku.inventory = {w: 0 for w in sku.inventory} | {shop.warehouse_id: quantity}
                changed.append("inventory")
            product.update_time = max(self.now(), product.update_time)
            shop_id, update_time = product.shop_id, product.update_time
        data = {"product_id": product_id, "changed_fields": sorted(set(changed)), "update_time": update_time}
        self._notify(shop_id, 15, data)
        if stock:
            self._notify(shop_id, 68, {"product_id": product_id, "update_time": update_time})

    @staticmethod
    def _sku(product: SimProduct, sku_id: str) -> SimSku:
        sku = product.sku(sku_id)
        if sku is None:
            raise KeyError(sku_id)
        return sku

    async def _admin_place_order(self, request: Request) -> Response:
        """POST /_simulator/orders {shop_id, product_id, sku_id, quantity}: a buyer places an order."""
        try:
            body = json.loads(await request.body())
            args = (str(body["shop_id"]), str(body["product_id"]), str(body["sku_id"]), int(body.get("quantity", 1)))
            order_id = await run_in_threadpool(self.place_order, *args)
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"order_id": order_id})

    async def _admin_order_status(self, request: Request) -> Response:
        """POST /_simulator/orders/{order_id}/status {status}: the order moves on (cancel, ship...)."""
        try:
            body = json.loads(await request.body())
            await run_in_threadpool(self.set_order_status, request.path_params["order_id"], str(body["status"]))
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"ok": True})

    def set_warehouses(self, shop_id: str, warehouses: int | Sequence[Mapping[str, Any]]) -> list[SimWarehouse]:
        """Replace the shop's warehouses: a count of sales warehouses (the first the default, plus a return
        warehouse) or explicit rows; with several sales warehouses stock writes must name one (12019028)."""
        with self._lock:
            shop = self.state.shops[shop_id]
            rows = self._warehouse_rows(None, warehouses)
            default = next((w for w in rows if w.is_default and w.type == SALES_WAREHOUSE), None)
            if default is None:
                raise ValueError("a shop needs a default sales warehouse")
            shop.warehouses, shop.warehouse_id = rows, default.id
            return list(rows)

    # --- the control API over HTTP (the demo and browser tests drive a simulator in another process) ---

    async def _admin_warehouses(self, request: Request) -> Response:
        """POST /_simulator/shops/{shop_id}/warehouses {"count": N} or {"warehouses": [rows]}."""
        try:
            body = json.loads(await request.body())
            spec = int(body["count"]) if "count" in body else list(body["warehouses"])
            rows = self.set_warehouses(request.path_params["shop_id"], spec)
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"warehouses": [{"id": w.id, "name": w.name, "type": w.type} for w in rows]})

    async def _admin_shop_options(self, request: Request) -> Response:
        """POST /_simulator/shops/{shop_id}/options {option: value} (any `ShopOptions` field)."""
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise TypeError("a JSON object of options")
            self.set_shop_options(request.path_params["shop_id"], **body)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"ok": True})

    async def _admin_fail_audit(self, request: Request) -> Response:
        """POST /_simulator/products/{product_id}/fail_next_audit {"reason": ...}: its next audit fails."""
        try:
            body = json.loads(await request.body())
            self.fail_next_audit(str(body["reason"]), product_id=request.path_params["product_id"])
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"ok": True})

    async def _admin_image(self, request: Request) -> Response:
        """GET /_simulator/images/{uri}: the bytes of an uploaded image."""
        with self._lock:
            image = self.state.images.get(request.path_params["uri"])
        if image is None or not image.get("data_b64"):
            return JSONResponse({"error": "no such image"}, status_code=404)
        return Response(base64.b64decode(image["data_b64"]), media_type=str(image["content_type"]))
