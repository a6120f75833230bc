# The Shopee simulator's request plumbing: API errors, the request context, parameter checks and JSON.
"""Shared by every route of the simulator; nothing here holds state."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.datastructures import QueryParams
from starlette.responses import Response

from connectors.shopee.simulator.codes import DECIMAL_REGIONS, PRICE_RATIO, Json, StockSpec
from connectors.shopee.simulator.state import SimShop

# --- request plumbing -----------------------------------------------------------------------


class ApiError(Exception):
    """An answer with a non-empty `error`."""

    def __init__(
        self,
        error: str,
        message: str,
        status: int = 400,
        *,
        retry_after: int | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(f"{error}: {message}")
        self.error, self.message, self.status = error, message, status
        self.retry_after, self.response = retry_after, response


def param_error(detail: str) -> ApiError:
    return ApiError("error_param", f"Wrong parameters, detail: {detail}")


@dataclass
class Ctx:
    shop: SimShop | None
    query: QueryParams
    body: Json
    now: float
    warnings: list[str] = field(default_factory=list)

    @property
    def shop_id(self) -> int:
        return self.own_shop.shop_id

    @property
    def own_shop(self) -> SimShop:
        if self.shop is None:
            raise ApiError("error_param", "There is no shop_id in query.")
        return self.shop


def shopee_accepts(status: int, body: bytes) -> bool:
    """Shopee counts a push as delivered only on a 2xx with an empty body."""
    return 200 <= status < 300 and not body


def digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def hmac_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps_json(payload: Any) -> str:
    return json.dumps(payload, default=_json_default, separators=(",", ":"))


def json_response(payload: Json, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps_json(payload), status_code=status, media_type="application/json", headers=headers)


def parse_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw, parse_float=Decimal) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ApiError("error_param", "The request body must be a JSON object.")
    return body


def int_param(value: Any, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and digits(value.strip().removeprefix("-")):
            value = int(value)
        else:
            raise ApiError("error_param", f"{name} is required and must be an integer.")
    if minimum is not None and value < minimum:
        raise ApiError("error_param", f"{name} must be at least {minimum}.")
    return int(value)


def text_param(value: Any, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ApiError("error_param", f"{name} is required and must be a non-empty string.")
    return value


def entries_of(value: Any, name: str, low: int, high: int) -> list[Json]:
    if not isinstance(value, list) or not low <= len(value) <= high or not all(isinstance(v, dict) for v in value):
        raise ApiError("error_param", f"{name} should have {low} to {high} entries.")
    return value


def split_csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def comma_list(query: QueryParams, name: str, shop: SimShop) -> list[str]:
    """A documented comma-joined array parameter: ONE value; a repeated key is a wrong parameter."""
    values = query.getlist(name)
    if len(values) > 1 and shop.strict_arrays:
        raise param_error(f"{name} must be one comma-separated value, not a repeated parameter.")
    return [part for value in values for part in split_csv(value)]


def repeated_list(query: QueryParams, name: str, shop: SimShop) -> list[str]:
    """A documented repeated-key array parameter (`item_status=A&item_status=B`)."""
    values = query.getlist(name)
    if shop.strict_arrays:
        return [value.strip() for value in values if value.strip()]
    return [part for value in values for part in split_csv(value)]


def query_int(query: QueryParams, name: str, default: int | None = None) -> int:
    raw = query.get(name)
    if raw is None:
        if default is None:
            raise ApiError("error_param", f"{name} is required.")
        return default
    return int_param(raw, name)


def _price(value: Any) -> Decimal | None:
    """A positive finite price with at most 2 decimal places, else None."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    if not price.is_finite() or price <= 0:
        return None
    exponent = price.normalize().as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        return None
    return price


def region_price(value: Any, shop: SimShop, name: str) -> Decimal:
    """A price the shop's region takes: 2 decimals in some regions, integers elsewhere."""
    price = _price(value)
    if price is None:
        raise param_error(f"{name} must be a positive number with at most 2 decimal places.")
    if shop.region not in DECIMAL_REGIONS and price != price.to_integral_value():
        raise param_error(f"{name} {price} has decimals; prices in region {shop.region} must be integers.")
    return price


