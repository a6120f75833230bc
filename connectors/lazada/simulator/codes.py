# The Lazada simulator's constants: paths, error codes, limits, lifetimes, push schedule, demo credentials.
"""Lazada's documented words (reference/lazada.md), written down for the simulator alone."""

from __future__ import annotations

from typing import Final

REST: Final = "/rest"
AUTHORIZE_PATH: Final = "/oauth/authorize"

# --- API paths (signed without /rest) and their documented methods ---------------------------

GET_ONLY: Final = frozenset(
    {
        "/products/get",
        "/product/item/get",
        "/category/tree/get",
        "/category/attributes/get",
        "/orders/get",
        "/order/get",
        "/order/items/get",
        "/orders/items/get",
        "/seller/get",
        "/seller/warehouse/get",
    }
)
POST_ONLY: Final = frozenset(
    {
        "/product/create",
        "/product/update",
        "/product/price_quantity/update",
        "/product/stock/sellable/adjust",
        "/product/deactivate",
        "/product/remove",
        "/image/upload",
        "/image/migrate",
    }
)
GET_OR_POST: Final = frozenset(
    {"/product/stock/sellable/update", "/auth/token/create", "/auth/token/refresh", "/category/brands/query"}
)
AUTH_PATHS: Final = frozenset({"/auth/token/create", "/auth/token/refresh"})
# APIs a Mega campaign switches off by default (998): the writes.
CAMPAIGN_DOWNGRADED: Final = frozenset(
    {
        "/product/price_quantity/update",
        "/product/stock/sellable/update",
        "/product/stock/sellable/adjust",
        "/product/update",
        "/product/create",
    }
)
INVENTORY_PATHS: Final = frozenset(
    {"/product/stock/sellable/update", "/product/stock/sellable/adjust", "/product/price_quantity/update"}
)

# --- gateway ---------------------------------------------------------------------------------

SIGN_METHOD: Final = "sha256"
TIMESTAMP_SKEW_S: Final = 7200
FILE_PARAMS: Final = frozenset({"image"})

E_SIGNATURE: Final = "IncompleteSignature"
E_MISSING: Final = "MissingParameter"
E_INVALID_PARAM: Final = "InvalidParameter"
E_TIMESTAMP: Final = "InvalidTimestamp"  # this simulator's name: the reference gives none
E_APP_KEY: Final = "InvalidAppKey"  # this simulator's name: the reference gives none
E_ACCESS_TOKEN: Final = "IllegalAccessToken"  # noqa: S105 - an error code
E_REFRESH_TOKEN: Final = "IllegalRefreshToken"  # noqa: S105 - an error code
E_CODE: Final = "InvalidCode"
E_CALL_LIMIT: Final = "ApiCallLimit"
E_METHOD: Final = "UnsupportedHTTPMethod"
E_PATH: Final = "InvalidApiPath"  # this simulator's name: the reference gives none
E_SERVICE_TIMEOUT: Final = "ServiceTimeout"
E_INTERNAL: Final = "6"

# --- business codes --------------------------------------------------------------------------

E_FORMAT: Final = "5"
E_EMPTY: Final = "30"
E_BAD_OFFSET: Final = "14"
E_BAD_DATE: Final = "17"
E_BAD_LIMIT: Final = "19"
E_BAD_STATUS: Final = "36"
E_ORDER_NOT_IN_STORE: Final = "16"
E_TOO_MANY_SKUS: Final = "204"
E_SKU_MISSING: Final = "207"
E_ITEM_MISSING: Final = "208"
E_NEGATIVE: Final = "212"
E_FAILED: Final = "500"
E_JSON_SHAPE: Final = "1001"
E_NOT_LEAF: Final = "4134"
E_DUPLICATE_SKU: Final = "4108"
E_CAMPAIGN_LOCK: Final = "4170"
E_ALREADY_INACTIVE: Final = "E0004"
E_SELLER_SKU_KEY: Final = "4193"
E_DOWNGRADED: Final = "998"

# --- limits ----------------------------------------------------------------------------------

SKU_LIMIT: Final = 50
PRODUCT_PAGE_MAX: Final = 50
PRODUCT_OFFSET_MAX: Final = 10_000
ORDER_PAGE_MAX: Final = 100
ORDER_OFFSET_MAX: Final = 5_000
ORDER_IDS_MAX: Final = 50
REMOVE_MAX: Final = 50
IMAGES_MAX: Final = 8
IMAGE_MAX_BYTES: Final = 3_145_728
INVENTORY_CALLS_PER_S: Final = 50
CODE_TTL_S: Final = 30 * 60
ACCESS_TTL_S: Final = 30 * 86_400
REFRESH_TTL_S: Final = 180 * 86_400

ORDER_FILTER_STATUSES: Final = frozenset(
    {
        "unpaid",
        "pending",
        "packed",
        "canceled",
        "ready_to_ship",
        "shipped",
        "delivered",
        "returned",
        "failed",
        "topack",
        "toship",
        "shipping",
        "lost",
        "lost_by_3pl",
        "damaged_by_3pl",
        "failed_delivery",
        "shipped_back",
        "shipped_back_success",
        "shipped_back_failed",
        "package_scrapped",
    }
)
PRODUCT_FILTERS: Final = frozenset({"all", "live", "inactive", "deleted", "pending", "rejected", "sold-out"})

# --- pushes: 200 within 500 ms, else every 30 minutes up to 12 times ------------------------

PUSH_ACK_S: Final = 0.5
RETRY_SCHEDULE_S: Final = tuple(30 * 60 * attempt for attempt in range(1, 13))
PUSH_ORDER: Final = 0
PUSH_QC: Final = 1
PUSH_PRODUCT_CREATED: Final = 3
PUSH_PRODUCT_UPDATED: Final = 4
PUSH_PRODUCT_DELETED: Final = 5
PUSH_SHALLOW_STOCK: Final = 6
SHALLOW_STOCK_BELOW: Final = 5

# --- demo ------------------------------------------------------------------------------------

DEMO_APP_KEY: Final = "100001"
DEMO_APP_SECRET: Final = "demo-lazada-app-secret"  # noqa: S105 - the local simulator's demo secret
DEMO_SELLER_ID: Final = "1000000001"
DEMO_COUNTRY: Final = "my"
