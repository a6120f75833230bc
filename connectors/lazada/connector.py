# One Lazada seller (one country) through LazOP: the Connector SyncStore uses.
"""`LazadaConnector` reads the shop, products and orders, writes stock and prices, changes statuses; content,
images and creation come from `PublishingMixin` (see `connectors.lazada` for the decisions)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.base import (
    ItemChange,
    ItemRefused,
    MarketplaceEvent,
    NotFound,
    Platform,
    RemoteListing,
    RemoteOrder,
    ShopLocation,
    ShopProfile,
    SkuResult,
    Subscription,
    WriteResult,
)
from connectors.lazada.client import words
from connectors.lazada.errors import LazadaRefusal
from connectors.lazada.limits import (
    ORDER_ITEMS_BATCH,
    ORDER_OFFSET_CAP,
    ORDER_PAGE,
    PRODUCT_OFFSET_CAP,
    PRODUCT_PAGE,
    REMOVE_BATCH,
    SKU_BATCH,
)
from connectors.lazada.mapping import (
    iso,
    json_list,
    listing_from_wire,
    order_from_wire,
    warehouses_from_wire,
    when_ms,
    when_text,
)
from connectors.lazada.payloads import decimal_str, request, sellable_sku
from connectors.lazada.publishing import PublishingMixin
from connectors.lazada.rules import check_prices, check_quantities
from connectors.lazada.transport import (
    PATH_DEACTIVATE,
    PATH_ORDER,
    PATH_ORDERS,
    PATH_ORDERS_ITEMS,
    PATH_PRICE_QUANTITY,
    PATH_PRODUCT_UPDATE,
    PATH_PRODUCTS,
    PATH_REMOVE,
    PATH_SELLABLE_UPDATE,
    PATH_SELLER,
    PATH_WAREHOUSES,
    batches_of,
    check_id,
)

log = logging.getLogger(__name__)


class LazadaConnector(PublishingMixin):
    """One Lazada seller in one country, behind SyncStore's Connector protocol."""

    platform: Platform = "lazada"

    # --- shop ----------------------------------------------------------------------------------

    def get_shop_profile(self) -> ShopProfile:
        """GET /seller/get: name and cross-border flag; the country is the one the shop was connected for."""
        data = self._data(PATH_SELLER) or {}
        return ShopProfile(
            shop_id=self.shop_id,
            name=str(data.get("name") or ""),
            region=self.region or str(data.get("location") or "").upper()[:2],
            cross_border=str(data.get("cb")).lower() in {"true", "1"},
        )

    def list_locations(self) -> list[ShopLocation]:
        """GET /seller/warehouse/get addressTypes=["warehouse"]: [] for a single-warehouse seller (read once)."""
        if self._locations is None:
            envelope = self._call(PATH_WAREHOUSES, {"addressTypes": json_list(["warehouse"])})
            data = envelope.get("data")
            found = warehouses_from_wire(data if isinstance(data, dict) else envelope)
            self._locations = found if len(found) > 1 else []
        return list(self._locations)

    # --- reads ---------------------------------------------------------------------------------

    def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]:
        """Products whose updated_time is in [since, until] (inclusive, whole seconds), each once."""
        seen: set[str] = set()
        low = since.astimezone(UTC).replace(microsecond=0)
        high = until.astimezone(UTC).replace(microsecond=0)
        for product in self._product_window(low, high):
            item_id = str(product.get("item_id"))
            if item_id in seen:
                continue
            seen.add(item_id)
            yield ItemChange(
                item_id=item_id,
                updated_at=when_ms(product.get("updated_time")),
                raw_status=str(product.get("status") or ""),
            )

    def _product_page(self, low: datetime, high: datetime, offset: int) -> dict[str, Any]:
        params = {
            "filter": "all",
            "update_after": iso(low),
            "update_before": iso(high),
            "offset": str(offset),
            "limit": str(PRODUCT_PAGE),
        }
        data = self._data(PATH_PRODUCTS, params)
        return data if isinstance(data, dict) else {}

    def _product_window(self, low: datetime, high: datetime) -> Iterator[Mapping[str, Any]]:
        """Pages of one update window; a window holding more than the offset cap is split in halves."""
        if low > high:
            return
        offset = 0
        while True:
            page = self._product_page(low, high, offset)
            if offset == 0 and int(page.get("total_products") or 0) > PRODUCT_OFFSET_CAP and high > low:
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                yield from self._product_window(low, middle)
                yield from self._product_window(middle + timedelta(seconds=1), high)
                return
            products = page.get("products") or []
            yield from products
            offset += len(products)
            if len(products) < PRODUCT_PAGE or offset + PRODUCT_PAGE > PRODUCT_OFFSET_CAP:
                if products and offset + PRODUCT_PAGE > PRODUCT_OFFSET_CAP:
                    log.warning("lazada seller %s: more than %s changes in one second", self.shop_id, offset)
                return

    def get_listings(self, item_ids: Sequence[str]) -> list[RemoteListing]:
        """GET /product/item/get per item; unknown ids are left out."""
        listings: list[RemoteListing] = []
        for item_id in item_ids:
            try:
                listings.append(listing_from_wire(self.shop_id, self._detail(item_id), self._currency))
            except NotFound:
                log.info("lazada seller %s: item %s not found", self.shop_id, item_id)
        return listings

    def _order_items(self, order_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """GET /orders/items/get order_ids=[...] (<= 50 per call): order id -> its unit rows."""
        items: dict[str, list[dict[str, Any]]] = {}
        for batch in batches_of(list(order_ids), ORDER_ITEMS_BATCH):
            data = self._data(PATH_ORDERS_ITEMS, {"order_ids": "[" + ",".join(batch) + "]"}) or []
            for row in data:
                items[str(row.get("order_id"))] = [
                    item for item in row.get("order_items") or [] if isinstance(item, dict)
                ]
        return items

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        """GET /order/get per order, then its items; an order not in this store is left out."""
        found: list[dict[str, Any]] = []
        for order_id in order_ids:
            try:
                data = self._data(PATH_ORDER, {"order_id": check_id(order_id, "order_id")})
            except NotFound:
                continue
            if isinstance(data, dict) and data.get("order_id") is not None:
                found.append(data)
        items = self._order_items([str(order["order_id"]) for order in found])
        return [order_from_wire(self.shop_id, order, items.get(str(order["order_id"]), [])) for order in found]

    def list_changed_orders(self, since: datetime, until: datetime) -> Iterator[RemoteOrder]:
        """GET /orders/get by update time in [since, until], oldest first; past the offset cap the window moves on."""
        seen: set[str] = set()
        low = since
        offset = 0
        while True:
            params = {
                "update_after": iso(low),
                "update_before": iso(until),
                "sort_by": "updated_at",
                "sort_direction": "ASC",
                "offset": str(offset),
                "limit": str(ORDER_PAGE),
            }
            data = self._data(PATH_ORDERS, params) or {}
            orders = [order for order in data.get("orders") or [] if isinstance(order, dict)]
            fresh = [order for order in orders if str(order.get("order_id")) not in seen]
            items = self._order_items([str(order["order_id"]) for order in fresh])
            for order in fresh:
                seen.add(str(order["order_id"]))
                yield order_from_wire(self.shop_id, order, items.get(str(order["order_id"]), []))
            if len(orders) < ORDER_PAGE:
                return
            offset += len(orders)
            if offset + ORDER_PAGE > ORDER_OFFSET_CAP:
                newest = max(when_text(order.get("updated_at")) for order in orders)
                if newest <= low:
                    log.warning("lazada seller %s: more than %s orders updated at %s", self.shop_id, offset, low)
                    return
                low, offset = newest, 0

    # --- stock and price -----------------------------------------------------------------------

    def _warehouse_rows(self, item_id: str, stock: Mapping[str, int]) -> dict[str, list[tuple[str, int]]]:
        """Multi-warehouse sellers: the whole quantity to the default warehouse, 0 to the SKU's others."""
        locations = self.list_locations()
        if not locations:
            return {}
        target = locations[0].location_id
        listing = listing_from_wire(self.shop_id, self._detail(item_id))
        has = {sku.sku_id: [row.location_id for row in sku.stock if row.location_id] for sku in listing.skus}
        return {
            sku_id: [(target, quantity)] + [(code, 0) for code in has.get(sku_id, []) if code != target]
            for sku_id, quantity in stock.items()
        }

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        """POST /product/stock/sellable/update (sellable stock, overwritten), 20 SKUs per call.

        A business refusal (4170 campaign lock, ...) fails the SKUs of that call with Lazada's words.
        """
        check_id(item_id)
        check_quantities(stock)
        for sku_id in stock:
            check_id(sku_id, "sku_id")
        if not stock:
            return WriteResult(item_id=item_id)
        try:
            warehouses = self._warehouse_rows(item_id, stock)
        except ItemRefused as refused:
            return WriteResult(item_id=item_id, results=_refused(list(stock), refused))
        results: list[SkuResult] = []
        for batch in batches_of(list(stock), SKU_BATCH):
            skus = {
                sku_id: sellable_sku(item_id, sku_id, stock[sku_id], warehouses.get(sku_id, ())) for sku_id in batch
            }
            results.extend(self._sku_write(PATH_SELLABLE_UPDATE, batch, skus))
        return WriteResult(item_id=item_id, results=tuple(results))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        """POST /product/price_quantity/update with `Price` only: the special price and the stock stay."""
        check_id(item_id)
        check_prices(prices)
        for sku_id in prices:
            check_id(sku_id, "sku_id")
        results: list[SkuResult] = []
        for batch in batches_of(list(prices), SKU_BATCH):
            skus = {
                sku_id: {"ItemId": item_id, "SkuId": sku_id, "Price": decimal_str(prices[sku_id])} for sku_id in batch
            }
            results.extend(self._sku_write(PATH_PRICE_QUANTITY, batch, skus))
        return WriteResult(item_id=item_id, results=tuple(results))

    def _sku_write(
        self, path: str, sku_ids: Sequence[str], skus: Mapping[str, Mapping[str, Any]], *, retry: bool = True
    ) -> list[SkuResult]:
        """One batch (`skus`: sku id -> its `Sku` element). A refusal whose `detail[]` names some of the SKUs
        fails those with their own words and sends the others again once; otherwise the batch fails."""
        payload = request({"Skus": {"Sku": [skus[sku_id] for sku_id in sku_ids]}})
        try:
            envelope = self._call(path, {"payload": payload})
        except LazadaRefusal as refused:
            named = set(_detail_by_sku(refused.detail)) & set(sku_ids)
            rest = [sku_id for sku_id in sku_ids if sku_id not in named]
            if retry and named and rest:
                refused_rows = _refused([sku_id for sku_id in sku_ids if sku_id in named], refused, refused.detail)
                return refused_rows + self._sku_write(path, rest, skus, retry=False)
            return _refused(sku_ids, refused, refused.detail)
        except ItemRefused as refused:
            return _refused(sku_ids, refused)
        failed = _detail_by_sku(envelope.get("detail"))
        return [
            SkuResult(sku_id=sku_id, ok=False, error_code=failed[sku_id][0], message=failed[sku_id][1])
            if sku_id in failed
            else SkuResult(sku_id=sku_id, ok=True)
            for sku_id in sku_ids
        ]

    # --- status --------------------------------------------------------------------------------

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        """Deactivate: POST /product/deactivate per item (ItemId). Activate: /product/update SKU Status active."""
        results: list[SkuResult] = []
        for item_id in item_ids:
            check_id(item_id)
            try:
                if active:
                    listing = listing_from_wire(self.shop_id, self._detail(item_id))
                    skus = [{"SkuId": sku.sku_id, "Status": "active"} for sku in listing.skus]
                    self._call(PATH_PRODUCT_UPDATE, {"payload": request({"ItemId": item_id, "Skus": {"Sku": skus}})})
                else:
                    self._call(PATH_DEACTIVATE, {"apiRequestBody": request({"ItemId": item_id})})
            except (ItemRefused, NotFound) as error:
                results.append(SkuResult(sku_id=item_id, ok=False, error_code=error.code, message=words(error)))
            else:
                results.append(SkuResult(sku_id=item_id, ok=True))
        return results

    def delete_listings(self, item_ids: Sequence[str]) -> list[SkuResult]:
        """POST /product/remove with `sku_id_list` = ["SkuId_<item>_<sku>", ...] (<= 50 per call), per item."""
        results: list[SkuResult] = []
        for item_id in item_ids:
            check_id(item_id)
            try:
                listing = listing_from_wire(self.shop_id, self._detail(item_id))
                keys = [f"SkuId_{item_id}_{sku.sku_id}" for sku in listing.skus]
                for batch in batches_of(keys, REMOVE_BATCH):
                    self._call(PATH_REMOVE, {"sku_id_list": json_list(batch)})
            except (ItemRefused, NotFound) as error:
                results.append(SkuResult(sku_id=item_id, ok=False, error_code=error.code, message=words(error)))
            else:
                results.append(SkuResult(sku_id=item_id, ok=True))
        return results

    # --- events --------------------------------------------------------------------------------

    def register_webhook(self, url: str) -> list[Subscription]:
        """Lazada has no API for it: the push URL is set once per app in the App Console."""
        return []

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        """Lazada has no lost-push API: `list_changed_orders` is the polling backstop."""
        return []


def _detail_by_sku(detail: Any) -> dict[str, tuple[str | None, str]]:
    """`detail[]` rows that name a SKU (by `sku_id` / `SkuId`): sku id -> (code, message)."""
    failed: dict[str, tuple[str | None, str]] = {}
    for row in detail if isinstance(detail, list) else []:
        if not isinstance(row, dict):
            continue
        sku_id = row.get("sku_id") or row.get("SkuId") or row.get("skuId")
        if sku_id is not None:
            code = row.get("code")
            failed[str(sku_id)] = (str(code) if code is not None else None, str(row.get("message") or ""))
    return failed


def _refused(sku_ids: Sequence[str], refused: ItemRefused, detail: Sequence[Mapping[str, Any]] = ()) -> list[SkuResult]:
    """Every SKU of a refused call fails; the ones `detail[]` names say their own message."""
    named = _detail_by_sku(list(detail))
    said = words(refused)
    return [
        SkuResult(
            sku_id=sku_id,
            ok=False,
            error_code=named[sku_id][0] or refused.code if sku_id in named else refused.code,
            message=named[sku_id][1] if sku_id in named else said,
        )
        for sku_id in sku_ids
    ]
