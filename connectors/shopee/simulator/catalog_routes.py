# The Shopee simulator's catalog endpoints: category tree, attribute tree, brands, logistics channels.
"""`CatalogRoutesMixin` serves get_category, get_attribute_tree, get_brand_list and logistics/get_channel_list
from the seeded catalog (`connectors.simulator.catalog`), and checks add_item's category, attributes and brand.

Numbering: category id = 100000 + the seed's number (the demo's 100001..100027 are leaves without
mandatory attributes; 100101..100108 have mandatory ones); attribute id = 100000 + number; value id =
attribute number * 100 + 1, 2, ...; brand id = 1000000 + 1, 2, ... and 0 for "NoBrand".
"""

from __future__ import annotations

from typing import Any, Final

from connectors.shopee.simulator.codes import MAX_PAGE, Json
from connectors.shopee.simulator.core import SimulatorCore
from connectors.shopee.simulator.requests import ApiError, Ctx, comma_list, int_param, param_error, query_int
from connectors.simulator.catalog import ATTRIBUTES, BRANDS, CATEGORIES, CATEGORY_BY_NUMBER, SeedAttribute

CATEGORY_BASE: Final = 100_000
ATTRIBUTE_BASE: Final = 100_000
BRAND_BASE: Final = 1_000_000
NO_BRAND: Final = {"brand_id": 0, "original_brand_name": "NoBrand"}
MAX_ATTRIBUTE_CATEGORIES: Final = 20
# attribute_info.input_type: SINGLE_DROP_DOWN 1, SINGLE_COMBO_BOX 2, FREE_TEXT_FILED 3, MULTI_DROP_DOWN 4,
# MULTI_COMBO_BOX 5; input_validation_type: none 0, int 1, string 2, float 3, date 4.
_INPUT_TYPES: Final = {
    ("single_select", False): (1, 0),
    ("single_select", True): (2, 0),
    ("multi_select", False): (4, 0),
    ("multi_select", True): (5, 0),
    ("text", True): (3, 2),
    ("number", True): (3, 1),
    ("date", True): (3, 4),
}
MSG_MANDATORY_ATTRIBUTE: Final = "Mandatory attribute information required"


def _attribute_wire(attribute: SeedAttribute, mandatory: bool) -> Json:
    input_type, validation = _INPUT_TYPES[(attribute.input_type, attribute.custom_allowed or not attribute.values)]
    return {
        "attribute_id": ATTRIBUTE_BASE + attribute.number,
        "mandatory": mandatory,
        "name": attribute.name,
        "attribute_value_list": [
            {"value_id": attribute.value_number(i), "name": value, "value_unit": "", "multi_lang": []}
            for i, value in enumerate(attribute.values)
        ],
        "attribute_info": {
            "input_type": input_type,
            "input_validation_type": validation,
            "format_type": 1,
            "date_format_type": 0,
            "attribute_unit_list": [],
            "max_value_count": len(attribute.values) if attribute.input_type == "multi_select" else 1,
            "introduction": "",
            "is_oem": False,
            "support_search_value": False,
        },
        "multi_lang": [],
    }


def leaf_number(category_id: int) -> int | None:
    """The seed number of a LEAF category id, else None."""
    seed = CATEGORY_BY_NUMBER.get(category_id - CATEGORY_BASE)
    return seed.number if seed is not None and seed.is_leaf else None


