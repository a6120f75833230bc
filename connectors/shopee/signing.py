# Shopee's request and push signatures (HMAC-SHA256).
"""`sign = hex(HMAC-SHA256(partner_key, base_string))`; a push is signed over `callback_url + "|" + body`."""

from __future__ import annotations

import hashlib
import hmac

# --- signing --------------------------------------------------------------------------------


def base_string(
    partner_id: int | str, path: str, timestamp: int, access_token: str | None = None, shop_id: int | str | None = None
) -> str:
    """The signed text: `partner_id + path + timestamp`, plus `access_token + shop_id` for shop calls."""
    text = f"{partner_id}{path}{timestamp}"
    if access_token is not None and shop_id is not None:
        text += f"{access_token}{shop_id}"
    return text


def sign(partner_key: str, base_string: str) -> str:
    """hex_lower(HMAC-SHA256(partner_key, base_string))."""
    return hmac.new(partner_key.encode(), base_string.encode(), hashlib.sha256).hexdigest()


def sign_push(callback_url: str, raw_body: bytes, partner_key: str) -> str:
    """The `Authorization` header Shopee puts on a push: HMAC over `callback_url + "|" + raw body`."""
    return hmac.digest(partner_key.encode(), callback_url.encode() + b"|" + raw_body, "sha256").hex()


def verify_push(callback_url: str, raw_body: bytes, authorization: str | None, partner_key: str) -> bool:
    """True when `authorization` is the push signature of exactly these bytes for this URL.

    `callback_url` must be the URL exactly as registered; the raw body is hashed, never re-serialised.
    The comparison is constant time. A missing or malformed header is simply False.
    """
    if not isinstance(authorization, str) or not authorization:
        return False
    expected = sign_push(callback_url, raw_body, partner_key)
    presented = authorization.strip().lower()
    # compare_digest takes str only when it is ASCII; anything else is no hex signature anyway.
    return presented.isascii() and hmac.compare_digest(expected, presented)
