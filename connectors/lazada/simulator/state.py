# The Lazada simulator's state: apps, sellers, tokens, products with per-warehouse stock, orders with unit rows.
"""Plain dataclasses, saved to and loaded from JSON (`SimState.to_dict` / `from_dict`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class SimSeller:
    seller_id: str
    name: str
    country: str  # sg, my, th, vn, ph, id
    short_code: str = ""
    # Warehouse codes; the first is the default ("dropshipping" for a single-warehouse seller).
    warehouses: list[str] = field(default_factory=lambda: ["dropshipping"])
    authorized: bool = True
    cross_border: bool = False
    account: str = ""  # the login the OAuth answer names (one account may hold several sellers)

    @property
    def multi_warehouse(self) -> bool:
        return len(self.warehouses) > 1


@dataclass
class SimToken:
    account: str
    expires_at: float
    alive: bool = True


@dataclass
class SimRefresh:
    account: str
    expires_at: float  # absolute: a refresh never moves it
    alive: bool = True


@dataclass
class SimCode:
    account: str
    expires_at: float
    used: bool = False


@dataclass
class SimSku:
    sku_id: str
    seller_sku: str
    price: str  # a decimal string
    special_price: str | None = None
    # Sellable stock per warehouse code.
    sellable: dict[str, int] = field(default_factory=dict)
    withhold: int = 0  # unpaid orders
    occupy: int = 0  # paid, up to ready-to-ship
    campaign_lock: int = 0  # part of sellable, locked by a campaign (channelInventories)
    status: str = "active"
    package: dict[str, str] = field(default_factory=dict)
    sale_prop: dict[str, str] = field(default_factory=dict)

    @property
    def total_sellable(self) -> int:
        return sum(self.sellable.values())

    def price_decimal(self) -> Decimal:
        return Decimal(self.price)


@dataclass
class SimProduct:
    item_id: str
    seller_id: str
    category_id: str
    name: str
    description: str = ""
    images: list[str] = field(default_factory=list)
    status: str = "Active"  # Active, InActive, Pending QC, Suspended, Deleted
    sub_status: str = ""
    reject_reason: list[dict[str, str]] = field(default_factory=list)
    brand: str = "No Brand"
    attributes: dict[str, str] = field(default_factory=dict)
    created_ms: int = 0
    updated_ms: int = 0
    qc_due_at: float | None = None  # simulated time the QC ends
    skus: list[SimSku] = field(default_factory=list)

    def sku(self, sku_id: str) -> SimSku | None:
        return next((sku for sku in self.skus if sku.sku_id == sku_id), None)


@dataclass
class SimOrderItem:
    order_item_id: str
    item_id: str
    sku_id: str
    seller_sku: str
    name: str
    price: str
    status: str
    warehouse_code: str
    created_at: float
    updated_at: float


@dataclass
class SimOrder:
    order_id: str
    seller_id: str
    created_at: float
    updated_at: float
    items: list[SimOrderItem] = field(default_factory=list)


@dataclass
class SimState:
    app_key: str
    app_secret: str
    push_url: str | None = None
    sellers: dict[str, SimSeller] = field(default_factory=dict)
    access_tokens: dict[str, SimToken] = field(default_factory=dict)
    refresh_tokens: dict[str, SimRefresh] = field(default_factory=dict)
    codes: dict[str, SimCode] = field(default_factory=dict)
    products: dict[str, SimProduct] = field(default_factory=dict)
    orders: dict[str, SimOrder] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    next_id: int = 3_000_000_000

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def accounts(self) -> dict[str, list[SimSeller]]:
        grouped: dict[str, list[SimSeller]] = {}
        for seller in self.sellers.values():
            grouped.setdefault(seller.account or seller.seller_id, []).append(seller)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SimState:
        def product(value: dict[str, Any]) -> SimProduct:
            skus = [SimSku(**sku) for sku in value.get("skus", [])]
            return SimProduct(**{**value, "skus": skus})

        def order(value: dict[str, Any]) -> SimOrder:
            return SimOrder(**{**value, "items": [SimOrderItem(**item) for item in value.get("items", [])]})

        return cls(
            app_key=raw["app_key"],
            app_secret=raw["app_secret"],
            push_url=raw.get("push_url"),
            sellers={key: SimSeller(**value) for key, value in raw.get("sellers", {}).items()},
            access_tokens={key: SimToken(**value) for key, value in raw.get("access_tokens", {}).items()},
            refresh_tokens={key: SimRefresh(**value) for key, value in raw.get("refresh_tokens", {}).items()},
            codes={key: SimCode(**value) for key, value in raw.get("codes", {}).items()},
            products={key: product(value) for key, value in raw.get("products", {}).items()},
            orders={key: order(value) for key, value in raw.get("orders", {}).items()},
            images=list(raw.get("images", [])),
            next_id=int(raw.get("next_id", 3_000_000_000)),
        )
