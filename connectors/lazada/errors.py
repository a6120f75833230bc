# Lazada's response envelope parsed, and its error codes mapped to SyncStore's typed connector errors.
"""`parse_response` returns a `code "0"` envelope whole (auth answers are top level, others carry `data`);
anything else raises the typed error from `error_for` (see `connectors.lazada` for the mapping)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Final

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
from connectors.lazada.codes import (
    BUSINESS_RULE_RANGE,
    CODE_OK,
    INVALID_CODES,
    ITEM_REFUSED_CODES,
    NOT_FOUND_CODES,
    OAUTH_FAILURE_CODES,
    PLATFORM,
    RATE_LIMIT_CODES,
    TOKEN_CODES,
    TRANSIENT_CODES,
)

# "...this ban will last 1 seconds": the wait ApiCallLimit asks for.
_BAN_SECONDS: Final = re.compile(r"last\s+(\d+)\s+second", re.IGNORECASE)
_QUOTED_NAME: Final = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)'")


def redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _business_rule(code: str) -> bool:
    return code.isdigit() and BUSINESS_RULE_RANGE[0] <= int(code) < BUSINESS_RULE_RANGE[1]


def _detail_message(detail: Any) -> str:
    """The per-SKU `detail[]` messages, joined, so a refused item says what Lazada said."""
    if not isinstance(detail, list):
        return ""
    parts = [str(row.get("message") or "") for row in detail if isinstance(row, dict)]
    return "; ".join(part for part in parts if part)


class LazadaRefusal(ItemRefused):
    """An item refused for a business reason, with Lazada's per-SKU `detail[]` rows when it gave them."""

    def __init__(self, message: str, *, detail: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        self.detail = list(detail or [])
        super().__init__(message, **kwargs)


def error_for(
    code: str | None, message: str, *, http_status: int = 200, request_id: str | None = None, detail: Any = None
) -> ConnectorError:
    """The typed error for one failed envelope (or an HTTP exchange without one)."""
    kw: dict[str, Any] = {"platform": PLATFORM, "code": code, "request_id": request_id}
    if code in RATE_LIMIT_CODES or http_status == 429:
        match = _BAN_SECONDS.search(message)
        return RateLimited(message or "too many requests", retry_after=float(match.group(1)) if match else 1.0, **kw)
    if code in TRANSIENT_CODES:
        return Transient(message, **kw)
    if code in TOKEN_CODES:
        return AuthExpired(message, **kw)
    if code in OAUTH_FAILURE_CODES:
        return AuthRevoked(message, **kw)
    if code in NOT_FOUND_CODES:
        return NotFound(message, **kw)
    if code is not None and (code in ITEM_REFUSED_CODES or _business_rule(code)):
        extra = _detail_message(detail)
        rows = [row for row in detail if isinstance(row, dict)] if isinstance(detail, list) else []
        return LazadaRefusal(f"{message}: {extra}" if extra else message, detail=rows, **kw)
    if code in INVALID_CODES:
        return InvalidRequest(message, fields={name: message for name in _QUOTED_NAME.findall(message)}, **kw)
    if http_status >= 500:
        return Transient(message or f"HTTP {http_status}", **kw)
    return ConnectorError(message or f"HTTP {http_status}", **kw)


def parse_response(status: int, content: bytes, *, secrets: Sequence[str] = ()) -> dict[str, Any]:
    """The envelope of a `code "0"` answer; otherwise the typed error (messages scrubbed of `secrets`).

    Lazada answers failures inside HTTP 200 too, so the envelope's code decides, not the status.
    """
    try:
        envelope = json.loads(content)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        raise error_for(None, f"HTTP {status} without a JSON envelope", http_status=status)
    raw_code = envelope.get("code")
    code = None if raw_code is None else str(raw_code)
    request_id = envelope.get("request_id")
    request_id = str(request_id) if request_id is not None else None
    message = redact(str(envelope.get("message") or ""), secrets)
    if code == CODE_OK and status < 400:
        return envelope
    if code is None and status < 400:
        raise ConnectorError(f"envelope without a code: {message}", platform=PLATFORM, request_id=request_id)
    detail = envelope.get("detail")
    if isinstance(detail, list):
        detail = [
            {key: redact(str(value), secrets) for key, value in row.items()} if isinstance(row, dict) else row
            for row in detail
        ]
    raise error_for(code, message, http_status=status, request_id=request_id, detail=detail)
