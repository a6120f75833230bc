# Shopee Open Platform v2 connector: request signing, OAuth, product and order calls, batching, push verification.
"""Everything SyncStore knows about Shopee's wire format lives in this module.

Signing: `sign = hex(HMAC-SHA256(partner_key, base_string))`; the base string is
`partner_id + path + timestamp [+ access_token + shop_id]` (shop calls) or
`partner_id + path + timestamp` (public calls: auth_partner, token get/refresh, push config and the
lost-push calls). `partner_id`, `timestamp`, `sign` (and `access_token`, `shop_id`) travel in the query
string; GET parameters are query parameters (arrays repeat the key), POST parameters a JSON body.
Every request is signed afresh, with a fresh timestamp, on every retry attempt.

Decisions worth knowing (see also the docstrings of the methods):
- "The price" of a SKU is `original_price`: what `update_price` sets. `current_price` (after
  promotions) is not synchronised.
- Prices and weights travel as JSON numbers. A Decimal is sent only when the float it becomes prints
  back as exactly the same number and it has at most 2 decimal places; otherwise the connector raises
  InvalidRequest before sending anything, so no price is ever rounded silently. Responses are parsed
  with `parse_float=Decimal`, so nothing read back passes through binary floating point.
- Stock: one quantity per model is written to the shop's default location (`seller_stock` without
  `location_id`); reading returns every location. Multi-warehouse allocation is out of scope here.
- Images: Shopee wants `image_id_list` from its media upload; the connector passes the strings it is
  given as image ids (the simulator accepts URLs as ids). Uploading is a later concern.
- Error codes: `error_rate_limit`/HTTP 429 -> RateLimited (Retry-After honoured), `error_limit` ->
  QuotaExhausted, `error_auth`/`invalid_acceess_token` -> AuthExpired, or AuthRevoked when the message
  says the shop revoked/deauthorized access (and always on the token endpoints: a dead refresh token
  means the shop must connect again), `error_sign`/`error_param` -> InvalidRequest (never retried),
  `error_item_not_found`/`error_item_not_belong_shop` -> NotFound, server errors, HTTP 5xx, timeouts and
  network errors -> Transient. Unknown codes -> ConnectorError (not retried). Errors carry the code and
  request id; the access token and partner key are scrubbed from every message.
- Batches: item ids 50 per detail call, models 50 per price/stock call (one item per call), items 50
  per unlist call, orders 50 per detail call, list pages of 100. When a later batch of one operation
  fails at call level, the models/items of the remaining batches are reported as failed SkuResults
  (with the error's code) so what already landed is not lost; a failure of the first batch raises.
- `add_item` has no idempotency key on Shopee. `create_listing` therefore looks the listing up first
  (`search_item` by `item_sku`, confirmed through `get_item_base_info`) on every attempt: a retry after
  a timeout, or a rerun after a crash, finds the item created before instead of adding a second one.
  The parent `item_sku` is the SKU's own seller SKU for a single-SKU listing and the draft's
  idempotency key for a listing with variants.
- Push event ids: sha256 over the canonical JSON of (shop_id, code, timestamp, data), so a push
  delivered live and the same push fetched later through `get_lost_push_message` (which hands out
  `data` as a JSON string, not the original bytes) get the same id; retries of a push carry the same
  body and so the same id too.
"""

from __future__ import annotations

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
    SkuDraft,
    SkuResult,
    StockLocation,
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
PATH_ORDER_DETAIL: Final = "/api/v2/order/get_order_detail"

# --- limits and lifetimes -------------------------------------------------------------------

