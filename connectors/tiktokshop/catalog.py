# TikTok Shop's catalog answers (categories, attributes, brands) as SyncStore's models, and product_attributes out.
"""GET /product/202309/categories, /categories/{id}/attributes and /brands into `connectors.base` models;
`AttributeChoice`s into create's `product_attributes`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import AttributeChoice, AttributeValue, RemoteAttribute, RemoteBrand, RemoteCategory

# Attributes of the product itself; SALES_PROPERTY attributes are the SKUs' variations (sales_attributes).
PRODUCT_PROPERTY = "PRODUCT_PROPERTY"


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def categories_from_wire(data: Mapping[str, Any]) -> list[RemoteCategory]:
    """The flat category list, parents before children; parent_id "0" is the root."""
    rows = {str(row.get("id")): row for row in _rows(data.get("categories")) if row.get("id") is not None}
    ordered: list[RemoteCategory] = []
    placed: set[str] = set()

    def place(category_id: str, trail: frozenset[str]) -> None:
        if category_id in placed or category_id in trail:
            return
        row = rows[category_id]
        parent = str(row.get("parent_id") or "0")
        if parent in rows:
            place(parent, trail | {category_id})
        ordered.append(
            RemoteCategory(
                category_id=category_id,
                name=str(row.get("local_name") or category_id),
                parent_id=parent if parent != "0" else None,
                is_leaf=bool(row.get("is_leaf")),
            )
        )
        placed.add(category_id)

    for category_id in rows:
        place(category_id, frozenset())
    return ordered


def _attribute(row: Mapping[str, Any]) -> RemoteAttribute:
    values = tuple(
        AttributeValue(value_id=str(value.get("id")), name=str(value.get("name") or value.get("id")))
        for value in _rows(row.get("values"))
    )
    multiple = bool(row.get("is_multiple_selection"))
    input_type = ("multi_select" if multiple else "single_select") if values else "text"
    return RemoteAttribute(
        attribute_id=str(row.get("id")),
        name=str(row.get("name") or row.get("id")),
        # `is_requried` is the platform's own spelling; `is_required` is accepted too.
        mandatory=bool(row.get("is_requried", row.get("is_required", False))),
        input_type=input_type,
        values=values,
        custom_allowed=bool(row.get("is_customizable", not values)),
    )


def attributes_from_wire(data: Mapping[str, Any]) -> list[RemoteAttribute]:
    """The category's product attributes (sales attributes, the SKUs' variations, are left out)."""
    return [
        _attribute(row)
        for row in _rows(data.get("attributes"))
        if str(row.get("type") or PRODUCT_PROPERTY) == PRODUCT_PROPERTY
    ]


def brands_from_wire(data: Mapping[str, Any]) -> list[RemoteBrand]:
    return [
        RemoteBrand(brand_id=str(row.get("id")), name=str(row.get("name") or row.get("id")))
        for row in _rows(data.get("brands"))
        if row.get("id") is not None
    ]


def product_attributes(choices: Sequence[AttributeChoice]) -> list[dict[str, Any]]:
    """create's `product_attributes`: [{id, values: [{id} | {name}]}] (a custom value goes by name)."""
    rows: list[dict[str, Any]] = []
    for choice in choices:
        values: list[dict[str, str]] = [{"id": value_id} for value_id in choice.value_ids]
        if choice.text is not None and choice.text.strip():
            values.append({"name": choice.text})
        if values:
            rows.append({"id": choice.attribute_id, "values": values})
    return rows
