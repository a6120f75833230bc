# The Shopee simulator's constants: demo credentials, limits, codes and messages, from the reference.
"""What the simulated platform answers with; written from the reference, never from the connector."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta, timezone
from typing import Any, Final, Literal

DEFAULT_PARTNER_ID: Final = 2001887
DEFAULT_PARTNER_KEY: Final = "shopee-simulator-partner-key"
DEMO_SHOP_ID: Final = 100001
TIMESTAMP_WINDOW_S: Final = 300
LINK_VALIDITY_S: Final = 300
MAX_BATCH: Final = 50
MAX_PAGE: Final = 100
LOST_PUSH_PAGE: Final = 100
LOST_PUSH_KEEP_S: Final = 3 * 86400
ORDER_LIST_MAX_RANGE_S: Final = 15 * 86400
AUTHORIZATION_DAYS: Final = 365
# Retries after the first attempt, in seconds from it: the platform's schedule is not published.
DEFAULT_PUSH_RETRY_SCHEDULE: Final = (60.0, 300.0, 1200.0, 3600.0)
PUSH_CODES: Final = frozenset(range(1, 14))
ITEM_STATUSES: Final = frozenset({"NORMAL", "BANNED", "UNLIST", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE"})
DELETED_STATUSES: Final = frozenset({"SELLER_DELETE", "SHOPEE_DELETE", "DELETED"})
ORDER_STATUSES: Final = frozenset(
    {
        "UNPAID",
        "READY_TO_SHIP",
        "PROCESSED",
        "RETRY_SHIP",
        "SHIPPED",
        "TO_CONFIRM_RECEIVE",
        "IN_CANCEL",
        "CANCELLED",
        "TO_RETURN",
        "COMPLETED",
        "INVOICE_PENDING",
    }
)
DECIMAL_REGIONS: Final = frozenset({"SG", "MY", "BR", "MX", "PL", "ES", "AR"})
PRICE_RATIO: Final[Mapping[str, int]] = {
    "ID": 7,
    "MY": 7,
    "SG": 5,
    "VN": 5,
    "TW": 5,
    "TH": 5,
    "PH": 5,
    "MX": 5,
    "BR": 4,
    "CL": 9,
    "CO": 9,
}
REGION_CURRENCY: Final[Mapping[str, str]] = {
    "MY": "MYR",
    "SG": "SGD",
    "ID": "IDR",
    "TH": "THB",
    "VN": "VND",
    "PH": "PHP",
    "TW": "TWD",
    "BR": "BRL",
    "MX": "MXN",
    "CL": "CLP",
    "CO": "COP",
    "PL": "PLN",
    "ES": "EUR",
    "AR": "ARS",
}
UTC8: Final = timezone(timedelta(hours=8))

# The platform's own words (Shopee's error tables and examples).
MSG_RESERVED: Final = "Total stock must be more than reserved stock."
MSG_LACK_LOCATION: Final = "Lack of location_id, please double check."
MSG_LOCATION_MISMATCH: Final = (
    "The location_id input is not matched the shop's location_id(more/wrong). Please double check."
)
MSG_HOLIDAY: Final = "Please wait for the holiday mode set then to edit item. Please try later."
MSG_PRICE_LOCK: Final = "Can't update price when item is under promotion."
MSG_ORDER_NOT_FOUND: Final = "Wrong parameters, detail: the order is not found."
MSG_ORDER_RANGE: Final = "Start time must be earlier than end time and diff in 15days."
MSG_DAILY_LIMIT: Final = (
    "The total API call number made by your APP has reached the daily API call limit, "
    "please try again after 00: 00 (UTC+08:00)"
)
MSG_NOT_WHITELISTED: Final = "Your shop is not in multi-warehouse whitelist."

Json = dict[str, Any]
# "upload": upload_image, signed as `state.upload_kind` says ("public" or "shop").
SignKind = Literal["shop", "public", "token", "upload"]
Envelope = Literal["wrapped", "top"]
StockSpec = int | Mapping[str, int]
