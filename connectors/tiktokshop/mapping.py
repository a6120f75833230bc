# TikTok Shop's wire answers to SyncStore's normalized models, and request bodies back.
"""Products, SKUs, orders, warehouses and token answers into `connectors.base` models; edits out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import (
    Dimensions,
    ListingFields,
    ListingStatus,
    OrderLine,
    OrderStatus,
    RemoteListing,
    RemoteOrder,
    RemoteSku,
    ShopLocation,
    SkuResult,
    StockLocation,
    TokenGrant,
)
from connectors.tiktokshop.codes import (
    INCH_CM,
    LINE_CANCELLED,
    LISTING_STATUS,
    ORDER_STATUS,
    PLATFORM,
    POUND_KG,
    SALES_WAREHOUSE,
)

# =================================================================================================
# Wire -> normalized models (pure)
# =================================================================================================


def when_of(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value or 0), UTC)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def decimal_str(value: Decimal) -> str:
    """A Decimal as a plain decimal string ("19.90", never "1.99E+1", never a float)."""
    return format(value, "f")


def weight_kg(package_weight: Mapping[str, Any] | None) -> Decimal | None:
    if not package_weight:
        return None
    value = _decimal(package_weight.get("value"))
    if value is None:
        return None
    return value * POUND_KG if str(package_weight.get("unit", "")).upper() == "POUND" else value


def dimensions_cm(package_dimensions: Mapping[str, Any] | None) -> Dimensions | None:
    if not package_dimensions:
        return None
    sides = [_decimal(package_dimensions.get(side)) for side in ("length", "width", "height")]
    if any(side is None for side in sides):
        return None
    factor = INCH_CM if str(package_dimensions.get("unit", "")).upper() == "INCH" else Decimal(1)
    length, width, height = (side * factor for side in sides if side is not None)
    return Dimensions(length_cm=length, width_cm=width, height_cm=height)


def _image_ref(image: Mapping[str, Any]) -> str | None:
    """The image's `uri`: the id uploads answer and creates take; its `urls` are CDN addresses that change."""
    uri = image.get("uri")
    if uri:
        return str(uri)
    urls = image.get("urls") or []
    return str(urls[0]) if urls else None


def _leaf_category(chains: Sequence[Mapping[str, Any]] | None) -> str | None:
    if not chains:
        return None
    leaves = [chain for chain in chains if chain.get("is_leaf")]
    leaf = leaves[-1] if leaves else chains[-1]
    return str(leaf["id"]) if leaf.get("id") is not None else None


def sku_price(price: Mapping[str, Any]) -> Decimal | None:
    """The pre-tax price: `tax_exclusive_price`, else `sale_price` (tax included in cross-border shops)."""
    pre_tax = _decimal(price.get("tax_exclusive_price"))
    return pre_tax if pre_tax is not None else _decimal(price.get("sale_price"))


def review_message(product: Mapping[str, Any]) -> str:
    """`audit_failed_reasons[{position, reasons[], suggestions[]}]` as one line, in the platform's words."""
    parts: list[str] = []
    for entry in product.get("audit_failed_reasons") or []:
        if not isinstance(entry, Mapping):
            continue
        reasons = "; ".join(str(reason) for reason in entry.get("reasons") or [] if reason)
        suggestions = "; ".join(str(hint) for hint in entry.get("suggestions") or [] if hint)
        text = reasons + (f" (suggestion: {suggestions})" if suggestions else "")
        position = str(entry.get("position") or "")
        if text:
            parts.append(f"{position}: {text}" if position else text)
    return " | ".join(parts)


def sku_from_wire(sku: Mapping[str, Any]) -> RemoteSku:
    price = sku.get("price") or {}
    stock = tuple(
        StockLocation(location_id=str(row.get("warehouse_id") or ""), quantity=max(int(row.get("quantity") or 0), 0))
        for row in sku.get("inventory") or []
    )
    attributes = {
        str(attr.get("name", "")): str(attr.get("value_name", "")) for attr in sku.get("sales_attributes") or []
    }
    return RemoteSku(
        sku_id=str(sku["id"]),
        seller_sku=sku.get("seller_sku") or None,
        price=sku_price(price),
        currency=price.get("currency") or None,
        stock=stock,
        attributes=attributes,
    )


def listing_from_detail(shop_id: str, product: Mapping[str, Any]) -> RemoteListing:
    """GET /product/202309/products/{id} `data` -> RemoteListing."""
    raw_status = str(product.get("status") or "")
    images = tuple(ref for ref in (_image_ref(image) for image in product.get("main_images") or []) if ref)
    return RemoteListing(
        platform=PLATFORM,
        shop_id=shop_id,
        item_id=str(product["id"]),
        status=LISTING_STATUS.get(raw_status, ListingStatus.OTHER),
        raw_status=raw_status,
        title=str(product.get("title") or ""),
        description=str(product.get("description") or ""),
        images=images,
        category_id=_leaf_category(product.get("category_chains")),
        weight_kg=weight_kg(product.get("package_weight")),
        dimensions=dimensions_cm(product.get("package_dimensions")),
        updated_at=when_of(product.get("update_time")),
        skus=tuple(sku_from_wire(sku) for sku in product.get("skus") or []),
        review_message=review_message(product) if raw_status == "FAILED" else "",
    )


