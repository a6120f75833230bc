# The TikTok Shop simulator's signatures: the request signature it checks and the webhook signature it sends.
"""Written from the reference (HMAC-SHA256), independently of the connector's."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from connectors.tiktokshop.simulator.codes import CENT, NOT_SIGNED

# =================================================================================================
# Signatures (the platform's side, written from the reference)
# =================================================================================================


def request_sign(app_secret: str, path: str, query: Mapping[str, str], body: bytes | None) -> str:
    """hex_lower(HMAC_SHA256(app_secret, app_secret + path + sorted key+value + body + app_secret))."""
    params = "".join(key + query[key] for key in sorted(query) if key not in NOT_SIGNED)
    message = app_secret.encode() + path.encode() + params.encode() + (body or b"") + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """The `Authorization` header of a push: hex_lower(HMAC_SHA256(app_secret, app_key + raw body))."""
    return hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
