# The TikTok Shop simulator's gateway: fault injection, request signature, token and cipher checks, rate limits.
"""`GatewayMixin` wraps every API handler: it counts the request, draws faults, verifies the signed request
(app key, timestamp, sign, access token, shop cipher) and answers errors in TikTok Shop's envelope."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from connectors.simulator.common import Fault, Ticker
from connectors.tiktokshop.simulator.audits import AuditsMixin
from connectors.tiktokshop.simulator.codes import (
    E_CIPHER_MISSING,
    E_ENVELOPE,
    E_INTERNAL,
    E_QUERY_OR_HEADER,
    E_REQUEST_FORMAT,
    E_SIGN,
    E_TOKEN_EXPIRED,
    E_TOKEN_INVALID,
    E_TOO_MANY_REQUESTS,
    MAX_TIMESTAMP_AGE_S,
    MAX_TIMESTAMP_AHEAD_S,
    NOT_SIGNED,
)
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    Handler,
    SimError,
    fail_response,
    ok_response,
)
from connectors.tiktokshop.simulator.signing import request_sign
from connectors.tiktokshop.simulator.state import SimShop
from connectors.tiktokshop.simulator.webhooks import WebhooksMixin


class GatewayMixin(AuditsMixin, WebhooksMixin):
    """Request checks shared by every endpoint of `TikTokShopSimulator`."""

    def pump(self) -> None:
        """End due audits, send queued pushes and due retries (the background tick; tests may call it)."""
        with self._lock:
            self._settle_audits()
            outgoing, self._outbox = self._outbox, []
        for note in outgoing:
            self._deliver(note)
        self.sender.pump()

    async def _before(self, request: Request) -> Fault | None:
        with self._lock:
            self.request_counts[request.url.path] += 1
            if self._pump_ticker is None:  # served by someone else's server (the demo): tick from now on
                self._pump_ticker = Ticker(self._tick_s, self.pump).start()
        faults = self.faults
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        return faults.draw()

    async def _serve(self, request: Request, run: Callable[[bytes], Mapping[str, Any]]) -> Response:
        fault = await self._before(request)
        if fault is Fault.THROTTLE:
            message = "Too many requests. You've made too many requests in a short period of time."
            return fail_response(SimError(E_TOO_MANY_REQUESTS, message, http_status=429, retry_after=1))
        if fault is Fault.SERVER_ERROR:
            message = "Internal error. Please try again. If the issue persists, please contact platform support."
            return fail_response(SimError(E_INTERNAL, message, http_status=500))
        raw = await request.body()
        with self._lock:
            self._settle_audits()
            try:
                response = ok_response(run(raw))
            except SimError as error:
                status = error.http_status
                if error.business:
                    status = error.shop.options.business_error_http_status if error.shop else 200
                response = fail_response(error, status)
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.faults.timeout_hold_s)
        return response

    def _api(
        self, handler: Handler, *, cipher: bool = True, multipart: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """An API endpoint; `multipart`: an upload, whose body is form fields and is not signed."""

        async def endpoint(request: Request) -> Response:
            form = await self._form(request) if multipart else None

            def run(raw: bytes) -> Mapping[str, Any]:
                ctx = self._authenticate(request, raw, cipher=cipher, form=form)
                try:
                    return handler(ctx)
                except SimError as error:
                    error.shop = ctx.shop
                    raise

            return await self._serve(request, run)

        return endpoint

    def _token_endpoint(
        self, handler: Callable[[dict[str, str]], Mapping[str, Any]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._serve(request, lambda _raw: handler(dict(request.query_params)))

        return endpoint

    @staticmethod
    async def _form(request: Request) -> dict[str, Any] | None:
        """A multipart body as {field: [(filename, bytes)] for files, str for the rest}; None when it is none."""
        await request.body()  # cached first: the form is parsed from it
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return None
        fields: dict[str, Any] = {}
        for name, value in (await request.form()).multi_items():
            if isinstance(value, UploadFile):
                fields.setdefault(name, []).append((value.filename or "", await value.read()))
            else:
                fields[name] = value
        return fields

    def _authenticate(self, request: Request, raw: bytes, *, cipher: bool, form: dict[str, Any] | None = None) -> Ctx:
        query = dict(request.query_params)
        self._check_envelope(request, query)
        # An upload's multipart body is not signed.
        body = raw if request.method != "GET" and raw and form is None else None
        expected = request_sign(self.state.app_secret, request.url.path, query, body)
        empty_values = any(value == "" for key, value in query.items() if key not in NOT_SIGNED)
        if empty_values or not hmac.compare_digest(query["sign"].encode(), expected.encode()):
            raise SimError(E_SIGN, "Invalid credentials. The `sign` query parameter is invalid.")
        seller_id, token_code = self._token_seller(request.headers.get("x-tts-access-token"), query.get("shop_cipher"))
        shop = self._cipher_shop(query, seller_id, token_code, cipher=cipher)
        if shop is not None:
            self._meter(shop)
        parsed = form if form is not None else self._json_body(request, body)
        return Ctx(shop, seller_id, query, parsed, dict(request.path_params))

    def _check_envelope(self, request: Request, query: Mapping[str, str]) -> None:
        if query.get("app_key") != self.state.app_key:
            raise SimError(E_ENVELOPE, "Invalid credentials. Invalid `app_key` query parameter.")
        if not query.get("sign"):
            raise SimError(E_ENVELOPE, "Missing credentials. The request does not include a required signature.")
        try:
            timestamp = int(query["timestamp"])
        except (KeyError, ValueError):
            raise SimError(E_ENVELOPE, "Invalid timestamp. The `timestamp` query parameter is missing.") from None
        now = time.time()  # request timestamps are wall time: clients sign with their own clock
        if timestamp < 0 or now - timestamp > MAX_TIMESTAMP_AGE_S:
            raise SimError(
                E_ENVELOPE,
                "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than "
                "5 minutes before the current time (expired).",
            )
        if timestamp - now > MAX_TIMESTAMP_AHEAD_S:
            raise SimError(
                E_ENVELOPE,
                "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the current "
                "time by more than 30 seconds (future).",
            )

    def _token_seller(self, access_token: str | None, cipher: str | None) -> tuple[str, int]:
        """The seller the token belongs to and the code its shops answer for a dead token."""
        if not access_token:
            raise SimError(
                E_ENVELOPE, "Invalid credentials. The `x-tts-access-token` header is missing.", http_status=401
            )
        token = self.state.access_tokens.get(access_token)
        if token is None or not token.alive:
            # the code is the shop's (seedable): the platform answers 105001, 101000 or 36009004
            shop = next((s for s in self.state.shops.values() if s.cipher == cipher), None)
            raise self._token_error(shop.options.invalid_token_code if shop else E_TOKEN_INVALID)
        if self.clock.now() >= token.expires_at:
            raise SimError(
                E_TOKEN_EXPIRED,
                "Expired credentials. The `access_token` or `x-tts-access-token` header has expired.",
                http_status=401,
            )
        shops = [s for s in self.state.shops.values() if s.seller_id == token.seller_id]
        code = shops[0].options.invalid_token_code if shops else E_TOKEN_INVALID
        return token.seller_id, code

    @staticmethod
    def _token_error(code: int) -> SimError:
        messages = {
            E_TOKEN_INVALID: "Invalid credentials. The access token is invalid.",
            E_QUERY_OR_HEADER: "Invalid query or header. The `x-tts-access-token` header is invalid.",
            E_ENVELOPE: "Invalid credentials. The `x-tts-access-token` header is invalid.",
        }
        return SimError(code, messages.get(code, "Invalid credentials. The access token is invalid."), http_status=401)

    def _cipher_shop(
        self, query: Mapping[str, str], seller_id: str, token_code: int, *, cipher: bool
    ) -> SimShop | None:
        if not cipher:
            if "shop_cipher" in query:
                raise SimError(
                    E_ENVELOPE,
                    "Unexpected identifier. The `shop_cipher` query parameter is not required for this request.",
                )
            if not any(s.authorized for s in self.state.shops.values() if s.seller_id == seller_id):
                raise self._token_error(token_code)
            return None
        presented = query.get("shop_cipher")
        if not presented:
            raise SimError(
                E_CIPHER_MISSING,
                "Missing identifier. The `shop_cipher` query parameter is required to identify the target shop.",
            )
        shop = next(
            (s for s in self.state.shops.values() if hmac.compare_digest(s.cipher.encode(), presented.encode())), None
        )
        if shop is None or shop.seller_id != seller_id:
            raise SimError(
                E_ENVELOPE, "Invalid identifier. The `shop_cipher` does not belong to the authorized seller."
            )
        if not shop.authorized:
            raise self._token_error(shop.options.invalid_token_code)
        return shop

    def _meter(self, shop: SimShop) -> None:
        now = time.time()
        minute, day = int(now // 60), int(now // 86_400)
        too_many = "Too many requests. You've made too many requests in a short period of time."
        if self.daily_quota is not None:
            if self._usage[(shop.id, "day", day)] >= self.daily_quota:
                retry_after = max(1, int(86_400 - now % 86_400))
                raise SimError(E_TOO_MANY_REQUESTS, too_many, http_status=429, retry_after=retry_after)
            self._usage[(shop.id, "day", day)] += 1
        if self.rate_limit_per_minute is not None:
            if self._usage[(shop.id, "minute", minute)] >= self.rate_limit_per_minute:
                retry_after = max(1, int(60 - now % 60 + 0.999))
                raise SimError(E_TOO_MANY_REQUESTS, too_many, http_status=429, retry_after=retry_after)
            self._usage[(shop.id, "minute", minute)] += 1

    @staticmethod
    def _json_body(request: Request, body: bytes | None) -> Any:
        if body is None:
            return {}
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise SimError(
                E_REQUEST_FORMAT, "Invalid request format. The request body format must be `application/json`."
            )
        try:
            parsed = json.loads(body)
        except ValueError:
            raise SimError(E_REQUEST_FORMAT, "Invalid request format. The body is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise SimError(E_REQUEST_FORMAT, "Invalid request format. The body must be a JSON object.")
        return parsed
