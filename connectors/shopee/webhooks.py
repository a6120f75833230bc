# Shopee's pushes: parsing a live push or a lost one into a MarketplaceEvent, and its event id.
"""Push event ids: the push's `msg_id` when it has one (live pushes); else sha256 over the canonical
JSON of (shop_id, code, data), without the timestamp, so a lost push gets the id it would have had."""

from __future__ import annotations

import ast
import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Final

from connectors.base import (
    EventKind,
    MarketplaceEvent,
)
from connectors.shopee.codes import PLATFORM, PUSH_KINDS
from connectors.shopee.values import Json, from_unix

log = logging.getLogger(__name__)

# --- push notifications ---------------------------------------------------------------------


class PushParseError(ValueError):
    """A push body that is not a Shopee notification (not JSON, not an object, required fields missing)."""


def push_event_id(shop_id: str | None, code: int, data: Mapping[str, Any], msg_id: str | None = None) -> str:
    """A stable id for one notification: its `msg_id` when it has one, else sha256 of the canonical JSON
    of shop, code and data. Never the timestamp: a lost push's timestamp is the time it was lost."""
    if msg_id:
        return msg_id
    canonical = _CANONICAL_JSON.encode([shop_id, code, data])
    return hashlib.sha256(canonical.encode()).hexdigest()


# Built once: `json.dumps` with options builds a new encoder on every call (the webhook hot path).
_CANONICAL_JSON: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def parse_push(raw_body: bytes | str) -> MarketplaceEvent:
    """Normalize a (verified) push body `{msg_id?, code, shop_id, timestamp, data}` into a MarketplaceEvent."""
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise PushParseError(f"push body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise PushParseError("push body is not a JSON object")
    return _push_event(
        payload.get("shop_id"),
        payload.get("code"),
        payload.get("timestamp"),
        payload.get("data", {}),
        payload.get("msg_id"),
    )


def _msg_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value) or None


def _push_event(shop_id: Any, code: Any, timestamp: Any, data: Any, msg_id: Any = None) -> MarketplaceEvent:
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
        occurred_at = from_unix(timestamp)
    except (OverflowError, ValueError, OSError):
        raise PushParseError(f"push `timestamp` {timestamp} is not a time") from None
    kind = PUSH_KINDS.get(code, EventKind.UNKNOWN)
    order_id = data.get("ordersn")
    if kind is EventKind.ORDER_STATUS and not isinstance(order_id, (str, int)):
        raise PushParseError("order status push (code 3) without `data.ordersn`")
    item_id = data.get("item_id")
    return MarketplaceEvent(
        platform=PLATFORM,
        event_id=push_event_id(shop_text, code, data, _msg_id(msg_id)),
        kind=kind,
        raw_type=str(code),
        shop_id=shop_text,
        occurred_at=occurred_at,
        order_id=str(order_id) if kind is EventKind.ORDER_STATUS else None,
        item_id=str(item_id) if isinstance(item_id, (int, str)) and not isinstance(item_id, bool) else None,
        data=data,
    )


def _lost_push_data(raw: Any) -> Any:
    """`data` of a lost push: documented as a string (JSON, or in the published sample a Python-style
    dict with single quotes); an object is taken as it is."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return ast.literal_eval(raw)


def lost_push_event(entry: Json) -> MarketplaceEvent | None:
    """A lost push; a malformed one is logged and skipped, not fatal.

    Its `timestamp` is the time the push was lost. Its `data` is either the push's data or, as in the
    published example, the whole original push `{data, shop_id, code, timestamp, msg_id?}`: then the
    inner push is used, so the event gets the id (and time) the live push had.
    """
    try:
        data = _lost_push_data(entry.get("data"))
        shop_id, code, timestamp, msg_id = entry.get("shop_id"), entry.get("code"), entry.get("timestamp"), None
        if isinstance(data, dict) and isinstance(data.get("data"), dict) and "code" in data:
            shop_id = data.get("shop_id", shop_id)
            code = data.get("code", code)
            timestamp = data.get("timestamp", timestamp)
            msg_id = data.get("msg_id")
            data = data["data"]
        return _push_event(shop_id, code, timestamp, data, msg_id)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError, PushParseError) as error:
        log.error("shopee lost push skipped: %s", error)
        return None
