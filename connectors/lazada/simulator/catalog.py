# The Lazada simulator's fixed catalog: the category tree, category attributes and brands it serves.
"""A small tree (two parents, three leaves), each leaf's attributes and a brand list, as LazOP shapes them."""

from __future__ import annotations

from typing import Any, Final

CATEGORY_TREE: Final[list[dict[str, Any]]] = [
    {
        "category_id": 10000,
        "name": "Electronics",
        "leaf": False,
        "var": False,
        "children": [
            {"category_id": 10001, "name": "Mobile Accessories", "leaf": True, "var": True, "children": []},
            {"category_id": 10002, "name": "Headphones", "leaf": True, "var": True, "children": []},
        ],
    },
    {
        "category_id": 20000,
        "name": "Fashion",
        "leaf": False,
        "var": False,
        "children": [{"category_id": 20001, "name": "T-Shirts", "leaf": True, "var": True, "children": []}],
    },
]

_COMMON: Final[list[dict[str, Any]]] = [
    {
        "id": 1,
        "name": "name",
        "label": "Name",
        "is_mandatory": 1,
        "is_sale_prop": 0,
        "attribute_type": "normal",
        "input_type": "text",
        "options": [],
    },
    {
        "id": 2,
        "name": "description",
        "label": "Long Description",
        "is_mandatory": 0,
        "is_sale_prop": 0,
        "attribute_type": "normal",
        "input_type": "richText",
        "options": [],
    },
    {
        "id": 3,
        "name": "brand",
        "label": "Brand",
        "is_mandatory": 1,
        "is_sale_prop": 0,
        "attribute_type": "normal",
        "input_type": "singleSelect",
        "options": [],
    },
    {
        "id": 4,
        "name": "color_family",
        "label": "Color Family",
        "is_mandatory": 0,
        "is_sale_prop": 1,
        "attribute_type": "sku",
        "input_type": "multiEnumInput",
        "options": [{"id": 41, "name": "Black", "en_name": "Black"}, {"id": 42, "name": "White", "en_name": "White"}],
    },
]

CATEGORY_ATTRIBUTES: Final[dict[str, list[dict[str, Any]]]] = {
    "10001": _COMMON,
    "10002": [
        *_COMMON,
        {
            "id": 5,
            "name": "warranty_type",
            "label": "Warranty Type",
            "is_mandatory": 1,
            "is_sale_prop": 0,
            "attribute_type": "normal",
            "input_type": "singleSelect",
            "options": [
                {"id": 51, "name": "No Warranty", "en_name": "No Warranty"},
                {"id": 52, "name": "Local Manufacturer Warranty", "en_name": "Local Manufacturer Warranty"},
            ],
        },
    ],
    "20001": _COMMON,
}

BRANDS: Final[list[dict[str, Any]]] = [
    {"brand_id": 1, "name": "No Brand", "global_identifier": "no_brand"},
    {"brand_id": 20001, "name": "Acme", "global_identifier": "acme"},
    {"brand_id": 20002, "name": "Globex", "global_identifier": "globex"},
]


def leaf_ids() -> set[str]:
    found: set[str] = set()

    def walk(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            if node["leaf"]:
                found.add(str(node["category_id"]))
            walk(node["children"])

    walk(CATEGORY_TREE)
    return found
