# TikTok Shop Partner API (202309) connector: signing, OAuth, endpoints, batching, error mapping, webhooks.
"""TikTok Shop as SyncStore sees it: every piece of TikTok Shop wire knowledge lives in this module.

Request shape (every API call on the API host):
- query: `app_key`, `timestamp` (Unix s, fresh for every attempt), `sign`, `shop_cipher` (left out on
  `/authorization/*`, `/seller/*` and uploads) plus the endpoint's own params (`page_size`, `page_token`, `ids`);
- headers: `x-tts-access-token`, `Content-Type: application/json`;
- body: JSON serialised ONCE; those exact bytes are signed and sent (see `sign`).
Every call goes through `connectors.retry.call_with_retries`, which re-runs the whole operation (new
timestamp, new signature) on `Transient` / `RateLimited` and refreshes the token once on `AuthExpired`.

Error mapping (the envelope `code` first, the HTTP status second):
- HTTP 429 or 36009002 -> RateLimited (Retry-After honoured); 36009010 or a 429 whose message says "quota"
  -> QuotaExhausted (TikTok publishes no quota code: 36009010 is the one our simulator uses).
- 36009003, 36009007, HTTP 5xx, timeouts, connection errors -> Transient.
- 105002 -> AuthExpired. 105001 (access token invalid / revoked, seller deauthorized), and on the token
  endpoint 36004001 (refresh token expired) and 36004005 (no such authorization) -> AuthRevoked: the shop
  has to be connected again. A 36009004 whose message is about an invalid access token is read the same way.
- 106001 (invalid sign: never retried), 106013 (missing shop_cipher), 36009004 (bad envelope: timestamp,
  unexpected shop_cipher, ...), 12019024, 98001004, 11050001 -> InvalidRequest (`fields` filled from names
  the message quotes, e.g. `'page_size'`).
- 12019150, 12052032, 12052034 -> NotFound. Any other code -> plain ConnectorError (not retried).
Errors carry the platform code and request_id; messages are scrubbed of the access token, refresh token,
auth code and app secret, and transport exceptions are not chained (their text may hold the URL).

Choices and simplifications (the reference leaves these open):
- Search stops at 10,000 results: a window whose `total_count` exceeds that is split in halves by
  update time, recursively. A single second with more than 10,000 changes is searched once per status;
  if one status still exceeds 10,000 in that second, the first 10,000 are returned and a warning is logged
  (the platform serves no more; the next pass picks the rest up as those items change again).
  Bounds are inclusive at whole-second resolution; each call reports each product at most once.
- Detail is one product per call (GET /product/202309/products/{id}); the search endpoint would batch
  id, title, status, update time and SKU price/stock, but not description, images, weight or categories.
  Ids the platform does not know (NotFound) are left out of `get_listings` / `get_orders` results.
- Orders: GET /order/202309/orders?ids=a,b,... in batches of 50. Each line item becomes one OrderLine
  (TikTok lists one line item per unit; `quantity` is read when present, else 1). Status:
  UNPAID -> pending; ON_HOLD, AWAITING_SHIPMENT, AWAITING_COLLECTION, PARTIALLY_SHIPPING -> paid (stock still
  reserved); IN_TRANSIT, DELIVERED -> shipped; COMPLETED -> completed; CANCELLED -> cancelled; else other.
- Stock: the whole quantity of a SKU goes to `warehouse_id` when given, else to the SKU's default warehouse
  (warehouse_id left out, as TikTok allows for single-warehouse SKUs).
- Prices are sent as decimal strings with the shop currency (`currency=` or read once from a product).
- Images are sent as `main_images[{uri}]` with the master's image URL as the uri; real TikTok wants the
  uri of an image uploaded through /product/202309/images/upload first (the simulator accepts URLs).
- Webhooks: PUT /event/202309/webhooks with body `{"address": url, "event_type": NAME}`, once per event type
  in `WEBHOOK_EVENT_TYPES`. TikTok has no lost-push API: `fetch_missed_events` returns [] and the
  reconciliation path for TikTok Shop is the scheduled snapshot pull (W9).
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
    ListingDraft,
    ListingFields,
    ListingStatus,
    MarketplaceEvent,
    NotFound,
    OrderLine,
    OrderStatus,
    Platform,
    QuotaExhausted,
    RateLimited,
    RefreshCallback,
    RemoteListing,
    RemoteOrder,
    RemoteSku,
    RequestGate,
    ShopCredentials,
    SkuResult,
    StockLocation,
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
CODE_QUOTA_EXHAUSTED: Final = 36009010  # not published by TikTok: the simulator's daily-quota answer
CODE_TOKEN_INVALID: Final = 105001
CODE_TOKEN_EXPIRED: Final = 105002
CODE_INVALID_SIGN: Final = 106001
CODE_MISSING_CIPHER: Final = 106013
CODE_REFRESH_EXPIRED: Final = 36004001
CODE_NO_AUTH_RECORD: Final = 36004005
CODE_PRODUCT_MISSING: Final = 12052032
CODE_PRODUCT_MISSING_OLD: Final = 12019150
CODE_PRODUCT_OTHER_SHOP: Final = 12052034
CODE_INVALID_STOCK: Final = 12019024
CODE_INVALID_PARAM: Final = 98001004
CODE_INVALID_PARAM_ALT: Final = 11050001

TRANSIENT_CODES: Final = frozenset({CODE_INTERNAL, CODE_TIMEOUT})
REVOKED_CODES: Final = frozenset({CODE_TOKEN_INVALID, CODE_REFRESH_EXPIRED, CODE_NO_AUTH_RECORD})
NOT_FOUND_CODES: Final = frozenset({CODE_PRODUCT_MISSING, CODE_PRODUCT_MISSING_OLD, CODE_PRODUCT_OTHER_SHOP})
INVALID_CODES: Final = frozenset(
    {
        CODE_INVALID_SIGN,
        CODE_MISSING_CIPHER,
        CODE_BAD_REQUEST,
        CODE_INVALID_STOCK,
        CODE_INVALID_PARAM,
        CODE_INVALID_PARAM_ALT,
    }
)

# --- webhooks -----------------------------------------------------------------------------------

# type number -> (event_type name used by PUT /event/202309/webhooks, normalized kind)
WEBHOOK_TYPES: Final[Mapping[int, tuple[str, EventKind]]] = {
    1: ("ORDER_STATUS_CHANGE", EventKind.ORDER_STATUS),
    5: ("PRODUCT_STATUS_CHANGE", EventKind.PRODUCT_CHANGE),
    6: ("SELLER_DEAUTHORIZATION", EventKind.AUTHORIZATION),
    7: ("UPCOMING_AUTHORIZATION_EXPIRATION", EventKind.AUTHORIZATION),
    11: ("CANCELLATION_STATUS_CHANGE", EventKind.ORDER_STATUS),
    15: ("PRODUCT_INFORMATION_CHANGE", EventKind.PRODUCT_CHANGE),
    16: ("PRODUCT_CREATION", EventKind.PRODUCT_CHANGE),
    68: ("INVENTORY_CHANGED", EventKind.STOCK_CHANGE),  # name and number from one source only
}
EVENT_TYPE_NUMBERS: Final[Mapping[str, int]] = {name: number for number, (name, _) in WEBHOOK_TYPES.items()}
# What `TikTokShopConnector.register_webhook` subscribes: order, product and inventory events.
# (Authorization events 6 and 7 are app-level, configured in Partner Center.)
WEBHOOK_EVENT_TYPES: Final = (
    "ORDER_STATUS_CHANGE",
    "CANCELLATION_STATUS_CHANGE",
    "PRODUCT_STATUS_CHANGE",
    "PRODUCT_INFORMATION_CHANGE",
    "PRODUCT_CREATION",
    "INVENTORY_CHANGED",
)

# --- status mappings ----------------------------------------------------------------------------

LISTING_STATUS: Final[Mapping[str, ListingStatus]] = {
    "ACTIVATE": ListingStatus.ACTIVE,
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
    words = message.lower().replace("_", " ").replace("-", " ")
    return "access token" in words and "missing" not in words


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
    throttled = http_status == 429 or code == CODE_RATE_LIMITED
    if code == CODE_QUOTA_EXHAUSTED or (throttled and "quota" in message.lower()):
        return QuotaExhausted(message, **kw)
    if throttled:
        return RateLimited(message, retry_after=retry_after, **kw)
    if code in TRANSIENT_CODES:
        return Transient(message, **kw)
    if code == CODE_TOKEN_EXPIRED:
        return AuthExpired(message, **kw)
    if code in REVOKED_CODES:
        return AuthRevoked(message, **kw)
    if code in NOT_FOUND_CODES:
        return NotFound(message, **kw)
    if code == CODE_BAD_REQUEST and _token_problem(message):
        return AuthExpired(message, **kw) if "expire" in message.lower() else AuthRevoked(message, **kw)
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
        price=_decimal(price.get("sale_price")),
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
    )


def order_from_wire(shop_id: str, order: Mapping[str, Any]) -> RemoteOrder:
    """One order of GET /order/202309/orders -> RemoteOrder (one OrderLine per line item)."""
    raw_status = str(order.get("status") or "")
    lines = tuple(
        OrderLine(
            line_id=str(item["id"]),
            item_id=str(item["product_id"]),
            sku_id=str(item["sku_id"]),
            seller_sku=item.get("seller_sku") or None,
            quantity=max(int(item.get("quantity") or 1), 1),
        )
        for item in order.get("line_items") or []
    )
    return RemoteOrder(
        platform=PLATFORM,
        shop_id=shop_id,
        order_id=str(order["id"]),
        status=ORDER_STATUS.get(raw_status, OrderStatus.OTHER),
        raw_status=raw_status,
        lines=lines,
        updated_at=_when(order.get("update_time") or order.get("create_time")),
    )


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
        return [
            AuthorizedShop(str(shop["id"]), str(shop["cipher"]), str(shop.get("name", "")), str(shop.get("region", "")))
            for shop in data.get("shops") or []
        ]

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

        return call_with_retries(
            operation, gate=self._gate, refresh=self._refresh, on_new_token=self._use_token, policy=self._policy
        )

    # --- reads ---------------------------------------------------------------------------------

    def list_changed_items(self, since: datetime, until: datetime) -> Iterator[ItemChange]:
        """Products whose update_time is in [since, until] (whole seconds), each once, oldest first."""
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
        if low > high:
            return
        first = self._search_page(low, high, status, None)
        if int(first.get("total_count") or 0) > SEARCH_RESULT_CAP:
            if high > low:
                middle = (low + high) // 2
                yield from self._search_window(low, middle, status)
                yield from self._search_window(middle + 1, high, status)
                return
            if status == SEARCH_ALL:
                log.warning("tiktokshop shop %s: over 10,000 changes at %s; searching per status", self.shop_id, low)
                for one_status in PRODUCT_STATUSES:
                    yield from self._search_window(low, high, one_status)
                return
            log.warning(
                "tiktokshop shop %s: over 10,000 %s changes at %s; only the first 10,000 are served",
                self.shop_id,
                status,
                low,
            )
        yield from self._pages(low, high, status, first)

    def _pages(self, low: int, high: int, status: str, page: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        while True:
            yield from page.get("products") or []
            token = str(page.get("next_page_token") or "")
            if not token:
                return
            page = self._search_page(low, high, status, token)

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
            data = self._call("GET", PATH_ORDERS, query={"ids": ",".join(batch)})
            orders.extend(order_from_wire(self.shop_id, order) for order in data.get("orders") or [])
        return orders

    # --- writes --------------------------------------------------------------------------------

    def _inventory_row(self, quantity: int) -> dict[str, Any]:
        row: dict[str, Any] = {"quantity": quantity}
        if self._warehouse_id:
            row["warehouse_id"] = self._warehouse_id
        return row

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        """POST .../inventory/update, one product per call; 0 <= quantity < 99,999 checked first."""
        _check_id(item_id)
        _check_quantities(stock)
        if not stock:
            return WriteResult(item_id=item_id)
        skus = [
            {"id": _check_id(sku_id, "sku_id"), "inventory": [self._inventory_row(q)]} for sku_id, q in stock.items()
        ]
        data = self._call("POST", inventory_path(item_id), body={"skus": skus})
        return WriteResult(item_id=item_id, results=batch_results(list(stock), data, "sku_id"))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        """POST .../prices/update, one product per call; amounts as exact decimal strings."""
        _check_id(item_id)
        _check_prices(prices)
        if not prices:
            return WriteResult(item_id=item_id)
        currency = self._shop_currency(item_id)
        skus = [
            {"id": _check_id(sku_id, "sku_id"), "price": {"amount": _decimal_str(price), "currency": currency}}
            for sku_id, price in prices.items()
        ]
        data = self._call("POST", prices_path(item_id), body={"skus": skus})
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
        """POST .../partial_edit with only the given properties (each replaces that whole property)."""
        _check_id(item_id)
        body = partial_edit_body(fields)
        if body:
            self._call("POST", partial_edit_path(item_id), body=body)

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        """POST /product/202309/products with the draft's idempotency_key: a retry never creates twice."""
        _check_quantities({sku.seller_sku: sku.stock for sku in draft.skus})
        _check_prices({sku.seller_sku: sku.price for sku in draft.skus})
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
                    "inventory": [self._inventory_row(sku.stock)],
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

    def register_webhook(self, url: str) -> None:
        """PUT /event/202309/webhooks {"address", "event_type"} for every type in WEBHOOK_EVENT_TYPES."""
        for event_type in WEBHOOK_EVENT_TYPES:
            self._call("PUT", PATH_WEBHOOKS, body={"address": url, "event_type": event_type})

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        """TikTok Shop has no lost-push API: reconciliation is the scheduled snapshot pull (W9)."""
        return []


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
    item_id = str(_required(data, "product_id")) if kind is EventKind.PRODUCT_CHANGE else None
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
