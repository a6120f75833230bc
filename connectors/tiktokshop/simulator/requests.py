# The TikTok Shop simulator's request plumbing: errors, envelopes, field checks and wire helpers.
"""Shared by every route of the simulator; nothing here holds state."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import JSONResponse

from connectors.tiktokshop.simulator.codes import E_PARAM, E_STOCK_INVALID, STOCK_LIMIT
from connectors.tiktokshop.simulator.state import SimOrder, SimShop

# =================================================================================================
# Errors and envelopes
# =================================================================================================


class SimError(Exception):
    """An error envelope to answer with. `business` errors take the shop's business HTTP status."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        http_status: int = 400,
        retry_after: int | None = None,
        business: bool = False,
    ) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.http_status, self.retry_after, self.business = http_status, retry_after, business
        self.shop: SimShop | None = None  # set once the request's shop is known


def business_error(code: int, message: str) -> SimError:
    return SimError(code, message, business=True)


def param(name: str, reason: str, code: int = E_PARAM) -> SimError:
    return business_error(code, f"Parameter '{name}' is invalid. Reason: {reason}.")


def _request_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


def ok_response(data: Mapping[str, Any]) -> JSONResponse:
    return JSONResponse({"code": 0, "message": "Success", "request_id": _request_id(), "data": dict(data)})


def fail_response(error: SimError, status: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    body = {"code": error.code, "message": error.message, "request_id": _request_id(), "data": {}}
    return JSONResponse(body, status_code=status or error.http_status, headers=headers)


def int_field(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise param(name, "must be an integer")
    return value


def decimal_text(value: Any, name: str) -> Decimal:
    if not isinstance(value, str):
        raise param(name, "must be a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise param(name, "must be a decimal string") from error
    if not number.is_finite() or number <= 0:
        raise param(name, "must be a positive decimal")
    return number


def quantity_field(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < STOCK_LIMIT:
        raise business_error(E_STOCK_INVALID, f"stock count is invalid: '{name}' must be >= 0 and < {STOCK_LIMIT}")
    return value


@dataclass
class Ctx:
    shop: SimShop | None
    seller_id: str
    query: dict[str, str]
    body: Any
    path_params: dict[str, str]


Handler = Callable[[Ctx], Mapping[str, Any]]


# =================================================================================================
# Wire helpers (module level: no state)
# =================================================================================================


def sku_error(code: int, sku_id: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": {"sku_id": sku_id}}


def wire_weight(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or value.get("unit") not in ("KILOGRAM", "POUND"):
        raise param("package_weight", "value and unit (KILOGRAM or POUND) required")
    decimal_text(value.get("value"), "package_weight.value")
    return {"value": value["value"], "unit": value["unit"]}


def wire_dimensions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or value.get("unit") not in ("CENTIMETER", "INCH"):
        raise param("package_dimensions", "length, width, height and unit (CENTIMETER or INCH) required")
    for side in ("length", "width", "height"):
        decimal_text(value.get(side), f"package_dimensions.{side}")
    return {side: value[side] for side in ("length", "width", "height", "unit")}


def order_wire(order: SimOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "status": order.status,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "line_items": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "sku_id": line.sku_id,
                "seller_sku": line.seller_sku,
                "sale_price": line.sale_price,
                "original_price": line.sale_price,
                "currency": line.currency,
                "display_status": line.display_status,
                "is_gift": False,
                **(
                    {"cancel_reason": line.cancel_reason, "cancel_user": line.cancel_user} if line.cancel_reason else {}
                ),
            }
            for line in order.line_items
        ],
    }
