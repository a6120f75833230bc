# The TikTok Shop simulator's catalog endpoints: categories, category attributes, brands; create's checks of them.
"""`CatalogRoutesMixin` serves GET /product/202309/categories, /categories/{id}/attributes and /brands from the
seeded catalog (`connectors.simulator.catalog`) and checks a create's category, `product_attributes` and brand.

Numbering: category id = 600000 + the seed's number ("600001".."600027" are the demo's leaves, without
mandatory attributes; "600101".."600108" have mandatory ones); attribute id = 100000 + number (the sales
properties Color 100900 and Size 100901 are listed too); value id = attribute number * 100 + 1, 2, ...;
brand id = 7100000000000000000 + 1, 2, ...

A create that misses a mandatory attribute, names a non-leaf or unknown category, an attribute of another
category, a value outside a non-customizable attribute's values or an unknown brand is refused with
98001004 naming the parameter (the platform's invalid-parameter code; its more specific codes are
[unconfirmed]).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from connectors.simulator.catalog import ATTRIBUTES, BRANDS, CATEGORIES, CATEGORY_BY_NUMBER, SeedAttribute
from connectors.tiktokshop.simulator.core import SimulatorCore
from connectors.tiktokshop.simulator.requests import Ctx, param

CATEGORY_BASE: Final = 600_000
ATTRIBUTE_BASE: Final = 100_000
BRAND_BASE: Final = 7_100_000_000_000_000_000
SALES_PROPERTIES: Final = (("100900", "Color"), ("100901", "Size"))
MAX_BRAND_PAGE: Final = 100


def leaf_seed(category_id: Any) -> int | None:
    """The seed number of a LEAF category id, else None."""
    try:
        number = int(str(category_id)) - CATEGORY_BASE
    except ValueError:
        return None
    seed = CATEGORY_BY_NUMBER.get(number)
    return number if seed is not None and seed.is_leaf else None


def _attribute_wire(attribute: SeedAttribute, required: bool) -> dict[str, Any]:
    return {
        "id": str(ATTRIBUTE_BASE + attribute.number),
        "name": attribute.name,
        "type": "PRODUCT_PROPERTY",
        "is_requried": required,  # sic: the platform's spelling
        "values": [{"id": str(attribute.value_number(i)), "name": v} for i, v in enumerate(attribute.values)],
        "is_customizable": attribute.custom_allowed or not attribute.values,
        "is_multiple_selection": attribute.input_type == "multi_select",
        "value_data_format": {"number": "POSITIVE_INT_OR_DECIMAL", "date": "DATE"}.get(attribute.input_type, ""),
    }


class CatalogRoutesMixin(SimulatorCore):
    """Catalog endpoints of `TikTokShopSimulator`."""

    def _categories(self, ctx: Ctx) -> Mapping[str, Any]:
        return {
            "categories": [
                {
                    "id": str(CATEGORY_BASE + c.number),
                    "parent_id": str(CATEGORY_BASE + c.parent) if c.parent is not None else "0",
                    "local_name": c.name,
                    "is_leaf": c.is_leaf,
                    "permission_statuses": ["AVAILABLE"],
                }
                for c in CATEGORIES
            ]
        }

    def _category_attributes(self, ctx: Ctx) -> Mapping[str, Any]:
        number = leaf_seed(ctx.path_params["category_id"])
        if number is None:
            raise param("category_id", "not a leaf category")
        seed = CATEGORY_BY_NUMBER[number]
        attributes = [_attribute_wire(ATTRIBUTES[a], a in seed.mandatory) for a in seed.attributes]
        sales = [
            {"id": i, "name": n, "type": "SALES_PROPERTY", "is_requried": False, "values": [], "is_customizable": True}
            for i, n in SALES_PROPERTIES
        ]
        return {"attributes": [*attributes, *sales]}

    def _brands(self, ctx: Ctx) -> Mapping[str, Any]:
        try:
            page_size = int(ctx.query.get("page_size", ""))
        except ValueError:
            raise param("page_size", "required, between 1 and 100") from None
        if not 1 <= page_size <= MAX_BRAND_PAGE:
            raise param("page_size", "must be between 1 and 100")
        category = ctx.query.get("category_id")
        if category is not None and leaf_seed(category) is None:
            raise param("category_id", "not a leaf category")
        brands = [
            {
                "id": str(BRAND_BASE + i + 1),
                "name": name,
                "authorized_status": "AUTHORIZED",
                "brand_status": "AVAILABLE",
            }
            for i, name in enumerate(BRANDS)
        ]
        token = ctx.query.get("page_token") or ""
        offset = int(token) if token.isdigit() else 0
        page = brands[offset : offset + page_size]
        end = offset + len(page)
        return {"brands": page, "total_count": len(brands), "next_page_token": str(end) if end < len(brands) else ""}

    # -- create's checks --

    @staticmethod
    def _check_category(value: Any) -> int:
        number = leaf_seed(value)
        if number is None:
            raise param("category_id", "the category does not exist or is not a leaf category")
        return number

    @staticmethod
    def _check_product_attributes(number: int, value: Any) -> list[dict[str, Any]]:
        seed = CATEGORY_BY_NUMBER[number]
        rows = value if value is not None else []
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise param("product_attributes", "a list of {id, values}")
        given: set[int] = set()
        for i, row in enumerate(rows):
            try:
                attribute = ATTRIBUTES.get(int(str(row.get("id"))) - ATTRIBUTE_BASE)
            except ValueError:
                attribute = None
            if attribute is None or attribute.number not in seed.attributes:
                raise param(f"product_attributes[{i}].id", "not an attribute of this category")
            values = row.get("values")
            if not isinstance(values, list) or not values or not all(isinstance(v, dict) for v in values):
                raise param(f"product_attributes[{i}].values", "at least one {id} or {name}")
            allowed = {str(attribute.value_number(j)) for j in range(len(attribute.values))}
            for entry in values:
                value_id, name = entry.get("id"), entry.get("name")
                if value_id not in (None, ""):
                    if str(value_id) not in allowed:
                        raise param(f"product_attributes[{i}].values", f"unknown value id {value_id}")
                elif not isinstance(name, str) or not name.strip():
                    raise param(f"product_attributes[{i}].values", "a value needs an id or a name")
                elif attribute.values and not attribute.custom_allowed:
                    raise param(f"product_attributes[{i}].values", f"{attribute.name} is not customizable")
            given.add(attribute.number)
        missing = [ATTRIBUTES[a].name for a in seed.mandatory if a not in given]
        if missing:
            raise param("product_attributes", f"the mandatory attribute {', '.join(missing)} is missing")
        return list(rows)

    @staticmethod
    def _check_brand(value: Any) -> str:
        if value in (None, ""):
            return ""
        try:
            index = int(str(value)) - BRAND_BASE
        except ValueError:
            index = 0
        if not 1 <= index <= len(BRANDS):
            raise param("brand_id", "the brand does not exist or is not authorized for this shop")
        return str(value)
