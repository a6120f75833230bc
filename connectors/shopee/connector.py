# One Shopee shop through the Open Platform v2 shop calls: the Connector SyncStore uses.
"""`ShopeeConnector` reads listings and orders and writes stock, prices, fields and listings (see
`connectors.shopee` for the decisions: sellable stock, prices, batching, idempotent creates)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from connectors.base import (
    ConnectorError,
    CreatedListing,
    InvalidRequest,
    ItemChange,
    ListingDraft,
    ListingFields,
    ListingStatus,
    MarketplaceEvent,
    NotFound,
    Platform,
    RefreshCallback,
    RemoteListing,
    RemoteOrder,
    RequestGate,
    ShopCredentials,
    ShopLocation,
    ShopProfile,
    SkuDraft,
    SkuResult,
    Subscription,
    WriteResult,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries
from connectors.shopee.app import ShopeeApp, shop_profile
from connectors.shopee.codes import LISTING_STATUSES, PLATFORM, POLLED_ITEM_STATUSES, SINGLE_LOCATION_CODES
from connectors.shopee.errors import bare_code, is_item_error
from connectors.shopee.limits import ITEM_BATCH, MODEL_BATCH, ORDER_BATCH, ORDER_WINDOW, PAGE_SIZE, UNLIST_BATCH
from connectors.shopee.mapping import (
    add_item_body,
    csv,
    failed_result,
    listing_from_wire,
    locations_from_wire,
    order_from_wire,
    run_batches,
    sku_results,
    tier_bodies,
    tier_plan,
    wire_dimension,
)
from connectors.shopee.publishing import ShopeePublishing
from connectors.shopee.rules import check_variation_ratio, wire_price
from connectors.shopee.transport import (
    PATH_ADD_ITEM,
    PATH_DELETE_ITEM,
    PATH_INIT_TIER_VARIATION,
    PATH_ITEM_BASE_INFO,
    PATH_ITEM_LIST,
    PATH_MODEL_LIST,
    PATH_ORDER_DETAIL,
    PATH_ORDER_LIST,
    PATH_SEARCH_ITEM,
    PATH_SHOP_INFO,
    PATH_UNLIST_ITEM,
    PATH_UPDATE_ITEM,
    PATH_UPDATE_PRICE,
    PATH_UPDATE_STOCK,
    PATH_WAREHOUSE_DETAIL,
)
from connectors.shopee.values import Json, as_dict, chunks, from_unix, id_of, objects, unix, wire_int_id, wire_number

log = logging.getLogger(__name__)
T = TypeVar("T")

# --- the connector (one shop) ---------------------------------------------------------------


class ShopeeConnector(ShopeePublishing):
    """One Shopee shop, through the Open Platform v2 shop calls; satisfies `connectors.base.Connector`."""

    platform: Platform = PLATFORM

    def __init__(
        self,
        *,
        partner_id: int,
        partner_key: str,
        host: str,
        credentials: ShopCredentials,
        gate: RequestGate | None = None,
        refresh: RefreshCallback | None = None,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        logistic_ids: Sequence[int] = (),
        clock: Callable[[], float] = time.time,
        region: str = "",
    ) -> None:
        """`region` is the shop's region (ShopProfile.region, stored at connection): it decides price
        decimals and the variation ratio. "" = unknown: two decimals are allowed, no ratio is checked."""
        self.shop_id = credentials.shop_id
        self.region = region.strip().upper()
        self._locations: list[ShopLocation] | None = None
        # The location_id chosen to receive stock (None, or not one of the shop's: the default one).
        self._stock_location = credentials.stock_location_id
        self._shop = wire_int_id(credentials.shop_id, "shop_id")
        self._access_token = credentials.access_token
        self._gate, self._refresh, self._policy = gate, refresh, policy
        # Channels a draft without logistics_channel_ids is created with (none: the draft must name them).
        self._logistic_ids = tuple(logistic_ids)
        # How upload_image is signed (None: not known yet; see connectors.shopee.publishing).
        self._upload_as_shop: bool | None = None
        # Partner-level calls (push config, lost pushes) go through the app, on the same signed transport.
        self._app = ShopeeApp(
            partner_id, partner_key, host, client=client, timeout_s=timeout_s, policy=policy, clock=clock
        )
        self._wire = self._app._wire

    def __repr__(self) -> str:
        return f"ShopeeConnector(shop_id={self.shop_id!r}, host={self._wire.host!r})"

    def close(self) -> None:
        self._app.close()

    def __enter__(self) -> ShopeeConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --

    def _set_token(self, token: str) -> None:
        self._access_token = token

    def _attempt(self, operation: Callable[[], T]) -> T:
        """Run one operation (made of fresh signed requests) under the retry policy and the shop's gate."""
        return call_with_retries(
            operation, gate=self._gate, refresh=self._refresh, on_new_token=self._set_token, policy=self._policy
        )

    def _send(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None
    ) -> Json:
        """One signed shop call with the current access token; returns `response`."""
        payload = self._wire.send(
            method, path, params=params, body=body, access_token=self._access_token, shop_id=self._shop
        )
        return as_dict(payload.get("response"))

    def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None
    ) -> Json:
        return self._attempt(lambda: self._send(method, path, params=params, body=body))

    # -- reading --

    def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]:
        """get_item_list with update_time_from/to (both inclusive), every polled status, 100 per page."""
        offset = 0
        while True:
            params = {
                "offset": offset,
                "page_size": PAGE_SIZE,
                "item_status": list(POLLED_ITEM_STATUSES),
                "update_time_from": unix(since),
                "update_time_to": unix(until),
            }
            response = self._call("GET", PATH_ITEM_LIST, params=params)
            for entry in objects(response.get("item")):
                yield ItemChange(
                    item_id=str(entry["item_id"]),
                    updated_at=from_unix(entry.get("update_time", 0)),
                    raw_status=str(entry.get("item_status", "")),
                )
            next_offset = response.get("next_offset")
            if not response.get("has_next_page") or not isinstance(next_offset, int) or next_offset <= offset:
                return
            offset = next_offset

    def get_listings(self, item_ids: Sequence[str]) -> list[RemoteListing]:
        """get_item_base_info, 50 ids per call, then get_model_list for each item that has models.

        Ids the shop does not have are left out of the answer (Shopee skips them).
        """
        ids = [wire_int_id(item_id, "item_id") for item_id in dict.fromkeys(item_ids)]
        listings: list[RemoteListing] = []
        for batch in chunks(ids, ITEM_BATCH):
            response = self._call("GET", PATH_ITEM_BASE_INFO, params={"item_id_list": csv(batch)})
            for raw in objects(response.get("item_list")):
                models = None
                if raw.get("has_model"):
                    models = self._call("GET", PATH_MODEL_LIST, params={"item_id": raw["item_id"]})
                listings.append(listing_from_wire(self.shop_id, raw, models))
        return listings

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        """get_order_detail, 50 order_sn per call (ONE comma-joined string), asking for `item_list`.

        An order Shopee does not know is left out: when a call fails with `error_not_found`, the batch
        is split in halves until the unknown order_sn are isolated (an id with a comma is no order_sn).
        """
        wanted = [sn for sn in dict.fromkeys(str(sn).strip() for sn in order_ids) if sn and "," not in sn]
        orders: list[RemoteOrder] = []
        for batch in chunks(wanted, ORDER_BATCH):
            orders.extend(self._order_batch(batch))
        return orders

    def _order_batch(self, batch: Sequence[str]) -> list[RemoteOrder]:
        params = {"order_sn_list": csv(batch), "response_optional_fields": "item_list"}
        try:
            response = self._call("GET", PATH_ORDER_DETAIL, params=params)
        except (NotFound, InvalidRequest) as error:
            if isinstance(error, InvalidRequest) and not re.search(r"not (be )?found", str(error), re.IGNORECASE):
                raise
            if len(batch) == 1:
                log.info("shopee order %s is unknown to shop %s: left out", batch[0], self.shop_id)
                return []
            middle = len(batch) // 2
            return self._order_batch(batch[:middle]) + self._order_batch(batch[middle:])
        return [order_from_wire(self.shop_id, raw) for raw in objects(response.get("order_list"))]

    def list_changed_orders(self, since: datetime, until: datetime) -> Iterator[RemoteOrder]:
        """Every order updated in [since, until]: get_order_list by update_time in windows of at most
        15 days, 100 per page with the cursor, then get_order_detail 50 at a time, with lines."""
        start, end = unix(since), unix(until)
        seen: set[str] = set()
        window = int(ORDER_WINDOW.total_seconds())
        while start <= end:
            window_end = min(start + window, end)
            order_sns: list[str] = []
            cursor = ""
            while True:
                params: Json = {
                    "time_range_field": "update_time",
                    "time_from": start,
                    "time_to": window_end,
                    "page_size": PAGE_SIZE,
                }
                if cursor:
                    params["cursor"] = cursor
                response = self._call("GET", PATH_ORDER_LIST, params=params)
                for entry in objects(response.get("order_list")):
                    order_sn = str(entry.get("order_sn") or "")
                    if order_sn and order_sn not in seen:
                        seen.add(order_sn)
                        order_sns.append(order_sn)
                next_cursor = str(response.get("next_cursor") or "")
                if not response.get("more") or not next_cursor or next_cursor == cursor:
                    break
                cursor = next_cursor
            yield from self.get_orders(order_sns)
            if window_end >= end:
                return
            start = window_end + 1

    # -- the shop --

    def get_shop_profile(self) -> ShopProfile:
        """GET /api/v2/shop/get_shop_info: name, region, and whether the shop is cross-border (CNSC/KRSC)."""
        payload = self._attempt(
            lambda: self._wire.send("GET", PATH_SHOP_INFO, access_token=self._access_token, shop_id=self._shop)
        )
        return shop_profile(self.shop_id, payload)

    def list_locations(self) -> list[ShopLocation]:
        """GET /api/v2/shop/get_warehouse_detail: the shop's pickup locations, the default one first.

        [] for a shop with one implicit location (`warehouse.error_not_in_whitelist`): stock is then
        written without location_id. Read once per connector.
        """
        if self._locations is None:
            try:
                payload = self._attempt(
                    lambda: self._wire.send(
                        "GET", PATH_WAREHOUSE_DETAIL, access_token=self._access_token, shop_id=self._shop
                    )
                )
            except ConnectorError as error:
                if bare_code(error.code or "") not in SINGLE_LOCATION_CODES:
                    raise
                payload = {}
            self._locations = locations_from_wire(payload.get("response"))
        return list(self._locations)

    def _seller_stock(self, quantity: int, location_id: str | None = None) -> list[Json]:
        """`seller_stock` for one model: everything at `location_id` when given, else at the location
        chosen for the shop's stock (the default one when none is chosen) and 0 at the others."""
        if location_id:
            return [{"location_id": location_id, "stock": quantity}]
        locations = self.list_locations()
        if not locations:
            return [{"stock": quantity}]
        ids = [location.location_id for location in locations]
        target = self._stock_location if self._stock_location in ids else ids[0]
        return [{"location_id": each, "stock": quantity if each == target else 0} for each in ids]

    # -- writing prices and stock --

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        """update_stock, one item per call, 50 models per call; each model's outcome in the result.

        The quantity is the model's SELLABLE stock: all of it at the location chosen for the shop's
        stock (else its default one), 0 at the others. A business refusal (promotion-reserved stock,
        holiday mode, location...) fails the models of that call with Shopee's message; the shop goes on.
        """
        wire_item = wire_int_id(item_id, "item_id")
        for sku_id, quantity in stock.items():
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidRequest(f"stock of {sku_id} must be an integer >= 0", platform=PLATFORM)
        entries = [(wire_int_id(sku_id, "model_id"), quantity) for sku_id, quantity in stock.items()]
        if entries:
            self.list_locations()

        def send(batch: Sequence[tuple[int, int]]) -> list[SkuResult]:
            stock_list = [
                {"model_id": model, "seller_stock": self._seller_stock(quantity)} for model, quantity in batch
            ]
            body = {"item_id": wire_item, "stock_list": stock_list}
            return sku_results([model for model, _ in batch], self._call("POST", PATH_UPDATE_STOCK, body=body))

        results = run_batches(chunks(entries, MODEL_BATCH), send, lambda entry: str(entry[0]))
        return WriteResult(item_id=item_id, results=tuple(results))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        """update_price (`original_price`), one item per call, 50 models per call; model '0' for no models.

        A price the shop's region cannot take (decimals where it has none) raises InvalidRequest before
        anything is sent; a business refusal fails the models of that call with Shopee's message.
        """
        wire_item = wire_int_id(item_id, "item_id")
        entries = [
            (wire_int_id(sku, "model_id"), wire_price(price, f"price of {sku}", self.region))
            for sku, price in prices.items()
        ]

        def send(batch: Sequence[tuple[int, float | int]]) -> list[SkuResult]:
            price_list = [{"model_id": model, "original_price": price} for model, price in batch]
            body = {"item_id": wire_item, "price_list": price_list}
            return sku_results([model for model, _ in batch], self._call("POST", PATH_UPDATE_PRICE, body=body))

        results = run_batches(chunks(entries, MODEL_BATCH), send, lambda entry: str(entry[0]))
        return WriteResult(item_id=item_id, results=tuple(results))

    # -- writing listings --

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        """update_item with the fields that are set; nothing is sent when none is."""
        body: Json = {"item_id": wire_int_id(item_id, "item_id")}
        if fields.title is not None:
            body["item_name"] = fields.title
        if fields.description is not None:
            body["description"] = fields.description
        if fields.images is not None:
            body["image"] = {"image_id_list": list(fields.images)}
        if fields.weight_kg is not None:
            body["weight"] = wire_number(fields.weight_kg, "weight", places=None)
        if fields.dimensions is not None:
            body["dimension"] = wire_dimension(fields.dimensions)
        if len(body) > 1:
            self._call("POST", PATH_UPDATE_ITEM, body=body)

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        """add_item, then init_tier_variation for a listing with variants (at most 50).

        Sends the uploaded image ids, `logistic_info` from the draft's channels (or the connector's
        default channels), the category's attributes, the brand (id 0 "no brand" when there is none), the
        stock at `draft.location_id` when given, and the variations as `standardise_tier_variation` only.
        Safe to repeat: each attempt first looks for the item by its parent item_sku (and, for
        variants, for models already there), so a timeout or a crash never creates a second listing.
        """
        if len(draft.skus) > MODEL_BATCH:
            raise InvalidRequest(f"at most {MODEL_BATCH} SKUs per Shopee listing", platform=PLATFORM)
        logistics = [wire_int_id(c, "logistic_id") for c in draft.logistics_channel_ids] or list(self._logistic_ids)
        if not logistics:
            raise InvalidRequest(
                "Shopee creates a listing only with at least one of the shop's logistics channels enabled",
                fields={"logistics_channel_ids": "at least one channel"},
                platform=PLATFORM,
            )
        urls = [image for image in draft.images if "://" in image]
        if urls:
            raise InvalidRequest(
                "Shopee takes uploaded image ids, not URLs: upload the images first",
                fields={"images": "image ids"},
                platform=PLATFORM,
            )
        single = len(draft.skus) == 1 and not draft.skus[0].attributes
        marker = draft.skus[0].seller_sku if single else draft.idempotency_key
        check_variation_ratio([sku.price for sku in draft.skus], self.region)
        price = self._price_of(draft.skus)
        tiers, models = ([], []) if single else tier_plan(draft.skus, price)
        body = add_item_body(draft, marker, price(min(sku.price for sku in draft.skus), "original_price"))
        body["logistic_info"] = [{"logistic_id": logistic, "enabled": True} for logistic in logistics]
        if single:
            body["seller_stock"] = self._seller_stock(draft.skus[0].stock, draft.location_id)
        for model, sku in zip(models, draft.skus, strict=False):
            model["seller_stock"] = self._seller_stock(sku.stock, draft.location_id)

        def add() -> int:
            found = self._find_item(marker)
            if found is not None:
                return found
            return id_of(self._send("POST", PATH_ADD_ITEM, body=body), "item_id")

        item_id = self._attempt(add)
        if single:
            return CreatedListing(item_id=str(item_id), sku_ids={draft.skus[0].seller_sku: "0"})

        def init_variants() -> dict[str, str]:
            existing = self._send("GET", PATH_MODEL_LIST, params={"item_id": item_id})
            if not objects(existing.get("model")):
                variation = {"item_id": item_id, **tier_bodies(tiers), "model": models}
                existing = self._send("POST", PATH_INIT_TIER_VARIATION, body=variation)
            return {str(m.get("model_sku", "")): str(id_of(m, "model_id")) for m in objects(existing.get("model"))}

        sku_ids = self._attempt(init_variants)
        missing = [sku.seller_sku for sku in draft.skus if sku.seller_sku not in sku_ids]
        if missing:
            raise ConnectorError(f"item {item_id} has no models for {missing}", platform=PLATFORM)
        return CreatedListing(
            item_id=str(item_id), sku_ids={sku.seller_sku: sku_ids[sku.seller_sku] for sku in draft.skus}
        )

    def _price_of(self, skus: Sequence[SkuDraft]) -> Callable[[Decimal, str], float | int]:
        def price(value: Decimal, name: str) -> float | int:
            return wire_price(value, name, self.region)

        for sku in skus:  # refuse before anything is sent
            price(sku.price, f"price of {sku.seller_sku}")
        return price

    def _find_item(self, item_sku: str) -> int | None:
        """The live item whose parent item_sku is exactly `item_sku` (search_item, confirmed by base info)."""
        found = self._send("GET", PATH_SEARCH_ITEM, params={"item_sku": item_sku, "offset": 0, "page_size": PAGE_SIZE})
        candidates = [c for c in found.get("item_id_list") or [] if isinstance(c, int)]
        for batch in chunks(candidates, ITEM_BATCH):
            detail = self._send("GET", PATH_ITEM_BASE_INFO, params={"item_id_list": csv(batch)})
            matches = [
                int(item["item_id"])
                for item in objects(detail.get("item_list"))
                if item.get("item_sku") == item_sku
                and LISTING_STATUSES.get(str(item.get("item_status"))) is not ListingStatus.DELETED
            ]
            if matches:
                return min(matches)
        return None

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        """unlist_item, 50 items per call (`unlist` = not active); one result per item."""
        ids = [wire_int_id(item_id, "item_id") for item_id in dict.fromkeys(item_ids)]

        def send(batch: Sequence[int]) -> list[SkuResult]:
            body = {"item_list": [{"item_id": item, "unlist": not active} for item in batch]}
            return sku_results(list(batch), self._call("POST", PATH_UNLIST_ITEM, body=body), key="item_id")

        return run_batches(chunks(ids, UNLIST_BATCH), send, str)

    def delete_listings(self, item_ids: Sequence[str]) -> list[SkuResult]:
        """delete_item, one item per call. An item already gone (`error_item_not_found`) counts as deleted."""
        results: list[SkuResult] = []
        ids = list(dict.fromkeys(item_ids))
        for index, item_id in enumerate(ids):
            try:
                self._call("POST", PATH_DELETE_ITEM, body={"item_id": wire_int_id(item_id, "item_id")})
                results.append(SkuResult(sku_id=item_id, ok=True))
            except NotFound as error:
                gone = bare_code(error.code or "") == "error_item_not_found"
                results.append(failed_result(item_id, error) if not gone else SkuResult(sku_id=item_id, ok=True))
            except ConnectorError as error:
                if is_item_error(error):
                    results.append(failed_result(item_id, error))  # this item's problem; a bad sign is everyone's
                    continue
                if index == 0:
                    raise
                results.extend(failed_result(rest, error) for rest in ids[index:])
                break
        return results

    # -- pushes --

    def register_webhook(self, url: str) -> list[Subscription]:
        """set_app_push_config, one call per push code: the app's one callback URL (for every shop of
        the app). A refused code is reported in its Subscription; the others go on."""
        return self._app.register_webhook(url)

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        """get_lost_push_message + confirm_consumed_lost_push_message: every shop's lost pushes."""
        return self._app.fetch_missed_events()
