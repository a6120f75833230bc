# Lazada's wire answers to SyncStore's normalized models: products, SKUs, orders, tokens, categories.
"""Pure functions from Lazada JSON to `connectors.base` models (see `connectors.lazada` for the decisions)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import (
    AttributeValue,
    Dimensions,
    GrantedShop,
    ListingStatus,
    OrderLine,
    OrderStatus,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
    RemoteListing,
    RemoteOrder,
    RemoteSku,
    ShopLocation,
    StockLocation,
    TokenGrant,
)
from connectors.lazada.codes import (
    DEFAULT_WAREHOUSE,
    ITEM_CANCELLED,
    ITEM_STATUS,
    LISTING_STATUS,
    ORDER_STATUS_ORDER,
    PLATFORM,
)

# =================================================================================================
# Values
# =================================================================================================


def decimal_of(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def when_ms(value: Any) -> datetime:
    """An epoch-milliseconds value (string or number) as UTC; 0 when absent."""
    try:
        return datetime.fromtimestamp(int(str(value or 0)) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, UTC)


def when_text(value: Any) -> datetime:
    """`2018-02-09T22:44:30+08:00` or `2014-10-15 19:12:15 +0800` as UTC; epoch 0 when unreadable."""
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z"):
        try:
            return datetime.strptime(text, pattern).astimezone(UTC)
        except ValueError:
            continue
    return datetime.fromtimestamp(0, UTC)


def iso(moment: datetime) -> str:
    """A request date: `YYYY-MM-DDTHH:MM:SS+00:00` (the `+` is URL-encoded on the wire, signed as is)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


# =================================================================================================
# Products
# =================================================================================================


def _sku_stock(sku: Mapping[str, Any]) -> tuple[StockLocation, ...]:
    """Sellable stock per warehouse (`multiWarehouseInventories`), else the SKU's `quantity` at ""."""
    rows = sku.get("multiWarehouseInventories") or []
    located = [
        StockLocation(
            location_id=str(row.get("warehouseCode") or DEFAULT_WAREHOUSE),
            quantity=max(int(row.get("sellableQuantity", row.get("quantity")) or 0), 0),
        )
        for row in rows
        if isinstance(row, dict)
    ]
    if len(located) == 1 and located[0].location_id == DEFAULT_WAREHOUSE:
        # One seller warehouse, the default: the shop's one implicit location.
        return (StockLocation(location_id="", quantity=located[0].quantity),)
    if located:
        return tuple(located)
    return (StockLocation(location_id="", quantity=max(int(sku.get("quantity") or 0), 0)),)


def _sku_attributes(sku: Mapping[str, Any]) -> dict[str, str]:
    prop = sku.get("saleProp")
    if isinstance(prop, dict):
        return {str(key): str(value) for key, value in prop.items()}
    return {}


def sku_from_wire(sku: Mapping[str, Any], currency: str | None) -> RemoteSku:
    """The regular `price` is the price; `special_price` is a sale SyncStore reads and never writes."""
    return RemoteSku(
        sku_id=str(sku.get("SkuId")),
        seller_sku=str(sku["SellerSku"]) if sku.get("SellerSku") else None,
        price=decimal_of(sku.get("price")),
        currency=currency,
        stock=_sku_stock(sku),
        attributes=_sku_attributes(sku),
    )


def special_price(sku: Mapping[str, Any]) -> Decimal | None:
    """The SKU's special (sale) price as Lazada holds it, or None."""
    return decimal_of(sku.get("special_price"))


def _status(product: Mapping[str, Any]) -> tuple[ListingStatus, str]:
    raw = str(product.get("status") or "")
    status = LISTING_STATUS.get(raw.strip().lower(), ListingStatus.OTHER)
    sub = str(product.get("subStatus") or "").strip().lower()
    if sub in {"reject", "live reject"}:
        status = ListingStatus.REVIEW_FAILED
    return status, raw


def _review_message(product: Mapping[str, Any]) -> str:
    reasons = product.get("rejectReason") or []
    parts: list[str] = []
    for reason in reasons if isinstance(reasons, list) else [reasons]:
        if isinstance(reason, dict):
            parts.extend(str(value) for value in reason.values() if value)
        elif reason:
            parts.append(str(reason))
    return "; ".join(parts)


