# TikTok Shop's webhooks: signature check and parsing into a MarketplaceEvent (the receiver calls these).
"""A webhook is signed `hex(HMAC-SHA256(app_secret, app_key + raw body))` in `Authorization`."""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    EventKind,
    MarketplaceEvent,
)
from connectors.tiktokshop.codes import PLATFORM, PRODUCT_KINDS, WEBHOOK_TYPES
from connectors.tiktokshop.errors import int_code

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
    event_type = int_code(raw_type)
    if event_type is None:
        raise WebhookPayloadError("tiktokshop webhook: 'type' is not an integer")
    event_id = str(_required(payload, "tts_notification_id"))
    data = payload.get("data") or {}
    if not isinstance(data, dict):
        raise WebhookPayloadError("tiktokshop webhook: 'data' is not an object")
    kind = WEBHOOK_TYPES[event_type][1] if event_type in WEBHOOK_TYPES else EventKind.UNKNOWN
    order_id = str(_required(data, "order_id")) if kind is EventKind.ORDER_STATUS else None
    item_id = str(_required(data, "product_id")) if kind in PRODUCT_KINDS else None
    if kind is EventKind.STOCK_CHANGE and data.get("product_id") is not None:
        item_id = str(data["product_id"])
    timestamp = int_code(payload.get("timestamp"))
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
