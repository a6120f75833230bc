# The Lazada simulator's signatures: the request sign it expects and the push sign it sends.
"""Written from reference/lazada.md section 2.2 and 6 (not from the connector)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def expected_sign(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """UPPER hex HMAC-SHA256(app_secret, api_path + name+value of every param but sign, byte-sorted names)."""
    text = api_path + "".join(f"{name}{params[name]}" for name in sorted(params, key=str.encode) if name != "sign")
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def push_sign(app_key: str, app_secret: str, body: bytes) -> str:
    """lower hex HMAC-SHA256(app_secret, app_key + raw body)."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()
