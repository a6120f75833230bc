# Shopee's wire answers to SyncStore's normalized models, and write bodies and results back.
"""Items, models, orders and locations into `connectors.base` models; SKU results, tier variations
and add_item bodies out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from connectors.base import (
    ConnectorError,
    Dimensions,
    InvalidRequest,
    ListingDraft,
    ListingStatus,
    OrderLine,
    OrderStatus,
    RemoteListing,
    RemoteOrder,
    RemoteSku,
    ShopLocation,
    SkuDraft,
    SkuResult,
    StockLocation,
)
from connectors.shopee.catalog import attribute_list, brand_body
from connectors.shopee.codes import LISTING_STATUSES, ORDER_STATUSES, PLATFORM
from connectors.shopee.errors import is_item_error
from connectors.shopee.values import Json, as_dict, from_unix, objects, to_decimal, whole_cm, wire_int_id, wire_number

T = TypeVar("T")

# --- wire -> normalized models --------------------------------------------------------------


def csv(values: Iterable[Any]) -> str:
    """An array query parameter as ONE comma-joined string (`order_sn_list=A1,B2`)."""
    return ",".join(str(value) for value in values)


def locations_from_wire(raw: Any) -> list[ShopLocation]:
    """get_warehouse_detail's pickup warehouses as locations, one per location_id; the first is the default."""
    locations: list[ShopLocation] = []
    for warehouse in objects(raw):
        location_id = str(warehouse.get("location_id") or "")
        kind = warehouse.get("warehouse_type")
        if not location_id or kind not in (None, 1) or any(loc.location_id == location_id for loc in locations):
            continue
        name = str(warehouse.get("warehouse_name") or "")
        locations.append(ShopLocation(location_id=location_id, name=name, is_default=not locations))
    return locations


def _description(raw: Json) -> str:
    """`description`, or for `description_type: extended` the text parts of the extended description."""
    if raw.get("description_type") != "extended":
        return str(raw.get("description") or "")
    fields = objects(as_dict(as_dict(raw.get("description_info")).get("extended_description")).get("field_list"))
    texts = [str(field.get("text") or "") for field in fields if field.get("field_type", "text") == "text"]
    return "\n".join(text for text in texts if text) or str(raw.get("description") or "")


def _stock(info: Any) -> tuple[StockLocation, ...]:
    rows = objects(as_dict(info).get("seller_stock"))
    return tuple(
        StockLocation(location_id=str(row.get("location_id") or ""), quantity=max(0, int(row.get("stock") or 0)))
        for row in rows
    )


def _price(price_info: Any) -> tuple[Decimal | None, str | None]:
    rows = objects(price_info) if isinstance(price_info, list) else [as_dict(price_info)]
    if not rows:
        return None, None
    currency = rows[0].get("currency")
    return to_decimal(rows[0].get("original_price")), str(currency) if currency else None


def _tiers(models: Json) -> list[tuple[str, list[str]]]:
    """(name, options) per tier from `tier_variation`, else from `standardise_tier_variation`
    (tolerating either spelling of the fields in either list)."""
    for key in ("tier_variation", "standardise_tier_variation"):
        tiers = [
            (
                str(tier.get("name", tier.get("variation_name", ""))),
                [
                    str(option.get("option", option.get("variation_option_name", "")))
                    for option in objects(tier.get("option_list", tier.get("variation_option_list")))
                ],
            )
            for tier in objects(models.get(key))
        ]
        if tiers:
            return tiers
    return []


def _skus(raw: Json, models: Json | None) -> tuple[RemoteSku, ...]:
    if models is None:
        price, currency = _price(raw.get("price_info"))
        seller_sku = raw.get("item_sku") or None
        return (
            RemoteSku(
                sku_id="0",
                seller_sku=seller_sku,
                price=price,
                currency=currency,
                stock=_stock(raw.get("stock_info_v2")),
            ),
        )
    tiers = _tiers(models)
    skus = []
    for model in objects(models.get("model")):
        price, currency = _price(model.get("price_info"))
        attributes = {}
        for (name, options), index in zip(tiers, model.get("tier_index") or [], strict=False):
            if isinstance(index, int) and 0 <= index < len(options):
                attributes[name] = options[index]
        skus.append(
            RemoteSku(
                sku_id=str(model["model_id"]),
                seller_sku=model.get("model_sku") or None,
                price=price,
                currency=currency,
                stock=_stock(model.get("stock_info_v2")),
                attributes=attributes,
            )
        )
    return tuple(skus)


