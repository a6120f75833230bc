# TikTok Shop Partner API (202309) connector: signing, OAuth, endpoints, batching, error mapping, webhooks.
"""TikTok Shop as SyncStore sees it: every piece of TikTok Shop wire knowledge lives in this module.

Request shape (every API call on the API host):
- query: `app_key`, `timestamp` (Unix s, fresh for every attempt), `sign`, `shop_cipher` (left out on
  `/authorization/*`, `/seller/*` and uploads) plus the endpoint's own params (`page_size`, `page_token`, `ids`);
- headers: `x-tts-access-token`, `Content-Type: application/json`;
- body: JSON serialised ONCE; those exact bytes are signed and sent (see `sign`).
Every call goes through `connectors.retry.call_with_retries`, which re-runs the whole operation (new
timestamp, new signature) on `Transient` / `RateLimited` and refreshes the token once on `AuthExpired`.

Error mapping (the envelope `code` first, the HTTP status second; the reference's error table):
- HTTP 429 or 36009002 -> RateLimited (Retry-After honoured). TikTok documents no quota code: quota
  shows up as throttling, so nothing here is QuotaExhausted.
- 36009010 is an INVALID METHOD (the HTTP method is not supported): a programming error -> InvalidRequest.
- 36009003, 36009007, HTTP 5xx, timeouts, connection errors -> Transient.
- 105001 (access token invalid) and 105002 (expired) -> AuthExpired: the token is refreshed once; if the
  call still fails with a token error after a successful refresh, it is AuthRevoked (the seller must
  connect again). A failed refresh raises whatever the token endpoint said (AuthRevoked for a dead one).
- 101000 (invalid query or header) and 36009004 (invalid envelope or credentials): the message decides;
  an invalid/expired access token -> AuthExpired, anything else (bad timestamp, unexpected shop_cipher,
  missing header, bad app key) -> InvalidRequest.
- Token endpoint: 36004004 (invalid auth code), 36004001 (refresh token expired), 36004005 (no such
  authorization) -> AuthRevoked (an OAuth failure: connect again).
- 106001 (invalid sign: never retried), 106013 (missing shop_cipher), 98001004, 11050001 -> InvalidRequest
  (`fields` filled from names the message quotes, e.g. `'page_size'`).
- 12019150, 12052032, 12052034 -> NotFound.
- 12019024 (invalid stock), 12019028 (multiple warehouses), 12019045 (price locked by a promotion), and
  any other 12xxxxxx product-module code (e.g. a product that is not LIVE takes no stock update [doc]) ->
  ItemRefused: that product's SKUs fail with the platform's words; the batch and the shop go on and no
  token is refreshed. Only real credential errors stop a shop.
- 12052180 (search cannot page further) -> SearchCapReached (an InvalidRequest): the search splits its window.
- Any other code -> plain ConnectorError (not retried).
Errors carry the platform code and request_id; messages are scrubbed of the access token, refresh token,
auth code and app secret, and transport exceptions are not chained (their text may hold the URL).

Choices (the reference leaves these open):
- Search: a window is split in halves by update time BEFORE 10,000 results are reached, whatever
  `total_count` says (it may be capped): when `total_count` >= 9,900, when paging would go past 9,900
  results, or when the platform answers 12052180. A single second that still holds too many is searched
  once per status, each paged until the platform stops it; then a warning is logged (it serves no more).
  Bounds are inclusive at whole-second resolution; each call reports each product at most once. Page
  tokens are passed back opaque.
- Detail is one product per call (GET /product/202309/products/{id}). Ids the platform does not know
  (NotFound) are left out of `get_listings` / `get_orders` results.
- Status: ACTIVATE -> active; SELLER_/PLATFORM_DEACTIVATED -> inactive; DELETED -> deleted; PENDING (the
  audit runs) -> in_review; FAILED -> review_failed with `review_message` from `audit_failed_reasons`
  (each entry's `reasons`, then its `suggestions`); DRAFT, FREEZE, ... -> other.
- Prices are read from `price.tax_exclusive_price` (what the seller sets and what the master is compared
  with); `sale_price` (what the buyer pays, tax included in cross-border shops) only when the former is
  absent. Writes send the pre-tax `price{amount, currency}` as exact decimal strings.
- Orders: GET /order/202309/orders?ids= (<= 50) and POST /order/202309/orders/search (body
  `update_time_ge` / `update_time_lt`, query `page_size` 100 / `page_token`). TikTok lists ONE line item
  per unit: they are grouped by SKU into one OrderLine (line_id = sku id) with quantity = the number of
  line items and cancelled_quantity = those whose `display_status` is CANCELLED (the per-line status of
  Order202309GetOrderDetailResponseDataOrdersLineItems; `cancel_reason` alone is not read as a
  cancellation, a request may have been refused). Order status: UNPAID -> pending; ON_HOLD,
  AWAITING_SHIPMENT, AWAITING_COLLECTION, PARTIALLY_SHIPPING -> paid (stock still reserved); IN_TRANSIT,
  DELIVERED -> shipped; COMPLETED -> completed; CANCELLED -> cancelled; else other.
- Warehouses: `list_locations()` = the shop's SALES_WAREHOUSE warehouses (GET /logistics/202309/warehouses,
  disabled ones left out), the default first, read once per connector. Stock: for each SKU the WHOLE
  quantity goes to one sales warehouse - the shop's default, or (when the SKU is not stocked there) the
  first sales warehouse the SKU has - and 0 to every other sales warehouse the SKU has, so the channel's
  sellable total is exactly what SyncStore wrote. With several sales warehouses the product detail is read
  first to learn each SKU's warehouses; with none listed, warehouse_id is left out (a single default
  warehouse). `warehouse_id=` overrides the target warehouse.
- Images are sent as `main_images[{uri}]`; real TikTok wants the uri of an uploaded image.
- Webhooks: PUT /event/202309/webhooks `{address, event_type}` once per type in `WEBHOOK_EVENT_TYPES`,
  each on its own; a refused type is reported in its `Subscription`, the others go on. Parsing accepts
  events of any age (a webhook is a trigger; retries carry the original body). TikTok has no lost-push
  API: `fetch_missed_events` returns [] and `list_changed_orders` is the polling backstop (W9).
- Titles: `title_length_bounds(region)` - 1..255 characters in the US and the UK, 25..255 elsewhere.
- Tokens: one pair per seller; the connector only holds the access token it is given (refresh is the
  caller's callback).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NamedTuple
from urllib.parse import urlencode

import httpx

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    CreatedListing,
    Dimensions,
    EventKind,
    InvalidRequest,
    ItemChange,
    ItemRefused,
    ListingDraft,
    ListingFields,
    ListingStatus,
    MarketplaceEvent,
    NotFound,
    OrderLine,
    OrderStatus,
    Platform,
    RateLimited,
    RefreshCallback,
    RemoteListing,
    RemoteOrder,
    RemoteSku,
    RequestGate,
    ShopCredentials,
    ShopLocation,
    ShopProfile,
    SkuResult,
    StockLocation,
    Subscription,
    TokenGrant,
    Transient,
    WriteResult,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

PLATFORM: Final = "tiktokshop"
log = logging.getLogger(__name__)

# --- hosts, paths, limits -------------------------------------------------------------------

API_HOST: Final = "https://open-api.tiktokglobalshop.com"
AUTH_HOST: Final = "https://auth.tiktok-shops.com"
AUTHORIZE_HOST: Final = "https://services.tiktokshop.com"

PATH_AUTHORIZE: Final = "/open/authorize"
PATH_TOKEN_GET: Final = "/api/v2/token/get"  # noqa: S105 - a path
PATH_TOKEN_REFRESH: Final = "/api/v2/token/refresh"  # noqa: S105 - a path
PATH_AUTHORIZED_SHOPS: Final = "/authorization/202309/shops"
PATH_WEBHOOKS: Final = "/event/202309/webhooks"
PATH_PRODUCTS: Final = "/product/202309/products"
PATH_SEARCH: Final = "/product/202309/products/search"
PATH_ACTIVATE: Final = "/product/202309/products/activate"
PATH_DEACTIVATE: Final = "/product/202309/products/deactivate"
PATH_ORDERS: Final = "/order/202309/orders"
PATH_ORDER_SEARCH: Final = "/order/202309/orders/search"
PATH_WAREHOUSES: Final = "/logistics/202309/warehouses"
# Calls that must NOT carry shop_cipher.
NO_CIPHER_PREFIXES: Final = ("/authorization/", "/seller/", "/product/202309/images/upload", "/product/202309/files/")


def product_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}"


def inventory_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}/inventory/update"


def prices_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}/prices/update"


def partial_edit_path(product_id: str) -> str:
    return f"{PATH_PRODUCTS}/{product_id}/partial_edit"


PAGE_SIZE: Final = 100
SEARCH_RESULT_CAP: Final = 10_000
# A window is split before paging would reach the cap: the last page served stays below 10,000.
SEARCH_SPLIT_AT: Final = SEARCH_RESULT_CAP - PAGE_SIZE
ORDER_BATCH: Final = 50
STATUS_BATCH: Final = 20
MAX_QUANTITY: Final = 99_999  # exclusive upper bound
# Search `status` values; "ALL" is the default, the others are used when one second holds > 10,000 changes.
SEARCH_ALL: Final = "ALL"
PRODUCT_STATUSES: Final = (
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
)

# --- error codes ------------------------------------------------------------------------------

CODE_OK: Final = 0
CODE_RATE_LIMITED: Final = 36009002
CODE_INTERNAL: Final = 36009003
CODE_BAD_REQUEST: Final = 36009004
CODE_TIMEOUT: Final = 36009007
CODE_INVALID_METHOD: Final = 36009010  # the HTTP method is not supported: a programming error
CODE_INVALID_QUERY_OR_HEADER: Final = 101000
CODE_TOKEN_INVALID: Final = 105001
CODE_TOKEN_EXPIRED: Final = 105002
CODE_INVALID_SIGN: Final = 106001
CODE_MISSING_CIPHER: Final = 106013
CODE_REFRESH_EXPIRED: Final = 36004001
CODE_INVALID_AUTH_CODE: Final = 36004004
CODE_NO_AUTH_RECORD: Final = 36004005
CODE_PRODUCT_MISSING: Final = 12052032
CODE_PRODUCT_MISSING_OLD: Final = 12019150
CODE_PRODUCT_OTHER_SHOP: Final = 12052034
CODE_INVALID_STOCK: Final = 12019024
CODE_MULTIPLE_WAREHOUSES: Final = 12019028
CODE_PRICE_LOCKED: Final = 12019045
CODE_SEARCH_CAP: Final = 12052180
CODE_INVALID_PARAM: Final = 98001004
CODE_INVALID_PARAM_ALT: Final = 11050001

TRANSIENT_CODES: Final = frozenset({CODE_INTERNAL, CODE_TIMEOUT})
TOKEN_CODES: Final = frozenset({CODE_TOKEN_INVALID, CODE_TOKEN_EXPIRED})
OAUTH_FAILURE_CODES: Final = frozenset({CODE_REFRESH_EXPIRED, CODE_INVALID_AUTH_CODE, CODE_NO_AUTH_RECORD})
NOT_FOUND_CODES: Final = frozenset({CODE_PRODUCT_MISSING, CODE_PRODUCT_MISSING_OLD, CODE_PRODUCT_OTHER_SHOP})
ITEM_REFUSED_CODES: Final = frozenset({CODE_INVALID_STOCK, CODE_MULTIPLE_WAREHOUSES, CODE_PRICE_LOCKED})
# The product module's other business refusals (e.g. a product not LIVE takes no stock update): one item fails.
PRODUCT_MODULE_CODES: Final = (12_000_000, 13_000_000)
INVALID_CODES: Final = frozenset(
    {
        CODE_INVALID_METHOD,
        CODE_INVALID_SIGN,
        CODE_MISSING_CIPHER,
        CODE_BAD_REQUEST,
        CODE_INVALID_QUERY_OR_HEADER,
        CODE_INVALID_PARAM,
        CODE_INVALID_PARAM_ALT,
    }
)

# --- webhooks -----------------------------------------------------------------------------------

# type number -> (event_type name used by PUT /event/202309/webhooks, normalized kind)
WEBHOOK_TYPES: Final[Mapping[int, tuple[str, EventKind]]] = {
    1: ("ORDER_STATUS_CHANGE", EventKind.ORDER_STATUS),
    5: ("PRODUCT_STATUS_CHANGE", EventKind.PRODUCT_AUDIT),  # audit result: ACTIVATE or FAILED
    6: ("SELLER_DEAUTHORIZATION", EventKind.AUTHORIZATION),
    7: ("UPCOMING_AUTHORIZATION_EXPIRATION", EventKind.AUTHORIZATION),
    11: ("CANCELLATION_STATUS_CHANGE", EventKind.ORDER_STATUS),  # re-read the order
    15: ("PRODUCT_INFORMATION_CHANGE", EventKind.PRODUCT_CHANGE),
    16: ("PRODUCT_CREATION", EventKind.PRODUCT_CHANGE),
    68: ("INVENTORY_CHANGED", EventKind.STOCK_CHANGE),
}
EVENT_TYPE_NUMBERS: Final[Mapping[str, int]] = {name: number for number, (name, _) in WEBHOOK_TYPES.items()}
# What `TikTokShopConnector.register_webhook` subscribes, each type on its own.
WEBHOOK_EVENT_TYPES: Final = tuple(name for name, _ in WEBHOOK_TYPES.values())
_PRODUCT_KINDS: Final = frozenset({EventKind.PRODUCT_CHANGE, EventKind.PRODUCT_AUDIT})

# --- status mappings ----------------------------------------------------------------------------

LISTING_STATUS: Final[Mapping[str, ListingStatus]] = {
    "ACTIVATE": ListingStatus.ACTIVE,
    "PENDING": ListingStatus.IN_REVIEW,
    "FAILED": ListingStatus.REVIEW_FAILED,
    "SELLER_DEACTIVATED": ListingStatus.INACTIVE,
    "PLATFORM_DEACTIVATED": ListingStatus.INACTIVE,
    "DELETED": ListingStatus.DELETED,
}
ORDER_STATUS: Final[Mapping[str, OrderStatus]] = {
    "UNPAID": OrderStatus.PENDING,
    "ON_HOLD": OrderStatus.PAID,
    "AWAITING_SHIPMENT": OrderStatus.PAID,
    "AWAITING_COLLECTION": OrderStatus.PAID,
    "PARTIALLY_SHIPPING": OrderStatus.PAID,
    "IN_TRANSIT": OrderStatus.SHIPPED,
    "DELIVERED": OrderStatus.SHIPPED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
}
# Regions where a product title may be shorter than 25 characters (TikTok: 25..255 elsewhere).
SHORT_TITLE_REGIONS: Final = frozenset({"US", "GB", "UK"})
TITLE_MAX: Final = 255
TITLE_MIN_ELSEWHERE: Final = 25
CROSS_BORDER: Final = "CROSS_BORDER"
SALES_WAREHOUSE: Final = "SALES_WAREHOUSE"
LINE_CANCELLED: Final = "CANCELLED"
POUND_KG: Final = Decimal("0.45359237")
INCH_CM: Final = Decimal("2.54")

_ID_PATTERN: Final = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_QUOTED_NAME: Final = re.compile(r"'([A-Za-z_][\w.\[\]]*)'")

# =================================================================================================
# Signing
# =================================================================================================

_UNSIGNED_PARAMS: Final = frozenset({"sign", "access_token"})


def sign(app_secret: str, path: str, query: Mapping[str, str], body: bytes | None) -> str:
    """hex HMAC-SHA256(app_secret, app_secret + path + sorted(key + value) + body + app_secret).

    `query` is every query parameter that is sent; `sign` and `access_token` and empty values are left
    out. `body` is the exact raw bytes sent (None for GET and uploads).
    """
    params = "".join(f"{key}{query[key]}" for key in sorted(query) if key not in _UNSIGNED_PARAMS and query[key])
    secret = app_secret.encode("utf-8")
    message = b"".join((secret, path.encode("utf-8"), params.encode("utf-8"), body or b"", secret))
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The one serialisation of a request body: these bytes are signed and sent."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# =================================================================================================
# Envelope parsing and error mapping
# =================================================================================================


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date or garbage: fall back to our own backoff
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _int_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity, which json.loads accepts
        return None


def fields_from_message(message: str) -> dict[str, str]:
    """Parameter names the platform quoted in its message, e.g. `'page_size'` -> {"page_size": message}."""
    return {name: message for name in _QUOTED_NAME.findall(message)}


def _token_problem(message: str) -> bool:
    """True when the message says the access token itself is invalid or expired (not merely missing)."""
    words = message.lower().replace("_", " ").replace("-", " ")
    return "token" in words and "missing" not in words and "refresh" not in words


class SearchCapReached(InvalidRequest):
    """12052180: the search cannot page further (10,000 results); the caller splits its window."""


def error_for(
    code: int | None,
    message: str,
    *,
    http_status: int = 200,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ConnectorError:
    """The typed error for one failed envelope (or a failed HTTP exchange without one)."""
    kw: dict[str, Any] = {"platform": PLATFORM, "code": None if code is None else str(code), "request_id": request_id}
    if http_status == 429 or code == CODE_RATE_LIMITED:
        return RateLimited(message or "too many requests", retry_after=retry_after, **kw)
    if code in TRANSIENT_CODES:
        return Transient(message, **kw)
    if code in TOKEN_CODES:
        return AuthExpired(message, **kw)
    if code in (CODE_BAD_REQUEST, CODE_INVALID_QUERY_OR_HEADER) and _token_problem(message):
        return AuthExpired(message, **kw)
    if code in OAUTH_FAILURE_CODES:
        return AuthRevoked(message, **kw)
    if code in NOT_FOUND_CODES:
        return NotFound(message, **kw)
    if code == CODE_SEARCH_CAP:
        return SearchCapReached(message, **kw)
    if code in ITEM_REFUSED_CODES or (code is not None and PRODUCT_MODULE_CODES[0] <= code < PRODUCT_MODULE_CODES[1]):
        return ItemRefused(message, **kw)
    if code in INVALID_CODES:
        return InvalidRequest(message, fields=fields_from_message(message), **kw)
    if http_status >= 500:
        return Transient(message or f"HTTP {http_status}", **kw)
    return ConnectorError(message or f"HTTP {http_status}", **kw)


def parse_response(
    status: int, headers: Mapping[str, str], content: bytes, *, secrets: Sequence[str] = ()
) -> dict[str, Any]:
    """`data` of a code-0 envelope; otherwise raises the typed error (messages scrubbed of `secrets`)."""
    retry_after = _retry_after(headers.get("retry-after"))
    try:
        envelope = json.loads(content)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        raise error_for(None, f"HTTP {status} without a JSON envelope", http_status=status, retry_after=retry_after)
    code = _int_code(envelope.get("code"))
    request_id = envelope.get("request_id")
    request_id = str(request_id) if request_id is not None else None
    message = _redact(str(envelope.get("message") or ""), secrets)
    if code == CODE_OK and status < 400:
        data = envelope.get("data")
        return data if isinstance(data, dict) else {}
    if code is None and status < 400:
        raise ConnectorError(f"envelope without a code: {message}", platform=PLATFORM, request_id=request_id)
    raise error_for(code, message, http_status=status, request_id=request_id, retry_after=retry_after)


class _Transport:
    """Signs and sends one request, turns the answer into `data` or a typed error."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        client: httpx.Client,
        timeout_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._app_key, self._app_secret = app_key, app_secret
        self._client, self._timeout_s, self._clock = client, timeout_s, clock

    def signed(
        self,
        method: str,
        host: str,
        path: str,
        *,
        access_token: str,
        shop_cipher: str | None,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> dict[str, Any]:
        params = {"app_key": self._app_key, "timestamp": str(int(self._clock())), **(query or {})}
        if shop_cipher is not None:
            params["shop_cipher"] = shop_cipher
        params["sign"] = sign(self._app_secret, path, params, body)
        headers = {"x-tts-access-token": access_token, "content-type": "application/json"}
        return self.send(method, host + path, params, body, headers, secrets=(access_token,))

    def send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        body: bytes | None,
        headers: Mapping[str, str],
        *,
        secrets: Sequence[str] = (),
    ) -> dict[str, Any]:
        try:
            response = self._client.request(
                method, url, params=dict(params), content=body, headers=dict(headers), timeout=self._timeout_s
            )
        except httpx.TimeoutException:
            raise Transient("request timed out", platform=PLATFORM, code="timeout") from None
        except httpx.TransportError as error:
            raise Transient(f"network error ({type(error).__name__})", platform=PLATFORM, code="network") from None
        return parse_response(
            response.status_code, response.headers, response.content, secrets=(self._app_secret, *secrets)
        )