def check_price_ratio(prices: Sequence[Decimal], shop: SimShop) -> None:
    """The variation price ratio of the shop's region between an item's highest and lowest price."""
    ratio = PRICE_RATIO.get(shop.region)
    if not shop.price_ratio_check or ratio is None or len(prices) < 2:
        return
    low, high = min(prices), max(prices)
    if high > low * ratio:
        raise param_error(
            f"the price gap between models is too large: in region {shop.region} the highest price "
            f"may be at most {ratio} times the lowest ({high} > {ratio} x {low})."
        )


def wire_weight(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ApiError("error_param", "weight must be a positive number (kg).")
    weight = Decimal(value)
    if weight <= 0:
        raise ApiError("error_param", "weight must be a positive number (kg).")
    return weight


def wire_dimension(value: Any) -> dict[str, int]:
    keys = ("package_length", "package_width", "package_height")
    if not isinstance(value, dict):
        raise ApiError("error_param", "dimension must be an object.")
    return {key: int_param(value.get(key), f"dimension.{key}", minimum=1) for key in keys}


def image_list(value: Any) -> list[str]:
    ids = value.get("image_id_list") if isinstance(value, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ApiError("error_param", "image.image_id_list should have at least 1 image id.")
    return list(ids)


def image_url(image_id: str) -> str:
    return image_id if image_id.startswith(("http://", "https://")) else f"https://cf.shopee.sim/file/{image_id}"


def with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *extra.items()])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def stock_map(spec: StockSpec, locations: Sequence[str]) -> dict[str, int]:
    """Seeded stock: an int goes to the first location; a mapping names locations."""
    if isinstance(spec, int):
        return {location: (spec if index == 0 else 0) for index, location in enumerate(locations)}
    unknown = set(spec) - set(locations)
    if unknown:
        raise ValueError(f"locations {sorted(unknown)} are not locations of this shop")
    return {location: int(spec.get(location, 0)) for location in locations}


def product_route(path: str) -> bool:
    return path.startswith("/api/v2/product/")


MSG_DEPRECATED_TIERS = (
    "Wrong parameters, detail: tier_variation is deprecated since 2025-09-12, use standardise_tier_variation."
)


def standard_tiers(body: Json, *, required: bool = True) -> list[Json]:
    """`standardise_tier_variation` of init/update_tier_variation, stored as [{name, option_list[{option}]}].

    The deprecated `tier_variation` field is refused (the reference: since 2025-09-12 the request uses
    `standardise_tier_variation`). Custom variations have variation_id 0 and a name; options likewise.
    """
    if "tier_variation" in body:
        raise ApiError("error_param", MSG_DEPRECATED_TIERS)
    if "standardise_tier_variation" not in body and not required:
        return []
    tiers = entries_of(body.get("standardise_tier_variation"), "standardise_tier_variation", 1, 2)
    stored: list[Json] = []
    for tier in tiers:
        name, options = tier.get("variation_name"), tier.get("variation_option_list")
        if isinstance(tier.get("variation_id"), bool) or not isinstance(tier.get("variation_id"), int):
            raise param_error("standardise_tier_variation.variation_id is required.")
        if not isinstance(name, str) or not name.strip() or not isinstance(options, list) or not options:
            raise param_error("standardise_tier_variation needs a variation_name and a variation_option_list.")
        names = []
        for option in options:
            text = option.get("variation_option_name") if isinstance(option, dict) else None
            if not isinstance(option, dict) or not isinstance(option.get("variation_option_id"), int):
                raise param_error("variation_option_list entries need variation_option_id.")
            if not isinstance(text, str) or not text.strip():
                raise param_error("variation_option_list entries need variation_option_name.")
            names.append(text)
        if len(set(names)) != len(names):
            raise ApiError("error_model_duplicate_name", "Item tier_variation have duplicate name.")
        stored.append({"name": name, "option_list": [{"option": text} for text in names]})
    return stored


def standardise_wire(tiers: list[Json]) -> list[Json]:
    """Stored tiers as get_model_list's `standardise_tier_variation` (custom variations: ids 0)."""
    return [
        {
            "variation_id": 0,
            "variation_name": tier.get("name", ""),
            "variation_group_id": 0,
            "variation_option_list": [
                {"variation_option_id": 0, "variation_option_name": option.get("option", ""), "image_id": ""}
                for option in tier.get("option_list", [])
            ],
        }
        for tier in tiers
    ]