def listing_from_wire(shop_id: str, raw: Json, models: Json | None) -> RemoteListing:
    raw_status = str(raw.get("item_status", ""))
    dimension = as_dict(raw.get("dimension"))
    sizes = [to_decimal(dimension.get(key)) for key in ("package_length", "package_width", "package_height")]
    dimensions = (
        Dimensions(length_cm=sizes[0], width_cm=sizes[1], height_cm=sizes[2])
        if all(size is not None and size > 0 for size in sizes)
        else None
    )
    category = raw.get("category_id")
    return RemoteListing(
        platform=PLATFORM,
        shop_id=shop_id,
        item_id=str(raw["item_id"]),
        status=LISTING_STATUSES.get(raw_status, ListingStatus.OTHER),
        raw_status=raw_status,
        title=str(raw.get("item_name") or ""),
        description=_description(raw),
        images=tuple(str(url) for url in as_dict(raw.get("image")).get("image_url_list") or []),
        category_id=str(category) if category is not None else None,
        weight_kg=to_decimal(raw.get("weight")),
        dimensions=dimensions,
        updated_at=from_unix(raw.get("update_time") or 0),
        skus=_skus(raw, models),
    )


def order_from_wire(shop_id: str, raw: Json) -> RemoteOrder:
    raw_status = str(raw.get("order_status", ""))
    lines: list[OrderLine] = []
    seen: dict[str, int] = {}
    for entry in objects(raw.get("item_list")):
        line_id = f"{entry.get('item_id')}:{entry.get('model_id', 0)}"
        seen[line_id] = seen.get(line_id, 0) + 1
        quantity = int(entry.get("model_quantity_purchased") or 0)
        if quantity <= 0:
            continue
        # Partial cancellation: the line keeps what was bought; `cancelled_qty` of those units are gone.
        cancelled = min(quantity, max(0, int(entry.get("cancelled_qty") or 0)))
        lines.append(
            OrderLine(
                # Shopee has no line id: item:model, with a counter when the same model appears twice.
                line_id=line_id if seen[line_id] == 1 else f"{line_id}:{seen[line_id]}",
                item_id=str(entry.get("item_id")),
                sku_id=str(entry.get("model_id", 0)),
                seller_sku=entry.get("model_sku") or entry.get("item_sku") or None,
                quantity=quantity,
                cancelled_quantity=cancelled,
            )
        )
    return RemoteOrder(
        platform=PLATFORM,
        shop_id=shop_id,
        order_id=str(raw.get("order_sn")),
        status=ORDER_STATUSES.get(raw_status, OrderStatus.OTHER),
        raw_status=raw_status,
        lines=tuple(lines),
        updated_at=from_unix(raw.get("update_time") or raw.get("create_time") or 0),
    )


def sku_results(requested: Sequence[int], response: Json, *, key: str = "model_id") -> list[SkuResult]:
    """One SkuResult per requested id from success_list / failure_list; an id in neither is a failure."""
    succeeded = {str(entry.get(key)) for entry in objects(response.get("success_list"))}
    failed = {
        str(entry.get(key)): str(entry.get("failed_reason") or "") for entry in objects(response.get("failure_list"))
    }
    results = []
    for wire_id in map(str, requested):
        if wire_id in failed:
            results.append(SkuResult(sku_id=wire_id, ok=False, error_code="failure_list", message=failed[wire_id]))
        elif wire_id in succeeded:
            results.append(SkuResult(sku_id=wire_id, ok=True))
        else:
            results.append(SkuResult(sku_id=wire_id, ok=False, error_code="no_result", message="not in the answer"))
    return results


def failed_result(sku_id: str, error: ConnectorError) -> SkuResult:
    return SkuResult(sku_id=sku_id, ok=False, error_code=error.code or type(error).__name__, message=str(error))


def run_batches(
    batches: Sequence[Sequence[T]], send: Callable[[Sequence[T]], list[SkuResult]], key: Callable[[T], str]
) -> list[SkuResult]:
    """Send batch after batch. An item-level refusal fails that batch's SKUs with the platform's words
    and the next batch goes on; another call-level failure after the first batch fails the rest per SKU
    (what already landed is not lost); on the first batch it raises."""
    results: list[SkuResult] = []
    for index, batch in enumerate(batches):
        try:
            results.extend(send(batch))
        except ConnectorError as error:
            if is_item_error(error):
                results.extend(failed_result(key(entry), error) for entry in batch)
                continue
            if index == 0:
                raise
            results.extend(failed_result(key(entry), error) for rest in batches[index:] for entry in rest)
            break
    return results


def wire_dimension(dimensions: Dimensions) -> Json:
    return {
        "package_length": whole_cm(dimensions.length_cm, "package_length"),
        "package_width": whole_cm(dimensions.width_cm, "package_width"),
        "package_height": whole_cm(dimensions.height_cm, "package_height"),
    }


