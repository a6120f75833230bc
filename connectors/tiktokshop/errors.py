# TikTok Shop's response envelope parsed, and its codes mapped to SyncStore's typed connector errors.
"""`parse_response` unwraps `{code, message, data, request_id}`; `error_for` picks the typed error."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    InvalidRequest,
    ItemRefused,
    NotFound,
    RateLimited,
    Transient,
)
from connectors.tiktokshop.codes import (
    CODE_BAD_REQUEST,
    CODE_INVALID_QUERY_OR_HEADER,
    CODE_OK,
    CODE_RATE_LIMITED,
    CODE_SEARCH_CAP,
    INVALID_CODES,
    ITEM_REFUSED_CODES,
    NOT_FOUND_CODES,
    OAUTH_FAILURE_CODES,
    PLATFORM,
    PRODUCT_MODULE_CODES,
    QUOTED_NAME,
    TOKEN_CODES,
    TRANSIENT_CODES,
)

# =================================================================================================
# Envelope parsing and error mapping
# =================================================================================================


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date or garbage: fall back to our own backoff
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def int_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity, which json.loads accepts
        return None


def fields_from_message(message: str) -> dict[str, str]:
    """Parameter names the platform quoted in its message, e.g. `'page_size'` -> {"page_size": message}."""
    return {name: message for name in QUOTED_NAME.findall(message)}


def _token_problem(message: str) -> bool:
    """True when the message says the access token itself is invalid or expired (not merely missing)."""
    words = message.lower().replace("_", " ").replace("-", " ")
    return "token" in words and "missing" not in words and "refresh" not in words


class SearchCapReached(InvalidRequest):
    """12052180: the search cannot page further (10,000 results); the caller splits its window."""


def error_for(
    code: int | None,
    message: str,
    *,
    http_status: int = 200,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ConnectorError:
    """The typed error for one failed envelope (or a failed HTTP exchange without one)."""
    kw: dict[str, Any] = {"platform": PLATFORM, "code": None if code is None else str(code), "request_id": request_id}
    if http_status == 429 or code == CODE_RATE_LIMITED:
        return RateLimited(message or "too many requests", retry_after=retry_after, **kw)
    if code in TRANSIENT_CODES:
        return Transient(message, **kw)
    if code in TOKEN_CODES:
        return AuthExpired(message, **kw)
    if code in (CODE_BAD_REQUEST, CODE_INVALID_QUERY_OR_HEADER) and _token_problem(message):
        return AuthExpired(message, **kw)
    if code in OAUTH_FAILURE_CODES:
        return AuthRevoked(message, **kw)
    if code in NOT_FOUND_CODES:
        return NotFound(message, **kw)
    if code == CODE_SEARCH_CAP:
        return SearchCapReached(message, **kw)
    if code in ITEM_REFUSED_CODES or (code is not None and PRODUCT_MODULE_CODES[0] <= code < PRODUCT_MODULE_CODES[1]):
        return ItemRefused(message, **kw)
    if code in INVALID_CODES:
        return InvalidRequest(message, fields=fields_from_message(message), **kw)
    if http_status >= 500:
        return Transient(message or f"HTTP {http_status}", **kw)
    return ConnectorError(message or f"HTTP {http_status}", **kw)


def parse_response(
    status: int, headers: Mapping[str, str], content: bytes, *, secrets: Sequence[str] = ()
) -> dict[str, Any]:
    """`data` of a code-0 envelope; otherwise raises the typed error (messages scrubbed of `secrets`)."""
    retry_after = _retry_after(headers.get("retry-after"))
    try:
        envelope = json.loads(content)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        raise error_for(None, f"HTTP {status} without a JSON envelope", http_status=status, retry_after=retry_after)
    code = int_code(envelope.get("code"))
    request_id = envelope.get("request_id")
    request_id = str(request_id) if request_id is not None else None
    message = _redact(str(envelope.get("message") or ""), secrets)
    if code == CODE_OK and status < 400:
        data = envelope.get("data")
        return data if isinstance(data, dict) else {}
    if code is None and status < 400:
        raise ConnectorError(f"envelope without a code: {message}", platform=PLATFORM, request_id=request_id)
    raise error_for(code, message, http_status=status, request_id=request_id, retry_after=retry_after)
