# Local Shopee Open Platform v2 simulator: a stateful server that verifies every request the way Shopee does.
"""A Shopee you can run on 127.0.0.1.

It keeps shops, items with models, stock per location and reserved stock, orders, tokens, auth codes,
the registered push URL and undelivered pushes, and it checks each request like the platform:
known partner_id, timestamp within 5 minutes (`error_param` "Timestamp is expired"), the HMAC sign for
the kind of call (`error_sign`), an access token valid for that shop (`invalid_acceess_token`), an
authorized shop (`error_auth` mentioning the revoked authorization), batch limits (`error_param`
naming the field), unknown items (`error_item_not_found`) and other shops' items
(`error_item_not_belong_shop`). Envelope `{request_id, error, message, warning, response}`; the token
endpoints answer with top-level fields.

The signing check is written here independently of `connectors.shopee` on purpose: a bug in the
connector's signing cannot be mirrored by the simulator and pass unnoticed.

Fault injection (`FaultPlan`, replaceable at runtime through `sim.faults`): THROTTLE answers HTTP 429
`error_rate_limit` with `Retry-After: 1`; SERVER_ERROR answers HTTP 500 `error_server` before anything
is applied; TIMEOUT applies the request, then holds the answer `timeout_hold_s` (so a client with a
shorter timeout sees a timeout after its write landed). `latency_s` is added to every API request.
An optional per-shop limit per minute answers 429 `error_rate_limit` with the seconds to wait, and an
optional daily quota answers `error_limit`.

Simplifications versus the real platform (the connector does not depend on them):
- Image ids are not checked against an upload: any string is an id, and a URL id is its own URL.
- `logistic_info` must be present on add_item but may be empty (no channel list is simulated).
- `search_item` matches `item_sku` exactly and `item_name` as a case-insensitive substring.
- `seller_stock` is the total a location holds, reserved stock included; orders reserve
  (`summary_info.total_available_stock` drops), shipping consumes, cancelling releases.
- Array query parameters may repeat the key or be comma-separated.
- Unknown ids in get_item_base_info / get_order_detail are left out, with a `warning`.
- Lost pushes live in memory only; the JSON state file holds shops, items, orders, tokens and codes.
- A push counts as delivered on any 2xx (the shared WebhookSender does not yet insist on an empty body).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import math
import random
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import uvicorn
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors.simulator.common import Fault, FaultPlan, ServerThread, Ticker, WebhookSender, WriteLog

log = logging.getLogger(__name__)

DEFAULT_PARTNER_ID: Final = 2001887
DEFAULT_PARTNER_KEY: Final = "shopee-simulator-partner-key"
DEMO_SHOP_ID: Final = 100001
TIMESTAMP_WINDOW_S: Final = 300
LINK_VALIDITY_S: Final = 300
MAX_BATCH: Final = 50
MAX_PAGE: Final = 100
LOST_PUSH_PAGE: Final = 100
DELETED_STATUSES: Final = frozenset({"SELLER_DELETE", "SHOPEE_DELETE", "DELETED"})
ORDER_STATUSES: Final = frozenset(
    {
        "UNPAID",
        "READY_TO_SHIP",
        "PROCESSED",
        "RETRY_SHIP",
        "SHIPPED",
        "TO_CONFIRM_RECEIVE",
        "IN_CANCEL",
        "CANCELLED",
        "TO_RETURN",
        "COMPLETED",
    }
)
UTC8: Final = timezone(timedelta(hours=8))

Json = dict[str, Any]
CallKind = Literal["shop", "public", "token"]


# --- state ----------------------------------------------------------------------------------


class SimShop(BaseModel):
    shop_id: int
    name: str
    currency: str = "SGD"
    region: str = "SG"
    authorized: bool = False
    revoked: bool = False
    # Stock locations; "" is the single default location of a shop without multi-warehouse.
    locations: list[str] = Field(default_factory=lambda: [""])


class SimModel(BaseModel):
    model_id: int
    model_sku: str = ""
    tier_index: list[int] = Field(default_factory=list)
    original_price: Decimal
    stock: dict[str, int] = Field(default_factory=dict)
    reserved: int = 0

    @property
    def total_stock(self) -> int:
        return sum(self.stock.values())


class SimItem(BaseModel):
    item_id: int
    shop_id: int
    status: str = "NORMAL"
    name: str
    description: str = ""
    item_sku: str = ""
    category_id: int = 100001
    image_ids: list[str] = Field(default_factory=list)
    weight: Decimal = Decimal("0.5")
    dimension: dict[str, int] | None = None
    logistic_info: list[Json] = Field(default_factory=list)
    create_time: int
    update_time: int
    has_model: bool = False
    tier_variation: list[Json] = Field(default_factory=list)
    # Model 0 holds price and stock of an item without models.
    models: dict[int, SimModel] = Field(default_factory=dict)

    @property
    def deleted(self) -> bool:
        return self.status in DELETED_STATUSES


class SimOrderLine(BaseModel):
    item_id: int
    model_id: int
    quantity: int
    item_name: str
    item_sku: str
    model_sku: str


class SimOrder(BaseModel):
    order_sn: str
    shop_id: int
    status: str
    create_time: int
    update_time: int
    lines: list[SimOrderLine]
    stock_state: Literal["reserved", "consumed", "released"] = "reserved"


class SimGrant(BaseModel):
    """An access token, refresh token or authorization code."""

    value: str
    shop_id: int
    expires_at: float
    used: bool = False


class SimState(BaseModel):
    partner_id: int
    partner_key: str
    shops: dict[int, SimShop] = Field(default_factory=dict)
    items: dict[int, SimItem] = Field(default_factory=dict)
    orders: dict[str, SimOrder] = Field(default_factory=dict)
    access_tokens: dict[str, SimGrant] = Field(default_factory=dict)
    refresh_tokens: dict[str, SimGrant] = Field(default_factory=dict)
    codes: dict[str, SimGrant] = Field(default_factory=dict)
    push_url: str | None = None
    push_codes: list[int] = Field(default_factory=list)
    next_item_id: int = 800_000_001
    next_model_id: int = 900_000_001
    next_order_no: int = 1


# --- request plumbing -----------------------------------------------------------------------


class ApiError(Exception):
    """An answer with a non-empty `error`."""

    def __init__(self, error: str, message: str, status: int = 400, *, retry_after: int | None = None) -> None:
        super().__init__(f"{error}: {message}")
        self.error, self.message, self.status, self.retry_after = error, message, status, retry_after


@dataclass
class Ctx:
    shop: SimShop | None
    query: QueryParams
    body: Json
    now: float
    warnings: list[str] = field(default_factory=list)

    @property
    def shop_id(self) -> int:
        assert self.shop is not None
        return self.shop.shop_id


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _hmac_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _json_response(payload: Json, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(payload, default=_json_default, separators=(",", ":"))
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def _parse_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw, parse_float=Decimal) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ApiError("error_param", "The request body must be a JSON object.")
    return body


def _int(value: Any, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and _digits(value.strip().removeprefix("-")):
            value = int(value)
        else:
            raise ApiError("error_param", f"{name} is required and must be an integer.")
    if minimum is not None and value < minimum:
        raise ApiError("error_param", f"{name} must be at least {minimum}.")
    return int(value)


def _text(value: Any, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ApiError("error_param", f"{name} is required and must be a non-empty string.")
    return value


def _entries(value: Any, name: str, low: int, high: int) -> list[Json]:
    if not isinstance(value, list) or not low <= len(value) <= high or not all(isinstance(v, dict) for v in value):
        raise ApiError("error_param", f"{name} should have {low} to {high} entries.")
    return value


def _query_list(query: QueryParams, name: str) -> list[str]:
    """Array query parameters: the key repeated, or comma-separated values."""
    return [part.strip() for value in query.getlist(name) for part in value.split(",") if part.strip()]


def _query_ints(query: QueryParams, name: str, low: int, high: int) -> list[int]:
    values = _query_list(query, name)
    if not low <= len(values) <= high:
        raise ApiError("error_param", f"{name} should have {low} to {high} ids.")
    return [_int(value, name) for value in values]


def _query_int(query: QueryParams, name: str, default: int | None = None) -> int:
    raw = query.get(name)
    if raw is None:
        if default is None:
            raise ApiError("error_param", f"{name} is required.")
        return default
    return _int(raw, name)


def _price(value: Any) -> Decimal | None:
    """A positive price with at most 2 decimal places, else None."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    exponent = price.normalize().as_tuple().exponent
    if not price.is_finite() or price <= 0 or not isinstance(exponent, int) or exponent < -2:
        return None
    return price


