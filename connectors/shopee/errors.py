# Shopee's error codes and messages mapped to SyncStore's typed connector errors.
"""Codes come bare or module-prefixed; the prefix is stripped before mapping (see `connectors.shopee`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from connectors.base import (
    AuthExpired,
    AuthRevoked,
    ConnectorError,
    InvalidRequest,
    ItemRefused,
    NotFound,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from connectors.shopee.codes import (
    ENVELOPE_MESSAGE,
    INVALID_CODES,
    ITEM_REFUSED_CODES,
    NOT_FOUND_CODES,
    PLATFORM,
    REVOKED,
    REVOKED_CODES,
    SHOP_LEVEL_CODES,
    SYSTEM_ERROR,
    TOKEN_CODES,
    TOKEN_MESSAGE,
    TRANSIENT_CODES,
)

# --- error mapping --------------------------------------------------------------------------


def bare_code(code: str) -> str:
    """The error code without its module prefix: `product.error_param` -> `error_param`
    (and the odd `error.param` -> `error_param`)."""
    module, dot, bare = code.rpartition(".")
    if not dot:
        return code
    return f"error_{bare}" if module == "error" else bare


def _auth_error_class(message: str) -> type[ConnectorError]:
    """What an `error_auth` means, read from its message: only token messages refresh the token."""
    if REVOKED.search(message):
        return AuthRevoked
    if TOKEN_MESSAGE.search(message):
        return AuthExpired
    if SYSTEM_ERROR.search(message):
        return Transient
    return ItemRefused


def error_for(
    code: str,
    message: str,
    *,
    path: str,
    http_status: int,
    request_id: str | None = None,
    retry_after: float | None = None,
    sent_fields: Iterable[str] = (),
) -> ConnectorError:
    """The typed error for a Shopee error code, bare or module-prefixed (or, without one, the HTTP status)."""
    common: dict[str, Any] = {"platform": PLATFORM, "code": code or None, "request_id": request_id}
    text = f"{path}: {message or code or f'HTTP {http_status}'}"
    bare = bare_code(code)
    if bare == "error_rate_limit" or (not code and http_status == 429):
        return RateLimited(text, retry_after=retry_after, **common)
    if bare == "error_limit":
        return QuotaExhausted(text, **common)
    if bare in TOKEN_CODES:
        return (AuthRevoked if REVOKED.search(message) else AuthExpired)(text, **common)
    if bare in REVOKED_CODES:
        return AuthRevoked(text, **common)
    if bare == "error_auth":
        return _auth_error_class(message)(text, **common)
    if bare in INVALID_CODES:
        fields = {name: message for name in sent_fields if re.search(rf"\b{re.escape(name)}\b", message)}
        return InvalidRequest(text, fields=fields, **common)
    if bare in NOT_FOUND_CODES:
        return NotFound(text, **common)
    if bare in TRANSIENT_CODES or http_status >= 500:
        return Transient(text, **common)
    if ITEM_REFUSED_CODES.match(bare):
        return ItemRefused(text, **common)
    if not code and http_status >= 400:
        return InvalidRequest(text, **common)
    return ConnectorError(text, **common)


def is_item_error(error: ConnectorError) -> bool:
    """True when `error` concerns the item of the call, not the shop or the request envelope.

    ItemRefused, a bad parameter (except a bad signature or envelope: timestamp, partner, token) and an
    unknown business code are the item's problem; the rest of the shop goes on.
    """
    if isinstance(error, ItemRefused):
        return True
    if isinstance(error, InvalidRequest):
        bare = bare_code(error.code or "")
        return bool(bare) and bare != "error_sign" and not ENVELOPE_MESSAGE.search(str(error))
    bare = bare_code(error.code or "")
    return type(error) is ConnectorError and bool(bare) and bare not in SHOP_LEVEL_CODES