def _check_id(value: str, name: str = "product_id") -> str:
    """Ids go into URL paths: refuse anything but the platform's id alphabet before sending."""
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        raise InvalidRequest(f"invalid {name}", fields={name: "not a TikTok Shop id"}, platform=PLATFORM)
    return value


def _batches(values: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


# =================================================================================================
# Wire -> normalized models (pure)
# =================================================================================================


def _when(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value or 0), UTC)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _decimal_str(value: Decimal) -> str:
    """A Decimal as a plain decimal string ("19.90", never "1.99E+1", never a float)."""
    return format(value, "f")


def weight_kg(package_weight: Mapping[str, Any] | None) -> Decimal | None:
    if not package_weight:
        return None
    value = _decimal(package_weight.get("value"))
    if value is None:
        return None
    return value * POUND_KG if str(package_weight.get("unit", "")).upper() == "POUND" else value


def dimensions_cm(package_dimensions: Mapping[str, Any] | None) -> Dimensions | None:
    if not package_dimensions:
        return None
    sides = [_decimal(package_dimensions.get(side)) for side in ("length", "width", "height")]
    if any(side is None for side in sides):
        return None
    factor = INCH_CM if str(package_dimensions.get("unit", "")).upper() == "INCH" else Decimal(1)
    length, width, height = (side * factor for side in sides if side is not None)
    return Dimensions(length_cm=length, width_cm=width, height_cm=height)