ITEM_BATCH: Final = 50
MODEL_BATCH: Final = 50
UNLIST_BATCH: Final = 50
ORDER_BATCH: Final = 50
PAGE_SIZE: Final = 100
TIMESTAMP_TOLERANCE_S: Final = 300
ACCESS_TOKEN_LIFETIME: Final = timedelta(hours=4)
REFRESH_TOKEN_LIFETIME: Final = timedelta(days=30)
# Every status get_item_list is asked for in one call (arrays repeat the key), so deletions and bans
# made on the marketplace show up in the changed-items poll too.
POLLED_ITEM_STATUSES: Final = ("NORMAL", "UNLIST", "BANNED", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE")
# Push codes SyncStore subscribes to in set_app_push_config.
PUSH_CODES: Final = (1, 2, 3, 8, 12, 22)

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
_AUTH_CODES: Final = frozenset({"error_auth", "invalid_acceess_token", "invalid_access_token"})
_INVALID_CODES: Final = frozenset({"error_sign", "error_param"})
_NOT_FOUND_CODES: Final = frozenset({"error_item_not_found", "error_item_not_belong_shop"})
_REVOKED = re.compile(r"revoked|deauthori[sz]ed|not authori[sz]ed|cancel(l)?ed authori[sz]ation", re.IGNORECASE)

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


def push_event_id(shop_id: str | None, code: int, timestamp: int, data: Mapping[str, Any]) -> str:
    """A stable id for one notification: sha256 of the canonical JSON of shop, code, timestamp and data."""
    canonical = _CANONICAL_JSON.encode([shop_id, code, timestamp, data])
    return hashlib.sha256(canonical.encode()).hexdigest()


# Built once: `json.dumps` with options builds a new encoder on every call (the webhook hot path).
_CANONICAL_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def parse_push(raw_body: bytes | str) -> MarketplaceEvent:
    """Normalize a (verified) push body `{code, shop_id, timestamp, data}` into a MarketplaceEvent."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise PushParseError(f"push body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise PushParseError("push body is not a JSON object")
    return _push_event(payload.get("shop_id"), payload.get("code"), payload.get("timestamp"), payload.get("data", {}))


def _push_event(shop_id: Any, code: Any, timestamp: Any, data: Any) -> MarketplaceEvent:
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
        event_id=push_event_id(shop_text, code, timestamp, data),
        kind=kind,
        raw_type=str(code),
        shop_id=shop_text,
        occurred_at=occurred_at,
        order_id=str(order_id) if kind is EventKind.ORDER_STATUS else None,
        item_id=str(item_id) if isinstance(item_id, (int, str)) and not isinstance(item_id, bool) else None,
        data=data,
    )


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
    """The typed error for a Shopee error code (or, without one, the HTTP status)."""
    common: dict[str, Any] = {"platform": PLATFORM, "code": code or None, "request_id": request_id}
    text = f"{path}: {message or code or f'HTTP {http_status}'}"
    if code == "error_rate_limit" or (not code and http_status == 429):
        return RateLimited(text, retry_after=retry_after, **common)
    if code == "error_limit":
        return QuotaExhausted(text, **common)
    if code in _AUTH_CODES:
        return (AuthRevoked if _REVOKED.search(message) else AuthExpired)(text, **common)
    if code in _INVALID_CODES:
        fields = {name: message for name in sent_fields if re.search(rf"\b{re.escape(name)}\b", message)}
        return InvalidRequest(text, fields=fields, **common)
    if code in _NOT_FOUND_CODES:
        return NotFound(text, **common)
    if code in _TRANSIENT_CODES or http_status >= 500:
        return Transient(text, **common)
    if not code and http_status >= 400:
        return InvalidRequest(text, **common)
    return ConnectorError(text, **common)


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
        except AuthExpired as error:
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

    def register_webhook(self, callback_url: str) -> None:
        """POST /api/v2/push/set_app_push_config (public sign): one callback URL for the whole app."""
        body = {"callback_url": callback_url, "set_push_config_on": list(PUSH_CODES)}
        self._call("POST", PATH_PUSH_CONFIG, body=body)

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


def _lost_push_event(entry: Json) -> MarketplaceEvent | None:
    """A lost push (`data` arrives as a JSON string); a malformed one is logged and skipped, not fatal."""
    try:
        data = json.loads(entry["data"]) if isinstance(entry.get("data"), str) else entry.get("data")
        return _push_event(entry.get("shop_id"), entry.get("code"), entry.get("timestamp"), data)
    except (ValueError, PushParseError) as error:
        log.error("shopee lost push skipped: %s", error)
        return None


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
    ) -> None:
        self.shop_id = credentials.shop_id
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
            response = self._call("GET", PATH_ITEM_BASE_INFO, params={"item_id_list": list(batch)})
            for raw in _objects(response.get("item_list")):
                models = None
                if raw.get("has_model"):
                    models = self._call("GET", PATH_MODEL_LIST, params={"item_id": raw["item_id"]})
                listings.append(_listing(self.shop_id, raw, models))
        return listings

    def get_orders(self, order_ids: Sequence[str]) -> list[RemoteOrder]:
        """get_order_detail, 50 order_sn per call, asking for `item_list`."""
        orders: list[RemoteOrder] = []
        for batch in _chunks(list(dict.fromkeys(order_ids)), ORDER_BATCH):
            params = {"order_sn_list": list(batch), "response_optional_fields": "item_list"}
            response = self._call("GET", PATH_ORDER_DETAIL, params=params)
            orders.extend(_order(self.shop_id, raw) for raw in _objects(response.get("order_list")))
        return orders

    # -- writing prices and stock --

    def update_stock(self, item_id: str, stock: Mapping[str, int]) -> WriteResult:
        """update_stock, one item per call, 50 models per call; each model's outcome in the result.

        The quantity is the model's seller stock at the default location; it must not be below the
        stock already reserved by orders (Shopee then fails that model).
        """
        wire_item = _wire_id(item_id, "item_id")
        for sku_id, quantity in stock.items():
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise InvalidRequest(f"stock of {sku_id} must be an integer >= 0", platform=PLATFORM)
        entries = [(_wire_id(sku_id, "model_id"), quantity) for sku_id, quantity in stock.items()]

        def send(batch: Sequence[tuple[int, int]]) -> list[SkuResult]:
            stock_list = [{"model_id": model, "seller_stock": [{"stock": quantity}]} for model, quantity in batch]
            body = {"item_id": wire_item, "stock_list": stock_list}
            return _sku_results([model for model, _ in batch], self._call("POST", PATH_UPDATE_STOCK, body=body))

        results = _run_batches(_chunks(entries, MODEL_BATCH), send, lambda entry: str(entry[0]))
        return WriteResult(item_id=item_id, results=tuple(results))

    def update_price(self, item_id: str, prices: Mapping[str, Decimal]) -> WriteResult:
        """update_price (`original_price`), one item per call, 50 models per call; model '0' for no models."""
        wire_item = _wire_id(item_id, "item_id")
        entries = [(_wire_id(sku, "model_id"), _number(price, f"price of {sku}")) for sku, price in prices.items()]

        def send(batch: Sequence[tuple[int, float]]) -> list[SkuResult]:
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
        tier_variation, models = ([], []) if single else _tier_plan(draft.skus)
        body = _add_item_body(draft, marker, single, self._logistic_ids)

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
                tiers = {"item_id": item_id, "tier_variation": tier_variation, "model": models}
                existing = self._send("POST", PATH_INIT_TIER_VARIATION, body=tiers)
            return {str(m.get("model_sku", "")): str(_id_of(m, "model_id")) for m in _objects(existing.get("model"))}

        sku_ids = self._attempt(init_variants)
        missing = [sku.seller_sku for sku in draft.skus if sku.seller_sku not in sku_ids]
        if missing:
            raise ConnectorError(f"item {item_id} has no models for {missing}", platform=PLATFORM)
        return CreatedListing(
            item_id=str(item_id), sku_ids={sku.seller_sku: sku_ids[sku.seller_sku] for sku in draft.skus}
        )

    def _find_item(self, item_sku: str) -> int | None:
        """The live item whose parent item_sku is exactly `item_sku` (search_item, confirmed by base info)."""
        found = self._send("GET", PATH_SEARCH_ITEM, params={"item_sku": item_sku, "offset": 0, "page_size": PAGE_SIZE})
        candidates = [c for c in found.get("item_id_list") or [] if isinstance(c, int)]
        for batch in _chunks(candidates, ITEM_BATCH):
            detail = self._send("GET", PATH_ITEM_BASE_INFO, params={"item_id_list": list(batch)})
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
                gone = error.code == "error_item_not_found"
                results.append(_failed(item_id, error) if not gone else SkuResult(sku_id=item_id, ok=True))
            except ConnectorError as error:
                if isinstance(error, InvalidRequest) and error.code != "error_sign":
                    results.append(_failed(item_id, error))  # this item's problem; a bad sign is everyone's
                    continue
                if index == 0:
                    raise
                results.extend(_failed(rest, error) for rest in ids[index:])
                break
        return results

    # -- pushes --

    def register_webhook(self, url: str) -> None:
        """set_app_push_config: the app's one callback URL (for every shop of the app)."""
        self._app.register_webhook(url)

    def fetch_missed_events(self) -> list[MarketplaceEvent]:
        """get_lost_push_message + confirm_consumed_lost_push_message: every shop's lost pushes."""
        return self._app.fetch_missed_events()


# --- wire -> normalized models --------------------------------------------------------------


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
    tiers = _objects(models.get("tier_variation"))
    skus = []
    for model in _objects(models.get("model")):
        price, currency = _price(model.get("price_info"))
        attributes = {}
        for tier, index in zip(tiers, model.get("tier_index") or [], strict=False):
            options = _objects(tier.get("option_list"))
            if isinstance(index, int) and 0 <= index < len(options):
                attributes[str(tier.get("name", ""))] = str(options[index].get("option", ""))
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
        description=str(raw.get("description") or ""),
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
        lines.append(
            OrderLine(
                # Shopee has no line id: item:model, with a counter when the same model appears twice.
                line_id=line_id if seen[line_id] == 1 else f"{line_id}:{seen[line_id]}",
                item_id=str(entry.get("item_id")),
                sku_id=str(entry.get("model_id", 0)),
                seller_sku=entry.get("model_sku") or entry.get("item_sku") or None,
                quantity=quantity,
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
    """Send batch after batch; a call-level failure after the first batch fails the rest per SKU."""
    results: list[SkuResult] = []
    for index, batch in enumerate(batches):
        try:
            results.extend(send(batch))
        except ConnectorError as error:
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


def _tier_plan(skus: Sequence[SkuDraft]) -> tuple[list[Json], list[Json]]:
    """tier_variation and model lists for init_tier_variation from the SKUs' attributes (at most 2 tiers).

    SKUs without attributes become one tier "Variation" whose options are the seller SKUs.
    """
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
    tier_variation = [
        {"name": name, "option_list": [{"option": option} for option in options[tier]]}
        for tier, name in enumerate(names)
    ]
    models = [
        {
            "tier_index": index,
            "model_sku": sku.seller_sku,
            "original_price": _number(sku.price, f"price of {sku.seller_sku}"),
            "seller_stock": [{"stock": sku.stock}],
        }
        for sku, index in zip(skus, indexes, strict=True)
    ]
    return tier_variation, models


def _add_item_body(draft: ListingDraft, item_sku: str, single: bool, logistic_ids: Sequence[int]) -> Json:
    body: Json = {
        "item_name": draft.title,
        "description": draft.description,
        "category_id": _wire_id(draft.category_id, "category_id"),
        "original_price": _number(min(sku.price for sku in draft.skus), "original_price"),
        "weight": _number(draft.weight_kg, "weight", places=None),
        "image": {"image_id_list": list(draft.images)},
        "logistic_info": [{"logistic_id": logistic, "enabled": True} for logistic in logistic_ids],
        "item_sku": item_sku,
    }
    if single:
        body["seller_stock"] = [{"stock": draft.skus[0].stock}]
    if draft.dimensions is not None:
        body["dimension"] = _dimension(draft.dimensions)
    return body