def tier_plan(
    skus: Sequence[SkuDraft], price: Callable[[Decimal, str], float | int]
) -> tuple[list[tuple[str, list[str]]], list[Json]]:
    """Tiers (name, options) and the model list for init_tier_variation from the SKUs' attributes (at
    most 2 tiers). SKUs without attributes become one tier "Variation" whose options are the seller SKUs.
    The models' `seller_stock` is filled in by the caller (it depends on the shop's locations)."""
    names = list(skus[0].attributes)
    if any(set(sku.attributes) != set(names) for sku in skus):
        raise InvalidRequest("every SKU of a listing needs the same attribute names", platform=PLATFORM)
    if len(names) > 2:
        raise InvalidRequest("Shopee allows at most 2 variation tiers", platform=PLATFORM)
    values = [[sku.attributes[name] for name in names] if names else [sku.seller_sku] for sku in skus]
    names = names or ["Variation"]
    options = [list(dict.fromkeys(row[tier] for row in values)) for tier in range(len(names))]
    indexes = [[options[tier].index(row[tier]) for tier in range(len(names))] for row in values]
    if len({tuple(index) for index in indexes}) != len(indexes):
        raise InvalidRequest("two SKUs have the same variation values", platform=PLATFORM)
    models = [
        {
            "tier_index": index,
            "model_sku": sku.seller_sku,
            "original_price": price(sku.price, f"price of {sku.seller_sku}"),
        }
        for sku, index in zip(skus, indexes, strict=True)
    ]
    return list(zip(names, options, strict=True)), models


def tier_bodies(tiers: Sequence[tuple[str, Sequence[str]]]) -> Json:
    """The variations as `standardise_tier_variation` only (custom variations: ids 0, named); the
    deprecated `tier_variation` is never sent (since 2025-09-12 the request uses the standardised form)."""
    return {
        "standardise_tier_variation": [
            {
                "variation_id": 0,
                "variation_name": name,
                "variation_option_list": [{"variation_option_id": 0, "variation_option_name": o} for o in options],
            }
            for name, options in tiers
        ]
    }


def add_item_body(draft: ListingDraft, item_sku: str, original_price: float | int) -> Json:
    """add_item without logistic_info and seller_stock (they depend on the shop): uploaded image ids,
    the category's attributes and the brand ("no brand" id 0 when the draft has none)."""
    body: Json = {
        "item_name": draft.title,
        "description": draft.description,
        "category_id": wire_int_id(draft.category_id, "category_id"),
        "original_price": original_price,
        "weight": wire_number(draft.weight_kg, "weight", places=None),
        "image": {"image_id_list": list(draft.images)},
        "item_sku": item_sku,
        "brand": brand_body(draft.brand_id, draft.brand_name),
    }
    attributes = attribute_list(draft.attributes)
    if attributes:
        body["attribute_list"] = attributes
    if draft.dimensions is not None:
        body["dimension"] = wire_dimension(draft.dimensions)
    return body


def tier_options(existing: Json, skus: Sequence[SkuDraft]) -> tuple[list[tuple[str, list[str]]], list[list[int]], bool]:
    """The item's tiers grown by the new SKUs' variation values, each new SKU's tier_index, and whether a
    tier got a new option (then update_tier_variation must be sent before add_model).

    The SKUs' attribute names must be the item's tier names; an item whose one tier is "Variation" (SKUs
    without attributes) takes the seller SKU as the option. New options go at the end of their tier.
    """
    tiers = [(name, list(options)) for name, options in _tiers(existing)]
    names = [name for name, _ in tiers]
    taken = {tuple(index) for index in (m.get("tier_index") for m in objects(existing.get("model"))) if index}
    indexes: list[list[int]] = []
    grown = False
    for sku in skus:
        if not sku.attributes and names == ["Variation"]:
            values = [sku.seller_sku]
        elif set(sku.attributes) == set(names):
            values = [sku.attributes[name] for name in names]
        else:
            raise InvalidRequest(
                f"{sku.seller_sku}: its attributes {sorted(sku.attributes)} are not the item's variations {names}",
                fields={"attributes": "variation names"},
                platform=PLATFORM,
            )
        index = []
        for (_, options), value in zip(tiers, values, strict=True):
            if value not in options:
                options.append(value)
                grown = True
            index.append(options.index(value))
        if tuple(index) in taken:
            raise InvalidRequest(f"{sku.seller_sku}: the item already has these variation values", platform=PLATFORM)
        taken.add(tuple(index))
        indexes.append(index)
    return tiers, indexes, grown