def _image_ref(image: Mapping[str, Any]) -> str | None:
    urls = image.get("urls") or []
    if urls:
        return str(urls[0])
    uri = image.get("uri")
    return str(uri) if uri else None


def _leaf_category(chains: Sequence[Mapping[str, Any]] | None) -> str | None:
    if not chains:
        return None
    leaves = [chain for chain in chains if chain.get("is_leaf")]
    leaf = leaves[-1] if leaves else chains[-1]
    return str(leaf["id"]) if leaf.get("id") is not None else None


def sku_price(price: Mapping[str, Any]) -> Decimal | None:
    """The pre-tax price: `tax_exclusive_price`, else `sale_price` (tax included in cross-border shops)."""
    pre_tax = _decimal(price.get("tax_exclusive_price"))
    return pre_tax if pre_tax is not None else _decimal(price.get("sale_price"))


def review_message(product: Mapping[str, Any]) -> str:
    """`audit_failed_reasons[{position, reasons[], suggestions[]}]` as one line, in the platform's words."""
    parts: list[str] = []
    for entry in product.get("audit_failed_reasons") or []:
        if not isinstance(entry, Mapping):
            continue
        reasons = "; ".join(str(reason) for reason in entry.get("reasons") or [] if reason)
        suggestions = "; ".join(str(hint) for hint in entry.get("suggestions") or [] if hint)
        text = reasons + (f" (suggestion: {suggestions})" if suggestions else "")
        position = str(entry.get("position") or "")
        if text:
            parts.append(f"{position}: {text}" if position else text)
    return " | ".join(parts)


