# The Shopee simulator's state: shops, items, models, orders and grants (saved to and loaded from JSON).
"""Pydantic models of everything the simulated platform holds."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from connectors.shopee.simulator.codes import DELETED_STATUSES, Json

# --- state ----------------------------------------------------------------------------------


class SimChannel(BaseModel):
    """A logistics channel of a shop (get_channel_list); add_item needs one that is enabled."""

    channel_id: int
    name: str
    enabled: bool = True


def default_channels() -> list[SimChannel]:
    return [
        SimChannel(channel_id=20011, name="Standard Delivery", enabled=True),
        SimChannel(channel_id=20012, name="Economy Delivery", enabled=True),
        SimChannel(channel_id=20013, name="Self Collection", enabled=False),
    ]


class SimImage(BaseModel):
    """An uploaded image: its bytes (base64), and the shop that uploaded it (None: a public-signed upload)."""

    image_id: str
    shop_id: int | None = None
    sha256: str
    size: int
    content_type: str
    # The bytes, in memory only: a saved state keeps the ids valid and stays small.
    data_b64: str = Field(default="", exclude=True)


class SimShop(BaseModel):
    shop_id: int
    name: str
    region: str = "MY"
    currency: str = "MYR"
    authorized: bool = False
    revoked: bool = False
    auth_time: int = 0
    # Stock locations; "" is the single default location of a shop without warehouses.
    locations: list[str] = Field(default_factory=lambda: [""])
    holiday_mode: bool = False
    is_cb: bool = False
    is_cnsc: bool = False
    strict_arrays: bool = True
    module_prefixes: bool = True
    price_ratio_check: bool = True
    logistics_channels: list[SimChannel] = Field(default_factory=default_channels)

    @property
    def multi_location(self) -> bool:
        return len(self.locations) > 1 or self.locations[0] != ""


class SimModel(BaseModel):
    model_id: int
    model_sku: str = ""
    tier_index: list[int] = Field(default_factory=list)
    original_price: Decimal
    # Sellable seller stock per location.
    stock: dict[str, int] = Field(default_factory=dict)
    # Stock reserved for promotions (flash sales), part of the seller stock.
    reserved: int = 0

    @property
    def total_stock(self) -> int:
        return sum(self.stock.values())


class SimItem(BaseModel):
    item_id: int
    shop_id: int
    status: str = "NORMAL"
    name: str
    description: str = ""
    extended_description: bool = False
    item_sku: str = ""
    category_id: int = 100001
    image_ids: list[str] = Field(default_factory=list)
    weight: Decimal = Decimal("0.5")
    dimension: dict[str, int] | None = None
    logistic_info: list[Json] = Field(default_factory=list)
    attribute_list: list[Json] = Field(default_factory=list)
    brand: Json = Field(default_factory=lambda: {"brand_id": 0, "original_brand_name": "NoBrand"})
    create_time: int
    update_time: int
    has_model: bool = False
    price_locked: bool = False
    tier_variation: list[Json] = Field(default_factory=list)
    # Model 0 holds price and stock of an item without models.
    models: dict[int, SimModel] = Field(default_factory=dict)

    @property
    def deleted(self) -> bool:
        return self.status in DELETED_STATUSES


class SimOrderLine(BaseModel):
    item_id: int
    model_id: int
    quantity: int
    item_name: str
    item_sku: str
    model_sku: str
    price: Decimal = Decimal("0")
    cancelled: int = 0
    # Units this line took from each location's sellable stock (given back there on cancellation).
    taken: dict[str, int] = Field(default_factory=dict)

    @property
    def active(self) -> int:
        return self.quantity - self.cancelled


class SimOrder(BaseModel):
    order_sn: str
    shop_id: int
    status: str
    create_time: int
    update_time: int
    lines: list[SimOrderLine]


class SimGrant(BaseModel):
    """An access token, refresh token or authorization code."""

    value: str
    shop_id: int
    expires_at: float
    used: bool = False


class SimState(BaseModel):
    partner_id: int
    partner_key: str
    shops: dict[int, SimShop] = Field(default_factory=dict)
    items: dict[int, SimItem] = Field(default_factory=dict)
    orders: dict[str, SimOrder] = Field(default_factory=dict)
    access_tokens: dict[str, SimGrant] = Field(default_factory=dict)
    refresh_tokens: dict[str, SimGrant] = Field(default_factory=dict)
    codes: dict[str, SimGrant] = Field(default_factory=dict)
    push_url: str | None = None
    push_codes: list[int] = Field(default_factory=list)
    next_item_id: int = 800_000_001
    next_model_id: int = 900_000_001
    next_order_no: int = 1
    # Uploaded images by image_id; how upload_image is signed ("public", as Shopee's API reference types it,
    # or "shop"; the reference leaves it unconfirmed, so both are seedable).
    images: dict[str, SimImage] = Field(default_factory=dict)
    upload_kind: str = "public"
    next_image_no: int = 1
