# TikTok Shop's wire codes: error codes, webhook types, product and order statuses.
"""TikTok Shop's own words, and what SyncStore makes of them (see `connectors.tiktokshop` for the decisions)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from connectors.base import (
    EventKind,
    ListingStatus,
    OrderStatus,
)

PLATFORM: Final = "tiktokshop"


# Search `status` values; "ALL" is the default, the others are used when one second holds > 10,000 changes.
SEARCH_ALL: Final = "ALL"
PRODUCT_STATUSES: Final = (
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
)


# --- error codes ------------------------------------------------------------------------------

CODE_OK: Final = 0
CODE_RATE_LIMITED: Final = 36009002
CODE_INTERNAL: Final = 36009003
CODE_BAD_REQUEST: Final = 36009004
CODE_TIMEOUT: Final = 36009007
CODE_INVALID_METHOD: Final = 36009010  # the HTTP method is not supported: a programming error
CODE_INVALID_QUERY_OR_HEADER: Final = 101000
CODE_TOKEN_INVALID: Final = 105001
CODE_TOKEN_EXPIRED: Final = 105002
CODE_INVALID_SIGN: Final = 106001
CODE_MISSING_CIPHER: Final = 106013
CODE_REFRESH_EXPIRED: Final = 36004001
CODE_INVALID_AUTH_CODE: Final = 36004004
CODE_NO_AUTH_RECORD: Final = 36004005
CODE_PRODUCT_MISSING: Final = 12052032
CODE_PRODUCT_MISSING_OLD: Final = 12019150
CODE_PRODUCT_OTHER_SHOP: Final = 12052034
CODE_INVALID_STOCK: Final = 12019024
CODE_MULTIPLE_WAREHOUSES: Final = 12019028
CODE_PRICE_LOCKED: Final = 12019045
CODE_SEARCH_CAP: Final = 12052180
CODE_INVALID_PARAM: Final = 98001004
CODE_INVALID_PARAM_ALT: Final = 11050001

TRANSIENT_CODES: Final = frozenset({CODE_INTERNAL, CODE_TIMEOUT})
TOKEN_CODES: Final = frozenset({CODE_TOKEN_INVALID, CODE_TOKEN_EXPIRED})
OAUTH_FAILURE_CODES: Final = frozenset({CODE_REFRESH_EXPIRED, CODE_INVALID_AUTH_CODE, CODE_NO_AUTH_RECORD})
NOT_FOUND_CODES: Final = frozenset({CODE_PRODUCT_MISSING, CODE_PRODUCT_MISSING_OLD, CODE_PRODUCT_OTHER_SHOP})
ITEM_REFUSED_CODES: Final = frozenset({CODE_INVALID_STOCK, CODE_MULTIPLE_WAREHOUSES, CODE_PRICE_LOCKED})
# The product module's other business refusals (e.g. a product not LIVE takes no stock update): one item fails.
PRODUCT_MODULE_CODES: Final = (12_000_000, 13_000_000)
INVALID_CODES: Final = frozenset(
    {
        CODE_INVALID_METHOD,
        CODE_INVALID_SIGN,
        CODE_MISSING_CIPHER,
        CODE_BAD_REQUEST,
        CODE_INVALID_QUERY_OR_HEADER,
        CODE_INVALID_PARAM,
        CODE_INVALID_PARAM_ALT,
    }
)

# --- webhooks -----------------------------------------------------------------------------------

# type number -> (event_type name used by PUT /event/202309/webhooks, normalized kind)
WEBHOOK_TYPES: Final[Mapping[int, tuple[str, EventKind]]] = {
    1: ("ORDER_STATUS_CHANGE", EventKind.ORDER_STATUS),
    5: ("PRODUCT_STATUS_CHANGE", EventKind.PRODUCT_AUDIT),  # audit result: ACTIVATE or FAILED
    6: ("SELLER_DEAUTHORIZATION", EventKind.AUTHORIZATION),
    7: ("UPCOMING_AUTHORIZATION_EXPIRATION", EventKind.AUTHORIZATION),
    11: ("CANCELLATION_STATUS_CHANGE", EventKind.ORDER_STATUS),  # re-read the order
    15: ("PRODUCT_INFORMATION_CHANGE", EventKind.PRODUCT_CHANGE),
    16: ("PRODUCT_CREATION", EventKind.PRODUCT_CHANGE),
    68: ("INVENTORY_CHANGED", EventKind.STOCK_CHANGE),
}
EVENT_TYPE_NUMBERS: Final[Mapping[str, int]] = {name: number for number, (name, _) in WEBHOOK_TYPES.items()}
# What `TikTokShopConnector.register_webhook` subscribes, each type on its own.
WEBHOOK_EVENT_TYPES: Final = tuple(name for name, _ in WEBHOOK_TYPES.values())
PRODUCT_KINDS: Final = frozenset({EventKind.PRODUCT_CHANGE, EventKind.PRODUCT_AUDIT})

# --- status mappings ----------------------------------------------------------------------------

LISTING_STATUS: Final[Mapping[str, ListingStatus]] = {
    "ACTIVATE": ListingStatus.ACTIVE,
    "PENDING": ListingStatus.IN_REVIEW,
    "FAILED": ListingStatus.REVIEW_FAILED,
    "SELLER_DEACTIVATED": ListingStatus.INACTIVE,
    "PLATFORM_DEACTIVATED": ListingStatus.INACTIVE,
    "DELETED": ListingStatus.DELETED,
}
ORDER_STATUS: Final[Mapping[str, OrderStatus]] = {
    "UNPAID": OrderStatus.PENDING,
    "ON_HOLD": OrderStatus.PAID,
    "AWAITING_SHIPMENT": OrderStatus.PAID,
    "AWAITING_COLLECTION": OrderStatus.PAID,
    "PARTIALLY_SHIPPING": OrderStatus.PAID,
    "IN_TRANSIT": OrderStatus.SHIPPED,
    "DELIVERED": OrderStatus.SHIPPED,
    "COMPLETED": OrderStatus.COMPLETED,
    "CANCELLED": OrderStatus.CANCELLED,
}


CROSS_BORDER: Final = "CROSS_BORDER"
SALES_WAREHOUSE: Final = "SALES_WAREHOUSE"
LINE_CANCELLED: Final = "CANCELLED"
POUND_KG: Final = Decimal("0.45359237")
INCH_CM: Final = Decimal("2.54")

ID_PATTERN: Final = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
QUOTED_NAME: Final = re.compile(r"'([A-Za-z_][\w.\[\]]*)'")
