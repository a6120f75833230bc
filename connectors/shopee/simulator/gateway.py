# The Shopee simulator's gateway: fault injection, signature and token checks, rate and daily limits, envelopes.
"""`GatewayMixin` wraps every API handler: it draws faults, verifies the signed request and answers errors in
Shopee's envelopes."""

from __future__ import annotations

import asyncio
import hmac
import math
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from connectors.shopee.simulator.codes import (
    MSG_DAILY_LIMIT,
    TIMESTAMP_WINDOW_S,
    UTC8,
    Envelope,
    Json,
    SignKind,
)
from connectors.shopee.simulator.core import SimulatorCore
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    digits,
    hmac_hex,
    json_response,
    parse_body,
    product_route,
)
from connectors.shopee.simulator.state import SimShop
from connectors.simulator.common import Fault


class GatewayMixin(SimulatorCore):
    """Request checks shared by every endpoint of `ShopeeSimulator`."""

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
            raw = await request.body()
            form = await self._multipart(request) if kind == "upload" else None
            response = self._handle(kind, envelope, handler, request, raw, form)
            if fault is Fault.TIMEOUT:
                await asyncio.sleep(faults.timeout_hold_s)
            return response

        return endpoint

    @staticmethod
    async def _multipart(request: Request) -> Json | ApiError:
        """A multipart body as {field: [(filename, bytes)] for files, str for the rest}; an ApiError when it is none."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return ApiError("error_param", "Wrong parameters, detail: the body must be multipart/form-data.")
        form = await request.form()
        fields: Json = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                fields.setdefault(name, []).append((value.filename or "", await value.read()))
            else:
                fields[name] = value
        return fields

    def _shop_named_in(self, query: QueryParams) -> SimShop | None:
        text = query.get("shop_id", "")
        return self.state.shops.get(int(text)) if digits(text) else None

    def _handle(
        self,
        kind: SignKind,
        envelope: Envelope,
        handler: Callable[[Ctx], Any],
        request: Request,
        raw: bytes,
        form: Json | ApiError | None = None,
    ) -> Response:
        path = request.url.path
        try:
            with self._lock:
                now = self._now()
                if kind == "upload":
                    kind = "shop" if self.state.upload_kind == "shop" else "public"
                # Gateway checks (partner, timestamp, sign, token, limits) answer bare common codes.
                shop = self._verify(kind, path, request.query_params, now)
        except ApiError as error:
            return self._error(envelope, error, path, None)
        try:
            with self._lock:
                if isinstance(form, ApiError):
                    raise form
                body = form if form is not None else parse_body(raw) if request.method == "POST" else {}
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
