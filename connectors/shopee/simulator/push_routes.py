# The Shopee simulator's pushes: push configuration, lost pushes, and sending signed pushes.
"""`PushRoutesMixin` serves set_app_push_config and the lost-push endpoints, and signs the pushes the
simulator sends through its `PushOutbox`."""

from __future__ import annotations

import json
import uuid
from typing import Any

from connectors.shopee.simulator.codes import (
    LOST_PUSH_PAGE,
    PUSH_CODES,
    Json,
)
from connectors.shopee.simulator.core import SimulatorCore
from connectors.shopee.simulator.requests import (
    ApiError,
    Ctx,
    dumps_json,
    hmac_hex,
    int_param,
    param_error,
    text_param,
)


class PushRoutesMixin(SimulatorCore):
    """Push configuration and delivery of `ShopeeSimulator`."""

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