def _weight(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ApiError("error_param", "weight must be a positive number (kg).")
    weight = Decimal(value)
    if weight <= 0:
        raise ApiError("error_param", "weight must be a positive number (kg).")
    return weight


def _dimension(value: Any) -> dict[str, int]:
    keys = ("package_length", "package_width", "package_height")
    if not isinstance(value, dict):
        raise ApiError("error_param", "dimension must be an object.")
    return {key: _int(value.get(key), f"dimension.{key}", minimum=1) for key in keys}


def _images(value: Any) -> list[str]:
    ids = value.get("image_id_list") if isinstance(value, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ApiError("error_param", "image.image_id_list should have at least 1 image id.")
    return list(ids)


def _image_url(image_id: str) -> str:
    return image_id if image_id.startswith(("http://", "https://")) else f"https://cf.shopee.sim/file/{image_id}"


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *extra.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# --- the simulator --------------------------------------------------------------------------


class ShopeeSimulator:
    """The simulated platform: state, the Starlette app serving it, and helpers tests and the demo use."""

    def __init__(
        self,
        partner_id: int = DEFAULT_PARTNER_ID,
        partner_key: str = DEFAULT_PARTNER_KEY,
        *,
        faults: FaultPlan | None = None,
        token_ttl_s: float = 4 * 3600,
        refresh_ttl_s: float = 30 * 86400,
        refresh_grace_s: float = 300,
        code_ttl_s: float = 600,
        rate_limit_per_minute: int | None = None,
        daily_quota: int | None = None,
        auto_approve: bool = False,
        clock: Callable[[], float] = time.time,
        state: SimState | None = None,
    ) -> None:
        self.state = state or SimState(partner_id=partner_id, partner_key=partner_key)
        self.faults = faults or FaultPlan()
        self.token_ttl_s, self.refresh_ttl_s = token_ttl_s, refresh_ttl_s
        self.refresh_grace_s, self.code_ttl_s = refresh_grace_s, code_ttl_s
        self.rate_limit_per_minute, self.daily_quota = rate_limit_per_minute, daily_quota
        self.auto_approve = auto_approve
        self.clock = clock
        self.write_log = WriteLog()
        self.sender = WebhookSender()
        self.requests: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._recent_calls: dict[int, deque[float]] = {}
        self._daily_calls: Counter[tuple[int, str]] = Counter()
        self._server: ServerThread | None = None
        self._tickers: list[Ticker] = []
        self.app = self._build_app()

    # -- serving --

    def _build_app(self) -> Starlette:
        api: list[tuple[str, str, CallKind, Callable[[Ctx], Json]]] = [
            ("POST", "/api/v2/auth/token/get", "token", self._token_get),
            ("POST", "/api/v2/auth/access_token/get", "token", self._token_refresh),
            ("POST", "/api/v2/push/set_app_push_config", "public", self._set_push_config),
            ("GET", "/api/v2/push/get_lost_push_message", "public", self._lost_pushes),
            ("POST", "/api/v2/push/confirm_consumed_lost_push_message", "public", self._confirm_lost_pushes),
            ("GET", "/api/v2/product/get_item_list", "shop", self._item_list),
            ("GET", "/api/v2/product/get_item_base_info", "shop", self._item_base_info),
            ("GET", "/api/v2/product/get_model_list", "shop", self._model_list),
            ("GET", "/api/v2/product/search_item", "shop", self._search_item),
            ("POST", "/api/v2/product/update_price", "shop", self._update_price),
            ("POST", "/api/v2/product/update_stock", "shop", self._update_stock),
            ("POST", "/api/v2/product/update_item", "shop", self._update_item),
            ("POST", "/api/v2/product/add_item", "shop", self._add_item),
            ("POST", "/api/v2/product/init_tier_variation", "shop", self._init_tier_variation),
            ("POST", "/api/v2/product/unlist_item", "shop", self._unlist_item),
            ("POST", "/api/v2/product/delete_item", "shop", self._delete_item),
            ("GET", "/api/v2/order/get_order_detail", "shop", self._order_detail),
        ]
        routes = [Route(path, self._endpoint(kind, handler), methods=[method]) for method, path, kind, handler in api]
        routes.append(Route("/api/v2/shop/auth_partner", self._auth_partner, methods=["GET"]))
        return Starlette(routes=routes)

    def _endpoint(self, kind: CallKind, handler: Callable[[Ctx], Json]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            with self._lock:
                self.requests[request.url.path] += 1
            faults = self.faults
            if faults.latency_s > 0:
                await asyncio.sleep(faults.latency_s)
            fault = faults.draw()
            if fault is Fault.THROTTLE:
                return self._error(kind, ApiError("error_rate_limit", "Too many requests.", 429, retry_after=1))
            if fault is Fault.SERVER_ERROR:
                return self._error(kind, ApiError("error_server", "Internal server error, try again later.", 500))
            response = self._handle(kind, handler, request, await request.body())
            if fault is Fault.TIMEOUT:
                await asyncio.sleep(faults.timeout_hold_s)
            return response

        return endpoint

    def _handle(self, kind: CallKind, handler: Callable[[Ctx], Json], request: Request, raw: bytes) -> Response:
        try:
            with self._lock:
                now = self.clock()
                shop = self._verify(kind, request.url.path, request.query_params, now)
                body = _parse_body(raw) if request.method == "POST" else {}
                ctx = Ctx(shop, request.query_params, body, now)
                result = handler(ctx)
        except ApiError as error:
            return self._error(kind, error)
        head = {"request_id": uuid.uuid4().hex, "error": "", "message": ""}
        if kind == "token":
            return _json_response({**head, **result})
        return _json_response({**head, "warning": "; ".join(ctx.warnings), "response": result})

    def _error(self, kind: CallKind, error: ApiError) -> Response:
        payload: Json = {"request_id": uuid.uuid4().hex, "error": error.error, "message": error.message}
        if kind != "token":
            payload.update(warning="", response=None)
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        return _json_response(payload, error.status, headers)

    def _verify(self, kind: CallKind, path: str, query: QueryParams, now: float) -> SimShop | None:
        """Shopee's checks, in order: partner, timestamp, sign, then (shop calls) shop, token, limits."""
        partner = query.get("partner_id", "")
        if not _digits(partner) or int(partner) != self.state.partner_id:
            raise ApiError("error_param", "Invalid partner_id.")
        timestamp = query.get("timestamp", "")
        if not _digits(timestamp):
            raise ApiError("error_param", "timestamp is required.")
        if abs(now - int(timestamp)) > TIMESTAMP_WINDOW_S:
            raise ApiError("error_param", "Timestamp is expired.")
        base = f"{partner}{path}{timestamp}"
        token, shop_text = query.get("access_token", ""), query.get("shop_id", "")
        if kind == "shop":
            if not token or not _digits(shop_text):
                raise ApiError("error_param", "access_token and shop_id are required.")
            base += f"{token}{shop_text}"
        expected = _hmac_hex(self.state.partner_key, base.encode())
        if not hmac.compare_digest(expected.encode(), query.get("sign", "").encode()):
            raise ApiError("error_sign", "Wrong sign.", 403)
        if kind != "shop":
            return None
        shop = self.state.shops.get(int(shop_text))
        if shop is None:
            raise ApiError("error_param", "Invalid shop_id.")
        if shop.revoked or not shop.authorized:
            raise ApiError("error_auth", "The shop has deauthorized this partner: authorization revoked.", 403)
        grant = self.state.access_tokens.get(token)
        if grant is None or grant.shop_id != shop.shop_id:
            raise ApiError("invalid_acceess_token", "Invalid access_token.", 403)
        if grant.expires_at <= now:
            raise ApiError("invalid_acceess_token", "Invalid access_token: the access token has expired.", 403)
        self._count_call(shop.shop_id, now)
        return shop

    def _count_call(self, shop_id: int, now: float) -> None:
        if self.rate_limit_per_minute:
            calls = self._recent_calls.setdefault(shop_id, deque())
            while calls and calls[0] <= now - 60:
                calls.popleft()
            if len(calls) >= self.rate_limit_per_minute:
                wait = max(1, math.ceil(calls[0] + 60 - now))
                raise ApiError("error_rate_limit", "Too many requests for this shop.", 429, retry_after=wait)
            calls.append(now)
        if self.daily_quota:
            day = (shop_id, datetime.fromtimestamp(now, tz=UTC8).date().isoformat())
            if self._daily_calls[day] >= self.daily_quota:
                raise ApiError("error_limit", "Daily API quota exceeded; it resets at 00:00 UTC+8.", 403)
            self._daily_calls[day] += 1

    # -- authorization --

    async def _auth_partner(self, request: Request) -> Response:
        """The seller's authorization page; `auto=1` (or auto_approve) approves at once with a 302."""
        query = request.query_params
        with self._lock:
            self.requests[request.url.path] += 1
            try:
                self._verify("public", request.url.path, query, self.clock())
            except ApiError as error:
                text = "This authorization link has expired." if "expired" in error.message else error.message
                return HTMLResponse(f"<h1>Authorization failed</h1><p>{html.escape(text)}</p>", status_code=400)
            redirect = query.get("redirect", "")
            if not redirect.startswith(("http://", "https://")):
                return HTMLResponse("<h1>Authorization failed</h1><p>redirect is required.</p>", status_code=400)
            shops = sorted(self.state.shops)
            chosen = int(query["shop_id"]) if _digits(query.get("shop_id", "")) else (shops[0] if shops else None)
            if chosen is None or chosen not in self.state.shops:
                return HTMLResponse("<h1>Authorization failed</h1><p>No such shop.</p>", status_code=400)
            if query.get("auto") != "1" and not self.auto_approve:
                links = "".join(
                    f'<li><a href="{html.escape(_with_query(str(request.url), {"auto": "1", "shop_id": str(s)}))}">'
                    f"Authorize {html.escape(self.state.shops[s].name)} ({s})</a></li>"
                    for s in shops
                )
                return HTMLResponse(
                    f"<h1>Shopee (simulator): authorize partner {self.state.partner_id}</h1><ul>{links}</ul>"
                )
            shop = self.state.shops[chosen]
            shop.authorized, shop.revoked = True, False
            code = self._grant(self.state.codes, chosen, self.code_ttl_s)
        return RedirectResponse(_with_query(redirect, {"code": code, "shop_id": str(chosen)}), status_code=302)

    def _grant(self, table: dict[str, SimGrant], shop_id: int, ttl_s: float) -> str:
        value = secrets.token_hex(16)
        table[value] = SimGrant(value=value, shop_id=shop_id, expires_at=self.clock() + ttl_s)
        return value

    def _token_pair(self, shop_id: int) -> Json:
        return {
            "access_token": self._grant(self.state.access_tokens, shop_id, self.token_ttl_s),
            "refresh_token": self._grant(self.state.refresh_tokens, shop_id, self.refresh_ttl_s),
            "expire_in": int(self.token_ttl_s),
            "partner_id": self.state.partner_id,
            "shop_id": shop_id,
        }

    def _token_get(self, ctx: Ctx) -> Json:
        if _int(ctx.body.get("partner_id"), "partner_id") != self.state.partner_id:
            raise ApiError("error_param", "partner_id does not match.")
        shop_id = _int(ctx.body.get("shop_id"), "shop_id")
        code = self.state.codes.get(_text(ctx.body.get("code"), "code"))
        if code is None or code.used or code.expires_at <= ctx.now or code.shop_id != shop_id:
            raise ApiError("error_auth", "Invalid code: it is unknown, used or expired.", 403)
        code.used = True
        return self._token_pair(shop_id)

    def _token_refresh(self, ctx: Ctx) -> Json:
        if _int(ctx.body.get("partner_id"), "partner_id") != self.state.partner_id:
            raise ApiError("error_param", "partner_id does not match.")
        shop_id = _int(ctx.body.get("shop_id"), "shop_id")
        grant = self.state.refresh_tokens.get(_text(ctx.body.get("refresh_token"), "refresh_token"))
        if grant is None or grant.used or grant.expires_at <= ctx.now or grant.shop_id != shop_id:
            raise ApiError("error_auth", "Invalid refresh_token: it is unknown, used or expired.", 403)
        shop = self.state.shops.get(shop_id)
        if shop is None or shop.revoked or not shop.authorized:
            raise ApiError("error_auth", "The shop has deauthorized this partner: authorization revoked.", 403)
        grant.used = True
        for token in self.state.access_tokens.values():  # the old access token lives a little longer
            if token.shop_id == shop_id:
                token.expires_at = min(token.expires_at, ctx.now + self.refresh_grace_s)
        return self._token_pair(shop_id)

    # -- push configuration and lost pushes --

    def _set_push_config(self, ctx: Ctx) -> Json:
        url = _text(ctx.body.get("callback_url"), "callback_url")
        if not url.startswith(("http://", "https://")):
            raise ApiError("error_param", "callback_url must be an http(s) URL.")
        codes = ctx.body.get("set_push_config_on", [])
        if not isinstance(codes, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
            raise ApiError("error_param", "set_push_config_on must be a list of push codes.")
        self.state.push_url, self.state.push_codes = url, sorted(set(codes))
        return {"result": "success"}

    def _lost_pushes(self, ctx: Ctx) -> Json:
        page = self.sender.take_lost(LOST_PUSH_PAGE)
        messages = []
        for push in page:
            body = json.loads(push.body)
            data = json.dumps(body.get("data", {}), separators=(",", ":"))
            messages.append(
                {"shop_id": body.get("shop_id"), "code": body["code"], "timestamp": body["timestamp"], "data": data}
            )
        return {
            "push_message_list": messages,
            "has_next_page": len(self.sender.lost) > len(page),
            "last_message_id": page[-1].message_id if page else 0,
        }

    def _confirm_lost_pushes(self, ctx: Ctx) -> Json:
        self.sender.confirm_lost(_int(ctx.body.get("last_message_id"), "last_message_id", minimum=1))
        return {}

    # -- products: reading --

    def _own_item(self, shop_id: int, item_id: int, *, live: bool = True) -> SimItem:
        item = self.state.items.get(item_id)
        if item is None or (item.shop_id == shop_id and live and item.deleted):
            raise ApiError("error_item_not_found", f"item_id {item_id} not found.", 404)
        if item.shop_id != shop_id:
            raise ApiError("error_item_not_belong_shop", f"item_id {item_id} does not belong to this shop.", 403)
        return item

    def _item_list(self, ctx: Ctx) -> Json:
        offset = _query_int(ctx.query, "offset", 0)
        page_size = _query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE or offset < 0:
            raise ApiError("error_param", f"page_size should be between 1 and {MAX_PAGE}; offset at least 0.")
        statuses = set(_query_list(ctx.query, "item_status"))
        if not statuses:
            raise ApiError("error_param", "item_status is required.")
        since = _query_int(ctx.query, "update_time_from", 0)
        until = _query_int(ctx.query, "update_time_to", 2**62)
        matches = [
            item
            for item in sorted(self.state.items.values(), key=lambda i: i.item_id)
            if item.shop_id == ctx.shop_id and item.status in statuses and since <= item.update_time <= until
        ]
        page = matches[offset : offset + page_size]
        return {
            "item": [{"item_id": i.item_id, "item_status": i.status, "update_time": i.update_time} for i in page],
            "total_count": len(matches),
            "has_next_page": offset + len(page) < len(matches),
            "next_offset": offset + len(page),
        }

    @staticmethod
    def _stock_info(model: SimModel) -> Json:
        sellers = [{"location_id": loc, "stock": qty} if loc else {"stock": qty} for loc, qty in model.stock.items()]
        return {
            "summary_info": {
                "total_reserved_stock": model.reserved,
                "total_available_stock": model.total_stock - model.reserved,
            },
            "seller_stock": sellers,
        }

    def _item_json(self, item: SimItem, shop: SimShop) -> Json:
        data: Json = {
            "item_id": item.item_id,
            "category_id": item.category_id,
            "item_name": item.name,
            "description": item.description,
            "item_sku": item.item_sku,
            "create_time": item.create_time,
            "update_time": item.update_time,
            "item_status": item.status,
            "has_model": item.has_model,
            "image": {"image_id_list": item.image_ids, "image_url_list": [_image_url(i) for i in item.image_ids]},
            "weight": item.weight,
            "logistic_info": item.logistic_info,
        }
        if item.dimension:
            data["dimension"] = item.dimension
        if not item.has_model:
            base = item.models[0]
            price = {
                "currency": shop.currency,
                "original_price": base.original_price,
                "current_price": base.original_price,
            }
            data["price_info"] = [price]
            data["stock_info_v2"] = self._stock_info(base)
        else:
            models = item.models.values()
            data["stock_info_v2"] = {
                "summary_info": {
                    "total_reserved_stock": sum(m.reserved for m in models),
                    "total_available_stock": sum(m.total_stock - m.reserved for m in models),
                }
            }
        return data

    def _item_base_info(self, ctx: Ctx) -> Json:
        ids = _query_ints(ctx.query, "item_id_list", 1, MAX_BATCH)
        found = [
            self.state.items[i] for i in ids if i in self.state.items and self.state.items[i].shop_id == ctx.shop_id
        ]
        missing = sorted(set(ids) - {item.item_id for item in found})
        if missing:
            ctx.warnings.append(f"item_id not found: {missing}")
        assert ctx.shop is not None
        return {"item_list": [self._item_json(item, ctx.shop) for item in found]}

    def _model_list(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, _query_int(ctx.query, "item_id"), live=False)
        assert ctx.shop is not None
        if not item.has_model:
            return {"tier_variation": [], "model": []}
        currency = ctx.shop.currency
        models = [
            {
                "model_id": m.model_id,
                "model_sku": m.model_sku,
                "tier_index": m.tier_index,
                "price_info": [
                    {"currency": currency, "original_price": m.original_price, "current_price": m.original_price}
                ],
                "stock_info_v2": self._stock_info(m),
            }
            for m in item.models.values()
        ]
        return {"tier_variation": item.tier_variation, "model": models}

    def _search_item(self, ctx: Ctx) -> Json:
        offset = _query_int(ctx.query, "offset", 0)
        page_size = _query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE or offset < 0:
            raise ApiError("error_param", f"page_size should be between 1 and {MAX_PAGE}; offset at least 0.")
        sku, name = ctx.query.get("item_sku"), (ctx.query.get("item_name") or "").lower()
        matches = [
            item.item_id
            for item in sorted(self.state.items.values(), key=lambda i: i.item_id)
            if item.shop_id == ctx.shop_id
            and not item.deleted
            and (sku is None or item.item_sku == sku)
            and name in item.name.lower()
        ]
        page = matches[offset : offset + page_size]
        return {
            "item_id_list": page,
            "total_count": len(matches),
            "has_next_page": offset + len(page) < len(matches),
            "next_offset": offset + len(page),
        }

    def _order_detail(self, ctx: Ctx) -> Json:
        order_sns = _query_list(ctx.query, "order_sn_list")
        if not 1 <= len(order_sns) <= MAX_BATCH:
            raise ApiError("error_param", f"order_sn_list should have 1 to {MAX_BATCH} order numbers.")
        optional = set(_query_list(ctx.query, "response_optional_fields"))
        orders = [o for sn in order_sns if (o := self.state.orders.get(sn)) is not None and o.shop_id == ctx.shop_id]
        missing = sorted(set(order_sns) - {o.order_sn for o in orders})
        if missing:
            ctx.warnings.append(f"order_sn not found: {missing}")
        result = []
        for order in orders:
            row: Json = {
                "order_sn": order.order_sn,
                "order_status": order.status,
                "create_time": order.create_time,
                "update_time": order.update_time,
            }
            if "item_list" in optional:
                row["item_list"] = [
                    {
                        "item_id": line.item_id,
                        "item_name": line.item_name,
                        "item_sku": line.item_sku,
                        "model_id": line.model_id,
                        "model_sku": line.model_sku,
                        "model_quantity_purchased": line.quantity,
                    }
                    for line in order.lines
                ]
            result.append(row)
        return {"order_list": result}

    # -- products: writing --

    def _touch(self, item: SimItem, now: float) -> None:
        item.update_time = max(item.update_time, int(now))

    def _update_price(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, _int(ctx.body.get("item_id"), "item_id"))
        successes: list[Json] = []
        failures: list[Json] = []
        for entry in _entries(ctx.body.get("price_list"), "price_list", 1, MAX_BATCH):
            model_id, price = entry.get("model_id"), _price(entry.get("original_price"))
            model = item.models.get(model_id) if isinstance(model_id, int) else None
            if model is None:
                failures.append({"model_id": model_id, "failed_reason": f"model_id {model_id} not found in this item."})
            elif price is None:
                failures.append({"model_id": model_id, "failed_reason": "original_price must be > 0 with 2 decimals."})
            else:
                old, model.original_price = model.original_price, price
                self.write_log.record(str(ctx.shop_id), str(item.item_id), str(model.model_id), "price", old, price)
                if old != price:
                    self._touch(item, ctx.now)
                successes.append({"model_id": model.model_id, "original_price": price})
        return {"success_list": successes, "failure_list": failures}

    def _update_stock(self, ctx: Ctx) -> Json:
        assert ctx.shop is not None
        item = self._own_item(ctx.shop_id, _int(ctx.body.get("item_id"), "item_id"))
        successes: list[Json] = []
        failures: list[Json] = []
        for entry in _entries(ctx.body.get("stock_list"), "stock_list", 1, MAX_BATCH):
            model_id = entry.get("model_id")
            model = item.models.get(model_id) if isinstance(model_id, int) else None
            try:
                if model is None:
                    raise ValueError(f"model_id {model_id} not found in this item.")
                new_stock = self._new_stock(model, entry.get("seller_stock"), ctx.shop)
            except ValueError as reason:
                failures.append({"model_id": model_id, "failed_reason": str(reason)})
                continue
            old, new = model.total_stock, sum(new_stock.values())
            model.stock = new_stock
            self.write_log.record(str(ctx.shop_id), str(item.item_id), str(model.model_id), "stock", old, new)
            if old != new:
                self._touch(item, ctx.now)
            successes.extend(
                {"model_id": model.model_id, "location_id": location, "stock": qty}
                for location, qty in new_stock.items()
            )
        return {"success_list": successes, "failure_list": failures}

    @staticmethod
    def _new_stock(model: SimModel, seller_stock: Any, shop: SimShop) -> dict[str, int]:
        if not isinstance(seller_stock, list) or not seller_stock or not all(isinstance(s, dict) for s in seller_stock):
            raise ValueError("seller_stock should have at least 1 entry.")
        stock = dict(model.stock)
        for row in seller_stock:
            location, quantity = row.get("location_id", shop.locations[0]), row.get("stock")
            if location not in shop.locations:
                raise ValueError(f"location_id {location} is not a location of this shop.")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise ValueError("stock must be an integer >= 0.")
            stock[location] = quantity
        if sum(stock.values()) < model.reserved:
            raise ValueError(f"stock {sum(stock.values())} is less than the reserved stock {model.reserved}.")
        return stock

    def _update_item(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, _int(ctx.body.get("item_id"), "item_id"))
        body, changed = ctx.body, False
        updates: Json = {}
        if "item_name" in body:
            updates["name"] = _text(body["item_name"], "item_name")
        if "description" in body:
            updates["description"] = _text(body["description"], "description", allow_empty=True)
        if "item_sku" in body:
            updates["item_sku"] = _text(body["item_sku"], "item_sku", allow_empty=True)
        if "image" in body:
            updates["image_ids"] = _images(body["image"])
        if "weight" in body:
            updates["weight"] = _weight(body["weight"])
        if "dimension" in body:
            updates["dimension"] = _dimension(body["dimension"])
        if "category_id" in body:
            updates["category_id"] = _int(body["category_id"], "category_id", minimum=1)
        for name, value in updates.items():
            changed |= getattr(item, name) != value
            setattr(item, name, value)
        if changed:
            self._touch(item, ctx.now)
        return {"item_id": item.item_id}

    def _add_item(self, ctx: Ctx) -> Json:
        body = ctx.body
        for required in (
            "original_price",
            "description",
            "weight",
            "item_name",
            "category_id",
            "image",
            "logistic_info",
        ):
            if required not in body:
                raise ApiError("error_param", f"{required} is required.")
        price = _price(body["original_price"])
        if price is None:
            raise ApiError("error_param", "original_price must be > 0 with at most 2 decimals.")
        if not isinstance(body["logistic_info"], list):
            raise ApiError("error_param", "logistic_info must be a list.")
        stock_rows = body.get("seller_stock", [{"stock": 0}])
        stock = (
            stock_rows[0].get("stock")
            if isinstance(stock_rows, list) and stock_rows and isinstance(stock_rows[0], dict)
            else None
        )
        if isinstance(stock, bool) or not isinstance(stock, int) or stock < 0:
            raise ApiError("error_param", "seller_stock.stock must be an integer >= 0.")
        assert ctx.shop is not None
        item = self._new_item(
            ctx.shop,
            name=_text(body["item_name"], "item_name"),
            description=_text(body["description"], "description", allow_empty=True),
            item_sku=_text(body.get("item_sku", ""), "item_sku", allow_empty=True),
            category_id=_int(body["category_id"], "category_id", minimum=1),
            image_ids=_images(body["image"]),
            weight=_weight(body["weight"]),
            dimension=_dimension(body["dimension"]) if "dimension" in body else None,
            logistic_info=body["logistic_info"],
            price=price,
            stock=stock,
        )
        return {"item_id": item.item_id, "item_name": item.name, "item_sku": item.item_sku}

    def _init_tier_variation(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, _int(ctx.body.get("item_id"), "item_id"))
        if item.has_model:
            raise ApiError("error_param", "tier_variation already exists for this item.")
        tiers = _entries(ctx.body.get("tier_variation"), "tier_variation", 1, 2)
        sizes = []
        for tier in tiers:
            options = tier.get("option_list")
            if not isinstance(tier.get("name"), str) or not isinstance(options, list) or not options:
                raise ApiError("error_param", "tier_variation needs a name and an option_list.")
            sizes.append(len(options))
        rows = _entries(ctx.body.get("model"), "model", 1, MAX_BATCH)
        location = ctx.shop.locations[0] if ctx.shop is not None else ""
        models: dict[int, SimModel] = {}
        seen: set[tuple[int, ...]] = set()
        for row in rows:
            index = row.get("tier_index")
            if (
                not isinstance(index, list)
                or len(index) != len(sizes)
                or not all(isinstance(i, int) and 0 <= i < size for i, size in zip(index, sizes, strict=False))
            ):
                raise ApiError("error_param", "model.tier_index does not match tier_variation.")
            if tuple(index) in seen:
                raise ApiError("error_param", "model.tier_index repeats a combination.")
            seen.add(tuple(index))
            price = _price(row.get("original_price"))
            if price is None:
                raise ApiError("error_param", "model.original_price must be > 0 with at most 2 decimals.")
            stock_rows = row.get("seller_stock") or [{}]
            first = stock_rows[0] if isinstance(stock_rows, list) and isinstance(stock_rows[0], dict) else {}
            stock = _int(first.get("stock", 0), "model.seller_stock.stock", minimum=0)
            model_id = self.state.next_model_id
            self.state.next_model_id += 1
            sku = _text(row.get("model_sku", ""), "model.model_sku", allow_empty=True)
            models[model_id] = SimModel(
                model_id=model_id, model_sku=sku, tier_index=index, original_price=price, stock={location: stock}
            )
        item.models, item.has_model, item.tier_variation = models, True, tiers
        self._touch(item, ctx.now)
        return {
            "item_id": item.item_id,
            "tier_variation": tiers,
            "model": [
                {"model_id": m.model_id, "model_sku": m.model_sku, "tier_index": m.tier_index} for m in models.values()
            ],
        }

    def _unlist_item(self, ctx: Ctx) -> Json:
        successes: list[Json] = []
        failures: list[Json] = []
        for entry in _entries(ctx.body.get("item_list"), "item_list", 1, MAX_BATCH):
            item_id, unlist = entry.get("item_id"), entry.get("unlist")
            try:
                if not isinstance(unlist, bool) or not isinstance(item_id, int):
                    raise ApiError("error_param", "item_list entries need item_id and unlist (boolean).")
                item = self._own_item(ctx.shop_id, item_id)
                if item.status not in ("NORMAL", "UNLIST"):
                    raise ApiError("error_param", f"an item in status {item.status} cannot be listed or unlisted.")
            except ApiError as error:
                failures.append({"item_id": item_id, "failed_reason": error.message})
                continue
            status = "UNLIST" if unlist else "NORMAL"
            if item.status != status:
                item.status = status
                self._touch(item, ctx.now)
            successes.append({"item_id": item.item_id, "unlist": unlist})
        return {"success_list": successes, "failure_list": failures}

    def _delete_item(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, _int(ctx.body.get("item_id"), "item_id"))
        item.status = "SELLER_DELETE"
        self._touch(item, ctx.now)
        return {}

    # -- helpers for tests and the demo --

    def _new_item(
        self,
        shop: SimShop,
        *,
        name: str,
        price: Decimal,
        stock: int,
        status: str = "NORMAL",
        update_time: int | None = None,
        **fields: Any,
    ) -> SimItem:
        item_id = self.state.next_item_id
        self.state.next_item_id += 1
        now = int(self.clock())
        item = SimItem(
            item_id=item_id,
            shop_id=shop.shop_id,
            name=name,
            status=status,
            create_time=now,
            update_time=update_time if update_time is not None else now,
            models={0: SimModel(model_id=0, original_price=price, stock={shop.locations[0]: stock})},
            **fields,
        )
        self.state.items[item_id] = item
        return item

    def add_shop(
        self, shop_id: int, name: str = "Shop", *, currency: str = "SGD", locations: Sequence[str] = ("",)
    ) -> None:
        with self._lock:
            self.state.shops[shop_id] = SimShop(
                shop_id=shop_id, name=name, currency=currency, locations=list(locations)
            )

    def add_item(
        self,
        shop_id: int,
        *,
        name: str = "Sample item",
        description: str = "",
        item_sku: str = "",
        price: Decimal | str = "10.00",
        stock: int = 0,
        models: Sequence[tuple[str, Decimal | str, int]] = (),
        tier_name: str = "Variation",
        images: Sequence[str] = ("https://cf.shopee.sim/file/sample",),
        weight: Decimal | str = "0.5",
        dimension: dict[str, int] | None = None,
        category_id: int = 100001,
        status: str = "NORMAL",
        update_time: int | None = None,
    ) -> int:
        """An item; `models` as (model_sku, price, stock), one tier whose options are the model SKUs."""
        with self._lock:
            shop = self.state.shops[shop_id]
            item = self._new_item(
                shop,
                name=name,
                description=description,
                item_sku=item_sku,
                price=Decimal(price),
                stock=stock,
                image_ids=list(images),
                weight=Decimal(weight),
                dimension=dimension,
                category_id=category_id,
                status=status,
                update_time=update_time,
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
                        stock={shop.locations[0]: model_stock},
                    )
            return item.item_id

    def model_ids(self, item_id: int) -> list[int]:
        with self._lock:
            return list(self.state.items[item_id].models)

    def stock_of(self, item_id: int, model_id: int = 0) -> int:
        with self._lock:
            return self.state.items[item_id].models[model_id].total_stock

    def reserved_of(self, item_id: int, model_id: int = 0) -> int:
        with self._lock:
            return self.state.items[item_id].models[model_id].reserved

    def price_of(self, item_id: int, model_id: int = 0) -> Decimal:
        with self._lock:
            return self.state.items[item_id].models[model_id].original_price

    def request_count(self, path: str | None = None) -> int:
        with self._lock:
            return self.requests[path] if path is not None else sum(self.requests.values())

    def issue_tokens(self, shop_id: int) -> tuple[str, str]:
        """Test shortcut for the authorization flow: the shop authorizes, returns (access, refresh)."""
        with self._lock:
            shop = self.state.shops[shop_id]
            shop.authorized, shop.revoked = True, False
            pair = self._token_pair(shop_id)
            return pair["access_token"], pair["refresh_token"]

    def expire_access_tokens(self, shop_id: int) -> None:
        with self._lock:
            for token in self.state.access_tokens.values():
                if token.shop_id == shop_id:
                    token.expires_at = min(token.expires_at, self.clock() - 1)

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
                model.stock = {**model.stock, next(iter(model.stock), ""): stock}
            item.update_time = max(item.update_time + 1, int(self.clock()))

    def place_order(
        self, shop_id: int, item_id: int, model_id: int = 0, quantity: int = 1, *, status: str = "UNPAID"
    ) -> str:
        """A buyer orders: stock is reserved and a code-3 push goes to the registered URL."""
        with self._lock:
            item = self.state.items[item_id]
            model = item.models[model_id]
            if item.shop_id != shop_id or item.status != "NORMAL":
                raise ValueError(f"item {item_id} is not on sale in shop {shop_id}")
            if model.total_stock - model.reserved < quantity:
                raise ValueError(f"not enough available stock for item {item_id} model {model_id}")
            now = int(self.clock())
            order_sn = f"{datetime.fromtimestamp(now, tz=UTC8):%y%m%d}SIM{self.state.next_order_no:06d}"
            self.state.next_order_no += 1
            model.reserved += quantity
            line = SimOrderLine(
                item_id=item_id,
                model_id=model_id,
                quantity=quantity,
                item_name=item.name,
                item_sku=item.item_sku,
                model_sku=model.model_sku,
            )
            self.state.orders[order_sn] = SimOrder(
                order_sn=order_sn, shop_id=shop_id, status=status, create_time=now, update_time=now, lines=[line]
            )
        self._push(3, shop_id, {"ordersn": order_sn, "status": status, "update_time": now})
        return order_sn

    def set_order_status(self, order_sn: str, status: str) -> None:
        """Move an order on: CANCELLED releases reserved stock, SHIPPED/COMPLETED consume it; pushes code 3."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status}")
        with self._lock:
            order = self.state.orders[order_sn]
            if order.stock_state == "reserved" and status in (
                "CANCELLED",
                "SHIPPED",
                "TO_CONFIRM_RECEIVE",
                "COMPLETED",
            ):
                for line in order.lines:
                    model = self.state.items[line.item_id].models[line.model_id]
                    model.reserved -= line.quantity
                    if status != "CANCELLED":
                        location = next(iter(model.stock), "")
                        model.stock[location] = max(0, model.stock[location] - line.quantity)
                order.stock_state = "released" if status == "CANCELLED" else "consumed"
            order.status = status
            order.update_time = max(order.update_time + 1, int(self.clock()))
            shop_id, update_time = order.shop_id, order.update_time
        self._push(3, shop_id, {"ordersn": order_sn, "status": status, "update_time": update_time})

    def _push(self, code: int, shop_id: int, data: Json) -> bool | None:
        """Sign and send one push; an undelivered one is kept for get_lost_push_message. None: no URL."""
        with self._lock:
            url, key, timestamp = self.state.push_url, self.state.partner_key, int(self.clock())
        if url is None:
            return None
        body = json.dumps({"code": code, "shop_id": shop_id, "timestamp": timestamp, "data": data}).encode()
        headers = {"Authorization": _hmac_hex(key, url.encode() + b"|" + body), "Content-Type": "application/json"}
        return self.sender.send(url, body, headers)

    def start_order_generator(self, interval_s: float = 5.0, *, seed: int | None = None) -> None:
        """Random buyers: every tick one order is placed or an open order moves on."""
        rng = random.Random(seed)
        self._tickers.append(Ticker(interval_s, lambda: self._random_order_step(rng)).start())

    def _random_order_step(self, rng: random.Random) -> None:
        try:
            self._random_order(rng)
        except Exception:  # a ticker thread must keep ticking; log and go on
            log.exception("shopee simulator: random order step failed")

    def _random_order(self, rng: random.Random) -> None:
        with self._lock:
            open_orders = [
                (o.order_sn, o.status) for o in self.state.orders.values() if o.status in ("UNPAID", "READY_TO_SHIP")
            ]
            on_sale = [
                (item.shop_id, item.item_id, model.model_id)
                for item in self.state.items.values()
                if item.status == "NORMAL"
                for model in item.models.values()
                if model.total_stock - model.reserved > 0
            ]
        if open_orders and (not on_sale or rng.random() < 0.4):
            order_sn, current = rng.choice(open_orders)
            following = "READY_TO_SHIP" if current == "UNPAID" else "SHIPPED"
            self.set_order_status(order_sn, "CANCELLED" if rng.random() < 0.1 else following)
        elif on_sale:
            self.place_order(*rng.choice(on_sale))

    # -- persistence and serving --

    def autosave(self, path: Path, every_s: float = 5.0) -> None:
        """Save the state to `path` every `every_s` seconds until stopped."""
        self._tickers.append(Ticker(every_s, lambda: self.save(path)).start())

    def save(self, path: Path) -> None:
        with self._lock:
            text = self.state.model_dump_json(indent=1)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, **kwargs: Any) -> ShopeeSimulator:
        return cls(state=SimState.model_validate_json(path.read_text(encoding="utf-8")), **kwargs)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server.url

    def start(self, port: int | None = None) -> str:
        self._server = ServerThread(self.app, port).start()
        return self._server.url

    def stop(self) -> None:
        for ticker in self._tickers:
            ticker.stop()
        self._tickers.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.sender.close()


def run(
    port: int,
    state_file: Path | None = None,
    *,
    partner_id: int = DEFAULT_PARTNER_ID,
    partner_key: str = DEFAULT_PARTNER_KEY,
    orders_every_s: float | None = None,
) -> None:
    """Serve a simulator on 127.0.0.1:port until interrupted (`syncstore simulator run --platform shopee`).

    With a state file, the state is loaded from it when it exists (its partner id and key win) and
    saved every 5 seconds and on exit. A fresh simulator has one demo shop and approves
    authorization requests at once.
    """
    if state_file is not None and state_file.exists():
        sim = ShopeeSimulator.load(state_file, auto_approve=True)
    else:
        sim = ShopeeSimulator(partner_id, partner_key, auto_approve=True)
        sim.add_shop(DEMO_SHOP_ID, "Demo Shop")
    if state_file is not None:
        sim.autosave(state_file)
    if orders_every_s:
        sim.start_order_generator(orders_every_s)
    print(f"Shopee simulator on http://127.0.0.1:{port} (partner_id {sim.state.partner_id})", flush=True)
    try:
        uvicorn.run(sim.app, host="127.0.0.1", port=port, log_level="info")
    finally:
        sim.stop()
        if state_file is not None:
            sim.save(state_file)
