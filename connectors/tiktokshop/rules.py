# TikTok Shop's listing rules: title lengths by region, stock and price checks, the spec's PlatformRules.
"""Titles are 1 to 255 characters in the US and the UK, 25 to 255 elsewhere [doc]; quantities are
checked (0 <= quantity < 99,999) and prices (finite, above 0) before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from connectors.base import (
    InvalidRequest,
)
from connectors.rules import PlatformRules
from connectors.tiktokshop.codes import PLATFORM
from connectors.tiktokshop.limits import MAX_QUANTITY, STATUS_BATCH

# Regions where a product title may be shorter than 25 characters (TikTok: 25..255 elsewhere).
SHORT_TITLE_REGIONS: Final = frozenset({"US", "GB", "UK"})
TITLE_MAX: Final = 255
TITLE_MIN_ELSEWHERE: Final = 25


def title_length_bounds(region: str) -> tuple[int, int]:
    """(min, max) characters of a product title: 1..255 in the US and the UK, 25..255 elsewhere [doc]."""
    short = region.strip().upper() in SHORT_TITLE_REGIONS
    return (1 if short else TITLE_MIN_ELSEWHERE, TITLE_MAX)


def check_quantities(quantities: Mapping[str, int]) -> None:
    bad = {
        f"stock[{key}]": f"quantity must be an integer with 0 <= quantity < {MAX_QUANTITY}"
        for key, quantity in quantities.items()
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity < MAX_QUANTITY
    }
    if bad:
        raise InvalidRequest("stock out of range (checked before sending)", fields=bad, platform=PLATFORM)


def check_prices(prices: Mapping[str, Decimal]) -> None:
    bad = {
        f"price[{key}]": "price must be a finite Decimal above 0"
        for key, price in prices.items()
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0
    }
    if bad:
        raise InvalidRequest("invalid price (checked before sending)", fields=bad, platform=PLATFORM)


# Reference "Products": titles up to 255 characters (at least 25 outside the US and the UK), 9 images,
# stock below 99,999; one product per price/stock call, 20 products per status call, one product per
# detail call; a listing needs a description; categories are opaque ids; one call creates a listing.
RULES: Final = PlatformRules(
    platform=PLATFORM, label="TikTok Shop", title_max=TITLE_MAX, description_max=10_000, images_min=1,
    images_max=9, stock_max=MAX_QUANTITY - 1, skus_per_listing=100, sku_batch=100, status_batch=STATUS_BATCH,
    list_page=100, detail_batch=1, numeric_category=False, description_required=True,
    title_min_length=TITLE_MIN_ELSEWHERE, short_title_regions=SHORT_TITLE_REGIONS,
    # Images: JPG/JPEG/PNG, at most 5 MB, at least 300 x 300 px [seller guide: Product Media Center]; the
    # API reference's own upload limits and the largest side are [unconfirmed] (5000 px a side is kept).
    image_max_bytes=5 * 1024 * 1024, image_max_side_px=5000, image_min_side_px=300,
    # Listings take no logistics channel; creates and most edits are audited (PENDING -> ACTIVATE/FAILED) [doc].
    needs_logistics_channel=False, audited=True,
)  # fmt: skip