def sku_from_wire(sku: Mapping[str, Any]) -> RemoteSku:
    price = sku.get("price") or {}
    stock = tuple(
        StockLocation(location_id=str(row.get("warehouse_id") or ""), quantity=max(int(row.get("quantity") or 0), 0))
        for row in sku.get("inventory") or []
    )
    attributes = {
        str(attr.get("name", "")): str(attr.get("value_name", "")) for attr in sku.get("sales_attributes") or []
    }
    return RemoteSku(
        sku_id=str(sku["id"]),
        seller_sku=sku.get("seller_sku") or None,
        price=sku_price(price),
        currency=price.get("currency") or None,
        stock=stock,
        attributes=attributes,
    )


def listing_from_detail(shop_id: str, product: Mapping[str, Any]) -> RemoteListing:
    """GET /product/202309/products/{id} `data` -> RemoteListing."""
    raw_status = str(product.get("status") or "")
    images = tuple(ref for ref in (_image_ref(image) for image in product.get("main_images") or []) if ref)
    return RemoteListing(
        platform=PLATFORM,
        shop_id=shop_id,
        item_id=str(product["id"]),
        status=LISTING_STATUS.get(raw_status, ListingStatus.OTHER),
        raw_status=raw_status,
        title=str(product.get("title") or ""),
        description=str(product.get("description") or ""),
        images=images,
        category_id=_leaf_category(product.get("category_chains")),
        weight_kg=weight_kg(product.get("package_weight")),
        dimensions=dimensions_cm(product.get("package_dimensions")),
        updated_at=_when(product.get("update_time")),
        skus=tuple(sku_from_wire(sku) for sku in product.get("skus") or []),
        review_message=review_message(product) if raw_status == "FAILED" else "",
    )


