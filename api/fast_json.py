# JSON answers for hot read paths: plain rows to bytes without a second validation pass.
"""Fast JSON.

The product list is the API's busiest read. Its rows come from two SQL queries as plain dicts in
the shape the OpenAPI schema documents (`ProductOut`); re-validating them through pydantic on every
request would cost more than the queries. Money (Decimal) becomes a decimal string and times ISO
8601, exactly as pydantic writes them; the schema test checks the two agree. On PostgreSQL the
database writes the items' JSON itself (`reads.products_after_json`) and `page_response` wraps it.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi.responses import Response


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(data: Any) -> bytes:
    return json.dumps(data, default=_default, separators=(",", ":"), ensure_ascii=False).encode()


def response(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status_code, headers=headers, media_type="application/json")


def page_response(items_json: str, next_cursor: str | None) -> Response:
    """A page (`{"items": [...], "next_cursor": ...}`) around items already written as a JSON array."""
    body = b'{"items":' + items_json.encode() + b',"next_cursor":' + dumps(next_cursor) + b"}"
    return Response(body, media_type="application/json")
