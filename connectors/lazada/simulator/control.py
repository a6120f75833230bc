# The Lazada simulator's test shortcuts: sellers, products, campaign locks, QC outcomes, the push URL, orders.
"""`ControlMixin` seeds and steers the simulator directly (tests and the demo), and serves the same over
`/_simulator/*` for a simulator run in another process."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.lazada.simulator.auth_routes import AuthRoutesMixin
from connectors.lazada.simulator.state import SimProduct, SimSeller, SimSku
from connectors.simulator.common import Ticker


class ControlMixin(AuthRoutesMixin):
    """Shortcuts around the HTTP API."""

    _order_ticker: Ticker | None

    def add_seller(
        self,
        seller_id: str,
        name: str,
        *,
        country: str = "my",
        warehouses: list[str] | None = None,
        account: str | None = None,
        cross_border: bool = False,
    ) -> SimSeller:
        with self._lock:
            seller = SimSeller(
                seller_id=seller_id,
                name=name,
                country=country.lower(),
                short_code=f"{country.upper()}{seller_id[-4:]}",
                warehouses=list(warehouses or ["dropshipping"]),
                account=account or f"{seller_id}@sim.lazada",
                cross_border=cross_border,
            )
            self.state.sellers[seller_id] = seller
            return seller

    def add_product(
        self,
        seller_id: str,
        name: str,
        skus: list[tuple[str, Decimal | str, int]],
        *,
        category_id: str = "10001",
        status: str = "Active",
        description: str = "",
    ) -> SimProduct:
        """A listed product: `skus` = [(seller_sku, price, sellable stock at the default warehouse)]."""
        with self._lock:
            seller = self.state.sellers[seller_id]
            now = self.now_ms()
            product = SimProduct(
                item_id=self.state.new_id(),
                seller_id=seller_id,
                category_id=category_id,
                name=name,
                description=description,
                status=status,
                created_ms=now,
                updated_ms=now,
            )
            for seller_sku, price, stock in skus:
                product.skus.append(
                    SimSku(
                        sku_id=self.state.new_id(),
                        seller_sku=seller_sku,
                        price=format(Decimal(str(price)), "f"),
                        sellable={seller.warehouses[0]: stock},
                        package={
                            "package_weight": "0.5",
                            "package_length": "10",
                            "package_width": "10",
                            "package_height": "5",
                        },
                    )
                )
            self.state.products[product.item_id] = product
            return product

    def edit_product(self, item_id: str, *, title: str | None = None, description: str | None = None) -> None:
        """The seller edits the product in Seller Center (push type 4)."""
        with self._lock:
            product = self.state.products[item_id]
            if title is not None:
                product.name = title
            if description is not None:
                product.description = description
            self.touch(product)

    def lock_campaign_stock(self, item_id: str, sku_id: str, quantity: int) -> None:
        """A campaign locks `quantity` of the SKU's sellable stock: lowering it answers 4170."""
        with self._lock:
            sku = self.state.products[item_id].sku(sku_id)
            assert sku is not None
            sku.campaign_lock = quantity

    def fail_next_qc(self, item_id: str, reason: str = "Image does not meet the requirements") -> None:
        """The QC of this (pending) product rejects it with `reason`."""
        with self._lock:
            self._qc_failures[item_id] = reason

    def set_push_url(self, url: str | None) -> None:
        """The App Console's push URL (one per app key)."""
        with self._lock:
            self.state.push_url = url

    def start_order_generator(self, interval_s: float) -> None:
        self.stop_order_generator()
        self._order_ticker = Ticker(interval_s, self._order_tick).start()

    def _order_tick(self) -> None:
        self.random_order()

    def stop_order_generator(self) -> None:
        if self._order_ticker is not None:
            self._order_ticker.stop()
            self._order_ticker = None

    # --- the same over HTTP (/_simulator/*) ------------------------------------------------------

    async def admin_push_url(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        self.set_push_url(body.get("url"))
        return JSONResponse({"ok": True})

    async def admin_place_order(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        lines = [(str(line["item_id"]), str(line["sku_id"]), int(line.get("units", 1))) for line in body["lines"]]
        order_id = self.place_order(str(body["seller_id"]), lines, status=str(body.get("status", "pending")))
        return JSONResponse({"order_id": order_id})

    async def admin_item_status(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        self.set_item_status(request.path_params["order_id"], str(body["status"]), body.get("order_item_ids"))
        return JSONResponse({"ok": True})

    async def admin_big_sale(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        if body.get("on", True):
            self.big_sale()
        else:
            self.big_sale_over()
        return JSONResponse({"ok": True})
