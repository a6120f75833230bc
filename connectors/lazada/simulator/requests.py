# The Lazada simulator's request plumbing: errors, envelopes, payload parsing (XML or JSON) and wire helpers.
"""Shared by every route; nothing here holds state."""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import JSONResponse

from connectors.lazada.simulator.codes import E_FORMAT, E_JSON_SHAPE, E_MISSING
from connectors.lazada.simulator.state import SimSeller


class SimError(Exception):
    """An error envelope `{type, code, message, request_id}` (HTTP 200, as the gateway answers)."""

    def __init__(
        self, code: str, message: str, *, kind: str = "ISV", detail: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.kind, self.detail = code, message, kind, detail


@dataclass
class Ctx:
    """One verified request: its seller (None on the auth endpoints) and its merged parameters."""

    seller: SimSeller | None
    params: dict[str, str]
    files: dict[str, bytes]

    @property
    def shop(self) -> SimSeller:
        assert self.seller is not None  # seller APIs only
        return self.seller


def request_id() -> str:
    return "0b" + secrets.token_hex(12)


def ok(data: Any = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"code": "0", "request_id": request_id()}
    if data is not None:
        body["data"] = data
    body.update(extra)
    return JSONResponse(body)


def fail(error: SimError) -> JSONResponse:
    body: dict[str, Any] = {
        "type": error.kind,
        "code": error.code,
        "message": error.message,
        "request_id": request_id(),
    }
    if error.detail:
        body["detail"] = error.detail
    return JSONResponse(body)


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise SimError(
            E_MISSING, f"The input parameter {name} that is mandatory for processing this request is not supplied"
        )
    return value


def _element(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = _element(child)
        if child.tag in out:
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    return out


def parse_payload(text: str, *, xml_only: bool = False) -> dict[str, Any]:
    """`payload` text -> the mapping under `Request` (XML; JSON where the API takes it)."""
    stripped = text.strip()
    if not stripped:
        raise SimError("30", "Empty request")
    if stripped.startswith("{"):
        if xml_only:
            raise SimError(E_FORMAT, "Invalid Request Format: this API takes an XML payload")
        try:
            parsed = json.loads(stripped)
        except ValueError:
            raise SimError(E_JSON_SHAPE, "The payload is not in JSON format") from None
        request = parsed.get("Request") if isinstance(parsed, dict) else None
        if not isinstance(request, dict):
            raise SimError(E_JSON_SHAPE, "The payload is not in JSON format")
        return request
    try:
        root = ET.fromstring(stripped)  # noqa: S314 - see the import
    except ET.ParseError:
        raise SimError(E_FORMAT, "Invalid Request Format: the payload is not well-formed XML") from None
    if root.tag != "Request":
        raise SimError(E_FORMAT, "Invalid Request Format: the root element must be Request")
    parsed_root = _element(root)
    return parsed_root if isinstance(parsed_root, dict) else {}


def as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def mapping_of(value: Any) -> dict[str, Any]:
    """`value` when it is a mapping, else an empty one."""
    return dict(value) if isinstance(value, dict) else {}


def skus_of(product: Mapping[str, Any]) -> list[dict[str, Any]]:
    skus = product.get("Skus")
    rows = as_list(skus.get("Sku")) if isinstance(skus, dict) else []
    return [row for row in rows if isinstance(row, dict)]


def decimal_text(value: Any, field_name: str) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise SimError(E_FORMAT, f"Invalid {field_name}: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise SimError(E_FORMAT, f"Invalid {field_name}: {value!r}")
    return format(number, "f")


def integer(value: Any, field_name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise SimError(E_FORMAT, f"Invalid {field_name}: {value!r}") from None


def iso_text(moment: float) -> str:
    """`2018-02-09T22:44:30+08:00` in UTC+8 (the ventures' time)."""
    from datetime import timedelta, timezone

    return datetime.fromtimestamp(moment, timezone(timedelta(hours=8))).replace(microsecond=0).isoformat()


def parse_iso(value: str, code: str) -> float:
    """An ISO-8601 date with an offset (`+0800` or `+08:00`); anything else is `code` (17)."""
    text = value.strip()
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if moment.tzinfo is None:
            break
        return moment.astimezone(UTC).timestamp()
    raise SimError(code, f"Invalid date format: {value!r}")
