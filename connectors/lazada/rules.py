# Lazada's listing rules: titles, images, stock and price checks, the spec's PlatformRules.
"""Titles up to 255 characters, descriptions up to 25,000, at most 8 images per product, quantities >= 0,
prices finite and above 0 (checked before anything is sent); VND and IDR prices are whole numbers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from connectors.base import InvalidRequest
from connectors.lazada.codes import PLATFORM
from connectors.lazada.limits import DESCRIPTION_MAX, IMAGES_MAX, MAX_QUANTITY, PRODUCT_PAGE, SKU_BATCH, TITLE_MAX
from connectors.rules import PlatformRules

# Countries whose prices take two decimals; Vietnam and Indonesia price in whole dong and rupiah (a choice:
# the reference leaves price precision per country open, error 4104).
DECIMAL_COUNTRIES: Final = frozenset({"SG", "MY", "PH", "TH"})


def check_quantities(quantities: Mapping[str, int]) -> None:
    bad = {
        f"stock[{key}]": f"quantity must be an integer with 0 <= quantity <= {MAX_QUANTITY}"
        for key, quantity in quantities.items()
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY
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


# Reference sections 4.3-4.5: names <= 255, descriptions <= 25,000 (HTML allowed), <= 8 images, leaf
# numeric categories, <= 50 SKUs per write (20 used), one product per deactivate / detail call, pages of
# 50; new products and edits go through QC; uploads up to 3 MB and 5000 x 5000 px.
RULES: Final = PlatformRules(
    platform=PLATFORM,
    label="Lazada",
    title_max=TITLE_MAX,
    description_max=DESCRIPTION_MAX,
    images_min=1,
    images_max=IMAGES_MAX,
    stock_max=MAX_QUANTITY,
    skus_per_listing=100,
    sku_batch=SKU_BATCH,
    status_batch=1,
    list_page=PRODUCT_PAGE,
    detail_batch=1,
    numeric_category=True,
    decimal_regions=DECIMAL_COUNTRIES,
    image_max_bytes=3 * 1024 * 1024,
    image_max_side_px=5000,
    audited=True,
)
