# The one redaction policy: which keys and header names carry credentials, and how their values are hidden.
"""Redaction.

Sync logs (`syncstore.sync.logs`) and the webhook log (`syncstore.events.webhook_log`) store or show
requests, responses, payloads and headers; both hide credentials through this module, so a key
is secret in one exactly when it is secret in the other.

A key (or header name) is secret when it names a token, secret, signature (`sign`, `*_sign`,
`signature`), password, authorization, cookie or credential, or ends in `key` as its own word
(`partner_key`, `app_key`, `api_key`, `x-api-key`, `apikey`), unless it is one of the
`HARMLESS_KEYS`, names that merely contain such a word. `redact_text` cuts the value of
`access_token=...`, `sign: ...` and `Bearer ...` out of free text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

REDACTED: Final = "[redacted]"
_SECRET_NAME: Final = re.compile(
    r"token|secret|sign|passw|authori[sz]ation|cookie|credential"
    r"|partner_key|app_key|api_key|(^|[_-])(api[_-]?)?key$",
    re.IGNORECASE,
)
# Keys that merely contain one of those words: our own idempotency keys, a seller's SKU, a design's "sign".
HARMLESS_KEYS: Final = frozenset({"idempotency_key", "seller_sku", "design_sign"})
# "access_token=...", "sign: ...", "Bearer ...": the value goes.
_BEARER: Final = re.compile(
    r"(?i)\b(access_token|refresh_token|token|sign|bearer)(?:\s*[:=]\s*|\s+(?=\S{16,}))[^\s&\"',]+"
)


def is_secret_key(name: str) -> bool:
    """Whether a payload key or header name suggests its value is a credential."""
    return name not in HARMLESS_KEYS and _SECRET_NAME.search(name) is not None


def redact_text(text: str) -> str:
    """`text` with the value after `access_token=`, `sign:`, `Bearer ` and the like replaced."""
    return _BEARER.sub(lambda match: f"{match.group(1)}={REDACTED}", text)


def redact_keys(value: Any, *, leaf: Callable[[Any], Any] = lambda item: item, keep_none: bool = False) -> Any:
    """A copy of `value` with the value under every secret key replaced by REDACTED, at any depth.

    Other values go through `leaf`; with `keep_none`, a secret key whose value is None keeps it
    (an absent credential is not one).
    """
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED
            if is_secret_key(str(key)) and not (keep_none and item is None)
            else redact_keys(item, leaf=leaf, keep_none=keep_none)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_keys(item, leaf=leaf, keep_none=keep_none) for item in value]
    return leaf(value)
