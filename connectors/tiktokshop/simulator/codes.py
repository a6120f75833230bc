# The TikTok Shop simulator's constants: demo credentials, paths, limits, error codes and event types.
"""What the simulated platform answers with; written from the reference, never from the connector."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

DEMO_APP_KEY: Final = "tts-demo-app-key"
DEMO_APP_SECRET: Final = "tts-demo-app-secret"  # noqa: S105 - a published demo value, not a secret
DEMO_SERVICE_ID: Final = "tts-demo-service"
DEMO_SHOP_ID: Final = "7494000000000000001"

# --- paths (reference: "TikTok Shop", Authorization / Products / Webhooks) --------------------------------
AUTHORIZE_PATH: Final = "/open/authorize"
TOKEN_GET_PATH: Final = "/api/v2/token/get"  # noqa: S105 - a path
TOKEN_REFRESH_PATH: Final = "/api/v2/token/refresh"  # noqa: S105 - a path
SHOPS_PATH: Final = "/authorization/202309/shops"
WEBHOOKS_PATH: Final = "/event/202309/webhooks"
WAREHOUSES_PATH: Final = "/logistics/202309/warehouses"
IMAGE_UPLOAD_PATH: Final = "/product/202309/images/upload"
CATEGORIES_PATH: Final = "/product/202309/categories"
BRANDS_PATH: Final = "/product/202309/brands"
PRODUCTS_PATH: Final = "/product/202309/products"
PRODUCT_SEARCH_PATH: Final = "/product/202309/products/search"
ACTIVATE_PATH: Final = "/product/202309/products/activate"
DEACTIVATE_PATH: Final = "/product/202309/products/deactivate"
ORDERS_PATH: Final = "/order/202309/orders"
ORDER_SEARCH_PATH: Final = "/order/202309/orders/search"

# --- limits ---------------------------------------------------------------------------------------------
MAX_TIMESTAMP_AGE_S: Final = 300
MAX_TIMESTAMP_AHEAD_S: Final = 30
AUTH_CODE_TTL_S: Final = 600
MAX_PAGE_SIZE: Final = 100
MAX_ORDER_IDS: Final = 50
MAX_STATUS_PRODUCT_IDS: Final = 20
MAX_SELLER_SKUS: Final = 10
STOCK_LIMIT: Final = 99_999  # exclusive
SEARCH_CAP: Final = 10_000
RETRY_SCHEDULE_S: Final = (120.0, 1_800.0, 10_800.0, 43_200.0)
LOOSE_TITLE_REGIONS: Final = frozenset({"US", "GB", "UK"})
CENT: Final = Decimal("0.01")

# --- error codes (reference error table; messages after the common-errors page) ----------------------
E_TOO_MANY_REQUESTS: Final = 36009002
E_INTERNAL: Final = 36009003
E_ENVELOPE: Final = 36009004
E_TIMEOUT: Final = 36009007
E_INVALID_PATH: Final = 36009009
E_INVALID_METHOD: Final = 36009010
E_REQUEST_FORMAT: Final = 36009022
E_QUERY_OR_HEADER: Final = 101000
E_TOKEN_INVALID: Final = 105001
E_TOKEN_EXPIRED: Final = 105002
E_SIGN: Final = 106001
E_CIPHER_MISSING: Final = 106013
E_AUTH_CODE: Final = 36004004
E_REFRESH_EXPIRED: Final = 36004001
E_NO_AUTH_RECORD: Final = 36004005
E_PRODUCT_MISSING_DETAIL: Final = 12019150
E_PRODUCT_MISSING: Final = 12052032
E_PRODUCT_OTHER_SHOP: Final = 12052034
E_STOCK_INVALID: Final = 12019024
E_MULTIPLE_WAREHOUSES: Final = 12019028
E_PRICE_LOCKED: Final = 12019045
E_SEARCH_CAP: Final = 12052180
E_WRONG_STATUS: Final = 12052901
E_WAREHOUSE_MISSING: Final = 12052097
E_SKU_NOT_IN_PRODUCT: Final = 12052557
E_CURRENCY: Final = 12052084
E_IMAGE_URI: Final = 12052722
E_PARAM: Final = 98001004
TOKEN_ERROR_CODES: Final = frozenset({E_TOKEN_INVALID, E_QUERY_OR_HEADER, E_ENVELOPE})

EVENT_TYPES: Final[Mapping[int, str]] = {
    1: "ORDER_STATUS_CHANGE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
    68: "INVENTORY_CHANGED",
}
EVENT_NAMES: Final = frozenset(EVENT_TYPES.values())

PRODUCT_STATUSES: Final = frozenset(
    {"DRAFT", "PENDING", "FAILED", "ACTIVATE", "SELLER_DEACTIVATED", "PLATFORM_DEACTIVATED", "FREEZE", "DELETED"}
)
ORDER_STATUSES: Final = frozenset(
    {
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
        "CANCELLED",
    }
)
SHIPPED_STATUSES: Final = frozenset({"IN_TRANSIT", "DELIVERED", "COMPLETED"})
SALES_WAREHOUSE: Final = "SALES_WAREHOUSE"
RETURN_WAREHOUSE: Final = "RETURN_WAREHOUSE"
NOT_SIGNED: Final = frozenset({"sign", "access_token"})
