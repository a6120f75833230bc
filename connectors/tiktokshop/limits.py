# TikTok Shop's page sizes, search cap and batch sizes.
"""Pages of 100, searches capped at 10,000 results (split by time before that), 50 orders per detail
call, 20 products per status call, quantities below 99,999."""

from __future__ import annotations

from typing import Final

PAGE_SIZE: Final = 100
SEARCH_RESULT_CAP: Final = 10_000
# A window is split before paging would reach the cap: the last page served stays below 10,000.
SEARCH_SPLIT_AT: Final = SEARCH_RESULT_CAP - PAGE_SIZE
ORDER_BATCH: Final = 50
STATUS_BATCH: Final = 20
MAX_QUANTITY: Final = 99_999  # exclusive upper bound
