# Shopee's batch sizes, windows and token lifetimes.
"""Batches: 50 item ids per detail call, 50 models per price/stock call, 50 items per unlist call,
50 orders per detail call, list pages of 100, order-list windows of 15 days."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

# --- limits and lifetimes -------------------------------------------------------------------

ITEM_BATCH: Final = 50
MODEL_BATCH: Final = 50
UNLIST_BATCH: Final = 50
ORDER_BATCH: Final = 50
PAGE_SIZE: Final = 100
# get_order_list: time_from and time_to at most 15 days apart.
ORDER_WINDOW: Final = timedelta(days=15)
TIMESTAMP_TOLERANCE_S: Final = 300
ACCESS_TOKEN_LIFETIME: Final = timedelta(hours=4)
REFRESH_TOKEN_LIFETIME: Final = timedelta(days=30)
