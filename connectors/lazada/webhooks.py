# Lazada's pushes: signature check over the raw body and parsing into a MarketplaceEvent (the receiver calls these).
"""A push is `POST` JSON with `Authorization: lowercase hex HMAC-SHA256(app_secret, app_key + raw body)`;
the body is `{seller_id, message_type, data, timestamp, site}`. There is no message id: the event id is a
hash of seller, type and data (a retry re-sends the same data; the timestamp is left out)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from connectors.base import EventKind, MarketplaceEvent
from connectors.lazada.codes import PLATFORM, PUSH_SELLER_STATUS, PUSH_TYPES
from connectors.lazada.signing import sign_push

# Timestamps above this are milliseconds (the order push), below it seconds (the others).
_MS_THRESHOLD: Final = 100_000_000_000


class WebhookPayloadError(ValueError):
    """The push body is not JSON or lacks what every Lazada push carries."""


def verify_webhook(app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> bool:
    """True when `authorization` signs these exact bytes (hex case ignored; constant-time comparison)."""
    if not isinstance(authorization, str) or not isinstance(raw_body, bytes) or not app_key or not app_secret:
        return False
    presented = authorization.strip().lower()
    return presented.isascii() and hmac.compare_digest(sign_push(app_key, app_secret, raw_body), presented)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _occurred_at(value: Any) -> datetime | None:
    if value is None:
        return None
    stamp = _int(value)
    if stamp is None:
        raise WebhookPayloadError("lazada push: 'timestamp' is not an integer")
    seconds = stamp / 1000 if stamp > _MS_THRESHOLD else stamp
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise WebhookPayloadError("lazada push: 'timestamp' out of range") from error


def site_country(site: Any) -> str:
    """`lazada_vn`, `lazada-sg`, `LAZADA_SG` -> "VN", "SG"."""
    text = str(site or "").strip().lower().replace("-", "_")
    return text.removeprefix("lazada_").upper() if text.startswith("lazada_") else ""


def _event_id(seller_id: str, message_type: int, data: Mapping[str, Any]) -> str:
    canonical = json.dumps([seller_id, message_type, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _item_id(data: Mapping[str, Any]) -> str | None:
    for key in ("item_id", "itemId"):
        if data.get(key) not in (None, ""):
            return str(data[key])
    return None


def parse_webhook(raw_body: bytes | str) -> MarketplaceEvent:
    """A verified push body -> MarketplaceEvent (kind from `message_type`)."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookPayloadError("lazada push: body is not JSON") from error
    if not isinstance(payload, dict):
        raise WebhookPayloadError("lazada push: body is not a JSON object")
    message_type = _int(payload.get("message_type"))
    if message_type is None:
        raise WebhookPayloadError("lazada push: 'message_type' is missing or not an integer")
    data = payload.get("data")
    if data is None:
        data = {key: value for key, value in payload.items() if key not in {"message_type", "timestamp"}}
    if not isinstance(data, dict):
        raise WebhookPayloadError("lazada push: 'data' is not an object")
    kind = PUSH_TYPES.get(message_type, EventKind.UNKNOWN)
    if str(message_type) == PUSH_SELLER_STATUS and str(data.get("status") or "").lower() != "close":
        kind = EventKind.UNKNOWN  # a seller back to "normal" asks nothing of SyncStore
    order_id: str | None = None
    if kind is EventKind.ORDER_STATUS:
        if data.get("trade_order_id") in (None, ""):
            raise WebhookPayloadError("lazada push: an order push without 'trade_order_id'")
        order_id = str(data["trade_order_id"])
    item_id = _item_id(data) if kind in {EventKind.PRODUCT_CHANGE, EventKind.PRODUCT_AUDIT} else None
    seller = payload.get("seller_id")
    seller_id = str(seller) if seller not in (None, "") else None
    enriched = dict(data)
    country = site_country(payload.get("site"))
    if country:
        enriched.setdefault("country", country)
    return MarketplaceEvent(
        platform=PLATFORM,
        event_id=_event_id(seller_id or "", message_type, data),
        kind=kind,
        raw_type=str(message_type),
        shop_id=seller_id,
        occurred_at=_occurred_at(payload.get("timestamp")),
        order_id=order_id,
        item_id=item_id,
        data=enriched,
    )