def _dimensions(sku: Mapping[str, Any]) -> Dimensions | None:
    sides = [decimal_of(sku.get(f"package_{side}")) for side in ("length", "width", "height")]
    if any(side is None for side in sides):
        return None
    length, width, height = (side for side in sides if side is not None)
    return Dimensions(length_cm=length, width_cm=width, height_cm=height)


def listing_from_wire(shop_id: str, product: Mapping[str, Any], currency: str | None = None) -> RemoteListing:
    """A `/products/get` or `/product/item/get` product -> RemoteListing (deleted SKUs are left out)."""
    attributes = product.get("attributes") or {}
    skus = [sku for sku in product.get("skus") or [] if str(sku.get("Status") or "").lower() != "deleted"]
    status, raw = _status(product)
    first = skus[0] if skus else {}
    images = [str(url) for url in product.get("images") or [] if url]
    return RemoteListing(
        platform=PLATFORM,
        shop_id=shop_id,
        item_id=str(product.get("item_id")),
        status=status,
        raw_status=raw,
        title=str(attributes.get("name") or ""),
        description=str(attributes.get("description") or ""),
        images=tuple(images),
        category_id=str(product["primary_category"]) if product.get("primary_category") is not None else None,
        weight_kg=decimal_of(first.get("package_weight")),
        dimensions=_dimensions(first),
        updated_at=when_ms(product.get("updated_time")),
        skus=tuple(sku_from_wire(sku, currency) for sku in skus),
        review_message=_review_message(product) if status is ListingStatus.REVIEW_FAILED else "",
    )


def warehouses_from_wire(envelope: Mapping[str, Any]) -> list[ShopLocation]:
    """`/seller/warehouse/get` `module[]`: more than one entry means a multi-warehouse seller."""
    rows = envelope.get("module") or envelope.get("data") or []
    if isinstance(rows, dict):
        rows = rows.get("module") or []
    locations = [
        ShopLocation(
            location_id=str(row.get("code") or row.get("warehouseCode")),
            name=str(row.get("name") or ""),
            is_default=bool(row.get("isDefault") or row.get("is_default")),
        )
        for row in rows
        if isinstance(row, dict) and (row.get("code") or row.get("warehouseCode"))
    ]
    return sorted(locations, key=lambda location: not location.is_default)


# =================================================================================================
# Orders: one item row per unit, a status per item
# =================================================================================================


def order_status(item_statuses: Sequence[str]) -> OrderStatus:
    """CANCELLED when every unit is; else the least advanced status of the live units."""
    live = [
        ITEM_STATUS.get(status.lower(), OrderStatus.OTHER)
        for status in item_statuses
        if status.lower() not in ITEM_CANCELLED
    ]
    if not live:
        return OrderStatus.CANCELLED if item_statuses else OrderStatus.OTHER
    return min(live, key=ORDER_STATUS_ORDER.index)


