# Lazada's wire words: error codes, product, order-item and push types, and what SyncStore makes of them.
"""Lazada's own codes (reference/lazada.md sections 4, 5, 6 and 7), grouped by the typed error they become."""

from __future__ import annotations

from typing import Final

from connectors.base import EventKind, ListingStatus, OrderStatus

PLATFORM: Final = "lazada"

CODE_OK: Final = "0"

# --- error codes (section 7.2), by the typed error they map to ---------------------------------

CODE_API_CALL_LIMIT: Final = "ApiCallLimit"
CODE_QPS: Final = "901"
CODE_CAMPAIGN_DOWNGRADE: Final = "998"
RATE_LIMIT_CODES: Final = frozenset({CODE_API_CALL_LIMIT, CODE_QPS})
# ServiceTimeout, 6 (internal error, retry), 513 (internal call exception) and 998 (the API is switched off
# during a Mega campaign): the same call may work later.
TRANSIENT_CODES: Final = frozenset({"ServiceTimeout", "6", "513", CODE_CAMPAIGN_DOWNGRADE})
TOKEN_CODES: Final = frozenset({"IllegalAccessToken"})
OAUTH_FAILURE_CODES: Final = frozenset({"IllegalRefreshToken", "InvalidCode", "AUTH_TYPE_UNSUPPORTED"})
NOT_FOUND_CODES: Final = frozenset({"16", "207", "208", "EDIT_ITEM_NOT_BELONG_SELLER"})
INVALID_CODES: Final = frozenset(
    {
        "IncompleteSignature",
        "MissingParameter",
        "InvalidParameter",
        "InvalidTimestamp",
        "UnsupportedHTTPMethod",
        "InvalidApiPath",
        "5",
        "14",
        "17",
        "19",
        "30",
        "36",
        "37",
        "38",
        "39",
        "56",
        "74",
        "75",
        "1001",
    }
)
# Business refusals of one item: 4170 (a campaign forbids lowering stock), 4225 (semi-managed), 212 (stock
# would go negative), 204/4171 (too many SKUs), 500/501 (see detail), 4193 (SellerSku as key), E0004 (already
# inactive), 4148 / PDT_LIMIT_REACH (active item cap), and every 41xx business-rule code (4104..4154).
CODE_CAMPAIGN_LOCK: Final = "4170"
ITEM_REFUSED_CODES: Final = frozenset(
    {CODE_CAMPAIGN_LOCK, "4225", "212", "204", "4171", "500", "501", "512", "4193", "E0004", "PDT_LIMIT_REACH"}
)
BUSINESS_RULE_RANGE: Final = (4100, 4200)

# --- products (section 4.2) -----------------------------------------------------------------

PENDING_QC: Final = "Pending QC"
LISTING_STATUS: Final = {
    "active": ListingStatus.ACTIVE,
    "inactive": ListingStatus.INACTIVE,
    "deleted": ListingStatus.DELETED,
    "pending qc": ListingStatus.IN_REVIEW,
    "rejected": ListingStatus.REVIEW_FAILED,
    "suspended": ListingStatus.INACTIVE,
}
DEFAULT_WAREHOUSE: Final = "dropshipping"

# --- orders (section 5): a status per ITEM; the order takes its least advanced live item's -----

ITEM_CANCELLED: Final = frozenset({"canceled", "cancelled"})
ITEM_STATUS: Final = {
    "unpaid": OrderStatus.PENDING,
    "pending": OrderStatus.PAID,
    "repacked": OrderStatus.PAID,
    "topack": OrderStatus.PAID,
    "packed": OrderStatus.PAID,
    "toship": OrderStatus.PAID,
    # Lazada consumes the unit's stock at ready-to-ship (occupy is released there): shipped for the ledger.
    "ready_to_ship": OrderStatus.SHIPPED,
    "shipping": OrderStatus.SHIPPED,
    "shipped": OrderStatus.SHIPPED,
    "delivered": OrderStatus.COMPLETED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
}
# Least advanced first: an order is PENDING while any live unit is unpaid, PAID while any is to ship...
ORDER_STATUS_ORDER: Final = (
    OrderStatus.PENDING,
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.OTHER,
)

# --- push message types (section 6) ---------------------------------------------------------

PUSH_TYPES: Final[dict[int, EventKind]] = {
    0: EventKind.ORDER_STATUS,
    1: EventKind.PRODUCT_AUDIT,
    3: EventKind.PRODUCT_CHANGE,
    4: EventKind.PRODUCT_CHANGE,
    5: EventKind.PRODUCT_CHANGE,
    6: EventKind.STOCK_CHANGE,
    8: EventKind.AUTHORIZATION,
    13: EventKind.AUTHORIZATION,
}
PUSH_TOKEN_EXPIRING: Final = "8"  # noqa: S105 - a message type
# Seller status `close`: the store is closed, its connection cannot work (Lazada has no revocation push; a
# lapsed authorization simply stops the pushes). Status `normal` is parsed as UNKNOWN.
PUSH_SELLER_STATUS: Final = "13"
