# One Lazada seller (one country) through LazOP: the Connector SyncStore uses.
"""`LazadaConnector` reads products and orders and writes stock, prices, content and products (see
`connectors.lazada` for the decisions)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

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
    LogisticsChannel,
    MarketplaceEvent,
    NotFound,
    Platform,
    RefreshCallback,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
    RemoteListing,
    RemoteOrder,
    RequestGate,
    ShopCredentials,
    ShopLocation,
    ShopProfile,
    SkuDraft,
    SkuResult,
    Subscription,
    Transient,
    UploadedImage,
    WriteResult,
)
from connectors.lazada.codes import PENDING_QC, PLATFORM
from connectors.lazada.errors import LazadaRefusal
from connectors.lazada.limits import (
    BRAND_PAGE,
    ORDER_ITEMS_BATCH,
    ORDER_OFFSET_CAP,
    ORDER_PAGE,
    PRODUCT_OFFSET_CAP,
    PRODUCT_PAGE,
    REMOVE_BATCH,
    SKU_BATCH,
)
from connectors.lazada.mapping import (
    attribute_from_wire,
    brands_from_wire,
    categories_from_tree,
    iso,
    json_list,
    listing_from_wire,
    order_from_wire,
    warehouses_from_wire,
    when_ms,
    when_text,
)
from connectors.lazada.payloads import decimal_str, package_fields, request, sellable_sku, to_xml
from connectors.lazada.rules import check_prices, check_quantities
from connectors.lazada.transport import (
    PATH_BRANDS,
    PATH_CATEGORY_ATTRIBUTES,
    PATH_CATEGORY_TREE,
    PATH_DEACTIVATE,
    PATH_IMAGE_MIGRATE,
    PATH_IMAGE_UPLOAD,
    PATH_ITEM,
    PATH_ORDER,
    PATH_ORDERS,
    PATH_ORDERS_ITEMS,
    PATH_PRICE_QUANTITY,
    PATH_PRODUCT_CREATE,
    PATH_PRODUCT_UPDATE,
    PATH_PRODUCTS,
    PATH_REMOVE,
    PATH_SELLABLE_UPDATE,
    PATH_SELLER,
    PATH_WAREHOUSES,
    Transport,
    batches_of,
    check_id,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)

LANGUAGE = "en_US"
ONE_ATTEMPT = RetryPolicy(max_attempts=1)
# Lazada's image CDN: uploaded and migrated images come back on it.
LAZADA_IMAGE_DOMAIN = "slatic.net"


class LazadaConnector:
    """One Lazada seller in one country, behind SyncStore's Connector protocol."""

    platform: Platform = "lazada"

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        api_host: str,
        credentials: ShopCredentials,
        region: str = "",
        gate: RequestGate | None = None,
        refresh: RefreshCallback | None = None,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        currency: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shop_id = credentials.shop_id
        self.region = region.upper()
        self._access_token = credentials.access_token
        self._api_host = api_host.rstrip("/")
        self._gate, self._refresh, self._policy, self._currency = gate, refresh, policy, currency
        self._locations: list[ShopLocation] | None = None
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._transport = Transport(
            app_key=app_key, app_secret=app_secret, client=self._client, timeout_s=timeout_s, clock=clock
        )

    def __repr__(self) -> str:
        return f"LazadaConnector(shop_id={self.shop_id!r}, region={self.region!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> LazadaConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ------------------------------------------------------------------------------

    def _use_token(self, token: str) -> None:
        self._access_token = token

    def _call(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """One call under the retry policy (`retry=False`: one attempt, the token still refreshed once)."""
        refreshed: list[str] = []

        def operation() -> dict[str, Any]:
            return self._transport.call(self._api_host, path, params, access_token=self._access_token, files=files)

        def refresh_once() -> str:
            assert self._refresh is not None  # only handed over when there is one
            token = self._refresh()
            refreshed.append(token)
            return token

        try:
            return call_with_retries(
                operation,
                gate=self._gate,
                refresh=refresh_once if self._refresh is not None else None,
                on_new_token=self._use_token,
                policy=self._policy if retry else ONE_ATTEMPT,
            )
        except AuthExpired as error:
            if not refreshed:
                raise
            raise AuthRevoked(
                f"the access token was refused again after a refresh: {error}",
                platform=PLATFORM,
                code=error.code,
                request_id=error.request_id,
            ) from None

    def _data(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self._call(path, params).get("data")

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

    def _detail(self, item_id: str) -> dict[str, Any]:
        data = self._data(PATH_ITEM, {"item_id": check_id(item_id)})
        return data if isinstance(data, dict) else {}

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

    # --- content and publishing ----------------------------------------------------------------

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        """POST /product/update with only the given fields (package sizes go on every SKU)."""
        check_id(item_id)
        product: dict[str, Any] = {"ItemId": item_id}
        attributes = {"name": fields.title, "description": fields.description}
        if any(value is not None for value in attributes.values()):
            product["Attributes"] = attributes
        if fields.images is not None:
            product["Images"] = {"Image": self._hosted(fields.images)}
        package = package_fields(fields.weight_kg, fields.dimensions)
        if package:
            listing = listing_from_wire(self.shop_id, self._detail(item_id))
            product["Skus"] = {"Sku": [{"SkuId": sku.sku_id, **package} for sku in listing.skus]}
        if len(product) > 1:
            self._call(PATH_PRODUCT_UPDATE, {"payload": request(product)})

    def upload_image(self, content: bytes, filename: str, content_type: str) -> UploadedImage:
        """POST /image/upload (multipart; the file is not signed): the Lazada-hosted URL is the image id."""
        if not content:
            raise InvalidRequest("the image is empty", fields={"image": "empty"}, platform=PLATFORM)
        data = self._call(PATH_IMAGE_UPLOAD, None, files={"image": (filename, content, content_type)}).get("data")
        image = (data or {}).get("image") or {}
        url = str(image.get("url") or "")
        if not url:
            raise ConnectorError("the image upload answered no url", platform=PLATFORM)
        return UploadedImage(image_id=url, url=url)

    def _hosted(self, images: Sequence[str]) -> list[str]:
        """Lazada takes only its own image URLs: any other URL is migrated first (`/image/migrate`)."""
        hosted: list[str] = []
        for image in images:
            if lazada_hosted(image):
                hosted.append(image)
                continue
            payload = to_xml({"Request": {"Image": {"Url": image}}})
            data = self._call(PATH_IMAGE_MIGRATE, {"payload": payload}).get("data") or {}
            url = str((data.get("image") or {}).get("url") or "")
            if not url:
                raise ConnectorError("the image migration answered no url", platform=PLATFORM)
            hosted.append(url)
        return hosted

    def _sku_payload(self, sku: SkuDraft, draft_package: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "SellerSku": sku.seller_sku,
            "quantity": sku.stock,
            "price": decimal_str(sku.price),
            **draft_package,
            **({"saleProp": dict(sku.attributes)} if sku.attributes else {}),
        }

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        """POST /product/create: a leaf category, Lazada-hosted images, attributes; "Pending QC" is in review."""
        check_quantities({sku.seller_sku: sku.stock for sku in draft.skus})
        check_prices({sku.seller_sku: sku.price for sku in draft.skus})
        attributes: dict[str, Any] = {"name": draft.title, "description": draft.description}
        attributes["brand_id" if draft.brand_id else "brand"] = draft.brand_id or "No Brand"
        for choice in draft.attributes:
            attributes[choice.attribute_id] = choice.text if choice.text is not None else ",".join(choice.value_ids)
        package = package_fields(draft.weight_kg, draft.dimensions)
        product = {
            "PrimaryCategory": check_id(draft.category_id, "category_id"),
            "Images": {"Image": self._hosted(draft.images)},
            "Attributes": attributes,
            "Skus": {"Sku": [self._sku_payload(sku, package) for sku in draft.skus]},
        }
        return self._create(product, [sku.seller_sku for sku in draft.skus])

    def _create(self, product: Mapping[str, Any], seller_skus: Sequence[str]) -> CreatedListing:
        """POST /product/create. Lazada takes no idempotency key: after a create whose outcome is unknown
        (a timeout, a 5xx) the products with these SellerSkus created since are looked up first, and one
        found is the answer, so a retry never lists twice."""
        payload = request(product)
        started = datetime.now(UTC) - timedelta(minutes=5)
        uncertain: list[bool] = []

        def operation() -> CreatedListing:
            if uncertain:
                found = self._created_since(started, seller_skus)
                if found is not None:
                    return found
            try:
                return _created(self._call(PATH_PRODUCT_CREATE, {"payload": payload}, retry=False).get("data"))
            except Transient:
                uncertain.append(True)
                raise

        return call_with_retries(operation, policy=self._policy)

    def _created_since(self, since: datetime, seller_skus: Sequence[str]) -> CreatedListing | None:
        """The product created since `since` holding every one of these SellerSkus, if there is one."""
        params = {
            "filter": "all",
            "create_after": iso(since),
            "sku_seller_list": json_list(list(seller_skus)),
            "limit": str(PRODUCT_PAGE),
            "offset": "0",
        }
        data = self._data(PATH_PRODUCTS, params) or {}
        wanted = set(seller_skus)
        for product in data.get("products") or []:
            skus = {str(sku.get("SellerSku")): str(sku.get("SkuId")) for sku in product.get("skus") or []}
            if wanted <= set(skus):
                log.info(
                    "lazada seller %s: a create that timed out had listed item %s", self.shop_id, product.get("item_id")
                )
                in_review = str(product.get("status") or "").lower() == PENDING_QC.lower()
                sku_ids = {seller_sku: skus[seller_sku] for seller_sku in wanted}
                return CreatedListing(item_id=str(product.get("item_id")), sku_ids=sku_ids, in_review=in_review)
        return None

    def add_variants(self, item_id: str, skus: Sequence[SkuDraft], location_id: str | None = None) -> CreatedListing:
        """POST /product/create with `AssociatedSku` (one of the item's SKUs): the new SKUs join that item."""
        check_id(item_id)
        check_quantities({sku.seller_sku: sku.stock for sku in skus})
        check_prices({sku.seller_sku: sku.price for sku in skus})
        listing = listing_from_wire(self.shop_id, self._detail(item_id))
        anchor = next((sku.seller_sku for sku in listing.skus if sku.seller_sku), None)
        if anchor is None:
            raise InvalidRequest("the item has no SKU to associate the new ones with", platform=PLATFORM)
        package = package_fields(listing.weight_kg, listing.dimensions)
        product = {
            "PrimaryCategory": listing.category_id,
            "AssociatedSku": anchor,
            "Skus": {"Sku": [self._sku_payload(sku, package) for sku in skus]},
        }
        created = _created(self._data(PATH_PRODUCT_CREATE, {"payload": request(product)}))
        return CreatedListing(item_id=item_id, sku_ids=created.sku_ids, in_review=created.in_review)

    def list_categories(self) -> list[RemoteCategory]:
        """GET /category/tree/get, flattened (parents before children)."""
        data = self._data(PATH_CATEGORY_TREE, {"language_code": LANGUAGE}) or []
        return list(categories_from_tree([node for node in data if isinstance(node, dict)]))

    def get_category_attributes(self, category_id: str) -> list[RemoteAttribute]:
        params = {"primary_category_id": check_id(category_id, "category_id"), "language_code": LANGUAGE}
        data = self._data(PATH_CATEGORY_ATTRIBUTES, params) or []
        return [attribute_from_wire(row) for row in data if isinstance(row, dict)]

    def list_brands(self, category_id: str) -> list[RemoteBrand]:
        """GET /category/brands/query by pages of 200 (Lazada's brands are per country, not per category)."""
        brands: list[RemoteBrand] = []
        start = 0
        while True:
            page, total = brands_from_wire(
                self._data(PATH_BRANDS, {"startRow": str(start), "pageSize": str(BRAND_PAGE)})
            )
            brands.extend(page)
            start += BRAND_PAGE
            if not page or start >= total:
                return brands

    def list_logistics_channels(self) -> list[LogisticsChannel]:
        """Lazada listings take no logistics channel."""
        return []

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
                results.append(SkuResult(sku_id=item_id, ok=False, error_code=error.code, message=_words(error)))
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
                results.append(SkuResult(sku_id=item_id, ok=False, error_code=error.code, message=_words(error)))
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


def lazada_hosted(url: str) -> bool:
    """An image Lazada serves itself (its CDN, `*.slatic.net`), usable as is in a product."""
    host = urlsplit(url).hostname or ""
    return host == LAZADA_IMAGE_DOMAIN or host.endswith("." + LAZADA_IMAGE_DOMAIN)


def _words(error: ConnectorError) -> str:
    prefix = f"{PLATFORM} [{error.code}]: " if error.code else f"{PLATFORM}: "
    return str(error).removeprefix(prefix)


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
    words = _words(refused)
    return [
        SkuResult(
            sku_id=sku_id,
            ok=False,
            error_code=named[sku_id][0] or refused.code if sku_id in named else refused.code,
            message=named[sku_id][1] if sku_id in named else words,
        )
        for sku_id in sku_ids
    ]


def _created(data: Any) -> CreatedListing:
    if not isinstance(data, dict) or data.get("item_id") is None:
        raise ConnectorError("the product create answered no item_id", platform=PLATFORM)
    sku_ids = {
        str(row["seller_sku"]): str(row["sku_id"])
        for row in data.get("sku_list") or []
        if isinstance(row, dict) and row.get("seller_sku") and row.get("sku_id") is not None
    }
    in_review = str(data.get("item_status") or "").strip().lower() == PENDING_QC.lower()
    return CreatedListing(item_id=str(data["item_id"]), sku_ids=sku_ids, in_review=in_review)