def lines_from_items(items: Sequence[Mapping[str, Any]]) -> tuple[OrderLine, ...]:
    """Unit rows grouped by (item, SKU): quantity = rows, cancelled_quantity = cancelled rows."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for item in items:
        groups[(str(item.get("product_id") or ""), str(item.get("sku_id") or ""))].append(item)
    lines = []
    for (product_id, sku_id), rows in groups.items():
        cancelled = sum(1 for row in rows if str(row.get("status") or "").lower() in ITEM_CANCELLED)
        seller_sku = next((str(row["sku"]) for row in rows if row.get("sku")), None)
        lines.append(
            OrderLine(
                line_id=f"{product_id}_{sku_id}",
                item_id=product_id,
                sku_id=sku_id,
                seller_sku=seller_sku,
                quantity=len(rows),
                cancelled_quantity=cancelled,
            )
        )
    return tuple(lines)


def order_from_wire(shop_id: str, order: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> RemoteOrder:
    statuses = [str(item.get("status") or "") for item in items] or [str(s) for s in order.get("statuses") or []]
    updated = max([when_text(order.get("updated_at"))] + [when_text(item.get("updated_at")) for item in items])
    return RemoteOrder(
        platform=PLATFORM,
        shop_id=shop_id,
        order_id=str(order.get("order_id")),
        status=order_status(statuses),
        raw_status=",".join(sorted(set(statuses))),
        lines=lines_from_items(items),
        updated_at=updated,
    )


# =================================================================================================
# Tokens
# =================================================================================================


def _seconds(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _countries(envelope: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = envelope.get("country_user_info") or envelope.get("country_user_info_list") or []
    return [row for row in rows if isinstance(row, dict)]


def grant_from_token(envelope: Mapping[str, Any], now: datetime) -> TokenGrant:
    """A top-level `/auth/token/create` or `/auth/token/refresh` answer -> TokenGrant (expires_in may be text)."""
    refresh_in = _seconds(envelope.get("refresh_expires_in"))
    countries = _countries(envelope)
    first = countries[0] if countries else {}
    return TokenGrant(
        access_token=str(envelope["access_token"]),
        refresh_token=str(envelope.get("refresh_token") or ""),
        access_token_expires_at=now + timedelta(seconds=_seconds(envelope.get("expires_in"))),
        refresh_token_expires_at=now + timedelta(seconds=refresh_in) if refresh_in > 0 else None,
        shop_id=str(first["seller_id"]) if first.get("seller_id") is not None else None,
        shop_name=None,  # `account` is the seller's login e-mail: not a shop name to show
        region=str(first.get("country") or envelope.get("country") or "").upper() or None,
    )


def granted_shops(envelope: Mapping[str, Any]) -> list[GrantedShop]:
    """One shop per `country_user_info` entry (a cross-border seller has one per venture)."""
    return [
        # The name is left to the shop profile (`/seller/get`), read with the new token.
        GrantedShop(shop_id=str(row["seller_id"]), region=str(row.get("country") or "").upper())
        for row in _countries(envelope)
        if row.get("seller_id") is not None
    ]


# =================================================================================================
# Categories, attributes, brands
# =================================================================================================


def categories_from_tree(nodes: Sequence[Mapping[str, Any]], parent: str | None = None) -> Iterator[RemoteCategory]:
    """`/category/tree/get` `data` flattened, parents before children."""
    for node in nodes:
        category_id = str(node.get("category_id"))
        yield RemoteCategory(
            category_id=category_id, name=str(node.get("name") or ""), parent_id=parent, is_leaf=bool(node.get("leaf"))
        )
        yield from categories_from_tree(node.get("children") or [], category_id)


_INPUT_TYPES = {
    "text": "text",
    "richtext": "text",
    "numeric": "number",
    "date": "date",
    "singleselect": "single_select",
    "enuminput": "single_select",
    "multiselect": "multi_select",
    "multienuminput": "multi_select",
}


def attribute_from_wire(row: Mapping[str, Any]) -> RemoteAttribute:
    raw_type = str(row.get("input_type") or "text").lower()
    options = [option for option in row.get("options") or [] if isinstance(option, dict)]
    return RemoteAttribute(
        attribute_id=str(row.get("name") or row.get("id")),
        name=str(row.get("label") or row.get("name") or ""),
        mandatory=str(row.get("is_mandatory")) in {"1", "True", "true"},
        input_type=_INPUT_TYPES.get(raw_type, "text"),
        values=tuple(
            AttributeValue(
                value_id=str(option.get("name") or option.get("id")),
                name=str(option.get("en_name") or option.get("name") or ""),
            )
            for option in options
        ),
        custom_allowed=raw_type not in {"singleselect", "multiselect"},
    )


def brands_from_wire(data: Any) -> tuple[list[RemoteBrand], int]:
    """`/category/brands/query` `data` -> (brands, total rows)."""
    if not isinstance(data, dict):
        return [], 0
    module = data.get("module") or []
    brands = [
        RemoteBrand(brand_id=str(row.get("brand_id")), name=str(row.get("name") or row.get("global_identifier") or ""))
        for row in module
        if isinstance(row, dict) and row.get("brand_id") is not None
    ]
    return brands, int(data.get("total_record") or 0)


def json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"))
