# Small conversions between Shopee's wire values and Python's: times, ids, numbers, JSON shapes, scrubbing.
"""Helpers the transport, the mapping and the connector share; nothing here sends a request."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from connectors.base import (
    ConnectorError,
    InvalidRequest,
)
from connectors.shopee.codes import PLATFORM
from connectors.shopee.limits import ACCESS_TOKEN_LIFETIME

T = TypeVar("T")

Json = dict[str, Any]


# --- small helpers --------------------------------------------------------------------------


def from_unix(value: int | float | Decimal) -> datetime:
    seconds = float(value)
    if seconds > 1e12:  # milliseconds
        seconds /= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def unix(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: SyncStore times are timezone-aware UTC")
    return int(moment.timestamp())


def chunks(values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]


def wire_int_id(value: str, name: str) -> int:
    """Shopee ids are integers on the wire; SyncStore keeps them as strings."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()):
        raise InvalidRequest(f"{name} {value!r} is not a Shopee id", fields={name: "not numeric"}, platform=PLATFORM)
    return int(text)


def wire_number(value: Decimal, name: str, *, places: int | None = 2) -> float:
    """A Decimal as the JSON number Shopee expects, only if that number is exactly the Decimal."""
    if not value.is_finite() or value <= 0:
        raise InvalidRequest(f"{name} must be a positive number", fields={name: "not positive"}, platform=PLATFORM)
    as_float = float(value)
    exponent = value.normalize().as_tuple().exponent
    too_fine = places is not None and isinstance(exponent, int) and exponent < -places
    if Decimal(repr(as_float)) != value or too_fine:
        raise InvalidRequest(
            f"{name} {value} cannot be sent without rounding", fields={name: "too precise"}, platform=PLATFORM
        )
    return as_float


def whole_cm(value: Decimal, name: str) -> int:
    if not value.is_finite() or value <= 0 or value != value.to_integral_value():
        raise InvalidRequest(
            f"{name} must be whole centimetres on Shopee", fields={name: "whole cm"}, platform=PLATFORM
        )
    return int(value)


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def objects(value: Any) -> list[Json]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def as_dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def id_of(entry: Json, key: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConnectorError(f"answer without an integer {key}", platform=PLATFORM)
    return value


def expiry_at(expire_in: Any, now: datetime) -> datetime:
    """`expire_in` is documented as seconds; tolerate strings, and absolute Unix times if ever sent."""
    seconds = to_decimal(expire_in)
    if seconds is None or seconds <= 0:
        return now + ACCESS_TOKEN_LIFETIME
    if seconds > 1_000_000_000:  # looks like an absolute Unix timestamp, not a duration
        return from_unix(seconds)
    return now + timedelta(seconds=int(seconds))


def retry_after_s(headers: httpx.Headers) -> float | None:
    raw = headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
