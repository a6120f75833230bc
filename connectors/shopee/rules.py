# Shopee's listing rules: region price decimals, variation price ratios, the spec's PlatformRules.
"""Region rules (reference "Products"): two price decimals only in SG, MY, BR, MX, PL, ES, AR; the
prices of one item's variations may differ by at most a regional ratio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

from connectors.base import (
    InvalidRequest,
)
from connectors.rules import PlatformRules
from connectors.shopee.codes import PLATFORM
from connectors.shopee.values import wire_number

# Regions whose prices take two decimals; every other region takes whole prices.
DECIMAL_PRICE_REGIONS: Final = frozenset({"SG", "MY", "BR", "MX", "PL", "ES", "AR"})
# How many times the dearest variation of an item may cost its cheapest one, per region.
VARIATION_PRICE_RATIOS: Final[Mapping[str, int]] = {
    "ID": 7, "MY": 7, "SG": 5, "VN": 5, "TW": 5, "TH": 5, "PH": 5, "MX": 5, "BR": 4, "CL": 9, "CO": 9,
}  # fmt: skip


# --- region rules (pure; the core's validation and dry run use them too) --------------------


def price_decimals(region: str) -> int:
    """Decimal places a Shopee price may have in `region`: 2 in SG, MY, BR, MX, PL, ES, AR, else 0.

    An unknown (empty) region allows 2: the connector cannot tell, and the platform then decides.
    """
    code = region.strip().upper()
    return 2 if not code or code in DECIMAL_PRICE_REGIONS else 0


def variation_price_ratio(region: str) -> Decimal | None:
    """How many times its cheapest variation an item's dearest variation may cost (None: not published)."""
    ratio = VARIATION_PRICE_RATIOS.get(region.strip().upper())
    return Decimal(ratio) if ratio is not None else None


def wire_price(value: Decimal, name: str, region: str) -> float | int:
    """A price as Shopee takes it in `region`: whole in regions without decimals, else at most 2 places."""
    if price_decimals(region) == 0:
        if not value.is_finite() or value <= 0:
            raise InvalidRequest(f"{name} must be a positive number", fields={name: "not positive"}, platform=PLATFORM)
        if value != value.to_integral_value():
            raise InvalidRequest(
                f"{name} {value}: prices in region {region} have no decimals",
                fields={name: "whole price in this region"},
                platform=PLATFORM,
            )
        return int(value)
    return wire_number(value, name)


def check_variation_ratio(prices: Sequence[Decimal], region: str) -> None:
    """Refuse, before sending, variation prices further apart than the region's published ratio."""
    ratio = variation_price_ratio(region)
    positive = [price for price in prices if price.is_finite() and price > 0]
    if ratio is None or len(positive) < 2 or max(positive) <= min(positive) * ratio:
        return
    raise InvalidRequest(
        f"variation prices {min(positive)}..{max(positive)} differ by more than {ratio}x (region {region})",
        fields={"price": "variation price ratio"},
        platform=PLATFORM,
    )


# Reference "Products": titles up to 120 characters, 9 images, 50 models per item, numeric category
# ids; prices take two decimals only in some regions (integers elsewhere) [doc]; one item's variation
# prices may differ by at most a regional ratio [doc guide]. One item per price/stock call (50 models),
# 50 items per status or detail call, one more model-list call per item with variants; a create looks
# the listing up by SKU first (a retry never creates it twice), adds it, then (variants) reads and adds models.
RULES: Final = PlatformRules(
    platform=PLATFORM, label="Shopee", title_max=120, description_max=3000, images_min=1, images_max=9,
    stock_max=999_999, skus_per_listing=50, sku_batch=50, status_batch=50, list_page=100, detail_batch=50,
    numeric_category=True, decimal_regions=DECIMAL_PRICE_REGIONS, variation_ratios=VARIATION_PRICE_RATIOS,
    model_call_per_variant_item=True, create_calls_single=2, create_calls_variants=4,
    # upload_image: JPG/JPEG/PNG, at most 10.0 MB each [doc: v2.media_space.upload_image]; the pixel limits
    # are [unconfirmed]: no public source gives them (5000 px a side is a safe ceiling, no floor is known).
    image_max_bytes=10 * 1024 * 1024, image_max_side_px=5000, image_min_side_px=0,
    # add_item needs logistic_info with at least one of the shop's enabled channels [doc].
    needs_logistics_channel=True, audited=False,
)  # fmt: skip
