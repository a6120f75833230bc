# Shopee's wire codes: item, order and push statuses, push codes, and the error codes each typed error stands for.
"""Shopee's own words, and what SyncStore makes of them (see `connectors.shopee` for the decisions)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from connectors.base import (
    EventKind,
    ListingStatus,
    OrderStatus,
    Platform,
)

PLATFORM: Final[Platform] = "shopee"


# Every status get_item_list is asked for in one call (arrays repeat the key), so deletions and bans
# made on the marketplace show up in the changed-items poll too.
POLLED_ITEM_STATUSES: Final = ("NORMAL", "UNLIST", "BANNED", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE")
# Push codes SyncStore subscribes to in set_app_push_config, one call each (22 is unconfirmed).
PUSH_CODES: Final = (1, 2, 3, 8, 12, 22)


# get_warehouse_detail answers for a shop with one implicit location (not multi-warehouse).
SINGLE_LOCATION_CODES: Final = frozenset(
    {"error_not_in_whitelist", "error_can_not_find_warehouse", "error_region_not_valid"}
)

LISTING_STATUSES: Final[Mapping[str, ListingStatus]] = {
    "NORMAL": ListingStatus.ACTIVE,
    "UNLIST": ListingStatus.INACTIVE,
    "DELETED": ListingStatus.DELETED,
    "SELLER_DELETE": ListingStatus.DELETED,
    "SHOPEE_DELETE": ListingStatus.DELETED,
}

# IN_CANCEL (the buyer asked to cancel, the seller has not answered) keeps the stock reserved
# (OTHER: no ledger transition): releasing it early could oversell if the seller rejects the
# cancellation. The release happens on CANCELLED.
ORDER_STATUSES: Final[Mapping[str, OrderStatus]] = {
    "UNPAID": OrderStatus.PENDING,
    "READY_TO_SHIP": OrderStatus.PAID,
    "PROCESSED": OrderStatus.PAID,
    "RETRY_SHIP": OrderStatus.PAID,
    "INVOICE_PENDING": OrderStatus.PAID,
    "SHIPPED": OrderStatus.SHIPPED,
    "TO_CONFIRM_RECEIVE": OrderStatus.SHIPPED,
    "COMPLETED": OrderStatus.COMPLETED,
    "IN_CANCEL": OrderStatus.OTHER,
    "CANCELLED": OrderStatus.CANCELLED,
}

PUSH_KINDS: Final[Mapping[int, EventKind]] = {
    1: EventKind.AUTHORIZATION,
    2: EventKind.AUTHORIZATION,
    12: EventKind.AUTHORIZATION,
    3: EventKind.ORDER_STATUS,
    8: EventKind.STOCK_CHANGE,
    22: EventKind.PRODUCT_CHANGE,
}

TRANSIENT_CODES: Final = frozenset({"error_server", "error_inner", "error_system_busy", "error_network"})
TOKEN_CODES: Final = frozenset({"invalid_acceess_token", "invalid_access_token"})
# The shop (or its link to this app) is gone: it must be connected again.
REVOKED_CODES: Final = frozenset(
    {
        "shop_no_linked",
        "partner_shop_no_link",
        "shop_banned",
        "shop_access_expired",
        "refresh_token_expired",
        "invalid_code",
        "invalid_shop_id",
        "invalid_main_acount_id",
        "merchant_no_linked",
        "merchant_access_expired",
        "error_shop",
        "error_param_shop_id_not_found",
    }
)
# Codes about the app or the shop's permissions, never about one item.
SHOP_LEVEL_CODES: Final = frozenset(
    {
        "error_permission",
        "error_api_permission",
        "error_ashop_api_permission",
        "error_kyc_auth",
        "error_api_call_restricted",
        "api_suspended",
        "source_ip_undeclared",
        "error_partner_key_expired",
        "invalid_partner_id",
    }
)
INVALID_CODES: Final = frozenset(
    {
        "error_sign",
        "error_param",
        "order_list_invalid_time",
        # add_item / update_item refusals of what was sent (add_item's error list).
        "error_invalid_category",
        "error_invalid_category_attribute",
        "error_invalid_attribute",
        "error_less_required_attribute",
        "error_invalid_brand",
        "error_less_required_brand",
        "error_invalid_logistic_info",
        "error_image_unavailable",
        "error_model_duplicate_tier_variation_index",
        "error_model_duplicate_name",
    }
)
NOT_FOUND_CODES: Final = frozenset({"error_item_not_found", "error_item_not_belong_shop", "error_not_found"})
# Business refusals of one item (promotion locks, holiday mode, price limits...): fail that item only.
ITEM_REFUSED_CODES: Final = re.compile(
    r"^error_(busi|cannt_|cannot_|promotion|in_item_promotion|holiday|price_|invalid_price|item_uneditable"
    r"|seller_under_penalty|model_|edit_item_|slash_|wholesale|related_product|wms_shop_block|auth_product"
    r"|cnsc_shop_block|tier_|update_price_fail|param_validate)"
)
REVOKED = re.compile(
    r"revoked|deauthori[sz]|not authori[sz]ed|cancel(l)?ed authori[sz]ation|no linked|not linked"
    r"|invalid partner_id or shop|partner_id is invalid|app is deleted|permissions for authorizations",
    re.IGNORECASE,
)
TOKEN_MESSAGE = re.compile(r"access[_ ]?token|acceess", re.IGNORECASE)
SYSTEM_ERROR = re.compile(r"system error", re.IGNORECASE)
# error_param answers about the request envelope (not about one item): everyone's problem.
ENVELOPE_MESSAGE = re.compile(r"timestamp|partner_id|\bsign\b|access_token|shop_id|gateway", re.IGNORECASE)
