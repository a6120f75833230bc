# The Shopee simulator itself: the Starlette app (signature check, routes) and the test and demo shortcuts.
"""`ShopeeSimulator` serves the signed API, the authorization page and pushes; `run` serves one until
interrupted (`syncstore simulator run --platform shopee`)."""

from __future__ import annotations

import asyncio
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
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors.shopee.simulator.codes import (
    AUTHORIZATION_DAYS,
    DEFAULT_PARTNER_ID,
    DEFAULT_PARTNER_KEY,
    DEFAULT_PUSH_RETRY_SCHEDULE,
    DEMO_SHOP_ID,
    ITEM_STATUSES,
    LOST_PUSH_PAGE,
    MAX_BATCH,
    MAX_PAGE,
    MSG_DAILY_LIMIT,
    MSG_HOLIDAY,
    MSG_LACK_LOCATION,
    MSG_LOCATION_MISMATCH,
    MSG_NOT_WHITELISTED,
    MSG_ORDER_NOT_FOUND,
    MSG_ORDER_RANGE,
    MSG_PRICE_LOCK,
    MSG_RESERVED,
    ORDER_LIST_MAX_RANGE_S,
    ORDER_STATUSES,
    PUSH_CODES,
    REGION_CURRENCY,
    TIMESTAMP_WINDOW_S,
    UTC8,
    Envelope,
    Json,
    SignKind,
    StockSpec,
)
from connectors.shopee.simulator.pushes import PushOutbox
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    check_price_ratio,
    comma_list,
    digits,
    dumps_json,
    entries_of,
    hmac_hex,
    image_list,
    image_url,
    int_param,
    json_response,
    param_error,
    parse_body,
    product_route,
    query_int,
    region_price,
    repeated_list,
    split_csv,
    stock_map,
    text_param,
    wire_dimension,
    wire_weight,
    with_query,
)
from connectors.shopee.simulator.state import SimGrant, SimItem, SimModel, SimOrder, SimOrderLine, SimShop, SimState
from connectors.simulator.common import (
    Fault,
    FaultPlan,
    ServerThread,
    SimClock,
    Ticker,
    WriteLog,
)

