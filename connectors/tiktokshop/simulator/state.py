# The TikTok Shop simulator's state: shops, warehouses, products, SKUs, orders, tokens (saved as JSON).
"""Dataclasses of everything the simulated platform holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.tiktokshop.simulator.codes import E_TOKEN_INVALID, SALES_WAREHOUSE, SEARCH_CAP

# =================================================================================================
# State
# =================================================================================================


@dataclass
class ShopOptions:
    """How one shop behaves; see the module docstring."""

    seller_type: str = "LOCAL"
    tax_rate: str = "0"
    audit_delay_s: float = 0.0
    invalid_token_code: int = E_TOKEN_INVALID
    business_error_http_status: int = 200
    search_result_cap: int = SEARCH_CAP
    total_count_cap: int = SEARCH_CAP
    refused_event_types: list[str] = field(default_factory=list)
    # main_images must be uris of uploaded images (URLs and unknown uris answer 12052722).
    refuse_image_urls: bool = True
    fail_next_audit: str | None = None  # the reason the next audit in this shop fails with


@dataclass
class SimWarehouse:
    id: str
    name: str
    type: str = SALES_WAREHOUSE
    is_default: bool = False
    effect_status: str = "ENABLED"


@dataclass
class SimSku:
    id: str
    seller_sku: str
    price: str  # tax_exclusive_price, exactly as last written (decimal string)
    currency: str
    inventory: dict[str, int]  # warehouse_id -> available quantity
    sales_attributes: list[dict[str, str]] = field(default_factory=list)
    reserved: int = 0
    sale_price: str = ""  # what the buyer pays (tax included in cross-border shops)
    price_locked: bool = False

    @property
    def available(self) -> int:
        return sum(self.inventory.values())

    @property
    def tax_exclusive_price(self) -> str:
        return self.price


@dataclass
class SimProduct:
    id: str
    shop_id: str
    title: str
    description: str
    category_id: str
    main_images: list[str]
    package_weight: dict[str, str] | None
    package_dimensions: dict[str, str] | None
    create_time: int
    update_time: int
    skus: list[SimSku]
    status: str = "ACTIVATE"
    audit_due: float | None = None
    pending_edit: dict[str, Any] | None = None
    audit_failed_reasons: list[dict[str, Any]] = field(default_factory=list)
    fail_next_audit: str | None = None
    brand_id: str = ""
    product_attributes: list[dict[str, Any]] = field(default_factory=list)

    def sku(self, sku_id: str) -> SimSku | None:
        return next((sku for sku in self.skus if sku.id == sku_id), None)


@dataclass
class SimShop:
    id: str
    cipher: str
    name: str
    region: str
    currency: str
    warehouse_id: str  # the default sales warehouse
    authorized: bool = True
    seller_id: str = ""
    warehouses: list[SimWarehouse] = field(default_factory=list)
    options: ShopOptions = field(default_factory=ShopOptions)

    def sales_warehouses(self) -> list[SimWarehouse]:
        return [w for w in self.warehouses if w.type == SALES_WAREHOUSE and w.effect_status == "ENABLED"]


@dataclass
class SimLineItem:
    id: str
    product_id: str
    sku_id: str
    seller_sku: str
    sale_price: str
    currency: str
    display_status: str = "AWAITING_SHIPMENT"
    warehouse_id: str = ""
    cancel_reason: str = ""
    cancel_user: str = ""


@dataclass
class SimOrder:
    id: str
    shop_id: str
    status: str
    create_time: int
    update_time: int
    line_items: list[SimLineItem]


@dataclass
class SimToken:
    seller_id: str
    expires_at: int
    alive: bool = True


@dataclass
class SimAuthCode:
    shop_id: str
    expires_at: int


@dataclass
class SimState:
    """Everything the simulated platform knows; saved to and loaded from JSON."""

    app_key: str
    app_secret: str
    service_id: str
    shops: dict[str, SimShop] = field(default_factory=dict)
    products: dict[str, SimProduct] = field(default_factory=dict)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    access_tokens: dict[str, SimToken] = field(default_factory=dict)
    refresh_tokens: dict[str, SimToken] = field(default_factory=dict)
    auth_codes: dict[str, SimAuthCode] = field(default_factory=dict)
    webhooks: dict[str, dict[str, str]] = field(default_factory=dict)  # shop -> event_type name -> url
    idempotency: dict[str, str] = field(default_factory=dict)  # "<shop>:<key>" -> product_id
    # Uploaded images by uri: {seller_id, sha256, size, content_type, data_b64 (in memory only)}.
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1_729_000_000_000_000_000

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def to_dict(self) -> dict[str, Any]:
        """Everything but the uploaded images' bytes (kept in memory only: a state file stays small; the
        uris stay valid after a reload)."""
        raw = asdict(self)
        raw["images"] = {uri: {k: v for k, v in image.items() if k != "data_b64"} for uri, image in self.images.items()}
        return raw

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SimState:
        def shop(row: Mapping[str, Any]) -> SimShop:
            warehouses = [SimWarehouse(**w) for w in row.get("warehouses", [])]
            options = ShopOptions(**row.get("options", {}))
            return SimShop(**{**row, "warehouses": warehouses, "options": options})

        def product(row: Mapping[str, Any]) -> SimProduct:
            return SimProduct(**{**row, "skus": [SimSku(**sku) for sku in row["skus"]]})

        def order(row: Mapping[str, Any]) -> SimOrder:
            return SimOrder(**{**row, "line_items": [SimLineItem(**item) for item in row["line_items"]]})

        return cls(
            app_key=raw["app_key"],
            app_secret=raw["app_secret"],
            service_id=raw["service_id"],
            shops={key: shop(row) for key, row in raw.get("shops", {}).items()},
            products={key: product(row) for key, row in raw.get("products", {}).items()},
            orders={key: order(row) for key, row in raw.get("orders", {}).items()},
            access_tokens={key: SimToken(**row) for key, row in raw.get("access_tokens", {}).items()},
            refresh_tokens={key: SimToken(**row) for key, row in raw.get("refresh_tokens", {}).items()},
            auth_codes={key: SimAuthCode(**row) for key, row in raw.get("auth_codes", {}).items()},
            webhooks={key: dict(value) for key, value in raw.get("webhooks", {}).items()},
            idempotency=dict(raw.get("idempotency", {})),
            images={key: dict(value) for key, value in raw.get("images", {}).items()},
            next_id=int(raw.get("next_id", 1_729_000_000_000_000_000)),
        )
