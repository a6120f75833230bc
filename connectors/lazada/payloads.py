# Lazada's XML request payloads: nested mappings to `<Request>...</Request>` text, escaped by ElementTree.
"""`to_xml({"Request": {"Product": {"Skus": {"Sku": [{...}, {...}]}}}})`: a list repeats its tag, a mapping
nests, anything else is its text. XML is the canonical payload form; the exact string is signed and sent."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from connectors.base import Dimensions


def _fill(parent: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, Sequence) and not isinstance(value, str):
        for one in value:
            _fill(parent, tag, one)
        return
    child = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if inner is not None:
                _fill(child, str(key), inner)
    else:
        child.text = decimal_str(value) if isinstance(value, Decimal) else str(value)


def to_xml(document: Mapping[str, Any]) -> str:
    """The one serialisation of a payload (no declaration: it is optional)."""
    ((root_tag, body),) = document.items()
    root = ET.Element(root_tag)
    for key, value in body.items():
        if value is not None:
            _fill(root, str(key), value)
    return ET.tostring(root, encoding="unicode")


def decimal_str(value: Decimal) -> str:
    """A Decimal as a plain decimal string ("19.90", never "1.99E+1")."""
    return format(value, "f")


def request(product: Mapping[str, Any]) -> str:
    return to_xml({"Request": {"Product": product}})


def sellable_sku(
    item_id: str, sku_id: str, quantity: int, warehouses: Sequence[tuple[str, int]] = ()
) -> dict[str, Any]:
    """One `Sku` of /product/stock/sellable/update: `SellableQuantity`, or the multi-warehouse form."""
    sku: dict[str, Any] = {"ItemId": item_id, "SkuId": sku_id}
    if warehouses:
        sku["MultiWarehouseInventories"] = {
            "MultiWarehouseInventory": [{"WarehouseCode": code, "SellableQuantity": qty} for code, qty in warehouses]
        }
    else:
        sku["SellableQuantity"] = quantity
    return sku


def package_fields(weight_kg: Decimal | None, dimensions: Dimensions | None) -> dict[str, Any]:
    """`package_*` in kg and cm, two decimals."""
    fields: dict[str, Any] = {}
    if weight_kg is not None:
        fields["package_weight"] = round(weight_kg, 2)
    if dimensions is not None:
        fields["package_length"] = round(dimensions.length_cm, 2)
        fields["package_width"] = round(dimensions.width_cm, 2)
        fields["package_height"] = round(dimensions.height_cm, 2)
    return fields
