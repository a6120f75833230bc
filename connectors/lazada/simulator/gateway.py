# The Lazada simulator's gateway: method and path checks, faults, system parameters, signature, token, throttles.
"""`GatewayMixin.rest` serves every `/rest/<api>` call: it merges query and form parameters, verifies them
as the LazOP gateway does (reference/lazada.md section 2) and dispatches to the API's handler."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from connectors.lazada.simulator.codes import (
    AUTH_PATHS,
    E_ACCESS_TOKEN,
    E_APP_KEY,
    E_CALL_LIMIT,
    E_DOWNGRADED,
    E_INVALID_PARAM,
    E_METHOD,
    E_MISSING,
    E_PATH,
    E_SERVICE_TIMEOUT,
    E_SIGNATURE,
    E_TIMESTAMP,
    FILE_PARAMS,
    GET_ONLY,
    INVENTORY_PATHS,
    POST_ONLY,
    SIGN_METHOD,
    TIMESTAMP_SKEW_S,
)
from connectors.lazada.simulator.core import SimulatorCore
from connectors.lazada.simulator.requests import Ctx, SimError, fail
from connectors.lazada.simulator.signing import expected_sign
from connectors.lazada.simulator.state import SimSeller
from connectors.simulator.common import Fault

if TYPE_CHECKING:
    Handler = Callable[[Ctx], Response]


def _timestamp_seconds(value: str) -> float | None:
    """Epoch milliseconds (`1517820392000`) or `2017-11-11T12:00:00Z`; None when it is neither."""
    if value.isdigit():
        return int(value) / 1000
    try:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return moment.timestamp()


class GatewayMixin(SimulatorCore):
    """Request checks shared by every API of `LazadaSimulator`."""

    async def rest(self, request: Request) -> Response:
        api_path = "/" + request.path_params["api"].strip("/")
        with self._lock:
            self.request_counts[api_path] += 1
        handler = self.handlers.get(api_path)
        if handler is None:
            return fail(SimError(E_PATH, f"The specified API path {api_path} could not be found"))
        allowed = {"GET"} if api_path in GET_ONLY else {"POST"} if api_path in POST_ONLY else {"GET", "POST"}
        if request.method not in allowed:
            return fail(SimError(E_METHOD, f"The HTTP method {request.method} is not supported by {api_path}"))
        fault = self.faults.draw()
        if self.faults.latency_s > 0:
            await asyncio.sleep(self.faults.latency_s)
        if fault is Fault.THROTTLE:
            return fail(SimError(E_CALL_LIMIT, "The request has exceeded the limit; this ban will last 1 seconds"))
        if fault is Fault.SERVER_ERROR:
            return fail(SimError(E_SERVICE_TIMEOUT, "The service timed out, please retry later", kind="ISP"))
        params, files = await self._params(request)
        with self._lock:
            self.settle()
            try:
                ctx = self._verify(api_path, params, files)
                response = handler(ctx)
            except SimError as error:
                response = fail(error)
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.faults.timeout_hold_s)
        return response

    async def _params(self, request: Request) -> tuple[dict[str, str], dict[str, bytes]]:
        """Query and form parameters merged (the gateway reads both); file parts apart (never signed)."""
        params: dict[str, str] = dict(request.query_params)
        files: dict[str, bytes] = {}
        if request.method == "POST" and request.headers.get("content-type", "").startswith("application/json"):
            # Business parameters as a JSON object (one client does this; [unconfirmed]): signed as sent.
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = None
            if isinstance(body, dict):
                for key, value in body.items():
                    params[str(key)] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        elif request.method == "POST":
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = await value.read()
                else:
                    params[key] = str(value)
        return params, files

    def _verify(self, api_path: str, params: dict[str, str], files: dict[str, bytes]) -> Ctx:
        for name in ("app_key", "timestamp", "sign_method", "sign"):
            if name not in params:
                raise SimError(
                    E_MISSING,
                    f"The input parameter {name} that is mandatory for processing this request is not supplied",
                )
        if not hmac.compare_digest(params["app_key"].encode(), self.state.app_key.encode()):
            raise SimError(E_APP_KEY, "The specified app_key is invalid")
        if params["sign_method"] != SIGN_METHOD:
            raise SimError(E_INVALID_PARAM, "sign_method must be sha256")
        moment = _timestamp_seconds(params["timestamp"])
        if moment is None or abs(time.time() - moment) > TIMESTAMP_SKEW_S:
            raise SimError(E_TIMESTAMP, "The timestamp is invalid or outside the allowed range of 7200 seconds")
        signed = {name: value for name, value in params.items() if name not in FILE_PARAMS or name not in files}
        if any(value == "" for name, value in signed.items() if name != "sign"):
            # The official SDKs disagree on signing empty values: refused under either reading.
            raise SimError(E_SIGNATURE, "The request signature does not conform to lazada platform standards")
        expected = expected_sign(self.state.app_secret, api_path, signed)
        if not hmac.compare_digest(params["sign"].encode(), expected.encode()):
            raise SimError(E_SIGNATURE, "The request signature does not conform to lazada platform standards")
        if api_path in AUTH_PATHS:
            return Ctx(None, params, files)
        seller = self._token_seller(params.get("access_token"))
        if api_path in self.downgraded:
            raise SimError(E_DOWNGRADED, "The API is downgraded during the campaign, please retry later", kind="ISP")
        if api_path in INVENTORY_PATHS:
            self._meter(seller)
        return Ctx(seller, params, files)

    def _token_seller(self, access_token: str | None) -> SimSeller:
        if not access_token:
            raise SimError(
                E_MISSING,
                "The input parameter access_token that is mandatory for processing this request is not supplied",
            )
        token = self.state.access_tokens.get(access_token)
        if token is None or not token.alive or self.clock.now() >= token.expires_at:
            raise SimError(E_ACCESS_TOKEN, "The specified access token is invalid or expired")
        sellers = [s for s in self.state.sellers.values() if (s.account or s.seller_id) == token.account]
        live = [seller for seller in sellers if seller.authorized]
        if not live:
            raise SimError(E_ACCESS_TOKEN, "The specified access token is invalid or expired")
        return live[0]

    def _meter(self, seller: SimSeller) -> None:
        second = int(time.time())
        key = (seller.seller_id, second)
        if self._usage[key] >= self.inventory_calls_per_s:
            raise SimError(E_CALL_LIMIT, "The request has exceeded the limit; this ban will last 1 seconds")
        self._usage[key] += 1
