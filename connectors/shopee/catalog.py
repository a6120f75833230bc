# Shopee's catalog answers (categories, attribute trees, brands, logistics channels) as SyncStore's models.
"""get_category, get_attribute_tree, get_brand_list and logistics/get_channel_list into `connectors.base`
models; attribute choices and the brand out, as add_item takes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from connectors.base import (
    AttributeChoice,
    AttributeValue,
    LogisticsChannel,
    RemoteAttribute,
    RemoteBrand,
    RemoteCategory,
)
from connectors.shopee.values import Json, as_dict, objects, wire_int_id

# attribute_info.input_type: SINGLE_DROP_DOWN 1, SINGLE_COMBO_BOX 2, FREE_TEXT_FILED 3, MULTI_DROP_DOWN 4,
# MULTI_COMBO_BOX 5 (combo boxes take a value outside the list); input_validation_type of free text: 0 none,
# 1 int, 2 string, 3 float, 4 date.
_SELECTS: Final = {
    1: ("single_select", False),
    2: ("single_select", True),
    4: ("multi_select", False),
    5: ("multi_select", True),
}
_TEXT_TYPES: Final = {1: "number", 3: "number", 4: "date"}
NO_BRAND_ID: Final = 0
NO_BRAND_NAME: Final = "NoBrand"


def categories_from_wire(response: Json) -> list[RemoteCategory]:
    """The flat category list, parents before children (Shopee lists them in any order)."""
    rows = objects(response.get("category_list"))
    by_id = {str(row.get("category_id")): row for row in rows if row.get("category_id") is not None}
    ordered: list[RemoteCategory] = []
    placed: set[str] = set()

    def place(category_id: str, trail: frozenset[str]) -> None:
        if category_id in placed or category_id in trail:
            return
        row = by_id[category_id]
        parent = str(row.get("parent_category_id") or 0)
        if parent in by_id:
            place(parent, trail | {category_id})
        name = str(row.get("display_category_name") or row.get("original_category_name") or category_id)
        ordered.append(
            RemoteCategory(
                category_id=category_id,
                name=name,
                parent_id=parent if parent != "0" else None,
                is_leaf=not row.get("has_children"),
            )
        )
        placed.add(category_id)

    for category_id in by_id:
        place(category_id, frozenset())
    return ordered


def _attribute(row: Json) -> RemoteAttribute:
    info = as_dict(row.get("attribute_info"))
    input_type = info.get("input_type")
    values = tuple(
        AttributeValue(value_id=str(value.get("value_id")), name=str(value.get("name") or value.get("value_id")))
        for value in objects(row.get("attribute_value_list"))
    )
    if input_type in _SELECTS:
        kind, custom = _SELECTS[input_type]
    else:
        validation = info.get("input_validation_type")
        kind = _TEXT_TYPES.get(validation, "text") if isinstance(validation, int) else "text"
        custom = True
    return RemoteAttribute(
        attribute_id=str(row.get("attribute_id")),
        name=str(row.get("name") or row.get("display_attribute_name") or row.get("attribute_id")),
        mandatory=bool(row.get("mandatory", row.get("is_mandatory", False))),
        input_type=kind,
        values=values,
        custom_allowed=custom,
    )


def attributes_from_wire(response: Json, category_id: str) -> list[RemoteAttribute]:
    """get_attribute_tree's `list` entry for `category_id` (top-level attributes; child attributes that
    depend on a chosen value are left out)."""
    for entry in objects(response.get("list")):
        if str(entry.get("category_id")) == category_id:
            return [_attribute(row) for row in objects(entry.get("attribute_tree"))]
    return []


def brands_from_wire(response: Json) -> list[RemoteBrand]:
    return [
        RemoteBrand(
            brand_id=str(row.get("brand_id")),
            name=str(row.get("display_brand_name") or row.get("original_brand_name") or row.get("brand_id")),
        )
        for row in objects(response.get("brand_list"))
        if row.get("brand_id") is not None
    ]


def channels_from_wire(response: Json) -> list[LogisticsChannel]:
    return [
        LogisticsChannel(
            channel_id=str(row.get("logistics_channel_id")),
            name=str(row.get("logistics_channel_name") or row.get("logistics_channel_id")),
            enabled=bool(row.get("enabled")),
        )
        for row in objects(response.get("logistics_channel_list"))
        if row.get("logistics_channel_id") is not None
    ]


def attribute_list(choices: Sequence[AttributeChoice]) -> list[Json]:
    """add_item's `attribute_list`: value ids, or value_id 0 with `original_value_name` for free text."""
    rows: list[Json] = []
    for choice in choices:
        values: list[Json] = [{"value_id": wire_int_id(v, "value_id")} for v in choice.value_ids]
        if choice.text is not None and choice.text.strip():
            values.append({"value_id": 0, "original_value_name": choice.text})
        if values:
            rows.append(
                {"attribute_id": wire_int_id(choice.attribute_id, "attribute_id"), "attribute_value_list": values}
            )
    return rows


def brand_body(brand_id: str | None, brand_name: str | None) -> Json:
    """add_item's `brand`: the "no brand" id 0 when there is none."""
    if brand_id is None or brand_id.strip() in ("", "0"):
        return {"brand_id": NO_BRAND_ID, "original_brand_name": NO_BRAND_NAME}
    body: dict[str, Any] = {"brand_id": wire_int_id(brand_id, "brand_id")}
    if brand_name:
        body["original_brand_name"] = brand_name
    return body