log = logging.getLogger(__name__)

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
        clock: SimClock | None = None,
        push_retry_schedule: Sequence[float] = DEFAULT_PUSH_RETRY_SCHEDULE,
        state: SimState | None = None,
    ) -> None:
        self.state = state or SimState(partner_id=partner_id, partner_key=partner_key)
        self.faults = faults or FaultPlan()
        self.token_ttl_s, self.refresh_ttl_s = token_ttl_s, refresh_ttl_s
        self.refresh_grace_s, self.code_ttl_s = refresh_grace_s, code_ttl_s
        self.rate_limit_per_minute, self.daily_quota = rate_limit_per_minute, daily_quota
        self.auto_approve = auto_approve
        self.clock = clock or SimClock()
        self.write_log = WriteLog()
        self.sender = PushOutbox(self.clock, push_retry_schedule)
        self.requests: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._recent_calls: dict[int, deque[float]] = {}
        self._daily_calls: Counter[str] = Counter()
        self._order_cursors: dict[str, int] = {}
        self._server: ServerThread | None = None
        self._tickers: list[Ticker] = []
        self.app = self._build_app()

    @property
    def pushes(self) -> PushOutbox:
        """Live pushes, their retries and the lost ones (also reachable as `sender`)."""
        return self.sender

    def _now(self) -> float:
        return self.clock.now()

    # -- serving --

    def _build_app(self) -> Starlette:
        api: list[tuple[str, str, SignKind, Envelope, Callable[[Ctx], Any]]] = [
            ("POST", "/api/v2/auth/token/get", "token", "top", self._token_get),
            ("POST", "/api/v2/auth/access_token/get", "token", "top", self._token_refresh),
            ("POST", "/api/v2/push/set_app_push_config", "public", "wrapped", self._set_push_config),
            ("GET", "/api/v2/push/get_lost_push_message", "public", "wrapped", self._lost_pushes),
            ("POST", "/api/v2/push/confirm_consumed_lost_push_message", "public", "wrapped", self._confirm_lost),
            ("GET", "/api/v2/shop/get_shop_info", "shop", "top", self._shop_info),
            ("GET", "/api/v2/shop/get_warehouse_detail", "shop", "wrapped", self._warehouse_detail),
            ("GET", "/api/v2/product/get_item_list", "shop", "wrapped", self._item_list),
            ("GET", "/api/v2/product/get_item_base_info", "shop", "wrapped", self._item_base_info),
            ("GET", "/api/v2/product/get_model_list", "shop", "wrapped", self._model_list),
            ("GET", "/api/v2/product/search_item", "shop", "wrapped", self._search_item),
            ("POST", "/api/v2/product/update_price", "shop", "wrapped", self._update_price),
            ("POST", "/api/v2/product/update_stock", "shop", "wrapped", self._update_stock),
            ("POST", "/api/v2/product/update_item", "shop", "wrapped", self._update_item),
            ("POST", "/api/v2/product/add_item", "shop", "wrapped", self._add_item),
            ("POST", "/api/v2/product/init_tier_variation", "shop", "wrapped", self._init_tier_variation),
            ("POST", "/api/v2/product/unlist_item", "shop", "wrapped", self._unlist_item),
            ("POST", "/api/v2/product/delete_item", "shop", "wrapped", self._delete_item),
            ("GET", "/api/v2/order/get_order_list", "shop", "wrapped", self._order_list),
            ("GET", "/api/v2/order/get_order_detail", "shop", "wrapped", self._order_detail),
        ]
        routes = [
            Route(path, self._endpoint(kind, envelope, handler), methods=[method])
            for method, path, kind, envelope, handler in api
        ]
        routes.append(Route("/api/v2/shop/auth_partner", self._auth_partner, methods=["GET"]))
        return Starlette(routes=routes)

    def _endpoint(
        self, kind: SignKind, envelope: Envelope, handler: Callable[[Ctx], Any]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            path = request.url.path
            with self._lock:
                self.requests[path] += 1
                shop = self._shop_named_in(request.query_params)
            faults = self.faults
            if faults.latency_s > 0:
                await asyncio.sleep(faults.latency_s)
            fault = faults.draw()
            if fault is Fault.THROTTLE:
                error = ApiError("error_rate_limit", "Too many requests.", 429, retry_after=1)
                return self._error(envelope, error, path, shop)
            if fault is Fault.SERVER_ERROR:
                error = ApiError("error_server", "System error. Please try again later.", 500)
                return self._error(envelope, error, path, shop)
            response = self._handle(kind, envelope, handler, request, await request.body())
            if fault is Fault.TIMEOUT:
                await asyncio.sleep(faults.timeout_hold_s)
            return response

        return endpoint

    def _shop_named_in(self, query: QueryParams) -> SimShop | None:
        text = query.get("shop_id", "")
        return self.state.shops.get(int(text)) if digits(text) else None

    def _handle(
        self, kind: SignKind, envelope: Envelope, handler: Callable[[Ctx], Any], request: Request, raw: bytes
    ) -> Response:
        path = request.url.path
        try:
            with self._lock:
                now = self._now()
                # Gateway checks (partner, timestamp, sign, token, limits) answer bare common codes.
                shop = self._verify(kind, path, request.query_params, now)
        except ApiError as error:
            return self._error(envelope, error, path, None)
        try:
            with self._lock:
                body = parse_body(raw) if request.method == "POST" else {}
                ctx = Ctx(shop, request.query_params, body, now)
                result = handler(ctx)
        except ApiError as error:
            return self._error(envelope, error, path, shop)
        head = {"request_id": uuid.uuid4().hex, "error": "", "message": ""}
        if envelope == "top":
            return json_response({**head, **result})
        return json_response({**head, "warning": "; ".join(ctx.warnings), "response": result})

    def _error(self, envelope: Envelope, error: ApiError, path: str, shop: SimShop | None) -> Response:
        """The error envelope; `shop` is given for answers of the module itself (prefixed on some shops)."""
        code = error.error
        if (
            shop is not None
            and shop.module_prefixes
            and product_route(path)
            and code in ("error_param", "error_server")
        ):
            code = f"product.{code}"
        payload: Json = {"request_id": uuid.uuid4().hex, "error": code, "message": error.message}
        if envelope == "wrapped":
            payload.update(warning="", response=error.response)
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        return json_response(payload, error.status, headers)

    def _verify(self, kind: SignKind, path: str, query: QueryParams, now: float) -> SimShop | None:
        """Shopee's checks, in order: partner, timestamp, sign, then (shop calls) shop, token, limits."""
        partner = query.get("partner_id", "")
        if not partner:
            raise ApiError("error_param", "There is no partner_id in query.")
        if not digits(partner) or int(partner) != self.state.partner_id:
            raise ApiError("error_param", "Invalid partner_id.")
        timestamp = query.get("timestamp", "")
        if not digits(timestamp):
            raise ApiError("error_param", "no timestamp")
        # Clients sign with their own wall clock, so the window is checked against wall time.
        if abs(time.time() - int(timestamp)) > TIMESTAMP_WINDOW_S:
            raise ApiError("error_param", "Timestamp is expired.")
        base = f"{partner}{path}{timestamp}"
        token, shop_text = query.get("access_token", ""), query.get("shop_id", "")
        if kind == "shop":
            if not token:
                raise ApiError("error_param", "There is no access_token in query.")
            if not digits(shop_text):
                raise ApiError("error_param", "There is no shop_id in query.")
            base += f"{token}{shop_text}"
        if not query.get("sign"):
            raise ApiError("error_param", "There is no sign in query.")
        expected = hmac_hex(self.state.partner_key, base.encode())
        if not hmac.compare_digest(expected.encode(), query.get("sign", "").encode()):
            raise ApiError("error_sign", "Wrong sign.", 403)
        if kind != "shop":
            self._count_app_call(now)
            return None
        shop = self.state.shops.get(int(shop_text))
        if shop is None:
            raise ApiError("error_auth", "Invalid partner_id or shopid.", 403)
        if shop.revoked or not shop.authorized:
            raise ApiError("error_auth", "The shop has deauthorized this partner: authorization revoked.", 403)
        grant = self.state.access_tokens.get(token)
        if grant is None or grant.shop_id != shop.shop_id:
            raise ApiError("invalid_acceess_token", "Invalid access_token, please have a check.", 403)
        if grant.expires_at <= now:
            if shop.module_prefixes:
                raise ApiError("common.error_auth", "Invalid access_token.", 403)
            raise ApiError("invalid_acceess_token", "Invalid access_token: the access token has expired.", 403)
        self._count_shop_call(shop.shop_id, now)
        self._count_app_call(now)
        return shop

    def _count_shop_call(self, shop_id: int, now: float) -> None:
        if not self.rate_limit_per_minute:
            return
        calls = self._recent_calls.setdefault(shop_id, deque())
        while calls and calls[0] <= now - 60:
            calls.popleft()
        if len(calls) >= self.rate_limit_per_minute:
            wait = max(1, math.ceil(calls[0] + 60 - now))
            raise ApiError(
                "error_rate_limit",
                "Too many requests. You have reached the rate limit. Please try again later.",
                429,
                retry_after=wait,
            )
        calls.append(now)

    def _count_app_call(self, now: float) -> None:
        """The app's daily limit: one counter for every shop of the partner, per UTC+8 day."""
        if not self.daily_quota:
            return
        day = datetime.fromtimestamp(now, tz=UTC8).date().isoformat()
        if self._daily_calls[day] >= self.daily_quota:
            raise ApiError("error_limit", MSG_DAILY_LIMIT, 403)
        self._daily_calls[day] += 1

    def daily_calls(self) -> int:
        """Calls counted against the app's daily limit today (UTC+8, simulated clock)."""
        with self._lock:
            return self._daily_calls[datetime.fromtimestamp(self._now(), tz=UTC8).date().isoformat()]

    # -- authorization --

    async def _auth_partner(self, request: Request) -> Response:
        """The seller's authorization page; `auto=1` (or auto_approve) approves at once with a 302."""
        query = request.query_params
        with self._lock:
            self.requests[request.url.path] += 1
            try:
                self._verify("public", request.url.path, query, self._now())
            except ApiError as error:
                text = "This authorization link has expired." if "expired" in error.message else error.message
                return HTMLResponse(f"<h1>Authorization failed</h1><p>{html.escape(text)}</p>", status_code=400)
            redirect = query.get("redirect", "")
            if not redirect.startswith(("http://", "https://")):
                return HTMLResponse("<h1>Authorization failed</h1><p>redirect is required.</p>", status_code=400)
            shops = sorted(self.state.shops)
            chosen = int(query["shop_id"]) if digits(query.get("shop_id", "")) else (shops[0] if shops else None)
            if chosen is None or chosen not in self.state.shops:
                return HTMLResponse("<h1>Authorization failed</h1><p>No such shop.</p>", status_code=400)
            if query.get("auto") != "1" and not self.auto_approve:
                links = "".join(
                    f'<li><a href="{html.escape(with_query(str(request.url), {"auto": "1", "shop_id": str(s)}))}">'
                    f"Authorize {html.escape(self.state.shops[s].name)} ({s})</a></li>"
                    for s in shops
                )
                return HTMLResponse(
                    f"<h1>Shopee (simulator): authorize partner {self.state.partner_id}</h1><ul>{links}</ul>"
                )
            self._authorize(self.state.shops[chosen])
            code = self._grant(self.state.codes, chosen, self.code_ttl_s)
        self._push(1, chosen, {"shop_id": chosen, "success": 1})
        return RedirectResponse(with_query(redirect, {"code": code, "shop_id": str(chosen)}), status_code=302)

    def _authorize(self, shop: SimShop) -> None:
        shop.authorized, shop.revoked = True, False
        shop.auth_time = int(self._now())

    def _grant(self, table: dict[str, SimGrant], shop_id: int, ttl_s: float) -> str:
        value = secrets.token_hex(16)
        table[value] = SimGrant(value=value, shop_id=shop_id, expires_at=self._now() + ttl_s)
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
        if int_param(ctx.body.get("partner_id"), "partner_id") != self.state.partner_id:
            raise ApiError("error_param", "partner_id does not match.")
        shop_id = int_param(ctx.body.get("shop_id"), "shop_id")
        code = self.state.codes.get(text_param(ctx.body.get("code"), "code"))
        if code is None or code.used or code.expires_at <= ctx.now or code.shop_id != shop_id:
            raise ApiError("error_auth", "Invalid code: it is unknown, used or expired.", 403)
        code.used = True
        return self._token_pair(shop_id)

    def _token_refresh(self, ctx: Ctx) -> Json:
        if int_param(ctx.body.get("partner_id"), "partner_id") != self.state.partner_id:
            raise ApiError("error_param", "partner_id does not match.")
        shop_id = int_param(ctx.body.get("shop_id"), "shop_id")
        grant = self.state.refresh_tokens.get(text_param(ctx.body.get("refresh_token"), "refresh_token"))
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

    # -- shop --

    def _shop_info(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        return {
            "shop_name": shop.name,
            "region": shop.region,
            "status": "NORMAL",
            "is_cb": shop.is_cb,
            "is_upgraded_cbsc": shop.is_cnsc,
            "merchant_id": None,
            "is_sip": False,
            "sip_affi_shops": [],
            "shop_fulfillment_flag": "Others",
            "is_main_shop": False,
            "is_direct_shop": False,
            "linked_main_shop_id": 0,
            "linked_direct_shop_list": [],
            "auth_time": shop.auth_time,
            "expire_time": shop.auth_time + AUTHORIZATION_DAYS * 86400,
        }

    def _warehouse_detail(self, ctx: Ctx) -> list[Json]:
        shop = ctx.own_shop
        warehouse_type = query_int(ctx.query, "warehouse_type", 1)
        if warehouse_type not in (1, 2):
            raise param_error("warehouse_type must be 1 (pickup) or 2 (return).")
        if not shop.multi_location:
            raise ApiError("warehouse.error_not_in_whitelist", MSG_NOT_WHITELISTED)
        if warehouse_type == 2:
            return []
        rows = [
            {
                "warehouse_id": index + 1,
                "warehouse_name": f"Warehouse {location}",
                "warehouse_type": 1,
                "location_id": location,
                "address_id": 100_000 + index,
                "region": shop.region,
                "state": "",
                "city": "",
                "address": f"Simulated address {index + 1}",
                "zipcode": "",
                "district": "",
                "town": "",
                "state_code": "",
                "holiday_mode_state": 1 if shop.holiday_mode else 0,
            }
            for index, location in enumerate(shop.locations)
        ]
        return rows

    # -- push configuration and lost pushes --

    def _set_push_config(self, ctx: Ctx) -> Json:
        url = ctx.body.get("callback_url")
        if url is None:
            url = self.state.push_url
            if url is None:
                raise ApiError(
                    "error_param",
                    "Your app's callback_url is empty, please input a callback_url before you turn on push config.",
                )
        url = text_param(url, "callback_url")
        if not url.startswith(("http://", "https://")):
            raise ApiError("error_param", "this callback_url is invalid, please check your callback_url.")
        turn_on = self._push_code_list(ctx.body.get("set_push_config_on", []), "set_push_config_on")
        turn_off = self._push_code_list(ctx.body.get("set_push_config_off", []), "set_push_config_off")
        codes = (set(self.state.push_codes) | set(turn_on)) - set(turn_off)
        self.state.push_url, self.state.push_codes = url, sorted(codes)
        return {"result": "success"}

    @staticmethod
    def _push_code_list(value: Any, name: str) -> list[int]:
        if not isinstance(value, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in value):
            raise param_error(f"{name} must be a list of push codes.")
        unknown = sorted(set(value) - PUSH_CODES)
        if unknown:
            raise param_error(f"push config {', '.join(map(str, unknown))} is not supported.")
        return list(value)

    def _lost_pushes(self, ctx: Ctx) -> Json:
        recent = self.sender.recent_lost(ctx.now)
        page = recent[:LOST_PUSH_PAGE]
        messages = []
        for push in page:
            original = json.loads(push.body)
            message: Json = {"code": original["code"], "timestamp": push.lost_at, "data": push.body.decode()}
            if original.get("code") not in (1, 2, 12):  # partner-level pushes carry no shop_id here
                message = {"shop_id": original.get("shop_id"), **message}
            messages.append(message)
        return {
            "push_message_list": messages,
            "has_next_page": len(recent) > len(page),
            "last_message_id": page[-1].message_id if page else 0,
        }

    def _confirm_lost(self, ctx: Ctx) -> Json:
        self.sender.confirm(int_param(ctx.body.get("last_message_id"), "last_message_id", minimum=1))
        return {}

    # -- products: reading --

    def _own_item(self, shop_id: int, item_id: int, *, live: bool = True) -> SimItem:
        item = self.state.items.get(item_id)
        if item is None or (item.shop_id == shop_id and live and item.deleted):
            raise ApiError("error_item_not_found", "Item_id is not found.", 404)
        if item.shop_id != shop_id:
            raise ApiError("error_item_not_belong_shop", "Item not belong to shop.", 403)
        return item

    def _item_list(self, ctx: Ctx) -> Json:
        offset = query_int(ctx.query, "offset", 0)
        page_size = query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE or offset < 0:
            raise param_error(f"page_size should be between 1 and {MAX_PAGE}; offset at least 0.")
        statuses = repeated_list(ctx.query, "item_status", ctx.own_shop)
        if not statuses:
            raise param_error("item_status is required.")
        invalid = [status for status in statuses if status not in ITEM_STATUSES]
        if invalid:
            raise param_error(f"item_status {invalid[0]} is not a valid status (repeat the key for several).")
        since = query_int(ctx.query, "update_time_from", 0)
        until = query_int(ctx.query, "update_time_to", 2**62)
        if since > until:
            raise ApiError("error_update_time_range", "Update_time_to should be later than update_time_from.")
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
        sellers = [
            {"location_id": location, "stock": qty, "if_saleable": True} if location else {"stock": qty}
            for location, qty in model.stock.items()
        ]
        return {
            "summary_info": {"total_reserved_stock": model.reserved, "total_available_stock": model.total_stock},
            "seller_stock": sellers,
            "shopee_stock": [],
        }

    def _item_json(self, item: SimItem, shop: SimShop) -> Json:
        data: Json = {
            "item_id": item.item_id,
            "category_id": item.category_id,
            "item_name": item.name,
            "description": "" if item.extended_description else item.description,
            "description_type": "extended" if item.extended_description else "normal",
            "item_sku": item.item_sku,
            "create_time": item.create_time,
            "update_time": item.update_time,
            "item_status": item.status,
            "has_model": item.has_model,
            "image": {"image_id_list": item.image_ids, "image_url_list": [image_url(i) for i in item.image_ids]},
            # Shopee sends the weight as a string (kg).
            "weight": str(item.weight),
            "logistic_info": item.logistic_info,
        }
        if item.extended_description:
            fields = [{"field_type": "text", "text": item.description}]
            data["description_info"] = {"extended_description": {"field_list": fields}}
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
                    "total_available_stock": sum(m.total_stock for m in models),
                }
            }
        return data

    def _item_base_info(self, ctx: Ctx) -> Json:
        texts = comma_list(ctx.query, "item_id_list", ctx.own_shop)
        if not 1 <= len(texts) <= MAX_BATCH:
            raise param_error(f"item_id_list should have 1 to {MAX_BATCH} ids.")
        ids = [int_param(text, "item_id_list") for text in texts]
        found = [
            self.state.items[i] for i in ids if i in self.state.items and self.state.items[i].shop_id == ctx.shop_id
        ]
        missing = sorted(set(ids) - {item.item_id for item in found})
        if missing:
            ctx.warnings.append(f"item_id not found: {missing}")
        return {"item_list": [self._item_json(item, ctx.own_shop) for item in found]}

    def _model_list(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, query_int(ctx.query, "item_id"), live=False)
        if not item.has_model:
            return {"tier_variation": [], "model": []}
        currency = ctx.own_shop.currency
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
        offset = query_int(ctx.query, "offset", 0)
        page_size = query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE or offset < 0:
            raise param_error(f"page_size should be between 1 and {MAX_PAGE}; offset at least 0.")
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

    # -- orders --

    def _order_list(self, ctx: Ctx) -> Json:
        field_name = ctx.query.get("time_range_field", "")
        if field_name not in ("create_time", "update_time"):
            raise param_error("time_range_field must be create_time or update_time.")
        time_from, time_to = query_int(ctx.query, "time_from"), query_int(ctx.query, "time_to")
        if time_from > time_to or time_to - time_from > ORDER_LIST_MAX_RANGE_S:
            raise ApiError("order.order_list_invalid_time", MSG_ORDER_RANGE)
        page_size = query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE:
            raise param_error(f"page_size should be between 1 and {MAX_PAGE}.")
        status = ctx.query.get("order_status")
        if status is not None and status not in ORDER_STATUSES:
            raise param_error(f"order_status {status} is not valid.")
        cursor = ctx.query.get("cursor", "")
        offset = 0
        if cursor:
            if cursor not in self._order_cursors:
                raise param_error("cursor is invalid.")
            offset = self._order_cursors[cursor]
        matches = sorted(
            (
                o
                for o in self.state.orders.values()
                if o.shop_id == ctx.shop_id
                and time_from <= getattr(o, field_name) <= time_to
                and (status is None or o.status == status)
            ),
            key=lambda o: (getattr(o, field_name), o.order_sn),
            reverse=True,
        )
        page = matches[offset : offset + page_size]
        more = offset + len(page) < len(matches)
        next_cursor = ""
        if more:
            next_cursor = secrets.token_urlsafe(12)  # opaque: a client may not compute it
            self._order_cursors[next_cursor] = offset + len(page)
        optional = set(split_csv(ctx.query.get("response_optional_fields", "")))
        rows = [
            {"order_sn": o.order_sn, **({"order_status": o.status} if "order_status" in optional else {})} for o in page
        ]
        return {"more": more, "next_cursor": next_cursor, "order_list": rows}

    def _order_detail(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        order_sns = comma_list(ctx.query, "order_sn_list", shop)
        if not 1 <= len(order_sns) <= MAX_BATCH:
            raise param_error(f"order_sn_list should have 1 to {MAX_BATCH} order numbers.")
        optional = set(comma_list(ctx.query, "response_optional_fields", shop))
        orders = []
        for order_sn in order_sns:
            order = self.state.orders.get(order_sn)
            if order is None or order.shop_id != ctx.shop_id:
                # One unknown order fails the whole call (the schema's error example).
                raise ApiError("error_not_found", MSG_ORDER_NOT_FOUND, 404)
            orders.append(order)
        return {"order_list": [self._order_json(order, shop, optional) for order in orders]}

    def _order_json(self, order: SimOrder, shop: SimShop, optional: set[str]) -> Json:
        row: Json = {
            "order_sn": order.order_sn,
            "region": shop.region,
            "currency": shop.currency,
            "cod": False,
            "order_status": order.status,
            "create_time": order.create_time,
            "update_time": order.update_time,
            "message_to_seller": "",
            "days_to_ship": 3,
            "ship_by_date": order.create_time + 3 * 86400,
        }
        if "item_list" in optional:
            row["item_list"] = [
                {
                    "item_id": line.item_id,
                    "item_name": line.item_name,
                    "item_sku": line.item_sku,
                    "model_id": line.model_id,
                    "model_name": line.model_sku,
                    "model_sku": line.model_sku,
                    "model_quantity_purchased": line.quantity,
                    "model_original_price": line.price,
                    "model_discounted_price": line.price,
                    "active_qty": 0 if order.status == "CANCELLED" else line.active,
                    "cancel_requested_qty": 0,
                    "cancelled_qty": line.quantity if order.status == "CANCELLED" else line.cancelled,
                    "return_requested_qty": 0,
                    "returned_qty": 0,
                    **({"product_location_id": ",".join(sorted(line.taken))} if shop.multi_location else {}),
                }
                for line in order.lines
            ]
        return row

    # -- products: writing --

    def _touch(self, item: SimItem, now: float) -> None:
        item.update_time = max(item.update_time, int(now))

    @staticmethod
    def _refuse_product_writes(shop: SimShop) -> None:
        if shop.is_cnsc or shop.is_cb:
            raise ApiError(
                "error_auth", "This is a cross-border shop: edit its items with the v2.global_product APIs.", 403
            )

    def _update_price(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        self._refuse_product_writes(shop)
        rows = entries_of(ctx.body.get("price_list"), "price_list", 1, MAX_BATCH)
        if shop.holiday_mode:
            raise ApiError("error_auth", MSG_HOLIDAY, 403)
        if item.price_locked:
            raise ApiError("error_in_item_promotion_item_price_lock", MSG_PRICE_LOCK)
        seen: set[Any] = set()
        for row in rows:
            if row.get("model_id", 0) in seen:
                raise ApiError("error_param", "Repeat model_id.")
            seen.add(row.get("model_id", 0))
        new_prices = {
            row.get("model_id", 0): region_price(row.get("original_price"), shop, "original_price") for row in rows
        }
        if item.has_model:
            after = {m.model_id: new_prices.get(m.model_id, m.original_price) for m in item.models.values()}
            check_price_ratio(list(after.values()), shop)
        successes: list[Json] = []
        failures: list[Json] = []
        for model_id, price in new_prices.items():
            model = item.models.get(model_id) if isinstance(model_id, int) else None
            if model is None:
                failures.append({"model_id": model_id, "failed_reason": "Wrong model_id."})
                continue
            old, model.original_price = model.original_price, price
            self.write_log.record(str(ctx.shop_id), str(item.item_id), str(model.model_id), "price", old, price)
            if old != price:
                self._touch(item, ctx.now)
            successes.append({"model_id": model.model_id, "original_price": price})
        return {"success_list": successes, "failure_list": failures}

    def _update_stock(self, ctx: Ctx) -> Json:
        shop = ctx.own_shop
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        self._refuse_product_writes(shop)
        rows = entries_of(ctx.body.get("stock_list"), "stock_list", 1, MAX_BATCH)
        if shop.holiday_mode:
            raise ApiError("error_auth", MSG_HOLIDAY, 403)
        planned: list[tuple[SimModel, dict[str, int]]] = []
        failures: list[Json] = []
        seen: set[Any] = set()
        for row in rows:
            model_id = row.get("model_id", 0)
            if model_id in seen:
                raise ApiError("error_param", "Repeat model_id.")
            seen.add(model_id)
            model = item.models.get(model_id) if isinstance(model_id, int) else None
            if model is None:
                failures.append({"model_id": model_id, "failed_reason": "Wrong model_id."})
                continue
            new_stock = self._new_stock(model, row.get("seller_stock"), shop)
            if sum(new_stock.values()) < model.reserved:
                raise ApiError("error_auth", MSG_RESERVED, 403)
            planned.append((model, new_stock))
        successes: list[Json] = []
        for model, new_stock in planned:  # every row was checked: apply them all
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
            raise param_error("seller_stock should have at least 1 entry.")
        stock = dict(model.stock)
        for row in seller_stock:
            if "location_id" not in row:
                if shop.multi_location:
                    raise ApiError("error_auth", MSG_LACK_LOCATION, 403)
                location = ""
            else:
                location = row["location_id"]
                if not isinstance(location, str) or not location or location not in shop.locations:
                    raise ApiError("error_auth", MSG_LOCATION_MISMATCH, 403)
            quantity = row.get("stock")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise param_error("stock must be an integer >= 0.")
            stock[location] = quantity
        return stock

    def _update_item(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        self._refuse_product_writes(ctx.own_shop)
        body, changed = ctx.body, False
        updates: Json = {}
        if "item_name" in body:
            updates["name"] = text_param(body["item_name"], "item_name")
        if "description" in body:
            updates["description"] = text_param(body["description"], "description", allow_empty=True)
        if "item_sku" in body:
            updates["item_sku"] = text_param(body["item_sku"], "item_sku", allow_empty=True)
        if "image" in body:
            updates["image_ids"] = image_list(body["image"])
        if "weight" in body:
            updates["weight"] = wire_weight(body["weight"])
        if "dimension" in body:
            updates["dimension"] = wire_dimension(body["dimension"])
        if "category_id" in body:
            updates["category_id"] = int_param(body["category_id"], "category_id", minimum=1)
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
        shop = ctx.own_shop
        self._refuse_product_writes(shop)
        price = region_price(body["original_price"], shop, "original_price")
        if not isinstance(body["logistic_info"], list):
            raise ApiError("error_param", "logistic_info must be a list.")
        stock = self._seeded_stock(body.get("seller_stock", [{"stock": 0}]), shop)
        item = self._new_item(
            shop,
            name=text_param(body["item_name"], "item_name"),
            description=text_param(body["description"], "description", allow_empty=True),
            item_sku=text_param(body.get("item_sku", ""), "item_sku", allow_empty=True),
            category_id=int_param(body["category_id"], "category_id", minimum=1),
            image_ids=image_list(body["image"]),
            weight=wire_weight(body["weight"]),
            dimension=wire_dimension(body["dimension"]) if "dimension" in body else None,
            logistic_info=body["logistic_info"],
            price=price,
            stock=stock,
        )
        return {"item_id": item.item_id, "item_name": item.name, "item_sku": item.item_sku}

    def _init_tier_variation(self, ctx: Ctx) -> Json:
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        shop = ctx.own_shop
        self._refuse_product_writes(shop)
        if item.has_model:
            raise ApiError("error_param", "tier_variation already exists for this item.")
        # Since 2025-09-12 the documented field is standardise_tier_variation; tier_variation still works.
        tier_field = "standardise_tier_variation" if "standardise_tier_variation" in ctx.body else "tier_variation"
        tiers = entries_of(ctx.body.get(tier_field), tier_field, 1, 2)
        sizes = []
        for tier in tiers:
            options = tier.get("option_list", tier.get("variation_option_list"))
            name = tier.get("name", tier.get("variation_name"))
            if not isinstance(name, str) or not isinstance(options, list) or not options:
                raise ApiError("error_param", "tier_variation needs a name and an option_list.")
            sizes.append(len(options))
        rows = entries_of(ctx.body.get("model"), "model", 1, MAX_BATCH)
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
            price = region_price(row.get("original_price"), shop, "model.original_price")
            stock = self._seeded_stock(row.get("seller_stock"), shop)
            model_id = self.state.next_model_id
            self.state.next_model_id += 1
            sku = text_param(row.get("model_sku", ""), "model.model_sku", allow_empty=True)
            models[model_id] = SimModel(
                model_id=model_id, model_sku=sku, tier_index=index, original_price=price, stock=stock
            )
        check_price_ratio([m.original_price for m in models.values()], shop)
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
        for entry in entries_of(ctx.body.get("item_list"), "item_list", 1, MAX_BATCH):
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
        item = self._own_item(ctx.shop_id, int_param(ctx.body.get("item_id"), "item_id"))
        item.status = "SELLER_DELETE"
        self._touch(item, ctx.now)
        return {}

    def _seeded_stock(self, rows: Any, shop: SimShop) -> dict[str, int]:
        """seller_stock of add_item / init_tier_variation: rows of {location_id?, stock}."""
        if rows is None:
            rows = [{"stock": 0}]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise param_error("seller_stock must be a list of {location_id, stock}.")
        stock = stock_map(0, shop.locations)
        for row in rows:
            location = row.get("location_id", shop.locations[0])
            if location not in shop.locations:
                raise ApiError("error_auth", MSG_LOCATION_MISMATCH, 403)
            stock[location] = int_param(row.get("stock", 0), "seller_stock.stock", minimum=0)
        return stock

    # -- helpers for tests and the demo --

    def _new_item(
        self,
        shop: SimShop,
        *,
        name: str,
        price: Decimal,
        stock: StockSpec,
        status: str = "NORMAL",
        update_time: int | None = None,
        **fields: Any,
    ) -> SimItem:
        item_id = self.state.next_item_id
        self.state.next_item_id += 1
        now = int(self._now())
        item = SimItem(
            item_id=item_id,
            shop_id=shop.shop_id,
            name=name,
            status=status,
            create_time=now,
            update_time=update_time if update_time is not None else now,
            models={0: SimModel(model_id=0, original_price=price, stock=stock_map(stock, shop.locations))},
            **fields,
        )
        self.state.items[item_id] = item
        return item

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
    ) -> None:
        """A shop of the partner (not yet authorized). Options: see the module docstring."""
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

    def set_shop_options(self, shop_id: int, **options: Any) -> None:
        """Change per-shop behaviour (region, currency, holiday_mode, is_cb, is_cnsc, strict_arrays,
        module_prefixes, price_ratio_check) of an existing shop."""
        with self._lock:
            shop = self.state.shops[shop_id]
            for name, value in options.items():
                if name not in SimShop.model_fields or name in ("shop_id", "locations", "authorized", "revoked"):
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

    def model_ids(self, item_id: int) -> list[int]:
        with self._lock:
            return list(self.state.items[item_id].models)

    def stock_of(self, item_id: int, model_id: int = 0, location: str | None = None) -> int:
        """Sellable seller stock of a model (all locations, or one)."""
        with self._lock:
            model = self.state.items[item_id].models[model_id]
            return model.total_stock if location is None else model.stock.get(location, 0)

    def reserved_of(self, item_id: int, model_id: int = 0) -> int:
        """Stock reserved for promotions (not for orders)."""
        with self._lock:
            return self.state.items[item_id].models[model_id].reserved

    def set_promotion_reserved(self, item_id: int, model_id: int = 0, quantity: int = 0) -> None:
        """A promotion (flash sale) reserves `quantity` of the model's seller stock."""
        with self._lock:
            model = self.state.items[item_id].models[model_id]
            if not 0 <= quantity <= model.total_stock:
                raise ValueError("reserved stock must be between 0 and the seller stock")
            model.reserved = quantity

    def lock_price(self, item_id: int, locked: bool = True) -> None:
        """A promotion locks the item's original price: update_price is refused for it."""
        with self._lock:
            self.state.items[item_id].price_locked = locked

    def price_of(self, item_id: int, model_id: int = 0) -> Decimal:
        with self._lock:
            return self.state.items[item_id].models[model_id].original_price

    def request_count(self, path: str | None = None) -> int:
        with self._lock:
            return self.requests[path] if path is not None else sum(self.requests.values())

    def issue_tokens(self, shop_id: int) -> tuple[str, str]:
        """Test shortcut for the authorization flow: the shop authorizes, returns (access, refresh)."""
        with self._lock:
            self._authorize(self.state.shops[shop_id])
            pair = self._token_pair(shop_id)
            return pair["access_token"], pair["refresh_token"]

    def expire_access_tokens(self, shop_id: int) -> None:
        with self._lock:
            for token in self.state.access_tokens.values():
                if token.shop_id == shop_id:
                    token.expires_at = min(token.expires_at, self._now() - 1)

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

    def place_order(
        self,
        shop_id: int,
        item_id: int,
        model_id: int = 0,
        quantity: int = 1,
        *,
        status: str = "UNPAID",
        lines: Sequence[tuple[int, int, int]] = (),
    ) -> str:
        """A buyer orders: the units leave the sellable stock at once; a code-3 push follows.

        `lines` adds more (item_id, model_id, quantity) lines to the same order.
        """
        with self._lock:
            wanted = [(item_id, model_id, quantity), *lines]
            order_lines = []
            for line_item, line_model, line_quantity in wanted:
                item = self.state.items[line_item]
                model = item.models[line_model]
                if item.shop_id != shop_id or item.status != "NORMAL":
                    raise ValueError(f"item {line_item} is not on sale in shop {shop_id}")
                if line_quantity < 1 or model.total_stock < line_quantity:
                    raise ValueError(f"not enough available stock for item {line_item} model {line_model}")
            for line_item, line_model, line_quantity in wanted:
                item = self.state.items[line_item]
                model = item.models[line_model]
                order_lines.append(
                    SimOrderLine(
                        item_id=line_item,
                        model_id=line_model,
                        quantity=line_quantity,
                        item_name=item.name,
                        item_sku=item.item_sku,
                        model_sku=model.model_sku,
                        price=model.original_price,
                        taken=self._take(model, line_quantity),
                    )
                )
            now = int(self._now())
            order_sn = f"{datetime.fromtimestamp(now, tz=UTC8):%y%m%d}SIM{self.state.next_order_no:06d}"
            self.state.next_order_no += 1
            self.state.orders[order_sn] = SimOrder(
                order_sn=order_sn, shop_id=shop_id, status=status, create_time=now, update_time=now, lines=order_lines
            )
        self._order_push(order_sn)
        return order_sn

    @staticmethod
    def _take(model: SimModel, quantity: int) -> dict[str, int]:
        """Lower the sellable stock by `quantity`, location by location; what was taken where."""
        taken: dict[str, int] = {}
        for location in list(model.stock):
            units = min(quantity - sum(taken.values()), model.stock[location])
            if units > 0:
                model.stock[location] -= units
                taken[location] = units
        # Promotion stock is part of the seller stock: it cannot exceed what is left.
        model.reserved = min(model.reserved, model.total_stock)
        return taken

    @staticmethod
    def _give_back(model: SimModel, line: SimOrderLine, units: int) -> None:
        """Return `units` of a line to the locations it took them from (last taken first)."""
        for location in reversed(list(line.taken)):
            back = min(units, line.taken[location])
            if back > 0:
                model.stock[location] = model.stock.get(location, 0) + back
                line.taken[location] -= back
                units -= back

    def set_order_status(self, order_sn: str, status: str) -> None:
        """Move an order on; CANCELLED gives the active units back to the sellable stock; pushes code 3."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status}")
        with self._lock:
            order = self.state.orders[order_sn]
            if status == "CANCELLED" and order.status != "CANCELLED":
                for line in order.lines:
                    model = self.state.items[line.item_id].models[line.model_id]
                    self._give_back(model, line, line.active)
            order.status = status
            order.update_time = max(order.update_time + 1, int(self._now()))
        self._order_push(order_sn)

    def cancel_units(self, order_sn: str, item_id: int, model_id: int = 0, quantity: int = 1) -> None:
        """A partial cancellation: `quantity` units of one line are cancelled and go back on sale.

        The line shows them as `cancelled_qty` (and the rest as `active_qty`); when no active unit is
        left in the order, it becomes CANCELLED. A code-3 push follows.
        """
        with self._lock:
            order = self.state.orders[order_sn]
            if order.status == "CANCELLED":
                raise ValueError(f"order {order_sn} is already cancelled")
            line = next((ln for ln in order.lines if (ln.item_id, ln.model_id) == (item_id, model_id)), None)
            if line is None or not 1 <= quantity <= line.active:
                raise ValueError(f"order {order_sn} has no {quantity} active units of {item_id}/{model_id}")
            self._give_back(self.state.items[item_id].models[model_id], line, quantity)
            line.cancelled += quantity
            if all(ln.active == 0 for ln in order.lines):
                order.status = "CANCELLED"
            order.update_time = max(order.update_time + 1, int(self._now()))
        self._order_push(order_sn)

    def _order_push(self, order_sn: str) -> None:
        with self._lock:
            order = self.state.orders[order_sn]
            shop_id = order.shop_id
            data = {
                "items": [],
                "ordersn": order.order_sn,
                "status": order.status,
                "completed_scenario": "",
                "update_time": order.update_time,
            }
        self._push(3, shop_id, data)

    def _push(self, code: int, shop_id: int, data: Json) -> bool | None:
        """Sign and send one push when its code is turned on; None when nothing is sent."""
        with self._lock:
            url, key = self.state.push_url, self.state.partner_key
            if url is None or code not in self.state.push_codes:
                return None
            message = {
                "msg_id": uuid.uuid4().hex,
                "data": data,
                "shop_id": shop_id,
                "code": code,
                "timestamp": int(self._now()),
            }
        body = dumps_json(message).encode()
        headers = {"Authorization": hmac_hex(key, url.encode() + b"|" + body), "Content-Type": "application/json"}
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
                if model.total_stock > 0
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
        self.sender.start()
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
    sim.sender.start()
    print(f"Shopee simulator on http://127.0.0.1:{port} (partner_id {sim.state.partner_id})", flush=True)
    try:
        uvicorn.run(sim.app, host="127.0.0.1", port=port, log_level="info")
    finally:
        sim.stop()
        if state_file is not None:
            sim.save(state_file)