class CatalogRoutesMixin(SimulatorCore):
    """Catalog endpoints of `ShopeeSimulator`."""

    def _get_category(self, ctx: Ctx) -> Json:
        ctx.own_shop  # noqa: B018 - a shop call
        return {
            "category_list": [
                {
                    "category_id": CATEGORY_BASE + c.number,
                    "parent_category_id": CATEGORY_BASE + c.parent if c.parent is not None else 0,
                    "original_category_name": c.name,
                    "display_category_name": c.name,
                    "has_children": not c.is_leaf,
                }
                for c in CATEGORIES
            ]
        }

    def _get_attribute_tree(self, ctx: Ctx) -> Json:
        texts = comma_list(ctx.query, "category_id_list", ctx.own_shop)
        if not 1 <= len(texts) <= MAX_ATTRIBUTE_CATEGORIES:
            raise param_error(f"category_id_list should have 1 to {MAX_ATTRIBUTE_CATEGORIES} ids.")
        result = []
        for text in texts:
            category_id = int_param(text, "category_id_list")
            number = leaf_number(category_id)
            if number is None:
                raise ApiError("error_invalid_category", f"Invalid category ID {category_id}")
            seed = CATEGORY_BY_NUMBER[number]
            tree = [_attribute_wire(ATTRIBUTES[a], a in seed.mandatory) for a in seed.attributes]
            result.append({"category_id": category_id, "attribute_tree": tree, "warning": ""})
        return {"list": result}

    def _get_brand_list(self, ctx: Ctx) -> Json:
        ctx.own_shop  # noqa: B018 - a shop call
        offset = query_int(ctx.query, "offset")
        page_size = query_int(ctx.query, "page_size")
        if not 1 <= page_size <= MAX_PAGE or offset < 0:
            raise param_error(f"page_size should be between 1 and {MAX_PAGE}; offset at least 0.")
        if "status" not in ctx.query:
            raise ApiError("error_param", "status is required.")
        status = query_int(ctx.query, "status")
        category_id = query_int(ctx.query, "category_id")
        if leaf_number(category_id) is None:
            raise ApiError("error_param", "Invalid category.")
        brands = [
            {"brand_id": BRAND_BASE + i + 1, "original_brand_name": name, "display_brand_name": name}
            for i, name in enumerate(BRANDS)
        ]
        if status != 1:  # pending brands: none in the simulator
            brands = []
        page = brands[offset : offset + page_size]
        return {
            "brand_list": page,
            "has_next_page": offset + len(page) < len(brands),
            "next_offset": offset + len(page),
            "is_mandatory": False,
            "input_type": "DROP_DOWN",
        }

    def _get_channel_list(self, ctx: Ctx) -> Json:
        return {
            "logistics_channel_list": [
                {
                    "logistics_channel_id": channel.channel_id,
                    "logistics_channel_name": channel.name,
                    "cod_enabled": False,
                    "enabled": channel.enabled,
                    "fee_type": "SIZE_INPUT",
                    "size_list": [],
                    "weight_limit": {"item_max_weight": 30, "item_min_weight": 0.01},
                    "item_max_dimension": {"height": 100, "width": 100, "length": 100, "unit": "cm"},
                    "logistics_description": "",
                    "force_enable": False,
                    "mask_channel_id": 0,
                    "support_cross_border": False,
                }
                for channel in ctx.own_shop.logistics_channels
            ]
        }

    # -- add_item's checks --

    def _check_logistics(self, ctx: Ctx, value: Any) -> list[Json]:
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise ApiError("error_param", "logistic_info must be a list.")
        channels = {channel.channel_id: channel for channel in ctx.own_shop.logistics_channels}
        enabled = []
        for row in value:
            logistic_id = int_param(row.get("logistic_id"), "logistic_info.logistic_id")
            if not isinstance(row.get("enabled"), bool):
                raise ApiError("error_param", "Invalid logistic info, enabled is required.")
            channel = channels.get(logistic_id)
            if channel is None:
                raise ApiError("error_param", f"Invalid logistic info, logistic_id {logistic_id} is not available.")
            if row["enabled"] and channel.enabled:
                enabled.append(logistic_id)
        if not enabled:
            raise ApiError(
                "error_param", "Invalid logistic info, at least one logistics channel of the shop must be enabled."
            )
        return list(value)

    def _check_attributes(self, category_id: int, value: Any) -> list[Json]:
        number = leaf_number(category_id)
        if number is None:
            raise ApiError("error_invalid_category", f"Invalid category ID {category_id}")
        seed = CATEGORY_BY_NUMBER[number]
        rows = value if value is not None else []
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ApiError("error_param", "attribute_list must be a list.")
        given: dict[int, list[Json]] = {}
        for row in rows:
            attribute_id = int_param(row.get("attribute_id"), "attribute_list.attribute_id")
            attribute = ATTRIBUTES.get(attribute_id - ATTRIBUTE_BASE)
            if attribute is None or attribute.number not in seed.attributes:
                raise ApiError("error_invalid_category_attribute", "Category and attribute not match.")
            values = row.get("attribute_value_list")
            if not isinstance(values, list) or not values or not all(isinstance(v, dict) for v in values):
                raise ApiError("error_param", f"Invalid attribute. attribute {attribute_id} has no value")
            for entry in values:
                self._check_attribute_value(attribute, entry)
            given[attribute.number] = values
        missing = [ATTRIBUTES[a].name for a in seed.mandatory if a not in given]
        if missing:
            raise ApiError("error_invalid_attribute", f"{MSG_MANDATORY_ATTRIBUTE}: {', '.join(missing)}")
        return list(rows)

    @staticmethod
    def _check_attribute_value(attribute: SeedAttribute, entry: Json) -> None:
        value_id = int_param(entry.get("value_id", 0), "attribute_value_list.value_id")
        allowed = {attribute.value_number(i) for i in range(len(attribute.values))}
        if value_id:
            if value_id not in allowed:
                raise ApiError("error_param", f"Invalid attribute. value_id {value_id} of {attribute.name}")
            return
        text = entry.get("original_value_name")
        if not isinstance(text, str) or not text.strip():
            raise ApiError("error_param", f"Invalid attribute. {attribute.name}: original_value_name is required")
        if attribute.values and not attribute.custom_allowed:
            raise ApiError("error_param", f"Invalid attribute. {attribute.name} takes one of its values only")

    @staticmethod
    def _check_brand(value: Any) -> Json:
        if value is None:
            return dict(NO_BRAND)
        if not isinstance(value, dict):
            raise ApiError("error_invalid_brand", "Invalid brand")
        brand_id = int_param(value.get("brand_id"), "brand.brand_id")
        if brand_id == 0:
            return dict(NO_BRAND)
        if not 1 <= brand_id - BRAND_BASE <= len(BRANDS):
            raise ApiError("error_invalid_brand", "Invalid brand")
        return {"brand_id": brand_id, "original_brand_name": BRANDS[brand_id - BRAND_BASE - 1]}
