# The Shopee simulator's control shortcuts for tests and the demo: shops, items, seller edits, revocation.
"""`ControlMixin` seeds shops and items and plays the seller's Seller Centre actions (edits, options, holiday
mode, revoking the authorization)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.shopee.simulator.codes import (
    REGION_CURRENCY,
    StockSpec,
)
from connectors.shopee.simulator.push_routes import PushRoutesMixin
from connectors.shopee.simulator.requests import stock_map
from connectors.shopee.simulator.state import SimChannel, SimModel, SimShop
from connectors.shopee.simulator.variations import VariationsMixin


class ControlMixin(VariationsMixin, PushRoutesMixin):
    """Seeding and seller actions of `ShopeeSimulator`."""

    def add_shop(
        self,
        shop_id: int,
        name: str = "Shop",
        *,
        currency: str | None = None,
        region: str = "MY",
        locations: Sequence[str] = ("",),
        holiday_mode: bool = False,
        is_cb: bool = False,
        is_cnsc: bool = False,
        strict_arrays: bool = True,
        module_prefixes: bool = True,
        price_ratio_check: bool = True,
        logistics_channels: Sequence[tuple[int, str, bool]] | None = None,
    ) -> None:
        """A shop of the partner (not yet authorized). Options: see the module docstring.

        `logistics_channels`: (channel_id, name, enabled) rows; by default 20011 Standard Delivery and
        20012 Economy Delivery (enabled) and 20013 Self Collection (disabled)."""
        if not locations or (len(locations) > 1 and "" in locations):
            raise ValueError('locations: one default location "", or named locations only')
        with self._lock:
            self.state.shops[shop_id] = SimShop(
                shop_id=shop_id,
                name=name,
                region=region,
                currency=currency or REGION_CURRENCY.get(region, "MYR"),
                locations=list(locations),
                holiday_mode=holiday_mode,
                is_cb=is_cb,
                is_cnsc=is_cnsc,
                strict_arrays=strict_arrays,
                module_prefixes=module_prefixes,
                price_ratio_check=price_ratio_check,
            )
            if logistics_channels is not None:
                self.set_logistics_channels(shop_id, logistics_channels)

    def set_logistics_channels(self, shop_id: int, channels: Sequence[tuple[int, str, bool]]) -> None:
        """Replace the shop's logistics channels with (channel_id, name, enabled) rows ([]: none at all)."""
        with self._lock:
            self.state.shops[shop_id].logistics_channels = [
                SimChannel(channel_id=int(channel_id), name=str(name), enabled=bool(enabled))
                for channel_id, name, enabled in channels
            ]

    def set_shop_options(self, shop_id: int, **options: Any) -> None:
        """Change per-shop behaviour (name, region, currency, holiday_mode, is_cb, is_cnsc, strict_arrays,
        module_prefixes, price_ratio_check) of an existing shop."""
        with self._lock:
            shop = self.state.shops[shop_id]
            for name, value in options.items():
                fixed = ("shop_id", "locations", "authorized", "revoked", "logistics_channels")
                if name not in SimShop.model_fields or name in fixed:
                    raise ValueError(f"{name} is not a shop option")
                setattr(shop, name, value)

    def set_holiday_mode(self, shop_id: int, on: bool = True) -> None:
        self.set_shop_options(shop_id, holiday_mode=on)

    def add_item(
        self,
        shop_id: int,
        *,
        name: str = "Sample item",
        description: str = "",
        item_sku: str = "",
        price: Decimal | str = "10.00",
        stock: StockSpec = 0,
        models: Sequence[tuple[str, Decimal | str, StockSpec]] = (),
        tier_name: str = "Variation",
        images: Sequence[str] = ("https://cf.shopee.sim/file/sample",),
        weight: Decimal | str = "0.5",
        dimension: dict[str, int] | None = None,
        category_id: int = 100001,
        status: str = "NORMAL",
        update_time: int | None = None,
        extended_description: bool = False,
        promotion_reserved: int = 0,
        price_locked: bool = False,
    ) -> int:
        """An item; `models` as (model_sku, price, stock), one tier whose options are the model SKUs.

        Stock is an int (in the shop's first location) or a mapping location -> stock.
        """
        with self._lock:
            shop = self.state.shops[shop_id]
            item = self._new_item(
                shop,
                name=name,
                description=description,
                extended_description=extended_description,
                item_sku=item_sku,
                price=Decimal(price),
                stock=stock,
                image_ids=list(images),
                weight=Decimal(weight),
                dimension=dimension,
                category_id=category_id,
                status=status,
                update_time=update_time,
                price_locked=price_locked,
            )
            if models:
                item.tier_variation = [{"name": tier_name, "option_list": [{"option": sku} for sku, _, _ in models]}]
                item.models, item.has_model = {}, True
                for index, (sku, model_price, model_stock) in enumerate(models):
                    model_id = self.state.next_model_id
                    self.state.next_model_id += 1
                    item.models[model_id] = SimModel(
                        model_id=model_id,
                        model_sku=sku,
                        tier_index=[index],
                        original_price=Decimal(model_price),
                        stock=stock_map(model_stock, shop.locations),
                    )
            for model in item.models.values():
                model.reserved = min(promotion_reserved, model.total_stock)
            return item.item_id

    def revoke_shop(self, shop_id: int) -> None:
        """The seller cancels the authorization in Seller Centre; a code-2 push follows."""
        with self._lock:
            shop = self.state.shops[shop_id]
            shop.authorized, shop.revoked = False, True
        self._push(2, shop_id, {"shop_id": shop_id, "success": 1})

    def edit_item(
        self,
        item_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        price: Decimal | str | None = None,
        stock: int | None = None,
        model_id: int = 0,
        location: str | None = None,
    ) -> None:
        """A seller edit made in Seller Centre (not an API write: not in the write log); bumps update_time."""
        with self._lock:
            item = self.state.items[item_id]
            model = item.models[model_id]
            if name is not None:
                item.name = name
            if description is not None:
                item.description = description
            if price is not None:
                model.original_price = Decimal(price)
            if stock is not None:
                target = location if location is not None else next(iter(model.stock), "")
                model.stock = {**model.stock, target: stock}
            item.update_time = max(item.update_time + 1, int(self._now()))

    # -- the control API over HTTP (the demo and browser tests drive a simulator in another process) --

    async def _admin_logistics(self, request: Request) -> Response:
        """POST /_simulator/shops/{shop_id}/logistics {"channels": [{channel_id, name, enabled}]}."""
        try:
            body = json.loads(await request.body())
            rows = [
                (int(c["channel_id"]), str(c.get("name", "")), bool(c.get("enabled", True))) for c in body["channels"]
            ]
            self.set_logistics_channels(int(request.path_params["shop_id"]), rows)
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"ok": True})

    async def _admin_shop_options(self, request: Request) -> Response:
        """POST /_simulator/shops/{shop_id}/options {option: value} (see `set_shop_options`)."""
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise TypeError("a JSON object of options")
            self.set_shop_options(int(request.path_params["shop_id"]), **body)
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"ok": True})

    async def _admin_image(self, request: Request) -> Response:
        """GET /_simulator/images/{image_id}: the bytes of an uploaded image."""
        with self._lock:
            image = self.state.images.get(request.path_params["image_id"])
        if image is None or not image.data_b64:
            return JSONResponse({"error": "no such image"}, status_code=404)
        return Response(base64.b64decode(image.data_b64), media_type=image.content_type)
