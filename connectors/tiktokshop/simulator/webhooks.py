# The TikTok Shop simulator's webhooks: registration endpoints and delivering signed webhooks.
"""`WebhooksMixin` serves the webhook registration endpoints and signs and sends the webhooks the simulator
queues (through its `RetryingSender`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connectors.tiktokshop.simulator.codes import (
    EVENT_NAMES,
    EVENT_TYPES,
)
from connectors.tiktokshop.simulator.core import Outgoing, SimulatorCore
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    param,
)
from connectors.tiktokshop.simulator.signing import webhook_signature
from connectors.tiktokshop.simulator.state import SimOrder


class WebhooksMixin(SimulatorCore):
    """Webhook registration and delivery of `TikTokShopSimulator`."""

    def _notify_order(self, order: SimOrder) -> None:
        data = {"order_id": order.id, "order_status": order.status, "update_time": order.update_time}
        self._notify(order.shop_id, 1, data | {"is_on_hold_order": order.status == "ON_HOLD"})

    def _notify(self, shop_id: str, event_type: int, data: Mapping[str, Any]) -> bool:
        """Push now (seller/buyer activity outside a request); False when not delivered at once."""
        return self._deliver(Outgoing(shop_id, event_type, dict(data)))

    def _deliver(self, note: Outgoing) -> bool:
        with self._lock:
            url = self.state.webhooks.get(note.shop_id, {}).get(EVENT_TYPES[note.event_type])
            notification_id = self.state.new_id()
        if url is None:
            return False
        payload = {
            "type": note.event_type,
            "tts_notification_id": notification_id,
            "shop_id": note.shop_id,
            "timestamp": self.now(),
            "data": note.data,
        }
        body = json.dumps(payload).encode()
        headers = {
            "Authorization": webhook_signature(self.state.app_key, self.state.app_secret, body),
            "Content-Type": "application/json",
        }
        return self.sender.send(url, body, headers)

    def _put_webhook(self, ctx: Ctx) -> Mapping[str, Any]:
        shop = self._shop(ctx)
        address, event_type = ctx.body.get("address"), ctx.body.get("event_type")
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            raise param("address", "must be an http(s) URL")
        if not isinstance(event_type, str) or event_type not in EVENT_NAMES:
            raise param("event_type", "unknown event type")
        if event_type in shop.options.refused_event_types:
            raise param("event_type", f"{event_type} is not available for this shop")
        self.state.webhooks.setdefault(shop.id, {})[event_type] = address
        return {}

    def _get_webhooks(self, ctx: Ctx) -> Mapping[str, Any]:
        hooks = self.state.webhooks.get(self._shop(ctx).id, {})
        rows = [{"event_type": name, "address": url} for name, url in sorted(hooks.items())]
        return {"webhooks": rows, "total_count": len(rows)}

    def _delete_webhook(self, ctx: Ctx) -> Mapping[str, Any]:
        event_type = ctx.body.get("event_type")
        if not isinstance(event_type, str) or event_type not in EVENT_NAMES:
            raise param("event_type", "unknown event type")
        self.state.webhooks.get(self._shop(ctx).id, {}).pop(event_type, None)
        return {}