def order_lines(line_items: Sequence[Mapping[str, Any]]) -> tuple[OrderLine, ...]:
    """TikTok's line items (ONE PER UNIT) grouped by SKU, in first-seen order.

    quantity = the SKU's line items; cancelled_quantity = those whose `display_status` is CANCELLED.
    """
    grouped: dict[str, dict[str, Any]] = {}
    for item in line_items:
        sku_id = str(item["sku_id"])
        line = grouped.setdefault(
            sku_id,
            {"item_id": str(item["product_id"]), "seller_sku": item.get("seller_sku") or None, "units": 0, "gone": 0},
        )
        line["units"] += 1
        if str(item.get("display_status") or "").upper() == LINE_CANCELLED:
            line["gone"] += 1
    return tuple(
        OrderLine(
            line_id=sku_id,
            item_id=line["item_id"],
            sku_id=sku_id,
            seller_sku=line["seller_sku"],
            quantity=line["units"],
            cancelled_quantity=line["gone"],
        )
        for sku_id, line in grouped.items()
    )


def order_from_wire(shop_id: str, order: Mapping[str, Any]) -> RemoteOrder:
    """One order of GET /order/202309/orders or of the order search -> RemoteOrder (lines grouped by SKU)."""
    raw_status = str(order.get("status") or "")
    return RemoteOrder(
        platform=PLATFORM,
        shop_id=shop_id,
        order_id=str(order["id"]),
        status=ORDER_STATUS.get(raw_status, OrderStatus.OTHER),
        raw_status=raw_status,
        lines=order_lines(order.get("line_items") or []),
        updated_at=when_of(order.get("update_time") or order.get("create_time")),
    )


def warehouses_from_wire(data: Mapping[str, Any]) -> list[ShopLocation]:
    """GET /logistics/202309/warehouses `data` -> the enabled SALES warehouses, the default first."""
    sales = [
        warehouse
        for warehouse in data.get("warehouses") or []
        if str(warehouse.get("type") or "") == SALES_WAREHOUSE
        and str(warehouse.get("effect_status") or "").upper() != "DISABLED"
        and warehouse.get("id") is not None
    ]
    locations = [
        ShopLocation(
            location_id=str(warehouse["id"]),
            name=str(warehouse.get("name") or ""),
            is_default=warehouse.get("is_default") is True,
        )
        for warehouse in sales
    ]
    return sorted(locations, key=lambda location: not location.is_default)  # stable: default first


def batch_results(ids: Sequence[str], data: Mapping[str, Any], key: str) -> tuple[SkuResult, ...]:
    """`data.errors[]` of a code-0 batch answer -> one SkuResult per id, in order.

    An error naming an id (detail.<key>) fails that id; an error naming none fails every id of the
    batch, so a failure is never reported as a success.
    """
    failed: dict[str, SkuResult] = {}
    unattributed: list[SkuResult] = []
    for error in data.get("errors") or []:
        detail = error.get("detail") or {}
        extra = "; ".join(str(e.get("message", "")) for e in detail.get("extra_errors") or [] if e.get("message"))
        message = str(error.get("message") or "") + (f" ({extra})" if extra else "")
        code = str(error["code"]) if error.get("code") is not None else None
        target = str(detail.get(key)) if detail.get(key) is not None else None
        if target is not None and target in ids:
            failed[target] = SkuResult(sku_id=target, ok=False, error_code=code, message=message)
        else:
            unattributed.append(SkuResult(sku_id="", ok=False, error_code=code, message=message))
    if unattributed:
        first = unattributed[0]
        for item in ids:
            failed.setdefault(item, first.model_copy(update={"sku_id": item}))
    return tuple(failed.get(item, SkuResult(sku_id=item, ok=True)) for item in ids)


def grant_from_token_data(data: Mapping[str, Any]) -> TokenGrant:
    """Token endpoint `data` -> TokenGrant. Both `*_expire_in` are ABSOLUTE Unix timestamps."""
    refresh_expiry = data.get("refresh_token_expire_in")
    return TokenGrant(
        access_token=str(data["access_token"]),
        refresh_token=str(data["refresh_token"]),
        access_token_expires_at=when_of(data["access_token_expire_in"]),
        refresh_token_expires_at=when_of(refresh_expiry) if refresh_expiry else None,
        shop_name=data.get("seller_name") or None,
        region=data.get("seller_base_region") or None,
    )


# =================================================================================================
# Wire bodies from normalized models (pure)
# =================================================================================================


def weight_body(kg: Decimal) -> dict[str, str]:
    return {"value": decimal_str(kg), "unit": "KILOGRAM"}


def dimensions_body(dimensions: Dimensions) -> dict[str, str]:
    return {
        "length": decimal_str(dimensions.length_cm),
        "width": decimal_str(dimensions.width_cm),
        "height": decimal_str(dimensions.height_cm),
        "unit": "CENTIMETER",
    }


def images_body(images: Sequence[str]) -> list[dict[str, str]]:
    return [{"uri": image} for image in images]


def partial_edit_body(fields: ListingFields) -> dict[str, Any]:
    """Only the properties given; each one sent replaces that whole property on TikTok."""
    body: dict[str, Any] = {}
    if fields.title is not None:
        body["title"] = fields.title
    if fields.description is not None:
        body["description"] = fields.description
    if fields.images is not None:
        body["main_images"] = images_body(fields.images)
    if fields.weight_kg is not None:
        body["package_weight"] = weight_body(fields.weight_kg)
    if fields.dimensions is not None:
        body["package_dimensions"] = dimensions_body(fields.dimensions)
    return body


def epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return int(moment.timestamp() // 1)
