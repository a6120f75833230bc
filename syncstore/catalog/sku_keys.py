# SKU keys: the normalized spelling auto-binding matches a remote seller SKU to a master SKU by.
"""SKU keys.

A key ignores case, spaces (any white space) and dashes: `"AB-12 x"`, `"ab12X"` and `" ab-12-x "` share
the key `"ab12x"`. A remote seller SKU's key also loses the shop's prefix and suffix (stored per
shop, compared as keys too), so `"SHP-AB-12"` in a shop with the prefix `"SHP-"` has the key `"ab12"`.
A prefix or suffix is stripped only when something remains. An empty key is no key (None).

`sku_key` (Python, for one value) and `key_expr` (Polars, for a column) give the same key.
"""

from __future__ import annotations

import re
from typing import Final

import polars as pl

_IGNORED: Final = r"[\s\-]+"
_IGNORED_RE: Final = re.compile(_IGNORED)


def normalize(text: str | None) -> str | None:
    """Case, white space and dashes removed; None for nothing left."""
    if text is None:
        return None
    key = _IGNORED_RE.sub("", text).lower()
    return key or None


def sku_key(seller_sku: str | None, prefix: str | None = None, suffix: str | None = None) -> str | None:
    """The key a remote seller SKU binds by, after the shop's prefix and suffix are stripped."""
    key = normalize(seller_sku)
    if key is None:
        return None
    head, tail = normalize(prefix), normalize(suffix)
    if head and key.startswith(head) and len(key) > len(head):
        key = key[len(head) :]
    if tail and key.endswith(tail) and len(key) > len(tail):
        key = key[: -len(tail)]
    return key


def key_expr(column: pl.Expr) -> pl.Expr:
    """`normalize` as a Polars expression (a master SKU's key; no prefix or suffix)."""
    key = column.str.replace_all(_IGNORED, "").str.to_lowercase()
    return pl.when(key != "").then(key)  # "" (nothing left) becomes null; the column keeps its name
