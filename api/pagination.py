# Cursor pagination of the public API: opaque cursors over a stable order (the row id).
"""Cursors.

A list answers `items` and `next_cursor`; the next page is asked with `cursor=<next_cursor>`.
A cursor is the last id seen, base64url-encoded: pages never skip or repeat a row when rows are
added or edited meanwhile (offsets would), and each page is one index range scan.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from api.problems import ApiProblem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T] = Field(description="The rows of this page.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int | None:
    """The id after which the page starts; 422 for a cursor this API did not write."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["after"]
        if isinstance(after, int) and not isinstance(after, bool) and 0 <= after < 2**63:
            return after
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        pass
    raise ApiProblem(422, "cursor: not a cursor this API returned", kind="invalid-input")


def next_cursor(ids: list[int], limit: int) -> str | None:
    """The cursor after a page of `ids` read with `limit + 1` rows (None when it was the last page)."""
    return encode(ids[limit - 1]) if len(ids) > limit else None