def order_lines(line_items: Sequence[Mapping[str, Any]]) -> tuple[OrderLine, ...]:
    """TikTok's line items (ONE PER UNIT) grouped by SKU, in first-seen order.

    quantity = the SKU's line items; cancelled_quantity = those whose `display_status` is CANCELLED.
    """
    grouped: dict[str, dict[str, Any]] = {}
    for item in line_items:
        sku_id = str(item["sku_id"])
        line = grouped.setdefault(
            sku_id,
            {"item_id": str(item["product_id"]), "seller_sku": item.get("seller_sku") or None, "units": 0, "gone": 0},
        )
        line["units"] += 1
        if str(item.get("display_status") or "").upper() == LINE_CANCELLED:
            line["gone"] += 1
    return tuple(
        OrderLine(
            line_id=sku_id,
            item_id=line["item_id"],
            sku_id=sku_id,
            seller_sku=line["seller_sku"],
            quantity=line["units"],
            cancelled_quantity=line["gone"],
        )
        for sku_id, line in grouped.items()
    )


def order_from_wire(shop_id: str, order: Mapping[str, Any]) -> RemoteOrder:
    """One order of GET /order/202309/orders or of the order search -> RemoteOrder (lines grouped by SKU)."""
    raw_status = str(order.get("status") or "")
    return RemoteOrder(
        platform=PLATFORM,
        shop_id=shop_id,
        order_id=str(order["id"]),
        status=ORDER_STATUS.get(raw_status, OrderStatus.OTHER),
        raw_status=raw_status,
        lines=order_lines(order.get("line_items") or []),
        updated_at=_when(order.get("update_time") or order.get("create_time")),
    )


def warehouses_from_wire(data: Mapping[str, Any]) -> list[ShopLocation]:
    """GET /logistics/202309/warehouses `data` -> the enabled SALES warehouses, the default first."""
    sales = [
        warehouse
        for warehouse in data.get("warehouses") or []
        if str(warehouse.get("type") or "") == SALES_WAREHOUSE
        and str(warehouse.get("effect_status") or "").upper() != "DISABLED"
        and warehouse.get("id") is not None
    ]
    locations = [
        ShopLocation(
            location_id=str(warehouse["id"]),
            name=str(warehouse.get("name") or ""),
            is_default=warehouse.get("is_default") is True,
        )
        for warehouse in sales
    ]
    return sorted(locations, key=lambda location: not location.is_default)  # stable: default first


