# One TikTok Shop shop through the 202309 API: the Connector SyncStore uses.
"""`TikTokShopConnector` reads products and orders and writes stock, prices, fields and products (see
`connectors.tiktokshop` for the decisions)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    CreatedListing,
    InvalidRequest,
    ItemChange,
    ItemRefused,
    ListingDraft,
    ListingFields,
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
    SkuResult,
    Subscription,
    WriteResult,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries
from connectors.tiktokshop.app import authorized_shops_from_wire
from connectors.tiktokshop.catalog import product_attributes
from connectors.tiktokshop.codes import CROSS_BORDER, PLATFORM, PRODUCT_STATUSES, SEARCH_ALL, WEBHOOK_EVENT_TYPES
from connectors.tiktokshop.errors import SearchCapReached
from connectors.tiktokshop.limits import ORDER_BATCH, PAGE_SIZE, SEARCH_SPLIT_AT, STATUS_BATCH
from connectors.tiktokshop.mapping import (
    batch_results,
    decimal_str,
    dimensions_body,
    epoch,
    images_body,
    listing_from_detail,
    order_from_wire,
    partial_edit_body,
    warehouses_from_wire,
    weight_body,
    when_of,
)
from connectors.tiktokshop.publishing import TikTokPublishing
from connectors.tiktokshop.rules import check_prices, check_quantities
from connectors.tiktokshop.signing import encode_body
from connectors.tiktokshop.transport import (
    NO_CIPHER_PREFIXES,
    PATH_ACTIVATE,
    PATH_AUTHORIZED_SHOPS,
    PATH_DEACTIVATE,
    PATH_ORDER_SEARCH,
    PATH_ORDERS,
    PATH_PRODUCTS,
    PATH_SEARCH,
    PATH_WAREHOUSES,
    PATH_WEBHOOKS,
    Transport,
    batches_of,
    check_id,
    inventory_path,
    partial_edit_path,
    prices_path,
    product_path,
)

log = logging.getLogger(__name__)

# =================================================================================================
# The connector: one shop
# =================================================================================================


class TikTokShopConnector(TikTokPublishing):
    """One TikTok Shop, behind SyncStore's Connector protocol."""

    platform: Platform = "tiktokshop"

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        api_host: str,
        credentials: ShopCredentials,
        gate: RequestGate | None = None,
        refresh: RefreshCallback | None = None,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        warehouse_id: str | None = None,
        currency: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shop_id = credentials.shop_id
        self._shop_cipher = credentials.shop_cipher
        self._access_token = credentials.access_token
        self._api_host = api_host.rstrip("/")
        self._gate, self._refresh, self._policy = gate, refresh, policy
        # The target warehouse: this override, else the one chosen for the shop's stock, else the default.
        self._warehouse_id, self._currency = warehouse_id or credentials.stock_location_id, currency
        self._locations: list[ShopLocation] | None = None
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._transport = Transport(
            app_key=app_key, app_secret=app_secret, client=self._client, timeout_s=timeout_s, clock=clock
        )

    def __repr__(self) -> str:
        return f"TikTokShopConnector(shop_id={self.shop_id!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> TikTokShopConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ------------------------------------------------------------------------------

    def _use_token(self, token: str) -> None:
        self._access_token = token

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        """One signed call under the retry policy (a refused token is refreshed once). With `files` it is a
        multipart upload whose form fields are `body`'s (the body is not signed)."""
        raw = encode_body(body) if body is not None and files is None else None
        cipher = None if path.startswith(NO_CIPHER_PREFIXES) else self._shop_cipher
        refreshed: list[str] = []

        def operation() -> dict[str, Any]:
            if files is not None:
                form = {key: str(value) for key, value in (body or {}).items()}
                return self._transport.signed_upload(
                    self._api_host, path, access_token=self._access_token, files=files, form=form
                )
            return self._transport.signed(
                method,
                self._api_host,
                path,
                access_token=self._access_token,
                shop_cipher=cipher,
                query=query,
                body=raw,
            )

        def refresh_once() -> str:
            assert self._refresh is not None  # only handed to the retry loop when there is one
            token = self._refresh()
            refreshed.append(token)
            return token

        try:
            return call_with_retries(
                operation,
                gate=self._gate,
                refresh=refresh_once if self._refresh is not None else None,
                on_new_token=self._use_token,
                policy=self._policy,
            )
        except AuthExpired as error:
            if not refreshed:
                raise
            # A fresh token was refused too: the authorization itself is gone.
            raise AuthRevoked(
                f"the access token was refused again after a refresh: {error}",
                platform=PLATFORM,
                code=error.code,
                request_id=error.request_id,
            ) from None

    # --- shop ----------------------------------------------------------------------------------

    def get_shop_profile(self) -> ShopProfile:
        """GET /authorization/202309/shops; this shop by id (or cipher): region, name, cross-border."""
        shops = authorized_shops_from_wire(self._call("GET", PATH_AUTHORIZED_SHOPS))
        for shop in shops:
            if shop.shop_id == self.shop_id or (self._shop_cipher and shop.shop_cipher == self._shop_cipher):
                return ShopProfile(
                    shop_id=self.shop_id,
                    name=shop.name,
                    region=shop.region.upper(),
                    cross_border=shop.seller_type.upper() == CROSS_BORDER,
                )
        raise NotFound("this shop is not among the seller's authorized shops", platform=PLATFORM)

    def list_locations(self) -> list[ShopLocation]:
        """GET /logistics/202309/warehouses: the shop's sales warehouses, the default first (read once)."""
        if self._locations is None:
            self._locations = warehouses_from_wire(self._call("GET", PATH_WAREHOUSES))
        return list(self._locations)

    # --- reads ---------------------------------------------------------------------------------

    def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]:
        """Products whose update_time is in [since, until] (whole seconds), each once."""
        seen: set[str] = set()
        for product in self._search_window(epoch(since), epoch(until), SEARCH_ALL):
            product_id = str(product["id"])
            if product_id in seen:
                continue
            seen.add(product_id)
            yield ItemChange(
                item_id=product_id,
                updated_at=when_of(product.get("update_time")),
                raw_status=str(product.get("status") or ""),
            )

    def _search_window(self, low: int, high: int, status: str) -> Iterator[Mapping[str, Any]]:
        """Every product of [low, high]; the window is split before the platform's 10,000-result cap."""
        if low > high:
            return
        served = 0
        token: str | None = None
        while True:
            try:
                page = self._search_page(low, high, status, token)
            except SearchCapReached:
                yield from self._split(low, high, status)
                return
            # total_count may be capped at 10,000: a window that reaches the split point is split either way.
            if (
                token is None
                and int(page.get("total_count") or 0) >= SEARCH_SPLIT_AT
                and self._splittable(low, high, status)
            ):
                yield from self._split(low, high, status)
                return
            products = page.get("products") or []
            yield from products
            served += len(products)
            token = str(page.get("next_page_token") or "") or None
            if token is None:
                return
            if served + PAGE_SIZE > SEARCH_SPLIT_AT and self._splittable(low, high, status):
                # The next page would reach the cap; what was yielded is deduplicated by the caller.
                yield from self._split(low, high, status)
                return
            # An unsplittable window (one second, one status) pages on until the platform stops it.

    @staticmethod
    def _splittable(low: int, high: int, status: str) -> bool:
        return high > low or status == SEARCH_ALL

    def _split(self, low: int, high: int, status: str) -> Iterator[Mapping[str, Any]]:
        if high > low:
            middle = (low + high) // 2
            yield from self._search_window(low, middle, status)
            yield from self._search_window(middle + 1, high, status)
            return
        if status == SEARCH_ALL:
            log.warning("tiktokshop shop %s: too many changes at %s; searching per status", self.shop_id, low)
            for one_status in PRODUCT_STATUSES:
                yield from self._search_window(low, high, one_status)
            return
        log.warning("tiktokshop shop %s: the platform serves no more %s changes at %s", self.shop_id, status, low)

    def _search_page(self, low: int, high: int, status: str, token: str | None) -> dict[str, Any]:
        query = {"page_size": str(PAGE_SIZE)}
        if token:
            query["page_token"] = token
        body = {"status": status, "update_time_ge": low, "update_time_le": high}
        return self._call("POST", PATH_SEARCH, query=query, body=body)

    def get_listings(self, item_ids: Sequence[str]) -> list[RemoteListing]:
        """One GET per product (TikTok's detail API); unknown ids are left out."""
        listings: list[RemoteListing] = []
        for item_id in item_ids:
            try:
                data = self._call("GET", product_path(check_id(item_id)))
            except NotFound:
                log.info("tiktokshop shop %s: product %s not found", self.shop_id, item_id)
                continue
            listings.append(listing_from_detail(self.shop_id, data))
        return listings

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        """GET /order/202309/orders?ids=... in batches of 50; unknown ids are left out."""
        orders: list[RemoteOrder] = []
        ids = [check_id(order_id, "order_id") for order_id in order_ids]
        for batch in batches_of(ids, ORDER_BATCH):
            try:
                data = self._call("GET", PATH_ORDERS, query={"ids": ",".join(batch)})
            except NotFound:
                continue
            orders.extend(order_from_wire(self.shop_id, order) for order in data.get("orders") or [])
        return orders

    def list_changed_orders(self, since: datetime, until: datetime) -> Iterator[RemoteOrder]:
        """POST /order/202309/orders/search by update time in [since, until] (whole seconds), each order once."""
        body = {"update_time_ge": epoch(since), "update_time_lt": epoch(until) + 1}
        seen: set[str] = set()
        token: str | None = None
        while True:
            query = {"page_size": str(PAGE_SIZE)}
            if token:
                query["page_token"] = token
            page = self._call("POST", PATH_ORDER_SEARCH, query=query, body=body)
            for order in page.get("orders") or []:
                remote = order_from_wire(self.shop_id, order)
                if remote.order_id not in seen:
                    seen.add(remote.order_id)
                    yield remote
            token = str(page.get("next_page_token") or "") or None
            if token is None:
                return

    # --- writes --------------------------------------------------------------------------------

    def _target_warehouse(self, sku_warehouses: Sequence[str], sales: Sequence[str]) -> str | None:
        """Where a SKU's whole quantity goes: the override, else the default sales warehouse when the SKU
        is stocked there (or nowhere yet), else the first sales warehouse the SKU has."""
        if self._warehouse_id:
            return self._warehouse_id
        if not sales:
            return None
        if not sku_warehouses or sales[0] in sku_warehouses:
            return sales[0]
        return next((warehouse for warehouse in sales if warehouse in sku_warehouses), sales[0])

    def _inventory_rows(self, item_id: str, stock: Mapping[str, int]) -> dict[str, list[dict[str, Any]]]:
        """sku id -> inventory rows: the quantity to one sales warehouse, 0 to the SKU's other ones."""
        sales = [location.location_id for location in self.list_locations()]
        sku_warehouses: dict[str, list[str]] = {}
        if len(sales) > 1 or (self._warehouse_id and sales):
            listing = listing_from_detail(self.shop_id, self._call("GET", product_path(item_id)))
            sku_warehouses = {
                sku.sku_id: [row.location_id for row in sku.stock if row.location_id] for sku in listing.skus
            }
        rows: dict[str, list[dict[str, Any]]] = {}
        for sku_id, quantity in stock.items():
            has = sku_warehouses.get(sku_id, [])
            target = self._target_warehouse(has, sales)
            if target is None:
                rows[sku_id] = [{"quantity": quantity}]
                continue
            zeroed = [warehouse for warehouse in sales if warehouse in has and warehouse != target]
            rows[sku_id] = [{"warehouse_id": target, "quantity": quantity}] + [
                {"warehouse_id": warehouse, "quantity": 0} for warehouse in zeroed
            ]
        return rows

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        """POST .../inventory/update, one product per call; 0 <= quantity < 99,999 checked first.

        A business refusal of the product (ItemRefused) fails its SKUs with the platform's words.
        """
        check_id(item_id)
        check_quantities(stock)
        if not stock:
            return WriteResult(item_id=item_id)
        for sku_id in stock:
            check_id(sku_id, "sku_id")
        try:
            rows = self._inventory_rows(item_id, stock)
            skus = [{"id": sku_id, "inventory": rows[sku_id]} for sku_id in stock]
            data = self._call("POST", inventory_path(item_id), body={"skus": skus})
        except ItemRefused as refused:
            return _refused(item_id, list(stock), refused)
        return WriteResult(item_id=item_id, results=batch_results(list(stock), data, "sku_id"))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        """POST .../prices/update with the pre-tax price, one product per call; exact decimal strings."""
        check_id(item_id)
        check_prices(prices)
        if not prices:
            return WriteResult(item_id=item_id)
        for sku_id in prices:
            check_id(sku_id, "sku_id")
        try:
            currency = self._shop_currency(item_id)
            skus = [
                {"id": sku_id, "price": {"amount": decimal_str(price), "currency": currency}}
                for sku_id, price in prices.items()
            ]
            data = self._call("POST", prices_path(item_id), body={"skus": skus})
        except ItemRefused as refused:
            return _refused(item_id, list(prices), refused)
        return WriteResult(item_id=item_id, results=batch_results(list(prices), data, "sku_id"))

    def _shop_currency(self, item_id: str) -> str:
        if self._currency is None:
            listing = listing_from_detail(self.shop_id, self._call("GET", product_path(item_id)))
            currencies = [sku.currency for sku in listing.skus if sku.currency]
            if not currencies:
                raise InvalidRequest("the shop currency is unknown: pass currency=", platform=PLATFORM)
            self._currency = currencies[0]
        return self._currency

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        """POST .../partial_edit with only the given properties (each replaces that whole property).

        A business refusal raises ItemRefused (this one product fails; no token is refreshed).
        """
        check_id(item_id)
        body = partial_edit_body(fields)
        if body:
            self._call("POST", partial_edit_path(item_id), body=body)

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        """POST /product/202309/products with the draft's idempotency_key: a retry never creates twice.

        Sends `main_images[{uri}]` of uploaded images (a URL is refused before sending), `brand_id`,
        `product_attributes`, and each SKU's inventory at `draft.location_id` (else the default sales
        warehouse). The product is audited: the answer is in review until the audit result.
        """
        check_quantities({sku.seller_sku: sku.stock for sku in draft.skus})
        check_prices({sku.seller_sku: sku.price for sku in draft.skus})
        if any("://" in image for image in draft.images):
            raise InvalidRequest(
                "TikTok Shop takes the uri of uploaded images, not URLs: upload the images first",
                fields={"images": "uploaded image uris"},
                platform=PLATFORM,
            )
        warehouse = draft.location_id
        if not warehouse:
            sales = [location.location_id for location in self.list_locations()]
            warehouse = self._target_warehouse([], sales)

        def inventory(quantity: int) -> dict[str, Any]:
            return {"warehouse_id": warehouse, "quantity": quantity} if warehouse else {"quantity": quantity}

        body: dict[str, Any] = {
            "title": draft.title,
            "description": draft.description,
            "category_id": draft.category_id,
            "main_images": images_body(draft.images),
            "package_weight": weight_body(draft.weight_kg),
            "skus": [
                {
                    "seller_sku": sku.seller_sku,
                    "price": {"amount": decimal_str(sku.price), "currency": draft.currency},
                    "inventory": [inventory(sku.stock)],
                    "sales_attributes": [{"name": name, "value_name": value} for name, value in sku.attributes.items()],
                }
                for sku in draft.skus
            ],
            "idempotency_key": draft.idempotency_key,
        }
        if draft.brand_id:
            body["brand_id"] = draft.brand_id
        attributes = product_attributes(draft.attributes)
        if attributes:
            body["product_attributes"] = attributes
        if draft.dimensions is not None:
            body["package_dimensions"] = dimensions_body(draft.dimensions)
        data = self._call("POST", PATH_PRODUCTS, body=body)
        sku_ids = {str(sku["seller_sku"]): str(sku["id"]) for sku in data.get("skus") or [] if sku.get("seller_sku")}
        return CreatedListing(item_id=str(data["product_id"]), sku_ids=sku_ids, in_review=True)

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        """POST .../activate or .../deactivate, at most 20 product_ids per call; one result per id."""
        path = PATH_ACTIVATE if active else PATH_DEACTIVATE
        return self._product_batches("POST", path, item_ids)

    def delete_listings(self, item_ids: Sequence[str]) -> list[SkuResult]:
        """DELETE /product/202309/products, at most 20 product_ids per call; one result per id."""
        return self._product_batches("DELETE", PATH_PRODUCTS, item_ids)

    def _product_batches(self, method: str, path: str, item_ids: Sequence[str]) -> list[SkuResult]:
        ids = [check_id(item_id) for item_id in item_ids]
        results: list[SkuResult] = []
        for batch in batches_of(ids, STATUS_BATCH):
            data = self._call(method, path, body={"product_ids": batch})
            results.extend(batch_results(batch, data, "product_id"))
        return results

    # --- events --------------------------------------------------------------------------------

    def register_webhook(self, url: str) -> list[Subscription]:
        """PUT /event/202309/webhooks {"address", "event_type"} for each type on its own.

        A refused type is reported (ok=False, the platform's words) and the others go on; a credential
        error (AuthExpired, AuthRevoked) is raised, since no type could succeed.
        """
        subscriptions: list[Subscription] = []
        for event_type in WEBHOOK_EVENT_TYPES:
            try:
                self._call("PUT", PATH_WEBHOOKS, body={"address": url, "event_type": event_type})
            except (AuthExpired, AuthRevoked):
                raise
            except ConnectorError as error:
                subscriptions.append(Subscription(topic=event_type, ok=False, message=str(error)))
            else:
                subscriptions.append(Subscription(topic=event_type, ok=True))
        return subscriptions

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        """TikTok Shop has no lost-push API: `list_changed_orders` is the polling backstop (W9)."""
        return []


def _refused(item_id: str, sku_ids: Sequence[str], refused: ItemRefused) -> WriteResult:
    """Every SKU of a product the platform refused, failed with the platform's code and words."""
    message = str(refused)
    prefix = f"{PLATFORM} [{refused.code}]: " if refused.code else f"{PLATFORM}: "
    message = message.removeprefix(prefix)  # the platform's own words, without our "tiktokshop [code]: "
    return WriteResult(
        item_id=item_id,
        results=tuple(
            SkuResult(sku_id=sku_id, ok=False, error_code=refused.code, message=message) for sku_id in sku_ids
        ),
    )
