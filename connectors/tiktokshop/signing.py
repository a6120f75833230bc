# TikTok Shop's request signature (HMAC-SHA256 over path, sorted query and body).
"""`sign(app_secret, path, query, body)`; `sign` and `access_token` are never part of what is signed."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Final

# =================================================================================================
# Signing
# =================================================================================================

_UNSIGNED_PARAMS: Final = frozenset({"sign", "access_token"})


def sign(app_secret: str, path: str, query: Mapping[str, str], body: bytes | None) -> str:
    """hex HMAC-SHA256(app_secret, app_secret + path + sorted(key + value) + body + app_secret).

    `query` is every query parameter that is sent; `sign` and `access_token` and empty values are left
    out. `body` is the exact raw bytes sent (None for GET and uploads).
    """
    params = "".join(f"{key}{query[key]}" for key in sorted(query) if key not in _UNSIGNED_PARAMS and query[key])
    secret = app_secret.encode("utf-8")
    message = b"".join((secret, path.encode("utf-8"), params.encode("utf-8"), body or b"", secret))
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The one serialisation of a request body: these bytes are signed and sent."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
