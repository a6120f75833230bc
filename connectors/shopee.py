# Shopee Open Platform v2 connector: request signing, OAuth, product and order calls, batching, push verification.
"""Everything SyncStore knows about Shopee's wire format lives in this module.

Signing: `sign = hex(HMAC-SHA256(partner_key, base_string))`; the base string is
`partner_id + path + timestamp [+ access_token + shop_id]` (shop calls) or
`partner_id + path + timestamp` (public calls: auth_partner, token get/refresh, push config and the
lost-push calls). `partner_id`, `timestamp`, `sign` (and `access_token`, `shop_id`) travel in the query
string; GET parameters are query parameters, POST parameters a JSON body. Every request is signed
afresh, with a fresh timestamp, on every retry attempt.

Array query parameters differ per endpoint (Shopee's API reference): `order_sn_list` and
`response_optional_fields` of get_order_detail are ONE comma-joined string, `item_id_list` of
get_item_base_info is sent comma-joined too, `item_status` of get_item_list is a repeated key.

Decisions worth knowing (see also the docstrings of the methods):
- "The price" of a SKU is `original_price`: what `update_price` sets. `current_price` (after
  promotions) is not synchronised.
- Prices: two decimals only in SG, MY, BR, MX, PL, ES, AR; every other region takes whole prices
  (`price_decimals`). The connector knows the shop's `region` (constructor argument, from
  `get_shop_profile` at connection) and raises InvalidRequest before sending a price it would have to
  round; with no region known it allows two decimals. Prices of one item's variations may differ by
  at most a regional ratio (`variation_price_ratio`), checked before `create_listing` sends anything.
  Responses are parsed with `parse_float=Decimal`, so nothing read back passes through a float.
- Stock is written as SELLABLE stock (reference principle 3): Shopee takes an order's units out of
  the model's seller stock when the order is placed, so SyncStore writes the same sellable quantity as
  on every other channel and never adds Shopee's own order units back. `update_stock(item, {model:
  qty})` puts the whole quantity at the shop's DEFAULT location, the first pickup warehouse of
  `get_warehouse_detail`, and 0 at every other location, so the channel's sellable total is exactly
  what SyncStore wrote. A shop outside the multi-warehouse whitelist (`warehouse.error_not_in_whitelist`)
  has one implicit location: `list_locations()` is [] and no `location_id` is sent. Locations are read
  once per connector. Reading returns every location.
- CNSC/KRSC (cross-border) shops would need `global_product` calls; the connector keeps
  `/api/v2/product/update_stock` and SyncStore refuses such shops at connection
  (`get_shop_profile().cross_border`, also `ShopeeApp.get_shop_profile` for the OAuth flow).
- Error codes come bare (`error_param`) or module-prefixed (`product.error_param`, `common.error_auth`,
  `warehouse.error_not_in_whitelist`); the prefix is stripped before mapping (the error keeps the
  platform's own code). `error_auth` is mapped by its message: invalid/expired access token (and the
  codes `invalid_acceess_token` sic, `invalid_access_token`) -> AuthExpired (refresh once), revoked /
  deauthorized / no longer linked -> AuthRevoked, "System error, please try again later" -> Transient,
  every other `error_auth` (promotion-reserved stock, location_id missing or wrong, holiday mode, cnsc
  shop not upgraded, no permission to the api...) -> ItemRefused. Business codes such as
  `error_cannt_edit_price_in_promotion` are ItemRefused too. `error_rate_limit`/HTTP 429 ->
  RateLimited (Retry-After honoured), `error_limit` (the app's daily limit) -> QuotaExhausted,
  `error_sign`/`error_param` -> InvalidRequest, `error_item_not_found`/`error_item_not_belong_shop`/
  `error_not_found` -> NotFound, server errors, HTTP 5xx, timeouts and network errors -> Transient.
  On the token endpoints every auth error is AuthRevoked (a dead code or refresh token). Errors carry
  the code and request id; the access token and partner key are scrubbed from every message.
- One bad item never stops a shop: in update_stock / update_price an item-level refusal (ItemRefused,
  an InvalidRequest other than a bad signature or request envelope, an unknown business code) fails
  that call's models as failed SkuResults with the platform's message; no token is refreshed.
- Unknown orders: get_order_detail may fail a whole call with `error_not_found` for one unknown
  order_sn; the batch is then split until the unknown orders are isolated and left out.
- Batches: item ids 50 per detail call, models 50 per price/stock call (one item per call), items 50
  per unlist call, orders 50 per detail call, list pages of 100, order-list windows of 15 days.
- `add_item` has no idempotency key on Shopee. `create_listing` therefore looks the listing up first
  (`search_item` by `item_sku`, confirmed through `get_item_base_info`) on every attempt: a retry after
  a timeout, or a rerun after a crash, finds the item created before instead of adding a second one.
  Variations go out as `standardise_tier_variation` (custom variations: variation_id 0) together with
  the deprecated `tier_variation`, which the reference still allows alongside.
- Descriptions: an item with `description_type: extended` has an empty `description`; its text is the
  text parts of `description_info.extended_description.field_list`, joined by newlines.
- Push event ids: the push's `msg_id` when it has one (live pushes); else sha256 over the canonical
  JSON of (shop_id, code, data), WITHOUT the timestamp: a lost push's `timestamp` is the time it was
  lost, so the same notification fetched through `get_lost_push_message` gets the id it would have had.
  Push codes are subscribed one by one (`register_webhook` -> one Subscription per code): 1, 2, 3, 8,
  12 and 22 (22 is unconfirmed; a refusal is reported and the others go on). Code 8 is a change of
  PROMOTION-reserved stock, not order stock: it maps to EventKind.STOCK_CHANGE, which SyncStore's
  dispatcher treats as "re-read this item", never as a ledger movement.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Final, TypeVar
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
    QuotaExhausted,
    RateLimited,
    RefreshCallback,
    RemoteListing,
    RemoteOrder,
    RemoteSku,
    RequestGate,
    ShopCredentials,
    ShopLocation,
    ShopProfile,
    SkuDraft,
    SkuResult,
    StockLocation,
    Subscription,
    TokenGrant,
    Transient,
    WriteResult,
)
from connectors.retry import DEFAULT_POLICY, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)

PLATFORM: Final[Platform] = "shopee"

# --- paths ----------------------------------------------------------------------------------

PATH_AUTH_PARTNER: Final = "/api/v2/shop/auth_partner"
PATH_TOKEN_GET: Final = "/api/v2/auth/token/get"  # noqa: S105 (a path, not a secret)
PATH_TOKEN_REFRESH: Final = "/api/v2/auth/access_token/get"  # noqa: S105 (a path)
# Not in the reference: the path as Shopee's v2 push API names it (public sign, body {callback_url, ...}).
PATH_PUSH_CONFIG: Final = "/api/v2/push/set_app_push_config"
PATH_LOST_PUSH: Final = "/api/v2/push/get_lost_push_message"
PATH_CONFIRM_LOST_PUSH: Final = "/api/v2/push/confirm_consumed_lost_push_message"
PATH_ITEM_LIST: Final = "/api/v2/product/get_item_list"
PATH_ITEM_BASE_INFO: Final = "/api/v2/product/get_item_base_info"
PATH_MODEL_LIST: Final = "/api/v2/product/get_model_list"
# Not in the reference: used by create_listing to find an item an earlier attempt already created.
PATH_SEARCH_ITEM: Final = "/api/v2/product/search_item"
PATH_UPDATE_PRICE: Final = "/api/v2/product/update_price"
PATH_UPDATE_STOCK: Final = "/api/v2/product/update_stock"
PATH_UPDATE_ITEM: Final = "/api/v2/product/update_item"
PATH_ADD_ITEM: Final = "/api/v2/product/add_item"
PATH_INIT_TIER_VARIATION: Final = "/api/v2/product/init_tier_variation"
PATH_UNLIST_ITEM: Final = "/api/v2/product/unlist_item"
PATH_DELETE_ITEM: Final = "/api/v2/product/delete_item"
PATH_ORDER_LIST: Final = "/api/v2/order/get_order_list"
PATH_ORDER_DETAIL: Final = "/api/v2/order/get_order_detail"
PATH_SHOP_INFO: Final = "/api/v2/shop/get_shop_info"
PATH_WAREHOUSE_DETAIL: Final = "/api/v2/shop/get_warehouse_detail"

# --- limits and lifetimes -------------------------------------------------------------------

ITEM_BATCH: Final = 50
MODEL_BATCH: Final = 50
UNLIST_BATCH: Final = 50
ORDER_BATCH: Final = 50
PAGE_SIZE: Final = 100
# get_order_list: time_from and time_to at most 15 days apart.
ORDER_WINDOW: Final = timedelta(days=15)
TIMESTAMP_TOLERANCE_S: Final = 300
ACCESS_TOKEN_LIFETIME: Final = timedelta(hours=4)
REFRESH_TOKEN_LIFETIME: Final = timedelta(days=30)
# Every status get_item_list is asked for in one call (arrays repeat the key), so deletions and bans
# made on the marketplace show up in the changed-items poll too.
POLLED_ITEM_STATUSES: Final = ("NORMAL", "UNLIST", "BANNED", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE")
# Push codes SyncStore subscribes to in set_app_push_config, one call each (22 is unconfirmed).
PUSH_CODES: Final = (1, 2, 3, 8, 12, 22)
# Regions whose prices take two decimals; every other region takes whole prices.
DECIMAL_PRICE_REGIONS: Final = frozenset({"SG", "MY", "BR", "MX", "PL", "ES", "AR"})
# How many times the dearest variation of an item may cost its cheapest one, per region.
VARIATION_PRICE_RATIOS: Final[Mapping[str, int]] = {
    "ID": 7, "MY": 7, "SG": 5, "VN": 5, "TW": 5, "TH": 5, "PH": 5, "MX": 5, "BR": 4, "CL": 9, "CO": 9,
}  # fmt: skip
# get_warehouse_detail answers for a shop with one implicit location (not multi-warehouse).
_SINGLE_LOCATION_CODES: Final = frozenset(
    {"error_not_in_whitelist", "error_can_not_find_warehouse", "error_region_not_valid"}
)

LISTING_STATUSES: Final[Mapping[str, ListingStatus]] = {
    "NORMAL": ListingStatus.ACTIVE,
    "UNLIST": ListingStatus.INACTIVE,
    "DELETED": ListingStatus.DELETED,
    "SELLER_DELETE": ListingStatus.DELETED,
    "SHOPEE_DELETE": ListingStatus.DELETED,
}

# IN_CANCEL (the buyer asked to cancel, the seller has not answered) keeps the stock reserved
# (OTHER: no ledger transition): releasing it early could oversell if the seller rejects the
# cancellation. The release happens on CANCELLED.
ORDER_STATUSES: Final[Mapping[str, OrderStatus]] = {
    "UNPAID": OrderStatus.PENDING,
    "READY_TO_SHIP": OrderStatus.PAID,
    "PROCESSED": OrderStatus.PAID,
    "RETRY_SHIP": OrderStatus.PAID,
    "INVOICE_PENDING": OrderStatus.PAID,
    "SHIPPED": OrderStatus.SHIPPED,
    "TO_CONFIRM_RECEIVE": OrderStatus.SHIPPED,
    "COMPLETED": OrderStatus.COMPLETED,
    "IN_CANCEL": OrderStatus.OTHER,
    "CANCELLED": OrderStatus.CANCELLED,
}

PUSH_KINDS: Final[Mapping[int, EventKind]] = {
    1: EventKind.AUTHORIZATION,
    2: EventKind.AUTHORIZATION,
    12: EventKind.AUTHORIZATION,
    3: EventKind.ORDER_STATUS,
    8: EventKind.STOCK_CHANGE,
    22: EventKind.PRODUCT_CHANGE,
}

_TRANSIENT_CODES: Final = frozenset({"error_server", "error_inner", "error_system_busy", "error_network"})
_TOKEN_CODES: Final = frozenset({"invalid_acceess_token", "invalid_access_token"})
# The shop (or its link to this app) is gone: it must be connected again.
_REVOKED_CODES: Final = frozenset(
    {
        "shop_no_linked",
        "partner_shop_no_link",
        "shop_banned",
        "shop_access_expired",
        "refresh_token_expired",
        "invalid_code",
        "invalid_shop_id",
        "invalid_main_acount_id",
        "merchant_no_linked",
        "merchant_access_expired",
        "error_shop",
        "error_param_shop_id_not_found",
    }
)
# Codes about the app or the shop's permissions, never about one item.
_SHOP_LEVEL_CODES: Final = frozenset(
    {
        "error_permission",
        "error_api_permission",
        "error_ashop_api_permission",
        "error_kyc_auth",
        "error_api_call_restricted",
        "api_suspended",
        "source_ip_undeclared",
        "error_partner_key_expired",
        "invalid_partner_id",
    }
)
_INVALID_CODES: Final = frozenset({"error_sign", "error_param", "order_list_invalid_time"})
_NOT_FOUND_CODES: Final = frozenset({"error_item_not_found", "error_item_not_belong_shop", "error_not_found"})
# Business refusals of one item (promotion locks, holiday mode, price limits...): fail that item only.
_ITEM_REFUSED_CODES: Final = re.compile(
    r"^error_(busi|cannt_|cannot_|promotion|in_item_promotion|holiday|price_|invalid_price|item_uneditable"
    r"|seller_under_penalty|model_|edit_item_|slash_|wholesale|related_product|wms_shop_block|auth_product"
    r"|cnsc_shop_block|tier_|update_price_fail|param_validate)"
)
_REVOKED = re.compile(
    r"revoked|deauthori[sz]|not authori[sz]ed|cancel(l)?ed authori[sz]ation|no linked|not linked"
    r"|invalid partner_id or shop|partner_id is invalid|app is deleted|permissions for authorizations",
    re.IGNORECASE,
)
_TOKEN_MESSAGE = re.compile(r"access[_ ]?token|acceess", re.IGNORECASE)
_SYSTEM_ERROR = re.compile(r"system error", re.IGNORECASE)
# error_param answers about the request envelope (not about one item): everyone's problem.
_ENVELOPE_MESSAGE = re.compile(r"timestamp|partner_id|\bsign\b|access_token|shop_id|gateway", re.IGNORECASE)

T = TypeVar("T")
Json = dict[str, Any]


# --- signing --------------------------------------------------------------------------------


def base_string(
    partner_id: int | str, path: str, timestamp: int, access_token: str | None = None, shop_id: int | str | None = None
) -> str:
    """The signed text: `partner_id + path + timestamp`, plus `access_token + shop_id` for shop calls."""
    text = f"{partner_id}{path}{timestamp}"
    if access_token is not None and shop_id is not None:
        text += f"{access_token}{shop_id}"
    return text


def sign(partner_key: str, base_string: str) -> str:
    """hex_lower(HMAC-SHA256(partner_key, base_string))."""
    return hmac.new(partner_key.encode(), base_string.encode(), hashlib.sha256).hexdigest()


def sign_push(callback_url: str, raw_body: bytes, partner_key: str) -> str:
    """The `Authorization` header Shopee puts on a push: HMAC over `callback_url + "|" + raw body`."""
    return hmac.digest(partner_key.encode(), callback_url.encode() + b"|" + raw_body, "sha256").hex()


def verify_push(callback_url: str, raw_body: bytes, authorization: str | None, partner_key: str) -> bool:
    """True when `authorization` is the push signature of exactly these bytes for this URL.

    `callback_url` must be the URL exactly as registered; the raw body is hashed, never re-serialised.
    The comparison is constant time. A missing or malformed header is simply False.
    """
    if not isinstance(authorization, str) or not authorization:
        return False
    expected = sign_push(callback_url, raw_body, partner_key)
    presented = authorization.strip().lower()
    # compare_digest takes str only when it is ASCII; anything else is no hex signature anyway.
    return presented.isascii() and hmac.compare_digest(expected, presented)


# --- push notifications ---------------------------------------------------------------------


class PushParseError(ValueError):
    """A push body that is not a Shopee notification (not JSON, not an object, required fields missing)."""


def push_event_id(shop_id: str | None, code: int, data: Mapping[str, Any], msg_id: str | None = None) -> str:
    """A stable id for one notification: its `msg_id` when it has one, else sha256 of the canonical JSON
    of shop, code and data. Never the timestamp: a lost push's timestamp is the time it was lost."""
    if msg_id:
        return msg_id
    canonical = _CANONICAL_JSON.encode([shop_id, code, data])
    return hashlib.sha256(canonical.encode()).hexdigest()