def title_length_bounds(region: str) -> tuple[int, int]:
    """(min, max) characters of a product title: 1..255 in the US and the UK, 25..255 elsewhere [doc]."""
    short = region.strip().upper() in SHORT_TITLE_REGIONS
    return (1 if short else TITLE_MIN_ELSEWHERE, TITLE_MAX)


def batch_results(ids: Sequence[str], data: Mapping[str, Any], key: str) -> tuple[SkuResult, ...]:
    """`data.errors[]` of a code-0 batch answer -> one SkuResult per id, in order.

    An error naming an id (detail.<key>) fails that id; an error naming none fails every id of the
    batch, so a failure is never reported as a success.
    """
    failed: dict[str, SkuResult] = {}
    unattributed: list[SkuResult] = []
    for error in data.get("errors") or []:
        detail = error.get("detail") or {}
        extra = "; ".join(str(e.get("message", "")) for e in detail.get("extra_errors") or [] if e.get("message"))
        message = str(error.get("message") or "") + (f" ({extra})" if extra else "")
        code = str(error["code"]) if error.get("code") is not None else None
        target = str(detail.get(key)) if detail.get(key) is not None else None
        if target is not None and target in ids:
            failed[target] = SkuResult(sku_id=target, ok=False, error_code=code, message=message)
        else:
            unattributed.append(SkuResult(sku_id="", ok=False, error_code=code, message=message))
    if unattributed:
        first = unattributed[0]
        for item in ids:
            failed.setdefault(item, first.model_copy(update={"sku_id": item}))
    return tuple(failed.get(item, SkuResult(sku_id=item, ok=True)) for item in ids)


def grant_from_token_data(data: Mapping[str, Any]) -> TokenGrant:
    """Token endpoint `data` -> TokenGrant. Both `*_expire_in` are ABSOLUTE Unix timestamps."""
    refresh_expiry = data.get("refresh_token_expire_in")
    return TokenGrant(
        access_token=str(data["access_token"]),
        refresh_token=str(data["refresh_token"]),
        access_token_expires_at=_when(data["access_token_expire_in"]),
        refresh_token_expires_at=_when(refresh_expiry) if refresh_expiry else None,
        shop_name=data.get("seller_name") or None,
        region=data.get("seller_base_region") or None,
    )


# =================================================================================================
# Wire bodies from normalized models (pure)
# =================================================================================================


def _weight_body(kg: Decimal) -> dict[str, str]:
    return {"value": _decimal_str(kg), "unit": "KILOGRAM"}


def _dimensions_body(dimensions: Dimensions) -> dict[str, str]:
    return {
        "length": _decimal_str(dimensions.length_cm),
        "width": _decimal_str(dimensions.width_cm),
        "height": _decimal_str(dimensions.height_cm),
        "unit": "CENTIMETER",
    }


def _images_body(images: Sequence[str]) -> list[dict[str, str]]:
    return [{"uri": image} for image in images]


def partial_edit_body(fields: ListingFields) -> dict[str, Any]:
    """Only the properties given; each one sent replaces that whole property on TikTok."""
    body: dict[str, Any] = {}
    if fields.title is not None:
        body["title"] = fields.title
    if fields.description is not None:
        body["description"] = fields.description
    if fields.images is not None:
        body["main_images"] = _images_body(fields.images)
    if fields.weight_kg is not None:
        body["package_weight"] = _weight_body(fields.weight_kg)
    if fields.dimensions is not None:
        body["package_dimensions"] = _dimensions_body(fields.dimensions)
    return body


def _check_quantities(quantities: Mapping[str, int]) -> None:
    bad = {
        f"stock[{key}]": f"quantity must be an integer with 0 <= quantity < {MAX_QUANTITY}"
        for key, quantity in quantities.items()
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity < MAX_QUANTITY
    }
    if bad:
        raise InvalidRequest("stock out of range (checked before sending)", fields=bad, platform=PLATFORM)


