# Lazada's batch sizes and page limits (reference/lazada.md sections 4 and 7.3).
"""Inventory and product writes carry at most 50 SKUs (20 recommended: used here); product pages hold 50,
order pages 100, order-item reads 50 orders; offsets stop at 10,000 (products) and 5,000 (orders)."""

from __future__ import annotations

from typing import Final

SKU_BATCH: Final = 20  # documented max 50, 20 recommended (error 513 above it under load)
REMOVE_BATCH: Final = 50
PRODUCT_PAGE: Final = 50
PRODUCT_OFFSET_CAP: Final = 10_000
ORDER_PAGE: Final = 100
ORDER_OFFSET_CAP: Final = 5_000
ORDER_ITEMS_BATCH: Final = 50
BRAND_PAGE: Final = 200
IMAGES_MAX: Final = 8
TITLE_MAX: Final = 255
DESCRIPTION_MAX: Final = 25_000
MAX_QUANTITY: Final = 999_999  # no documented cap; quantities must be >= 0