# Built once: `json.dumps` with options builds a new encoder on every call (the webhook hot path).
_CANONICAL_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def parse_push(raw_body: bytes | str) -> MarketplaceEvent:
    """Normalize a (verified) push body `{msg_id?, code, shop_id, timestamp, data}` into a MarketplaceEvent."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise PushParseError(f"push body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise PushParseError("push body is not a JSON object")
    return _push_event(
        payload.get("shop_id"),
        payload.get("code"),
        payload.get("timestamp"),
        payload.get("data", {}),
        payload.get("msg_id"),
    )


def _msg_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value) or None


def _push_event(shop_id: Any, code: Any, timestamp: Any, data: Any, msg_id: Any = None) -> MarketplaceEvent:
    if isinstance(code, bool) or not isinstance(code, int):
        raise PushParseError("push without an integer `code`")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise PushParseError("push without an integer `timestamp`")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PushParseError("push `data` is not an object")
    shop = shop_id if shop_id is not None else data.get("shop_id")
    if shop is not None and (isinstance(shop, bool) or not isinstance(shop, (int, str))):
        raise PushParseError("push `shop_id` is neither a number nor a string")
    shop_text = str(shop) if shop is not None else None
    try:
        occurred_at = _from_unix(timestamp)
    except (OverflowError, ValueError, OSError):
        raise PushParseError(f"push `timestamp` {timestamp} is not a time") from None
    kind = PUSH_KINDS.get(code, EventKind.UNKNOWN)
    order_id = data.get("ordersn")
    if kind is EventKind.ORDER_STATUS and not isinstance(order_id, (str, int)):
        raise PushParseError("order status push (code 3) without `data.ordersn`")
    item_id = data.get("item_id")
    return MarketplaceEvent(
        platform=PLATFORM,
        event_id=push_event_id(shop_text, code, data, _msg_id(msg_id)),
        kind=kind,
        raw_type=str(code),
        shop_id=shop_text,
        occurred_at=occurred_at,
        order_id=str(order_id) if kind is EventKind.ORDER_STATUS else None,
        item_id=str(item_id) if isinstance(item_id, (int, str)) and not isinstance(item_id, bool) else None,
        data=data,
    )


# --- region rules (pure; the core's validation and dry run use them too) --------------------


def price_decimals(region: str) -> int:
    """Decimal places a Shopee price may have in `region`: 2 in SG, MY, BR, MX, PL, ES, AR, else 0.

    An unknown (empty) region allows 2: the connector cannot tell, and the platform then decides.
    """
    code = region.strip().upper()
    return 2 if not code or code in DECIMAL_PRICE_REGIONS else 0


def variation_price_ratio(region: str) -> Decimal | None:
    """How many times its cheapest variation an item's dearest variation may cost (None: not published)."""
    ratio = VARIATION_PRICE_RATIOS.get(region.strip().upper())
    return Decimal(ratio) if ratio is not None else None