def _check_prices(prices: Mapping[str, Decimal]) -> None:
    bad = {
        f"price[{key}]": "price must be a finite Decimal above 0"
        for key, price in prices.items()
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0
    }
    if bad:
        raise InvalidRequest("invalid price (checked before sending)", fields=bad, platform=PLATFORM)


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return int(moment.timestamp() // 1)


# =================================================================================================
# The app: authorization, tokens, shops, webhooks
# =================================================================================================


class AuthorizedShop(NamedTuple):
    shop_id: str
    shop_cipher: str
    name: str
    region: str
    # CROSS_BORDER or LOCAL (Authorization202309GetAuthorizedShopsResponseDataShops.seller_type).
    seller_type: str = ""


def authorized_shops_from_wire(data: Mapping[str, Any]) -> list[AuthorizedShop]:
    """GET /authorization/202309/shops `data` -> the shops with their ciphers."""
    return [
        AuthorizedShop(
            str(shop["id"]),
            str(shop["cipher"]),
            str(shop.get("name") or ""),
            str(shop.get("region") or ""),
            str(shop.get("seller_type") or ""),
        )
        for shop in data.get("shops") or []
    ]


class TikTokShopApp:
    """App-level calls: the authorization link, code exchange, refresh, authorized shops, webhooks."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        service_id: str,
        api_host: str = API_HOST,
        auth_host: str = AUTH_HOST,
        authorize_host: str = AUTHORIZE_HOST,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_key, self._app_secret, self.service_id = app_key, app_secret, service_id
        self._api_host, self._auth_host = api_host.rstrip("/"), auth_host.rstrip("/")
        self._authorize_host = authorize_host.rstrip("/")
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._policy = policy
        self._transport = _Transport(
            app_key=app_key, app_secret=app_secret, client=self._client, timeout_s=timeout_s, clock=clock
        )

    def __repr__(self) -> str:
        return f"TikTokShopApp(app_key={self.app_key!r}, service_id={self.service_id!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def authorization_url(self, state: str) -> str:
        query = urlencode({"service_id": self.service_id, "state": state})
        return f"{self._authorize_host}{PATH_AUTHORIZE}?{query}"

    def exchange_code(self, auth_code: str) -> TokenGrant:
        """GET /api/v2/token/get (unsigned; app_secret travels in the query, as TikTok requires)."""
        query = {"auth_code": auth_code, "grant_type": "authorized_code"}
        return grant_from_token_data(self._token_call(PATH_TOKEN_GET, query, secret=auth_code))

    def refresh(self, refresh_token: str) -> TokenGrant:
        """GET /api/v2/token/refresh: a NEW access AND refresh token; store both (the old refresh token dies)."""
        query = {"refresh_token": refresh_token, "grant_type": "refresh_token"}
        return grant_from_token_data(self._token_call(PATH_TOKEN_REFRESH, query, secret=refresh_token))

    def authorized_shops(self, access_token: str) -> list[AuthorizedShop]:
        """GET /authorization/202309/shops (signed, no shop_cipher): the shops and their ciphers."""
        data = self._signed("GET", PATH_AUTHORIZED_SHOPS, access_token=access_token, shop_cipher=None)
        return authorized_shops_from_wire(data)

    def register_webhook(self, access_token: str, shop_cipher: str, url: str, event_type: str) -> None:
        """PUT /event/202309/webhooks with body {"address": url, "event_type": event_type}."""
        body = encode_body({"address": url, "event_type": event_type})
        self._signed("PUT", PATH_WEBHOOKS, access_token=access_token, shop_cipher=shop_cipher, body=body)

    def _signed(
        self, method: str, path: str, *, access_token: str, shop_cipher: str | None, body: bytes | None = None
    ) -> dict[str, Any]:
        def operation() -> dict[str, Any]:
            return self._transport.signed(
                method, self._api_host, path, access_token=access_token, shop_cipher=shop_cipher, body=body
            )

        return call_with_retries(operation, policy=self._policy)

    def _token_call(self, path: str, query: Mapping[str, str], *, secret: str) -> dict[str, Any]:
        params = {"app_key": self.app_key, "app_secret": self._app_secret, **query}

        def operation() -> dict[str, Any]:
            return self._transport.send("GET", self._auth_host + path, params, None, {}, secrets=(secret,))

        return call_with_retries(operation, policy=self._policy)


# =================================================================================================
# The connector: one shop
# =================================================================================================


class TikTokShopConnector:
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
        self._warehouse_id, self._currency = warehouse_id, currency
        self._locations: list[ShopLocation] | None = None
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout_s)
        self._transport = _Transport(
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
    ) -> dict[str, Any]:
        raw = encode_body(body) if body is not None else None
        cipher = None if path.startswith(NO_CIPHER_PREFIXES) else self._shop_cipher
        refreshed: list[str] = []

        def operation() -> dict[str, Any]:
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
        for product in self._search_window(_epoch(since), _epoch(until), SEARCH_ALL):
            product_id = str(product["id"])
            if product_id in seen:
                continue
            seen.add(product_id)
            yield ItemChange(
                item_id=product_id,
                updated_at=_when(product.get("update_time")),
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
                data = self._call("GET", product_path(_check_id(item_id)))
            except NotFound:
                log.info("tiktokshop shop %s: product %s not found", self.shop_id, item_id)
                continue
            listings.append(listing_from_detail(self.shop_id, data))
        return listings

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        """GET /order/202309/orders?ids=... in batches of 50; unknown ids are left out."""
        orders: list[RemoteOrder] = []
        ids = [_check_id(order_id, "order_id") for order_id in order_ids]
        for batch in _batches(ids, ORDER_BATCH):
            try:
                data = self._call("GET", PATH_ORDERS, query={"ids": ",".join(batch)})
            except NotFound:
                continue
            orders.extend(order_from_wire(self.shop_id, order) for order in data.get("orders") or [])
        return orders

    def list_changed_orders(self, since: datetime, until: datetime) -> Iterator[RemoteOrder]:
        """POST /order/202309/orders/search by update time in [since, until] (whole seconds), each order once."""
        body = {"update_time_ge": _epoch(since), "update_time_lt": _epoch(until) + 1}
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
        _check_id(item_id)
        _check_quantities(stock)
        if not stock:
            return WriteResult(item_id=item_id)
        for sku_id in stock:
            _check_id(sku_id, "sku_id")
        try:
            rows = self._inventory_rows(item_id, stock)
            skus = [{"id": sku_id, "inventory": rows[sku_id]} for sku_id in stock]
            data = self._call("POST", inventory_path(item_id), body={"skus": skus})
        except ItemRefused as refused:
            return _refused(item_id, list(stock), refused)
        return WriteResult(item_id=item_id, results=batch_results(list(stock), data, "sku_id"))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        """POST .../prices/update with the pre-tax price, one product per call; exact decimal strings."""
        _check_id(item_id)
        _check_prices(prices)
        if not prices:
            return WriteResult(item_id=item_id)
        for sku_id in prices:
            _check_id(sku_id, "sku_id")
        try:
            currency = self._shop_currency(item_id)
            skus = [
                {"id": sku_id, "price": {"amount": _decimal_str(price), "currency": currency}}
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
        _check_id(item_id)
        body = partial_edit_body(fields)
        if body:
            self._call("POST", partial_edit_path(item_id), body=body)

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        """POST /product/202309/products with the draft's idempotency_key: a retry never creates twice."""
        _check_quantities({sku.seller_sku: sku.stock for sku in draft.skus})
        _check_prices({sku.seller_sku: sku.price for sku in draft.skus})
        sales = [location.location_id for location in self.list_locations()]
        warehouse = self._target_warehouse([], sales)

        def inventory(quantity: int) -> dict[str, Any]:
            return {"warehouse_id": warehouse, "quantity": quantity} if warehouse else {"quantity": quantity}

        body: dict[str, Any] = {
            "title": draft.title,
            "description": draft.description,
            "category_id": draft.category_id,
            "main_images": _images_body(draft.images),
            "package_weight": _weight_body(draft.weight_kg),
            "skus": [
                {
                    "seller_sku": sku.seller_sku,
                    "price": {"amount": _decimal_str(sku.price), "currency": draft.currency},
                    "inventory": [inventory(sku.stock)],
                    "sales_attributes": [{"name": name, "value_name": value} for name, value in sku.attributes.items()],
                }
                for sku in draft.skus
            ],
            "idempotency_key": draft.idempotency_key,
        }
        if draft.dimensions is not None:
            body["package_dimensions"] = _dimensions_body(draft.dimensions)
        data = self._call("POST", PATH_PRODUCTS, body=body)
        sku_ids = {str(sku["seller_sku"]): str(sku["id"]) for sku in data.get("skus") or [] if sku.get("seller_sku")}
        return CreatedListing(item_id=str(data["product_id"]), sku_ids=sku_ids)

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        """POST .../activate or .../deactivate, at most 20 product_ids per call; one result per id."""
        path = PATH_ACTIVATE if active else PATH_DEACTIVATE
        return self._product_batches("POST", path, item_ids)

    def delete_listings(self, item_ids: Sequence[str]) -> list[SkuResult]:
        """DELETE /product/202309/products, at most 20 product_ids per call; one result per id."""
        return self._product_batches("DELETE", PATH_PRODUCTS, item_ids)

    def _product_batches(self, method: str, path: str, item_ids: Sequence[str]) -> list[SkuResult]:
        ids = [_check_id(item_id) for item_id in item_ids]
        results: list[SkuResult] = []
        for batch in _batches(ids, STATUS_BATCH):
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


# =================================================================================================
# Webhooks (pure: the receiver calls these)
# =================================================================================================


class WebhookPayloadError(ValueError):
    """The webhook body is not JSON or lacks a field every TikTok notification carries."""


def sign_webhook(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """hex HMAC-SHA256(app_secret, app_key + raw body bytes): the `Authorization` header TikTok sends."""
    return hmac.digest(app_secret.encode("utf-8"), app_key.encode("utf-8") + raw_body, "sha256").hex()


def verify_webhook(app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> bool:
    """True when `authorization` is the signature of these exact bytes (constant-time comparison)."""
    if not isinstance(authorization, str) or not isinstance(raw_body, bytes):
        return False
    presented = authorization.strip().lower()
    # compare_digest takes str only when it is ASCII; anything else is no hex signature anyway.
    return presented.isascii() and hmac.compare_digest(sign_webhook(app_key, app_secret, raw_body), presented)


def _required(payload: Mapping[str, Any], key: str) -> Any:
    value = payload.get(key)
    if value is None or value == "":
        raise WebhookPayloadError(f"tiktokshop webhook: missing {key!r}")
    return value


def parse_webhook(raw_body: bytes | str) -> MarketplaceEvent:
    """A verified webhook body -> MarketplaceEvent (kind from `type`; event id = tts_notification_id)."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookPayloadError("tiktokshop webhook: body is not JSON") from error
    if not isinstance(payload, dict):
        raise WebhookPayloadError("tiktokshop webhook: body is not a JSON object")
    raw_type = _required(payload, "type")
    event_type = _int_code(raw_type)
    if event_type is None:
        raise WebhookPayloadError("tiktokshop webhook: 'type' is not an integer")
    event_id = str(_required(payload, "tts_notification_id"))
    data = payload.get("data") or {}
    if not isinstance(data, dict):
        raise WebhookPayloadError("tiktokshop webhook: 'data' is not an object")
    kind = WEBHOOK_TYPES[event_type][1] if event_type in WEBHOOK_TYPES else EventKind.UNKNOWN
    order_id = str(_required(data, "order_id")) if kind is EventKind.ORDER_STATUS else None
    item_id = str(_required(data, "product_id")) if kind in _PRODUCT_KINDS else None
    if kind is EventKind.STOCK_CHANGE and data.get("product_id") is not None:
        item_id = str(data["product_id"])
    timestamp = _int_code(payload.get("timestamp"))
    if timestamp is None and payload.get("timestamp") is not None:
        # A timestamp that is there but no number (text, Infinity) would slip past the freshness check.
        raise WebhookPayloadError("tiktokshop webhook: 'timestamp' is not an integer")
    try:
        occurred_at = datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None
    except (OverflowError, OSError, ValueError) as error:
        raise WebhookPayloadError("tiktokshop webhook: 'timestamp' out of range") from error
    shop_id = payload.get("shop_id")
    return MarketplaceEvent(
        platform=PLATFORM,
        event_id=event_id,
        kind=kind,
        raw_type=str(event_type),
        shop_id=str(shop_id) if shop_id is not None else None,
        occurred_at=occurred_at,
        order_id=order_id,
        item_id=item_id,
        data=data,
    )