# --- small helpers --------------------------------------------------------------------------


def _from_unix(value: int | float | Decimal) -> datetime:
    seconds = float(value)
    if seconds > 1e12:  # milliseconds
        seconds /= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def _unix(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: SyncStore times are timezone-aware UTC")
    return int(moment.timestamp())


def _chunks(values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def _wire_id(value: str, name: str) -> int:
    """Shopee ids are integers on the wire; SyncStore keeps them as strings."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise InvalidRequest(f"{name} {value!r} is not a Shopee id", fields={name: "not numeric"}, platform=PLATFORM)
    return int(text)


def _number(value: Decimal, name: str, *, places: int | None = 2) -> float:
    """A Decimal as the JSON number Shopee expects, only if that number is exactly the Decimal."""
    if not value.is_finite() or value <= 0:
        raise InvalidRequest(f"{name} must be a positive number", fields={name: "not positive"}, platform=PLATFORM)
    as_float = float(value)
    exponent = value.normalize().as_tuple().exponent
    too_fine = places is not None and isinstance(exponent, int) and exponent < -places
    if Decimal(repr(as_float)) != value or too_fine:
        raise InvalidRequest(
            f"{name} {value} cannot be sent without rounding", fields={name: "too precise"}, platform=PLATFORM
        )
    return as_float


def _wire_price(value: Decimal, name: str, region: str) -> float | int:
    """A price as Shopee takes it in `region`: whole in regions without decimals, else at most 2 places."""
    if price_decimals(region) == 0:
        if not value.is_finite() or value <= 0:
            raise InvalidRequest(f"{name} must be a positive number", fields={name: "not positive"}, platform=PLATFORM)
        if value != value.to_integral_value():
            raise InvalidRequest(
                f"{name} {value}: prices in region {region} have no decimals",
                fields={name: "whole price in this region"},
                platform=PLATFORM,
            )
        return int(value)
    return _number(value, name)


def _check_variation_ratio(prices: Sequence[Decimal], region: str) -> None:
    """Refuse, before sending, variation prices further apart than the region's published ratio."""
    ratio = variation_price_ratio(region)
    positive = [price for price in prices if price.is_finite() and price > 0]
    if ratio is None or len(positive) < 2 or max(positive) <= min(positive) * ratio:
        return
    raise InvalidRequest(
        f"variation prices {min(positive)}..{max(positive)} differ by more than {ratio}x (region {region})",
        fields={"price": "variation price ratio"},
        platform=PLATFORM,
    )


def _whole_cm(value: Decimal, name: str) -> int:
    if not value.is_finite() or value <= 0 or value != value.to_integral_value():
        raise InvalidRequest(
            f"{name} must be whole centimetres on Shopee", fields={name: "whole cm"}, platform=PLATFORM
        )
    return int(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _objects(value: Any) -> list[Json]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _id_of(entry: Json, key: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConnectorError(f"answer without an integer {key}", platform=PLATFORM)
    return value


def _expiry(expire_in: Any, now: datetime) -> datetime:
    """`expire_in` is documented as seconds; tolerate strings, and absolute Unix times if ever sent."""
    seconds = _decimal(expire_in)
    if seconds is None or seconds <= 0:
        return now + ACCESS_TOKEN_LIFETIME
    if seconds > 1_000_000_000:  # looks like an absolute Unix timestamp, not a duration
        return _from_unix(seconds)
    return now + timedelta(seconds=int(seconds))


def _retry_after(headers: httpx.Headers) -> float | None:
    raw = headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# --- error mapping --------------------------------------------------------------------------


def bare_code(code: str) -> str:
    """The error code without its module prefix: `product.error_param` -> `error_param`
    (and the odd `error.param` -> `error_param`)."""
    module, dot, bare = code.rpartition(".")
    if not dot:
        return code
    return f"error_{bare}" if module == "error" else bare


def _auth_error_class(message: str) -> type[ConnectorError]:
    """What an `error_auth` means, read from its message: only token messages refresh the token."""
    if _REVOKED.search(message):
        return AuthRevoked
    if _TOKEN_MESSAGE.search(message):
        return AuthExpired
    if _SYSTEM_ERROR.search(message):
        return Transient
    return ItemRefused


def _error_for(
    code: str,
    message: str,
    *,
    path: str,
    http_status: int,
    request_id: str | None = None,
    retry_after: float | None = None,
    sent_fields: Iterable[str] = (),
) -> ConnectorError:
    """The typed error for a Shopee error code, bare or module-prefixed (or, without one, the HTTP status)."""
    common: dict[str, Any] = {"platform": PLATFORM, "code": code or None, "request_id": request_id}
    text = f"{path}: {message or code or f'HTTP {http_status}'}"
    bare = bare_code(code)
    if bare == "error_rate_limit" or (not code and http_status == 429):
        return RateLimited(text, retry_after=retry_after, **common)
    if bare == "error_limit":
        return QuotaExhausted(text, **common)
    if bare in _TOKEN_CODES:
        return (AuthRevoked if _REVOKED.search(message) else AuthExpired)(text, **common)
    if bare in _REVOKED_CODES:
        return AuthRevoked(text, **common)
    if bare == "error_auth":
        return _auth_error_class(message)(text, **common)
    if bare in _INVALID_CODES:
        fields = {name: message for name in sent_fields if re.search(rf"\b{re.escape(name)}\b", message)}
        return InvalidRequest(text, fields=fields, **common)
    if bare in _NOT_FOUND_CODES:
        return NotFound(text, **common)
    if bare in _TRANSIENT_CODES or http_status >= 500:
        return Transient(text, **common)
    if _ITEM_REFUSED_CODES.match(bare):
        return ItemRefused(text, **common)
    if not code and http_status >= 400:
        return InvalidRequest(text, **common)
    return ConnectorError(text, **common)


def is_item_error(error: ConnectorError) -> bool:
    """True when `error` concerns the item of the call, not the shop or the request envelope.

    ItemRefused, a bad parameter (except a bad signature or envelope: timestamp, partner, token) and an
    unknown business code are the item's problem; the rest of the shop goes on.
    """
    if isinstance(error, ItemRefused):
        return True
    if isinstance(error, InvalidRequest):
        bare = bare_code(error.code or "")
        return bool(bare) and bare != "error_sign" and not _ENVELOPE_MESSAGE.search(str(error))
    bare = bare_code(error.code or "")
    return type(error) is ConnectorError and bool(bare) and bare not in _SHOP_LEVEL_CODES


# --- the signed transport both ShopeeApp and ShopeeConnector use ------------------------------


class _Wire:
    """Signs, sends and unwraps one request; raises the typed error. No retries here."""

    def __init__(
        self,
        partner_id: int,
        partner_key: str,
        host: str,
        client: httpx.Client | None,
        timeout_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.partner_id, self._partner_key = int(partner_id), partner_key
        self.host = host.rstrip("/")
        self._client = client if client is not None else httpx.Client()
        self._owns_client = client is None
        self._timeout_s, self._clock = timeout_s, clock

    def signed_query(self, path: str, access_token: str | None = None, shop_id: int | None = None) -> Json:
        timestamp = int(self._clock())
        query: Json = {
            "partner_id": self.partner_id,
            "timestamp": timestamp,
            "sign": sign(self._partner_key, base_string(self.partner_id, path, timestamp, access_token, shop_id)),
        }
        if access_token is not None and shop_id is not None:
            query.update(access_token=access_token, shop_id=shop_id)
        return query

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        access_token: str | None = None,
        shop_id: int | None = None,
        token_call: bool = False,
    ) -> Json:
        """One signed request; returns the whole JSON payload (envelope or token fields)."""
        query = {**self.signed_query(path, access_token, shop_id), **(params or {})}
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        secrets = (self._partner_key, access_token or "")
        try:
            response = self._client.request(
                method, self.host + path, params=query, content=content, headers=headers, timeout=self._timeout_s
            )
        except httpx.TimeoutException as error:
            message = f"{method} {path}: no answer within {self._timeout_s} s ({type(error).__name__})"
            raise Transient(message, platform=PLATFORM, code="timeout") from None
        except httpx.TransportError as error:
            message = f"{method} {path}: {type(error).__name__}: {_scrub(str(error), secrets)}"
            raise Transient(message, platform=PLATFORM, code="network") from None
        sent_fields = [*(params or {}), *(body or {})]
        try:
            return _unwrap(response, path, sent_fields, secrets)
        except (AuthExpired, ItemRefused) as error:
            if not token_call:
                raise
            # On the token endpoints an auth error means the code or refresh token is dead.
            raise AuthRevoked(str(error), platform=PLATFORM, code=error.code, request_id=error.request_id) from None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _unwrap(response: httpx.Response, path: str, sent_fields: Sequence[str], secrets: Sequence[str]) -> Json:
    try:
        payload = json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        status = response.status_code
        raise _error_for(
            "",
            f"HTTP {status} without a JSON body",
            path=path,
            http_status=status if status >= 400 else 502,  # a 2xx that is not JSON: a broken proxy, try again
            retry_after=_retry_after(response.headers),
        )
    code = str(payload.get("error") or "")
    if code or response.status_code >= 400:
        request_id = payload.get("request_id")
        raise _error_for(
            code,
            _scrub(str(payload.get("message") or ""), secrets),
            path=path,
            http_status=response.status_code,
            request_id=str(request_id) if request_id else None,
            retry_after=_retry_after(response.headers),
            sent_fields=sent_fields,
        )
    if payload.get("warning"):
        log.info("shopee %s warning: %s", path, _scrub(str(payload["warning"]), secrets))
    return payload


# --- the app (partner-level calls) ----------------------------------------------------------


class ShopeeApp:
    """Partner-level calls: the authorization link, token exchange and refresh, push configuration."""

    def __init__(
        self,
        partner_id: int,
        partner_key: str,
        host: str,
        *,
        client: httpx.Client | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._wire = _Wire(partner_id, partner_key, host, client, timeout_s, clock)
        self._policy, self._clock = policy, clock

    def __repr__(self) -> str:
        return f"ShopeeApp(partner_id={self._wire.partner_id}, host={self._wire.host!r})"

    def close(self) -> None:
        self._wire.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Json:
        return call_with_retries(lambda: self._wire.send(method, path, **kwargs), policy=self._policy)

    def authorization_url(self, redirect_url: str) -> str:
        """The link a seller opens to authorize this app (valid 5 minutes); it redirects back with code and shop_id."""
        query = {**self._wire.signed_query(PATH_AUTH_PARTNER), "redirect": redirect_url}
        return f"{self._wire.host}{PATH_AUTH_PARTNER}?{urlencode(query)}"

    def exchange_code(self, code: str, shop_id: str | int) -> TokenGrant:
        """POST /api/v2/auth/token/get: the authorization code (single use, 10 minutes) for a token pair."""
        body = {"code": code, "partner_id": self._wire.partner_id, "shop_id": _wire_id(str(shop_id), "shop_id")}
        payload = self._call("POST", PATH_TOKEN_GET, body=body, token_call=True)
        return self._grant(payload, str(shop_id))

    def refresh(self, refresh_token: str, shop_id: str | int) -> TokenGrant:
        """POST /api/v2/auth/access_token/get: a NEW access token AND a NEW refresh token; store both.

        The old refresh token stops working (single use). A refresh whose answer is lost in a timeout
        is retried; if the first one had landed, the retry is refused and AuthRevoked is raised.
        """
        body = {"refresh_token": refresh_token, "partner_id": self._wire.partner_id}
        body["shop_id"] = _wire_id(str(shop_id), "shop_id")
        payload = self._call("POST", PATH_TOKEN_REFRESH, body=body, token_call=True)
        return self._grant(payload, str(shop_id))

    def _grant(self, payload: Json, shop_id: str) -> TokenGrant:
        access, refresh = payload.get("access_token"), payload.get("refresh_token")
        if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
            raise ConnectorError("token answer without access_token/refresh_token", platform=PLATFORM)
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        return TokenGrant(
            access_token=access,
            refresh_token=refresh,
            access_token_expires_at=_expiry(payload.get("expire_in"), now),
            refresh_token_expires_at=now + REFRESH_TOKEN_LIFETIME,
            shop_id=shop_id,
        )

    def register_webhook(self, callback_url: str, codes: Sequence[int] = PUSH_CODES) -> list[Subscription]:
        """POST /api/v2/push/set_app_push_config (public sign), one call per push code.

        One callback URL serves the whole app. Each code is switched on by its own call, so a code
        Shopee refuses (22 is unconfirmed) is reported as `Subscription(ok=False, message=...)` and the
        others go on.
        """
        subscriptions: list[Subscription] = []
        for code in codes:
            body = {"callback_url": callback_url, "set_push_config_on": [code]}
            try:
                self._call("POST", PATH_PUSH_CONFIG, body=body)
            except ConnectorError as error:
                subscriptions.append(Subscription(topic=str(code), ok=False, message=str(error)))
            else:
                subscriptions.append(Subscription(topic=str(code), ok=True))
        return subscriptions

    def get_shop_profile(self, access_token: str, shop_id: str | int) -> ShopProfile:
        """GET /api/v2/shop/get_shop_info with a fresh grant: what the OAuth flow needs to accept a shop
        (the region decides price decimals; a cross-border CNSC/KRSC shop is refused by the core)."""
        shop = _wire_id(str(shop_id), "shop_id")
        payload = self._call("GET", PATH_SHOP_INFO, access_token=access_token, shop_id=shop)
        return _shop_profile(str(shop_id), payload)

    def get_lost_pushes(self) -> tuple[list[MarketplaceEvent], int | None, bool]:
        """GET /api/v2/push/get_lost_push_message: up to 100 undelivered pushes of the last 3 days.

        Returns (events, last_message_id, has_next_page). Lost pushes are per app, for every shop.
        """
        response = _dict(self._call("GET", PATH_LOST_PUSH).get("response"))
        events = [event for entry in _objects(response.get("push_message_list")) if (event := _lost_push_event(entry))]
        last = response.get("last_message_id")
        last_id = int(last) if isinstance(last, int) and not isinstance(last, bool) else None
        return events, last_id, bool(response.get("has_next_page"))

    def confirm_lost_pushes(self, last_message_id: int) -> None:
        """POST /api/v2/push/confirm_consumed_lost_push_message: forget pushes up to this id."""
        self._call("POST", PATH_CONFIRM_LOST_PUSH, body={"last_message_id": last_message_id})

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        """Every lost push, 100 at a time, each page confirmed before the next one is asked for.

        Confirming here means a crash between this call and storing the events loses them; callers
        that need at-least-once use get_lost_pushes + confirm_lost_pushes around their own commit.
        """
        events: list[MarketplaceEvent] = []
        while True:
            page, last_id, has_next = self.get_lost_pushes()
            events.extend(page)
            if last_id is None or not page:
                return events
            self.confirm_lost_pushes(last_id)
            if not has_next:
                return events


def _lost_push_data(raw: Any) -> Any:
    """`data` of a lost push: documented as a string (JSON, or in the published sample a Python-style
    dict with single quotes); an object is taken as it is."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return ast.literal_eval(raw)


def _lost_push_event(entry: Json) -> MarketplaceEvent | None:
    """A lost push; a malformed one is logged and skipped, not fatal.

    Its `timestamp` is the time the push was lost. Its `data` is either the push's data or, as in the
    published example, the whole original push `{data, shop_id, code, timestamp, msg_id?}`: then the
    inner push is used, so the event gets the id (and time) the live push had.
    """
    try:
        data = _lost_push_data(entry.get("data"))
        shop_id, code, timestamp, msg_id = entry.get("shop_id"), entry.get("code"), entry.get("timestamp"), None
        if isinstance(data, dict) and isinstance(data.get("data"), dict) and "code" in data:
            shop_id = data.get("shop_id", shop_id)
            code = data.get("code", code)
            timestamp = data.get("timestamp", timestamp)
            msg_id = data.get("msg_id")
            data = data["data"]
        return _push_event(shop_id, code, timestamp, data, msg_id)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, PushParseError) as error:
        log.error("shopee lost push skipped: %s", error)
        return None


def _shop_profile(shop_id: str, payload: Json) -> ShopProfile:
    """get_shop_info answers at the top level (no `response` object)."""
    info = _dict(payload.get("response")) or payload
    cross_border = any(info.get(flag) is True for flag in ("is_cb", "is_cnsc", "is_upgraded_cbsc", "is_direct_shop"))
    return ShopProfile(
        shop_id=shop_id,
        name=str(info.get("shop_name") or ""),
        region=str(info.get("region") or "").upper(),
        cross_border=cross_border,
    )


# --- the connector (one shop) ---------------------------------------------------------------


class ShopeeConnector:
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
        self._shop = _wire_id(credentials.shop_id, "shop_id")
        self._access_token = credentials.access_token
        self._gate, self._refresh, self._policy = gate, refresh, policy
        self._logistic_ids = tuple(logistic_ids)
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
        return _dict(payload.get("response"))

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
                "update_time_from": _unix(since),
                "update_time_to": _unix(until),
            }
            response = self._call("GET", PATH_ITEM_LIST, params=params)
            for entry in _objects(response.get("item")):
                yield ItemChange(
                    item_id=str(entry["item_id"]),
                    updated_at=_from_unix(entry.get("update_time", 0)),
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
        ids = [_wire_id(item_id, "item_id") for item_id in dict.fromkeys(item_ids)]
        listings: list[RemoteListing] = []
        for batch in _chunks(ids, ITEM_BATCH):
            response = self._call("GET", PATH_ITEM_BASE_INFO, params={"item_id_list": _csv(batch)})
            for raw in _objects(response.get("item_list")):
                models = None
                if raw.get("has_model"):
                    models = self._call("GET", PATH_MODEL_LIST, params={"item_id": raw["item_id"]})
                listings.append(_listing(self.shop_id, raw, models))
        return listings

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        """get_order_detail, 50 order_sn per call (ONE comma-joined string), asking for `item_list`.

        An order Shopee does not know is left out: when a call fails with `error_not_found`, the batch
        is split in halves until the unknown order_sn are isolated (an id with a comma is no order_sn).
        """
        wanted = [sn for sn in dict.fromkeys(str(sn).strip() for sn in order_ids) if sn and "," not in sn]
        orders: list[RemoteOrder] = []
        for batch in _chunks(wanted, ORDER_BATCH):
            orders.extend(self._order_batch(batch))
        return orders

    def _order_batch(self, batch: Sequence[str]) -> list[RemoteOrder]:
        params = {"order_sn_list": _csv(batch), "response_optional_fields": "item_list"}
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
        return [_order(self.shop_id, raw) for raw in _objects(response.get("order_list"))]

    def list_changed_orders(self, since: datetime, until: datetime) -> Iterator[RemoteOrder]:
        """Every order updated in [since, until]: get_order_list by update_time in windows of at most
        15 days, 100 per page with the cursor, then get_order_detail 50 at a time, with lines."""
        start, end = _unix(since), _unix(until)
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
                for entry in _objects(response.get("order_list")):
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
        return _shop_profile(self.shop_id, payload)

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
                if bare_code(error.code or "") not in _SINGLE_LOCATION_CODES:
                    raise
                payload = {}
            self._locations = _locations(payload.get("response"))
        return list(self._locations)

    def _seller_stock(self, quantity: int) -> list[Json]:
        """`seller_stock` for one model: everything at the default location, 0 at the others."""
        locations = self.list_locations()
        if not locations:
            return [{"stock": quantity}]
        return [
            {"location_id": location.location_id, "stock": quantity if index == 0 else 0}
            for index, location in enumerate(locations)
        ]

    # -- writing prices and stock --

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        """update_stock, one item per call, 50 models per call; each model's outcome in the result.

        The quantity is the model's SELLABLE stock: all of it at the shop's default location, 0 at
        the others. A business refusal (promotion-reserved stock, holiday mode, location...) fails the
        models of that call with Shopee's message; the shop goes on.
        """
        wire_item = _wire_id(item_id, "item_id")
        for sku_id, quantity in stock.items():
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidRequest(f"stock of {sku_id} must be an integer >= 0", platform=PLATFORM)
        entries = [(_wire_id(sku_id, "model_id"), quantity) for sku_id, quantity in stock.items()]
        if entries:
            self.list_locations()

        def send(batch: Sequence[tuple[int, int]]) -> list[SkuResult]:
            stock_list = [
                {"model_id": model, "seller_stock": self._seller_stock(quantity)} for model, quantity in batch
            ]
            body = {"item_id": wire_item, "stock_list": stock_list}
            return _sku_results([model for model, _ in batch], self._call("POST", PATH_UPDATE_STOCK, body=body))

        results = _run_batches(_chunks(entries, MODEL_BATCH), send, lambda entry: str(entry[0]))
        return WriteResult(item_id=item_id, results=tuple(results))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        """update_price (`original_price`), one item per call, 50 models per call; model '0' for no models.

        A price the shop's region cannot take (decimals where it has none) raises InvalidRequest before
        anything is sent; a business refusal fails the models of that call with Shopee's message.
        """
        wire_item = _wire_id(item_id, "item_id")
        entries = [
            (_wire_id(sku, "model_id"), _wire_price(price, f"price of {sku}", self.region))
            for sku, price in prices.items()
        ]

        def send(batch: Sequence[tuple[int, float | int]]) -> list[SkuResult]:
            price_list = [{"model_id": model, "original_price": price} for model, price in batch]
            body = {"item_id": wire_item, "price_list": price_list}
            return _sku_results([model for model, _ in batch], self._call("POST", PATH_UPDATE_PRICE, body=body))

        results = _run_batches(_chunks(entries, MODEL_BATCH), send, lambda entry: str(entry[0]))
        return WriteResult(item_id=item_id, results=tuple(results))

    # -- writing listings --

    def update_fields(self, item_id: str, fields: ListingFields) -> None:
        """update_item with the fields that are set; nothing is sent when none is."""
        body: Json = {"item_id": _wire_id(item_id, "item_id")}
        if fields.title is not None:
            body["item_name"] = fields.title
        if fields.description is not None:
            body["description"] = fields.description
        if fields.images is not None:
            body["image"] = {"image_id_list": list(fields.images)}
        if fields.weight_kg is not None:
            body["weight"] = _number(fields.weight_kg, "weight", places=None)
        if fields.dimensions is not None:
            body["dimension"] = _dimension(fields.dimensions)
        if len(body) > 1:
            self._call("POST", PATH_UPDATE_ITEM, body=body)

    def create_listing(self, draft: ListingDraft) -> CreatedListing:
        """add_item, then init_tier_variation for a listing with variants (at most 50).

        Safe to repeat: each attempt first looks for the item by its parent item_sku (and, for
        variants, for models already there), so a timeout or a crash never creates a second listing.
        """
        if len(draft.skus) > MODEL_BATCH:
            raise InvalidRequest(f"at most {MODEL_BATCH} SKUs per Shopee listing", platform=PLATFORM)
        single = len(draft.skus) == 1 and not draft.skus[0].attributes
        marker = draft.skus[0].seller_sku if single else draft.idempotency_key
        _check_variation_ratio([sku.price for sku in draft.skus], self.region)
        price = self._price_of(draft.skus)
        tiers, models = ([], []) if single else _tier_plan(draft.skus, price)
        body = _add_item_body(draft, marker, price(min(sku.price for sku in draft.skus), "original_price"))
        body["logistic_info"] = [{"logistic_id": logistic, "enabled": True} for logistic in self._logistic_ids]
        if single:
            body["seller_stock"] = self._seller_stock(draft.skus[0].stock)
        for model, sku in zip(models, draft.skus, strict=False):
            model["seller_stock"] = self._seller_stock(sku.stock)

        def add() -> int:
            found = self._find_item(marker)
            if found is not None:
                return found
            return _id_of(self._send("POST", PATH_ADD_ITEM, body=body), "item_id")

        item_id = self._attempt(add)
        if single:
            return CreatedListing(item_id=str(item_id), sku_ids={draft.skus[0].seller_sku: "0"})

        def init_variants() -> dict[str, str]:
            existing = self._send("GET", PATH_MODEL_LIST, params={"item_id": item_id})
            if not _objects(existing.get("model")):
                variation = {"item_id": item_id, **_tier_bodies(tiers), "model": models}
                existing = self._send("POST", PATH_INIT_TIER_VARIATION, body=variation)
            return {str(m.get("model_sku", "")): str(_id_of(m, "model_id")) for m in _objects(existing.get("model"))}

        sku_ids = self._attempt(init_variants)
        missing = [sku.seller_sku for sku in draft.skus if sku.seller_sku not in sku_ids]
        if missing:
            raise ConnectorError(f"item {item_id} has no models for {missing}", platform=PLATFORM)
        return CreatedListing(
            item_id=str(item_id), sku_ids={sku.seller_sku: sku_ids[sku.seller_sku] for sku in draft.skus}
        )

    def _price_of(self, skus: Sequence[SkuDraft]) -> Callable[[Decimal, str], float | int]:
        def price(value: Decimal, name: str) -> float | int:
            return _wire_price(value, name, self.region)

        for sku in skus:  # refuse before anything is sent
            price(sku.price, f"price of {sku.seller_sku}")
        return price

    def _find_item(self, item_sku: str) -> int | None:
        """The live item whose parent item_sku is exactly `item_sku` (search_item, confirmed by base info)."""
        found = self._send("GET", PATH_SEARCH_ITEM, params={"item_sku": item_sku, "offset": 0, "page_size": PAGE_SIZE})
        candidates = [c for c in found.get("item_id_list") or [] if isinstance(c, int)]
        for batch in _chunks(candidates, ITEM_BATCH):
            detail = self._send("GET", PATH_ITEM_BASE_INFO, params={"item_id_list": _csv(batch)})
            matches = [
                int(item["item_id"])
                for item in _objects(detail.get("item_list"))
                if item.get("item_sku") == item_sku
                and LISTING_STATUSES.get(str(item.get("item_status"))) is not ListingStatus.DELETED
            ]
            if matches:
                return min(matches)
        return None

    def set_active(self, item_ids: Sequence[str], active: bool) -> list[SkuResult]:
        """unlist_item, 50 items per call (`unlist` = not active); one result per item."""
        ids = [_wire_id(item_id, "item_id") for item_id in dict.fromkeys(item_ids)]

        def send(batch: Sequence[int]) -> list[SkuResult]:
            body = {"item_list": [{"item_id": item, "unlist": not active} for item in batch]}
            return _sku_results(list(batch), self._call("POST", PATH_UNLIST_ITEM, body=body), key="item_id")

        return _run_batches(_chunks(ids, UNLIST_BATCH), send, str)

    def delete_listings(self, item_ids: Sequence[str]) -> list[SkuResult]:
        """delete_item, one item per call. An item already gone (`error_item_not_found`) counts as deleted."""
        results: list[SkuResult] = []
        ids = list(dict.fromkeys(item_ids))
        for index, item_id in enumerate(ids):
            try:
                self._call("POST", PATH_DELETE_ITEM, body={"item_id": _wire_id(item_id, "item_id")})
                results.append(SkuResult(sku_id=item_id, ok=True))
            except NotFound as error:
                gone = bare_code(error.code or "") == "error_item_not_found"
                results.append(_failed(item_id, error) if not gone else SkuResult(sku_id=item_id, ok=True))
            except ConnectorError as error:
                if is_item_error(error):
                    results.append(_failed(item_id, error))  # this item's problem; a bad sign is everyone's
                    continue
                if index == 0:
                    raise
                results.extend(_failed(rest, error) for rest in ids[index:])
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


# --- wire -> normalized models --------------------------------------------------------------


def _csv(values: Iterable[Any]) -> str:
    """An array query parameter as ONE comma-joined string (`order_sn_list=A1,B2`)."""
    return ",".join(str(value) for value in values)


def _locations(raw: Any) -> list[ShopLocation]:
    """get_warehouse_detail's pickup warehouses as locations, one per location_id; the first is the default."""
    locations: list[ShopLocation] = []
    for warehouse in _objects(raw):
        location_id = str(warehouse.get("location_id") or "")
        kind = warehouse.get("warehouse_type")
        if not location_id or kind not in (None, 1) or any(loc.location_id == location_id for loc in locations):
            continue
        name = str(warehouse.get("warehouse_name") or "")
        locations.append(ShopLocation(location_id=location_id, name=name, is_default=not locations))
    return locations


def _description(raw: Json) -> str:
    """`description`, or for `description_type: extended` the text parts of the extended description."""
    if raw.get("description_type") != "extended":
        return str(raw.get("description") or "")
    fields = _objects(_dict(_dict(raw.get("description_info")).get("extended_description")).get("field_list"))
    texts = [str(field.get("text") or "") for field in fields if field.get("field_type", "text") == "text"]
    return "\n".join(text for text in texts if text) or str(raw.get("description") or "")


def _stock(info: Any) -> tuple[StockLocation, ...]:
    rows = _objects(_dict(info).get("seller_stock"))
    return tuple(
        StockLocation(location_id=str(row.get("location_id") or ""), quantity=max(0, int(row.get("stock") or 0)))
        for row in rows
    )


def _price(price_info: Any) -> tuple[Decimal | None, str | None]:
    rows = _objects(price_info) if isinstance(price_info, list) else [_dict(price_info)]
    if not rows:
        return None, None
    currency = rows[0].get("currency")
    return _decimal(rows[0].get("original_price")), str(currency) if currency else None


def _tiers(models: Json) -> list[tuple[str, list[str]]]:
    """(name, options) per tier from `tier_variation`, else from `standardise_tier_variation`
    (tolerating either spelling of the fields in either list)."""
    for key in ("tier_variation", "standardise_tier_variation"):
        tiers = [
            (
                str(tier.get("name", tier.get("variation_name", ""))),
                [
                    str(option.get("option", option.get("variation_option_name", "")))
                    for option in _objects(tier.get("option_list", tier.get("variation_option_list")))
                ],
            )
            for tier in _objects(models.get(key))
        ]
        if tiers:
            return tiers
    return []


def _skus(raw: Json, models: Json | None) -> tuple[RemoteSku, ...]:
    if models is None:
        price, currency = _price(raw.get("price_info"))
        seller_sku = raw.get("item_sku") or None
        return (
            RemoteSku(
                sku_id="0",
                seller_sku=seller_sku,
                price=price,
                currency=currency,
                stock=_stock(raw.get("stock_info_v2")),
            ),
        )
    tiers = _tiers(models)
    skus = []
    for model in _objects(models.get("model")):
        price, currency = _price(model.get("price_info"))
        attributes = {}
        for (name, options), index in zip(tiers, model.get("tier_index") or [], strict=False):
            if isinstance(index, int) and 0 <= index < len(options):
                attributes[name] = options[index]
        skus.append(
            RemoteSku(
                sku_id=str(model["model_id"]),
                seller_sku=model.get("model_sku") or None,
                price=price,
                currency=currency,
                stock=_stock(model.get("stock_info_v2")),
                attributes=attributes,
            )
        )
    return tuple(skus)


def _listing(shop_id: str, raw: Json, models: Json | None) -> RemoteListing:
    raw_status = str(raw.get("item_status", ""))
    dimension = _dict(raw.get("dimension"))
    sizes = [_decimal(dimension.get(key)) for key in ("package_length", "package_width", "package_height")]
    dimensions = (
        Dimensions(length_cm=sizes[0], width_cm=sizes[1], height_cm=sizes[2])
        if all(size is not None and size > 0 for size in sizes)
        else None
    )
    category = raw.get("category_id")
    return RemoteListing(
        platform=PLATFORM,
        shop_id=shop_id,
        item_id=str(raw["item_id"]),
        status=LISTING_STATUSES.get(raw_status, ListingStatus.OTHER),
        raw_status=raw_status,
        title=str(raw.get("item_name") or ""),
        description=_description(raw),
        images=tuple(str(url) for url in _dict(raw.get("image")).get("image_url_list") or []),
        category_id=str(category) if category is not None else None,
        weight_kg=_decimal(raw.get("weight")),
        dimensions=dimensions,
        updated_at=_from_unix(raw.get("update_time") or 0),
        skus=_skus(raw, models),
    )


def _order(shop_id: str, raw: Json) -> RemoteOrder:
    raw_status = str(raw.get("order_status", ""))
    lines: list[OrderLine] = []
    seen: dict[str, int] = {}
    for entry in _objects(raw.get("item_list")):
        line_id = f"{entry.get('item_id')}:{entry.get('model_id', 0)}"
        seen[line_id] = seen.get(line_id, 0) + 1
        quantity = int(entry.get("model_quantity_purchased") or 0)
        if quantity <= 0:
            continue
        # Partial cancellation: the line keeps what was bought; `cancelled_qty` of those units are gone.
        cancelled = min(quantity, max(0, int(entry.get("cancelled_qty") or 0)))
        lines.append(
            OrderLine(
                # Shopee has no line id: item:model, with a counter when the same model appears twice.
                line_id=line_id if seen[line_id] == 1 else f"{line_id}:{seen[line_id]}",
                item_id=str(entry.get("item_id")),
                sku_id=str(entry.get("model_id", 0)),
                seller_sku=entry.get("model_sku") or entry.get("item_sku") or None,
                quantity=quantity,
                cancelled_quantity=cancelled,
            )
        )
    return RemoteOrder(
        platform=PLATFORM,
        shop_id=shop_id,
        order_id=str(raw.get("order_sn")),
        status=ORDER_STATUSES.get(raw_status, OrderStatus.OTHER),
        raw_status=raw_status,
        lines=tuple(lines),
        updated_at=_from_unix(raw.get("update_time") or raw.get("create_time") or 0),
    )


def _sku_results(requested: Sequence[int], response: Json, *, key: str = "model_id") -> list[SkuResult]:
    """One SkuResult per requested id from success_list / failure_list; an id in neither is a failure."""
    succeeded = {str(entry.get(key)) for entry in _objects(response.get("success_list"))}
    failed = {
        str(entry.get(key)): str(entry.get("failed_reason") or "") for entry in _objects(response.get("failure_list"))
    }
    results = []
    for wire_id in map(str, requested):
        if wire_id in failed:
            results.append(SkuResult(sku_id=wire_id, ok=False, error_code="failure_list", message=failed[wire_id]))
        elif wire_id in succeeded:
            results.append(SkuResult(sku_id=wire_id, ok=True))
        else:
            results.append(SkuResult(sku_id=wire_id, ok=False, error_code="no_result", message="not in the answer"))
    return results


def _failed(sku_id: str, error: ConnectorError) -> SkuResult:
    return SkuResult(sku_id=sku_id, ok=False, error_code=error.code or type(error).__name__, message=str(error))


def _run_batches(
    batches: Sequence[Sequence[T]], send: Callable[[Sequence[T]], list[SkuResult]], key: Callable[[T], str]
) -> list[SkuResult]:
    """Send batch after batch. An item-level refusal fails that batch's SKUs with the platform's words
    and the next batch goes on; another call-level failure after the first batch fails the rest per SKU
    (what already landed is not lost); on the first batch it raises."""
    results: list[SkuResult] = []
    for index, batch in enumerate(batches):
        try:
            results.extend(send(batch))
        except ConnectorError as error:
            if is_item_error(error):
                results.extend(_failed(key(entry), error) for entry in batch)
                continue
            if index == 0:
                raise
            results.extend(_failed(key(entry), error) for rest in batches[index:] for entry in rest)
            break
    return results


def _dimension(dimensions: Dimensions) -> Json:
    return {
        "package_length": _whole_cm(dimensions.length_cm, "package_length"),
        "package_width": _whole_cm(dimensions.width_cm, "package_width"),
        "package_height": _whole_cm(dimensions.height_cm, "package_height"),
    }


def _tier_plan(
    skus: Sequence[SkuDraft], price: Callable[[Decimal, str], float | int]
) -> tuple[list[tuple[str, list[str]]], list[Json]]:
    """Tiers (name, options) and the model list for init_tier_variation from the SKUs' attributes (at
    most 2 tiers). SKUs without attributes become one tier "Variation" whose options are the seller SKUs.
    The models' `seller_stock` is filled in by the caller (it depends on the shop's locations)."""
    names = list(skus[0].attributes)
    if any(set(sku.attributes) != set(names) for sku in skus):
        raise InvalidRequest("every SKU of a listing needs the same attribute names", platform=PLATFORM)
    if len(names) > 2:
        raise InvalidRequest("Shopee allows at most 2 variation tiers", platform=PLATFORM)
    values = [[sku.attributes[name] for name in names] if names else [sku.seller_sku] for sku in skus]
    names = names or ["Variation"]
    options = [list(dict.fromkeys(row[tier] for row in values)) for tier in range(len(names))]
    indexes = [[options[tier].index(row[tier]) for tier in range(len(names))] for row in values]
    if len({tuple(index) for index in indexes}) != len(indexes):
        raise InvalidRequest("two SKUs have the same variation values", platform=PLATFORM)
    models = [
        {
            "tier_index": index,
            "model_sku": sku.seller_sku,
            "original_price": price(sku.price, f"price of {sku.seller_sku}"),
        }
        for sku, index in zip(skus, indexes, strict=True)
    ]
    return list(zip(names, options, strict=True)), models


def _tier_bodies(tiers: Sequence[tuple[str, Sequence[str]]]) -> Json:
    """The variations as `standardise_tier_variation` (custom variations: ids 0, named) and, alongside,
    the deprecated `tier_variation` the reference still accepts with it."""
    return {
        "standardise_tier_variation": [
            {
                "variation_id": 0,
                "variation_name": name,
                "variation_option_list": [{"variation_option_id": 0, "variation_option_name": o} for o in options],
            }
            for name, options in tiers
        ],
        "tier_variation": [{"name": name, "option_list": [{"option": o} for o in options]} for name, options in tiers],
    }


def _add_item_body(draft: ListingDraft, item_sku: str, original_price: float | int) -> Json:
    """add_item without logistic_info and seller_stock (they depend on the shop)."""
    body: Json = {
        "item_name": draft.title,
        "description": draft.description,
        "category_id": _wire_id(draft.category_id, "category_id"),
        "original_price": original_price,
        "weight": _number(draft.weight_kg, "weight", places=None),
        "image": {"image_id_list": list(draft.images)},
        "item_sku": item_sku,
    }
    if draft.dimensions is not None:
        body["dimension"] = _dimension(draft.dimensions)
    return body
