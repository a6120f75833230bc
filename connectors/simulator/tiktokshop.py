# Local TikTok Shop Partner API simulator: stateful, and strict about signing, tokens, ciphers and limits.
"""A TikTok Shop Partner API (202309) that runs on loopback, for tests and the demo.

It verifies every request the way `reference/marketplaces.md` says the platform does:
- `app_key` known; `timestamp` at most 300 s old and at most 30 s ahead (36009004); `sign` correct over
  app_secret + path + sorted params + raw body + app_secret (106001, constant-time comparison);
- `x-tts-access-token` known (105001), not expired (105002), shop still authorized (105001);
- `shop_cipher` present where required (106013), absent on /authorization/* and /seller/* (36009004);
- limits: page_size 1..100; product_ids 1..20 for activate/deactivate/delete; one product per stock or
  price call; 0 <= quantity < 99999 (12019024); search serves at most 10,000 results per query (total_count
  tells the truth, pages past 10,000 are never served); order ids 1..50 per call.
Envelope `{code, message, request_id, data}`; batch writes answer code 0 with `data.errors[]` per SKU/product.

Faults (`FaultPlan`, replaceable at runtime via `simulator.faults`): THROTTLE -> HTTP 429 + 36009002 +
Retry-After: 1; SERVER_ERROR -> HTTP 500 + 36009003 before anything is applied; TIMEOUT -> the request is
applied, then the response is held `timeout_hold_s`. `latency_s` delays every request. An optional per-shop
per-minute rate limit answers 429 + 36009002 + Retry-After; an optional daily quota answers 429 + 36009010.

Simplifications versus the real platform (documented, deliberate):
- One shop per seller authorization; tokens are bound to that shop. After a refresh the old access token
  stays valid until its own expiry; the old refresh token dies at once.
- No audit: creates are ACTIVATE at once and partial edits apply at once. Image uris may be URLs (the
  real platform wants uris from its image upload API); a URL uri is also served as the image URL.
- One warehouse per shop. Orders list one line item per unit (quantity 1 each). Stock in `inventory` is
  the available quantity; orders move units to `reserved` (cancel releases, IN_TRANSIT consumes).
- Page tokens are opaque offsets; a product edited mid-pagination may move between pages.
- Per-SKU failures (unknown SKU, invalid amount) come back as `data.errors[]` with code 98001004.
- Writes to a DELETED product answer 12052032. The auth code is valid 10 minutes, single use.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import html
import json
import logging
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors import tiktokshop as tts
from connectors.simulator.common import Fault, FaultPlan, ServerThread, Ticker, WebhookSender, WriteLog

log = logging.getLogger(__name__)

DEMO_APP_KEY = "tts-demo-app-key"
DEMO_APP_SECRET = "tts-demo-app-secret"  # noqa: S105 - a published demo value, not a secret
DEMO_SERVICE_ID = "tts-demo-service"
DEMO_SHOP_ID = "7494000000000000001"

MAX_TIMESTAMP_AGE_S = 300
MAX_TIMESTAMP_AHEAD_S = 30
AUTH_CODE_TTL_S = 600
ORDER_STATUSES = frozenset(
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
SHIPPED_STATUSES = frozenset({"IN_TRANSIT", "DELIVERED", "COMPLETED"})
_UNSIGNED = frozenset({"sign", "access_token"})


# =================================================================================================
# State
# =================================================================================================


@dataclass
class SimSku:
    id: str
    seller_sku: str
    price: str  # amount exactly as last written (decimal string)
    currency: str
    inventory: dict[str, int]  # warehouse_id -> available quantity
    sales_attributes: list[dict[str, str]] = field(default_factory=list)
    reserved: int = 0

    @property
    def available(self) -> int:
        return sum(self.inventory.values())


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

    def sku(self, sku_id: str) -> SimSku | None:
        return next((sku for sku in self.skus if sku.id == sku_id), None)


@dataclass
class SimShop:
    id: str
    cipher: str
    name: str
    region: str
    currency: str
    warehouse_id: str
    authorized: bool = True


@dataclass
class SimLineItem:
    id: str
    product_id: str
    sku_id: str
    seller_sku: str
    sale_price: str
    currency: str


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
    shop_id: str
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
    webhooks: dict[str, dict[str, str]] = field(default_factory=dict)  # shop -> event_type -> url
    idempotency: dict[str, str] = field(default_factory=dict)  # "<shop>:<key>" -> product_id
    next_id: int = 1_729_000_000_000_000_000

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SimState:
        def products(rows: Mapping[str, Any]) -> dict[str, SimProduct]:
            return {
                key: SimProduct(**{**row, "skus": [SimSku(**sku) for sku in row["skus"]]}) for key, row in rows.items()
            }

        def orders(rows: Mapping[str, Any]) -> dict[str, SimOrder]:
            return {
                key: SimOrder(**{**row, "line_items": [SimLineItem(**item) for item in row["line_items"]]})
                for key, row in rows.items()
            }

        return cls(
            app_key=raw["app_key"],
            app_secret=raw["app_secret"],
            service_id=raw["service_id"],
            shops={key: SimShop(**row) for key, row in raw.get("shops", {}).items()},
            products=products(raw.get("products", {})),
            orders=orders(raw.get("orders", {})),
            access_tokens={key: SimToken(**row) for key, row in raw.get("access_tokens", {}).items()},
            refresh_tokens={key: SimToken(**row) for key, row in raw.get("refresh_tokens", {}).items()},
            auth_codes={key: SimAuthCode(**row) for key, row in raw.get("auth_codes", {}).items()},
            webhooks={key: dict(value) for key, value in raw.get("webhooks", {}).items()},
            idempotency=dict(raw.get("idempotency", {})),
            next_id=int(raw.get("next_id", 1_729_000_000_000_000_000)),
        )


# =================================================================================================
# Errors and envelopes
# =================================================================================================


class SimError(Exception):
    """An error envelope to answer with."""

    def __init__(self, code: int, message: str, *, http_status: int | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.code, self.message = code, message
        self.http_status = http_status or _http_status(code)
        self.retry_after = retry_after


def _http_status(code: int) -> int:
    if code in (tts.CODE_RATE_LIMITED, tts.CODE_QUOTA_EXHAUSTED):
        return 429
    if code == tts.CODE_INTERNAL:
        return 500
    if code in (tts.CODE_TOKEN_INVALID, tts.CODE_TOKEN_EXPIRED):
        return 401
    if code in tts.NOT_FOUND_CODES:
        return 404
    return 400


def _param(name: str, reason: str, code: int = tts.CODE_INVALID_PARAM) -> SimError:
    return SimError(code, f"Invalid parameter '{name}': {reason}")


def _request_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()


def _ok(data: Mapping[str, Any]) -> JSONResponse:
    return JSONResponse({"code": 0, "message": "Success", "request_id": _request_id(), "data": dict(data)})


def _fail(error: SimError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    body = {"code": error.code, "message": error.message, "request_id": _request_id()}
    return JSONResponse(body, status_code=error.http_status, headers=headers)


def _expected_sign(app_secret: str, path: str, query: Mapping[str, str], body: bytes | None) -> str:
    """The platform side of the signature, written out separately from the connector's."""
    pairs = [key + query[key] for key in sorted(query) if key not in _UNSIGNED and query[key] != ""]
    message = (app_secret + path + "".join(pairs)).encode() + (body or b"") + app_secret.encode()
    return hmac.new(app_secret.encode(), message, "sha256").hexdigest()


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError) as error:
        raise _param("page_token", "malformed page token") from error
    if not isinstance(offset, int) or offset < 0:
        raise _param("page_token", "malformed page token")
    return offset


def _int_field(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _param(name, "must be an integer")
    return value


def _decimal_text(value: Any, name: str, *, positive: bool = True) -> Decimal:
    if not isinstance(value, str):
        raise _param(name, "must be a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise _param(name, "must be a decimal string") from error
    if not number.is_finite() or (positive and number <= 0):
        raise _param(name, "must be a positive decimal")
    return number


@dataclass
class _Ctx:
    shop: SimShop | None
    query: dict[str, str]
    body: Any
    path_params: dict[str, str]


Handler = Callable[[_Ctx], Mapping[str, Any]]


# =================================================================================================
# The simulator
# =================================================================================================


class TikTokShopSimulator:
    """TikTok Shop in a box: state, HTTP app, fault injection, webhook delivery, test shortcuts."""

    def __init__(
        self,
        *,
        app_key: str = "sim-app-key",
        app_secret: str = "sim-app-secret",  # noqa: S107 - a test value
        service_id: str = "sim-service-id",
        faults: FaultPlan | None = None,
        token_ttl_s: int = 7 * 86_400,
        refresh_ttl_s: int = 365 * 86_400,
        redirect_url: str | None = None,
        auto_approve: bool = True,
        rate_limit_per_minute: int | None = None,
        daily_quota: int | None = None,
        state: SimState | None = None,
        state_file: Path | None = None,
        webhook_timeout_s: float = 3.0,
    ) -> None:
        self.state = state or SimState(app_key=app_key, app_secret=app_secret, service_id=service_id)
        self.faults = faults or FaultPlan()
        self.token_ttl_s, self.refresh_ttl_s = token_ttl_s, refresh_ttl_s
        self.redirect_url, self.auto_approve = redirect_url, auto_approve
        self.authorize_shop_id: str | None = None  # which shop the auto-approved login grants (default: first)
        self.rate_limit_per_minute, self.daily_quota = rate_limit_per_minute, daily_quota
        self.state_file = state_file
        self.write_log = WriteLog()
        self.sender = WebhookSender(timeout_s=webhook_timeout_s)
        self.request_counts: Counter[str] = Counter()
        self._usage: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.RLock()
        self._server: ServerThread | None = None
        self._ticker: Ticker | None = None
        self.app = self._build_app()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int | None = None) -> str:
        self._server = ServerThread(self.app, port).start()
        return self._server.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return self._server.url

    def stop(self) -> None:
        self.stop_order_generator()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.sender.close()
        if self.state_file is not None:
            self.save(self.state_file)

    def save(self, path: Path) -> None:
        with self._lock:
            text = json.dumps(self.state.to_dict(), indent=1)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, **kwargs: Any) -> TikTokShopSimulator:
        state = SimState.from_dict(json.loads(path.read_text(encoding="utf-8")))
        return cls(state=state, state_file=path, **kwargs)

    def requests(self, path: str) -> int:
        """How many requests reached `path` (rejected and faulted ones included)."""
        with self._lock:
            return self.request_counts[path]

    def reset_counts(self) -> None:
        with self._lock:
            self.request_counts.clear()

    # --- seeding shortcuts ---------------------------------------------------------------------

    def add_shop(
        self, shop_id: str, name: str, *, region: str = "US", currency: str = "USD", warehouse_id: str | None = None
    ) -> str:
        """A shop that has authorized the app; returns its shop_cipher."""
        with self._lock:
            cipher = "TTP_" + secrets.token_urlsafe(18)
            warehouse = warehouse_id or self.state.new_id()
            self.state.shops[shop_id] = SimShop(shop_id, cipher, name, region, currency, warehouse)
            return cipher

    def add_product(
        self,
        shop_id: str,
        *,
        title: str = "Simulated product",
        description: str = "<p>Simulated product</p>",
        category_id: str = "600001",
        images: Sequence[str] = ("https://img.example.com/p1.jpg",),
        weight_kg: str = "0.5",
        dimensions_cm: tuple[str, str, str] | None = ("10", "10", "5"),
        status: str = "ACTIVATE",
        skus: Sequence[Mapping[str, Any]] | None = None,
        update_time: int | None = None,
    ) -> str:
        """A product; each sku mapping may give seller_sku, price (str), stock (int), attributes (dict)."""
        with self._lock:
            shop = self.state.shops[shop_id]
            now = int(time.time())
            sku_specs = skus or [{"seller_sku": f"SKU-{self.state.next_id + 1}", "price": "10.00", "stock": 10}]
            product = SimProduct(
                id=self.state.new_id(),
                shop_id=shop_id,
                title=title,
                description=description,
                category_id=category_id,
                main_images=list(images),
                package_weight={"value": weight_kg, "unit": "KILOGRAM"},
                package_dimensions=(
                    dict(zip(("length", "width", "height"), dimensions_cm, strict=True)) | {"unit": "CENTIMETER"}
                    if dimensions_cm
                    else None
                ),
                create_time=now,
                update_time=update_time if update_time is not None else now,
                skus=[self._new_sku(shop, spec) for spec in sku_specs],
                status=status,
            )
            self.state.products[product.id] = product
            return product.id

    def _new_sku(self, shop: SimShop, spec: Mapping[str, Any]) -> SimSku:
        attributes = [
            {"id": "100000", "name": k, "value_id": "0", "value_name": v} for k, v in spec.get("attributes", {}).items()
        ]
        return SimSku(
            id=self.state.new_id(),
            seller_sku=str(spec.get("seller_sku", "")),
            price=str(spec.get("price", "10.00")),
            currency=shop.currency,
            inventory={shop.warehouse_id: int(spec.get("stock", 0))},
            sales_attributes=attributes,
        )

    def add_many_products(
        self, shop_id: str, n: int, update_time_range: tuple[int, int], *, seed: int = 0
    ) -> list[str]:
        """`n` one-SKU products with update times spread uniformly over the (inclusive) range; fast."""
        rng = random.Random(seed)
        low, high = update_time_range
        ids: list[str] = []
        with self._lock:
            shop = self.state.shops[shop_id]
            for index in range(n):
                product_id, sku_id = self.state.new_id(), self.state.new_id()
                sku = SimSku(sku_id, f"BULK-{index}", "9.99", shop.currency, {shop.warehouse_id: 5})
                self.state.products[product_id] = SimProduct(
                    id=product_id,
                    shop_id=shop_id,
                    title=f"Bulk product {index}",
                    description="<p>bulk</p>",
                    category_id="600001",
                    main_images=["https://img.example.com/bulk.jpg"],
                    package_weight={"value": "0.2", "unit": "KILOGRAM"},
                    package_dimensions=None,
                    create_time=low,
                    update_time=rng.randint(low, high),
                    skus=[sku],
                )
                ids.append(product_id)
        return ids

    def sku_ids(self, product_id: str) -> list[str]:
        with self._lock:
            return [sku.id for sku in self.state.products[product_id].skus]

    def product(self, product_id: str) -> SimProduct:
        """The live product record, for assertions and seeding (the server may change it concurrently)."""
        return self.state.products[product_id]

    def issue_tokens(
        self, shop_id: str, *, access_ttl_s: int | None = None, refresh_ttl_s: int | None = None
    ) -> tuple[str, str]:
        """Test shortcut for the authorization flow: (access_token, refresh_token) for this shop."""
        with self._lock:
            data = self._issue_tokens(shop_id, access_ttl_s=access_ttl_s, refresh_ttl_s=refresh_ttl_s)
            return data["access_token"], data["refresh_token"]

    def _issue_tokens(
        self, shop_id: str, *, access_ttl_s: int | None = None, refresh_ttl_s: int | None = None
    ) -> dict[str, Any]:
        now = int(time.time())
        access, refresh = "TTP_at_" + secrets.token_urlsafe(24), "TTP_rt_" + secrets.token_urlsafe(24)
        access_expiry = now + (self.token_ttl_s if access_ttl_s is None else access_ttl_s)
        refresh_expiry = now + (self.refresh_ttl_s if refresh_ttl_s is None else refresh_ttl_s)
        self.state.access_tokens[access] = SimToken(shop_id, access_expiry)
        self.state.refresh_tokens[refresh] = SimToken(shop_id, refresh_expiry)
        shop = self.state.shops[shop_id]
        return {
            "access_token": access,
            "access_token_expire_in": access_expiry,
            "refresh_token": refresh,
            "refresh_token_expire_in": refresh_expiry,
            "open_id": f"open-{shop_id}",
            "seller_name": shop.name,
            "seller_base_region": shop.region,
            "user_type": 0,
            "granted_scopes": ["seller.product.basic", "seller.order.info", "seller.authorization.info"],
        }

    def revoke_shop(self, shop_id: str) -> None:
        """The seller deauthorizes the app: every token of the shop stops working; type 6 is pushed."""
        with self._lock:
            self.state.shops[shop_id].authorized = False
        self._notify(shop_id, 6, {"shop_id": shop_id, "reason": "seller deauthorized"})

    # --- marketplace-side activity ------------------------------------------------------------

    def place_order(
        self, shop_id: str, product_id: str, sku_id: str, qty: int = 1, *, status: str = "AWAITING_SHIPMENT"
    ) -> str:
        """A buyer orders `qty` units: stock moves to reserved; a signed type-1 webhook is pushed."""
        if qty < 1 or status not in ORDER_STATUSES or status in SHIPPED_STATUSES or status == "CANCELLED":
            raise ValueError("qty must be >= 1 and status an open order status")
        with self._lock:
            product = self.state.products[product_id]
            sku = product.sku(sku_id)
            if product.shop_id != shop_id or sku is None:
                raise ValueError("no such SKU in this shop")
            if sku.available < qty:
                raise ValueError(f"only {sku.available} available")
            self._take(sku, self.state.shops[shop_id], qty)
            now = int(time.time())
            lines = [
                SimLineItem(self.state.new_id(), product_id, sku_id, sku.seller_sku, sku.price, sku.currency)
                for _ in range(qty)
            ]
            order = SimOrder(self.state.new_id(), shop_id, status, now, now, lines)
            self.state.orders[order.id] = order
        self._notify_order(order)
        return order.id

    @staticmethod
    def _take(sku: SimSku, shop: SimShop, qty: int) -> None:
        """Move `qty` available units to reserved, the shop's default warehouse first."""
        left = qty
        for warehouse in sorted(sku.inventory, key=lambda w: w != shop.warehouse_id):
            step = min(left, sku.inventory[warehouse])
            sku.inventory[warehouse] -= step
            left -= step
        sku.reserved += qty

    def set_order_status(self, order_id: str, status: str) -> None:
        """Move an order: CANCELLED releases reserved stock, IN_TRANSIT (or later) consumes it; type 1 pushed."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status}")
        with self._lock:
            order = self.state.orders[order_id]
            before = order.status
            closed = before == "CANCELLED" or before in SHIPPED_STATUSES
            for line in order.line_items:
                sku = self.state.products[line.product_id].sku(line.sku_id)
                if sku is None or closed:
                    continue
                if status == "CANCELLED":
                    warehouse = self.state.shops[order.shop_id].warehouse_id
                    sku.reserved -= 1
                    sku.inventory[warehouse] = sku.inventory.get(warehouse, 0) + 1
                elif status in SHIPPED_STATUSES:
                    sku.reserved -= 1
            order.status, order.update_time = status, int(time.time())
        self._notify_order(order)

    def edit_product(
        self,
        product_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        prices: Mapping[str, Decimal | str] | None = None,
        stock: Mapping[str, int] | None = None,
        status: str | None = None,
    ) -> None:
        """The seller edits the product in Seller Center (not through our API): bumps update_time."""
        changed: list[str] = []
        with self._lock:
            product = self.state.products[product_id]
            if title is not None:
                product.title = title
                changed.append("title")
            if description is not None:
                product.description = description
                changed.append("description")
            if status is not None:
                product.status = status
                changed.append("status")
            shop = self.state.shops[product.shop_id]
            for sku_id, price in (prices or {}).items():
                self._sku(product, sku_id).price = str(price)
                changed.append("price")
            for sku_id, quantity in (stock or {}).items():
                self._sku(product, sku_id).inventory = {shop.warehouse_id: quantity}
                changed.append("inventory")
            product.update_time = int(time.time())
            shop_id, update_time = product.shop_id, product.update_time
        data = {"product_id": product_id, "changed_fields": sorted(set(changed)), "update_time": update_time}
        self._notify(shop_id, 15, data)

    @staticmethod
    def _sku(product: SimProduct, sku_id: str) -> SimSku:
        sku = product.sku(sku_id)
        if sku is None:
            raise KeyError(sku_id)
        return sku

    def start_order_generator(self, interval_s: float, *, seed: int | None = None) -> None:
        """Place a random 1-2 unit order on a random in-stock active SKU every `interval_s` seconds."""
        rng = random.Random(seed)

        def tick() -> None:
            with self._lock:
                candidates = [
                    (product.shop_id, product.id, sku.id)
                    for product in self.state.products.values()
                    if product.status == "ACTIVATE"
                    for sku in product.skus
                    if sku.available > 0
                ]
            if candidates:
                shop_id, product_id, sku_id = rng.choice(candidates)
                with contextlib.suppress(ValueError):  # sold out between the pick and the order
                    self.place_order(shop_id, product_id, sku_id, rng.randint(1, 2))

        self._ticker = Ticker(interval_s, tick).start()

    def stop_order_generator(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    # --- webhooks out --------------------------------------------------------------------------

    def _notify_order(self, order: SimOrder) -> None:
        data = {"order_id": order.id, "order_status": order.status, "update_time": order.update_time}
        self._notify(order.shop_id, 1, data | {"is_on_hold_order": order.status == "ON_HOLD"})

    def _notify(self, shop_id: str, event_type: int, data: Mapping[str, Any]) -> bool:
        """Push a signed notification to the URL the shop registered for this type (if any)."""
        name = tts.WEBHOOK_TYPES[event_type][0]
        with self._lock:
            url = self.state.webhooks.get(shop_id, {}).get(name)
            notification_id = self.state.new_id()
        if url is None:
            return False
        payload = {
            "type": event_type,
            "tts_notification_id": notification_id,
            "shop_id": shop_id,
            "timestamp": int(time.time()),
            "data": dict(data),
        }
        body = json.dumps(payload).encode()
        headers = {
            "Authorization": tts.sign_webhook(self.state.app_key, self.state.app_secret, body),
            "Content-Type": "application/json",
        }
        return self.sender.send(url, body, headers)

    # --- HTTP app ------------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        api, token = self._api, self._token_endpoint
        products = tts.PATH_PRODUCTS
        routes = [
            Route(tts.PATH_AUTHORIZE, self._authorize_page, methods=["GET"]),
            Route(tts.PATH_AUTHORIZE + "/approve", self._authorize_approve, methods=["GET"]),
            Route(tts.PATH_TOKEN_GET, token(self._token_get), methods=["GET"]),
            Route(tts.PATH_TOKEN_REFRESH, token(self._token_refresh), methods=["GET"]),
            Route(tts.PATH_AUTHORIZED_SHOPS, api(self._authorized_shops, cipher=False), methods=["GET"]),
            Route(tts.PATH_WEBHOOKS, api(self._put_webhook), methods=["PUT"]),
            Route(tts.PATH_WEBHOOKS, api(self._get_webhooks), methods=["GET"]),
            Route(tts.PATH_SEARCH, api(self._search), methods=["POST"]),
            Route(tts.PATH_ACTIVATE, api(self._activate), methods=["POST"]),
            Route(tts.PATH_DEACTIVATE, api(self._deactivate), methods=["POST"]),
            Route(products, api(self._create), methods=["POST"]),
            Route(products, api(self._delete), methods=["DELETE"]),
            Route(products + "/{product_id}", api(self._detail), methods=["GET"]),
            Route(products + "/{product_id}/inventory/update", api(self._update_inventory), methods=["POST"]),
            Route(products + "/{product_id}/prices/update", api(self._update_prices), methods=["POST"]),
            Route(products + "/{product_id}/partial_edit", api(self._partial_edit), methods=["POST"]),
            Route(tts.PATH_ORDERS, api(self._orders), methods=["GET"]),
            Route("/_simulator/orders", self._admin_place_order, methods=["POST"]),
            Route("/_simulator/orders/{order_id}/status", self._admin_order_status, methods=["POST"]),
            Route("/{path:path}", self._unknown_path, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]
        return Starlette(routes=routes)

    async def _unknown_path(self, request: Request) -> Response:
        return _fail(SimError(tts.CODE_BAD_REQUEST, f"unknown path {request.url.path}", http_status=404))

    async def _before(self, request: Request) -> Fault | None:
        with self._lock:
            self.request_counts[request.url.path] += 1
        faults = self.faults
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        return faults.draw()

    async def _serve(self, request: Request, run: Callable[[bytes], Mapping[str, Any]]) -> Response:
        fault = await self._before(request)
        if fault is Fault.THROTTLE:
            return _fail(SimError(tts.CODE_RATE_LIMITED, "Too many requests", retry_after=1))
        if fault is Fault.SERVER_ERROR:
            return _fail(SimError(tts.CODE_INTERNAL, "Internal error, please retry"))
        raw = await request.body()
        try:
            with self._lock:
                response = _ok(run(raw))
        except SimError as error:
            response = _fail(error)
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.faults.timeout_hold_s)
        return response

    def _api(self, handler: Handler, *, cipher: bool = True) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            def run(raw: bytes) -> Mapping[str, Any]:
                return handler(self._authenticate(request, raw, cipher=cipher))

            return await self._serve(request, run)

        return endpoint

    def _token_endpoint(
        self, handler: Callable[[dict[str, str]], Mapping[str, Any]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._serve(request, lambda _raw: handler(dict(request.query_params)))

        return endpoint

    # --- request verification ------------------------------------------------------------------

    def _authenticate(self, request: Request, raw: bytes, *, cipher: bool) -> _Ctx:
        query = dict(request.query_params)
        path = request.url.path
        self._check_envelope(request, query, raw)
        body = raw if request.method != "GET" and raw else None
        presented = query["sign"].encode()
        expected = _expected_sign(self.state.app_secret, path, query, body).encode()
        if not hmac.compare_digest(presented, expected):
            raise SimError(tts.CODE_INVALID_SIGN, "Invalid sign")
        shop = self._token_shop(request.headers.get("x-tts-access-token"))
        self._check_cipher(query, shop, cipher=cipher)
        self._meter(shop)
        return _Ctx(shop, query, self._json_body(body), dict(request.path_params))

    def _check_envelope(self, request: Request, query: Mapping[str, str], raw: bytes) -> None:
        if query.get("app_key") != self.state.app_key:
            raise SimError(tts.CODE_BAD_REQUEST, "invalid app_key")
        if not query.get("sign"):
            raise SimError(tts.CODE_BAD_REQUEST, "missing sign")
        try:
            timestamp = int(query["timestamp"])
        except (KeyError, ValueError):
            raise SimError(tts.CODE_BAD_REQUEST, "missing or malformed timestamp") from None
        now = time.time()
        if now - timestamp > MAX_TIMESTAMP_AGE_S:
            raise SimError(tts.CODE_BAD_REQUEST, "timestamp is expired (older than 5 minutes)")
        if timestamp - now > MAX_TIMESTAMP_AHEAD_S:
            raise SimError(tts.CODE_BAD_REQUEST, "timestamp is in the future (more than 30 seconds ahead)")
        content_type = request.headers.get("content-type", "")
        if raw and request.method != "GET" and not content_type.startswith("application/json"):
            raise SimError(tts.CODE_BAD_REQUEST, "Content-Type must be application/json")

    def _token_shop(self, access_token: str | None) -> SimShop:
        if not access_token:
            raise SimError(tts.CODE_BAD_REQUEST, "x-tts-access-token header is missing")
        token = self.state.access_tokens.get(access_token)
        if token is None or not token.alive:
            raise SimError(tts.CODE_TOKEN_INVALID, "access token is invalid")
        if time.time() >= token.expires_at:
            raise SimError(tts.CODE_TOKEN_EXPIRED, "access token is expired, please refresh it")
        shop = self.state.shops[token.shop_id]
        if not shop.authorized:
            raise SimError(tts.CODE_TOKEN_INVALID, "the seller has deauthorized this app")
        return shop

    @staticmethod
    def _check_cipher(query: Mapping[str, str], shop: SimShop, *, cipher: bool) -> None:
        if not cipher:
            if "shop_cipher" in query:
                raise SimError(tts.CODE_BAD_REQUEST, "unexpected shop_cipher: leave it out on this path")
            return
        presented = query.get("shop_cipher")
        if not presented:
            raise SimError(tts.CODE_MISSING_CIPHER, "shop_cipher is required for this API")
        if not hmac.compare_digest(presented.encode(), shop.cipher.encode()):
            raise SimError(tts.CODE_BAD_REQUEST, "shop_cipher does not belong to the authorized shop")

    def _meter(self, shop: SimShop) -> None:
        now = time.time()
        minute, day = int(now // 60), int(now // 86_400)
        if self.daily_quota is not None:
            if self._usage[(shop.id, "day", day)] >= self.daily_quota:
                raise SimError(tts.CODE_QUOTA_EXHAUSTED, "daily request quota exhausted")
            self._usage[(shop.id, "day", day)] += 1
        if self.rate_limit_per_minute is not None:
            if self._usage[(shop.id, "minute", minute)] >= self.rate_limit_per_minute:
                retry_after = max(1, int(60 - now % 60 + 0.999))
                raise SimError(tts.CODE_RATE_LIMITED, "Too many requests", retry_after=retry_after)
            self._usage[(shop.id, "minute", minute)] += 1

    @staticmethod
    def _json_body(body: bytes | None) -> Any:
        if body is None:
            return {}
        try:
            parsed = json.loads(body)
        except ValueError:
            raise SimError(tts.CODE_BAD_REQUEST, "body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise SimError(tts.CODE_BAD_REQUEST, "body must be a JSON object")
        return parsed

    # --- authorization -------------------------------------------------------------------------

    def _grant_code(self, shop_id: str) -> str:
        with self._lock:
            code = "TTP_code_" + secrets.token_urlsafe(18)
            self.state.auth_codes[code] = SimAuthCode(shop_id, int(time.time()) + AUTH_CODE_TTL_S)
            return code

    def _redirect(self, code: str, state: str) -> Response:
        if self.redirect_url is None:
            return HTMLResponse(f"<p>Authorized. Code: <code>{html.escape(code)}</code></p>")
        joiner = "&" if "?" in self.redirect_url else "?"
        return RedirectResponse(f"{self.redirect_url}{joiner}{urlencode({'code': code, 'state': state})}", 302)

    async def _authorize_page(self, request: Request) -> Response:
        service_id, state = request.query_params.get("service_id"), request.query_params.get("state", "")
        if service_id != self.state.service_id:
            return HTMLResponse("<p>Unknown service_id.</p>", status_code=400)
        with self._lock:
            shops = list(self.state.shops.values())
        if not shops:
            return HTMLResponse("<p>No shop to authorize.</p>", status_code=400)
        if self.auto_approve:
            shop_id = self.authorize_shop_id or shops[0].id
            return self._redirect(self._grant_code(shop_id), state)
        links = "".join(
            f'<li><a href="{tts.PATH_AUTHORIZE}/approve?'
            f'{html.escape(urlencode({"service_id": service_id, "state": state, "shop_id": shop.id}))}">'
            f"Authorize {html.escape(shop.name)}</a></li>"
            for shop in shops
        )
        return HTMLResponse(f"<h1>TikTok Shop (simulator)</h1><p>Authorize the app for:</p><ul>{links}</ul>")

    async def _authorize_approve(self, request: Request) -> Response:
        params = request.query_params
        if params.get("service_id") != self.state.service_id or params.get("shop_id") not in self.state.shops:
            return HTMLResponse("<p>Unknown service or shop.</p>", status_code=400)
        return self._redirect(self._grant_code(params["shop_id"]), params.get("state", ""))

    def _check_app(self, query: Mapping[str, str]) -> None:
        key_ok = query.get("app_key") == self.state.app_key
        secret_ok = hmac.compare_digest(query.get("app_secret", "").encode(), self.state.app_secret.encode())
        if not (key_ok and secret_ok):
            raise SimError(tts.CODE_BAD_REQUEST, "invalid app_key or app_secret")

    def _token_get(self, query: dict[str, str]) -> Mapping[str, Any]:
        self._check_app(query)
        if query.get("grant_type") != "authorized_code":
            raise _param("grant_type", "must be authorized_code", tts.CODE_BAD_REQUEST)
        grant = self.state.auth_codes.pop(query.get("auth_code", ""), None)
        if grant is None or time.time() >= grant.expires_at:
            raise SimError(tts.CODE_BAD_REQUEST, "auth_code is invalid, expired or already used")
        self.state.shops[grant.shop_id].authorized = True
        return self._issue_tokens(grant.shop_id)

    def _token_refresh(self, query: dict[str, str]) -> Mapping[str, Any]:
        self._check_app(query)
        if query.get("grant_type") != "refresh_token":
            raise _param("grant_type", "must be refresh_token", tts.CODE_BAD_REQUEST)
        token = self.state.refresh_tokens.get(query.get("refresh_token", ""))
        if token is None or not token.alive or not self.state.shops[token.shop_id].authorized:
            raise SimError(tts.CODE_NO_AUTH_RECORD, "can not find related auth record")
        if time.time() >= token.expires_at:
            raise SimError(tts.CODE_REFRESH_EXPIRED, "refresh token has expired")
        token.alive = False
        return self._issue_tokens(token.shop_id)

    def _authorized_shops(self, ctx: _Ctx) -> Mapping[str, Any]:
        shop = self._shop(ctx)
        wire = {"id": shop.id, "name": shop.name, "region": shop.region, "seller_type": "LOCAL"}
        return {"shops": [wire | {"cipher": shop.cipher, "code": f"SIM{shop.id[-6:]}"}]}

    # --- webhooks registration -----------------------------------------------------------------

    def _put_webhook(self, ctx: _Ctx) -> Mapping[str, Any]:
        address, event_type = ctx.body.get("address"), ctx.body.get("event_type")
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            raise _param("address", "must be an http(s) URL")
        if event_type not in tts.EVENT_TYPE_NUMBERS:
            raise _param("event_type", "unknown event type")
        self.state.webhooks.setdefault(self._shop(ctx).id, {})[event_type] = address
        return {}

    def _get_webhooks(self, ctx: _Ctx) -> Mapping[str, Any]:
        hooks = self.state.webhooks.get(self._shop(ctx).id, {})
        rows = [{"event_type": name, "address": url} for name, url in sorted(hooks.items())]
        return {"webhooks": rows, "total_count": len(rows)}

    # --- products ------------------------------------------------------------------------------

    @staticmethod
    def _shop(ctx: _Ctx) -> SimShop:
        if ctx.shop is None:  # every API handler runs after authentication
            raise SimError(tts.CODE_BAD_REQUEST, "no shop")
        return ctx.shop

    def _own_product(self, ctx: _Ctx, product_id: str, *, writable: bool = False) -> SimProduct:
        product = self.state.products.get(product_id)
        if product is None:
            raise SimError(tts.CODE_PRODUCT_MISSING, f"product {product_id} does not exist")
        if product.shop_id != self._shop(ctx).id:
            raise SimError(tts.CODE_PRODUCT_OTHER_SHOP, f"product {product_id} does not belong to this shop")
        if writable and product.status == "DELETED":
            raise SimError(tts.CODE_PRODUCT_MISSING, f"product {product_id} is deleted")
        return product

    def _search(self, ctx: _Ctx) -> Mapping[str, Any]:
        try:
            page_size = int(ctx.query.get("page_size", ""))
        except ValueError:
            raise _param("page_size", "required, between 1 and 100") from None
        if not 1 <= page_size <= tts.PAGE_SIZE:
            raise _param("page_size", "must be between 1 and 100")
        status = ctx.body.get("status") or tts.SEARCH_ALL
        if status != tts.SEARCH_ALL and status not in tts.PRODUCT_STATUSES:
            raise _param("status", "unknown status")
        low = _int_field(ctx.body.get("update_time_ge", 0), "update_time_ge")
        high = _int_field(ctx.body.get("update_time_le", 2**62), "update_time_le")
        seller_skus = ctx.body.get("seller_skus")
        if seller_skus is not None and (not isinstance(seller_skus, list) or len(seller_skus) > 10):
            raise _param("seller_skus", "at most 10 seller SKUs")
        shop_id = self._shop(ctx).id
        matches = sorted(
            (
                product
                for product in self.state.products.values()
                if product.shop_id == shop_id
                and low <= product.update_time <= high
                and (status == tts.SEARCH_ALL or product.status == status)
                and (not seller_skus or any(sku.seller_sku in seller_skus for sku in product.skus))
            ),
            key=lambda product: (product.update_time, product.id),
        )
        offset = _decode_token(ctx.query["page_token"]) if ctx.query.get("page_token") else 0
        served = min(len(matches), tts.SEARCH_RESULT_CAP)
        if offset > served or offset >= tts.SEARCH_RESULT_CAP:
            raise _param("page_token", "no results are served past 10,000")
        page = matches[offset : min(offset + page_size, served)]
        end = offset + len(page)
        return {
            "products": [self._summary_wire(product) for product in page],
            "total_count": len(matches),
            "next_page_token": _encode_token(end) if end < served else "",
        }

    @staticmethod
    def _sku_wire(sku: SimSku) -> dict[str, Any]:
        return {
            "id": sku.id,
            "seller_sku": sku.seller_sku,
            "price": {"currency": sku.currency, "sale_price": sku.price, "tax_exclusive_price": sku.price},
            "inventory": [{"warehouse_id": w, "quantity": q} for w, q in sorted(sku.inventory.items())],
            "sales_attributes": list(sku.sales_attributes),
        }

    def _summary_wire(self, product: SimProduct) -> dict[str, Any]:
        return {
            "id": product.id,
            "title": product.title,
            "status": product.status,
            "create_time": product.create_time,
            "update_time": product.update_time,
            "skus": [self._sku_wire(sku) for sku in product.skus],
        }

    def _detail_wire(self, product: SimProduct) -> dict[str, Any]:
        images = [
            {"uri": uri, "urls": [uri if uri.startswith(("http://", "https://")) else f"https://sim-cdn.invalid/{uri}"]}
            for uri in product.main_images
        ]
        chains = [
            {"id": "600000", "parent_id": "0", "local_name": "Root", "is_leaf": False},
            {"id": product.category_id, "parent_id": "600000", "local_name": "Leaf", "is_leaf": True},
        ]
        wire = self._summary_wire(product) | {
            "description": product.description,
            "category_chains": chains,
            "main_images": images,
        }
        if product.package_weight:
            wire["package_weight"] = dict(product.package_weight)
        if product.package_dimensions:
            wire["package_dimensions"] = dict(product.package_dimensions)
        return wire

    def _detail(self, ctx: _Ctx) -> Mapping[str, Any]:
        return self._detail_wire(self._own_product(ctx, ctx.path_params["product_id"]))

    def _skus_param(self, ctx: _Ctx) -> list[dict[str, Any]]:
        skus = ctx.body.get("skus")
        if not isinstance(skus, list) or not skus or not all(isinstance(sku, dict) for sku in skus):
            raise _param("skus", "a non-empty list of SKU objects is required")
        return skus

    def _update_inventory(self, ctx: _Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop = self._shop(ctx)
        skus = self._skus_param(ctx)
        for i, entry in enumerate(skus):  # the whole request is refused on any invalid quantity
            rows = entry.get("inventory")
            if not isinstance(rows, list) or not rows:
                raise _param(f"skus[{i}].inventory", "required")
            for j, row in enumerate(rows):
                quantity = row.get("quantity") if isinstance(row, dict) else None
                if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity < tts.MAX_QUANTITY:
                    name = f"skus[{i}].inventory[{j}].quantity"
                    raise _param(name, "stock must be >= 0 and < 99999", tts.CODE_INVALID_STOCK)
        errors: list[dict[str, Any]] = []
        for entry in skus:
            sku_id = str(entry.get("id", ""))
            sku = product.sku(sku_id)
            if sku is None:
                errors.append(_sku_error(sku_id, f"sku {sku_id} does not belong to product {product.id}"))
                continue
            for row in entry["inventory"]:
                warehouse = str(row.get("warehouse_id") or shop.warehouse_id)
                if warehouse != shop.warehouse_id:
                    errors.append(_sku_error(sku_id, f"warehouse {warehouse} is not a warehouse of this shop"))
                    continue
                old = sku.available
                sku.inventory[warehouse] = row["quantity"]
                self.write_log.record(shop.id, product.id, sku.id, "stock", old, sku.available)
        product.update_time = int(time.time())
        return {"errors": errors} if errors else {}

    def _update_prices(self, ctx: _Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop = self._shop(ctx)
        skus = self._skus_param(ctx)
        for i, entry in enumerate(skus):  # shape errors refuse the whole request
            price = entry.get("price")
            if not isinstance(price, dict) or not isinstance(price.get("amount"), str):
                raise _param(f"skus[{i}].price.amount", "must be a decimal string")
            if price.get("currency") != shop.currency:
                raise _param(f"skus[{i}].price.currency", f"must be {shop.currency}")
        errors: list[dict[str, Any]] = []
        for i, entry in enumerate(skus):
            sku_id = str(entry.get("id", ""))
            sku = product.sku(sku_id)
            if sku is None:
                errors.append(_sku_error(sku_id, f"sku {sku_id} does not belong to product {product.id}"))
                continue
            amount = entry["price"]["amount"]
            try:
                new = _decimal_text(amount, f"skus[{i}].price.amount")
            except SimError as error:
                errors.append(_sku_error(sku_id, error.message))
                continue
            if new.as_tuple().exponent < -2:  # type: ignore[operator]
                errors.append(_sku_error(sku_id, f"Invalid parameter 'skus[{i}].price.amount': at most 2 decimals"))
                continue
            old = Decimal(sku.price)
            sku.price = amount
            self.write_log.record(shop.id, product.id, sku.id, "price", old, new)
        product.update_time = int(time.time())
        return {"errors": errors} if errors else {}

    def _partial_edit(self, ctx: _Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        body = ctx.body
        updates = {key: body[key] for key in ("title", "description") if key in body}
        for key, value in updates.items():
            if not isinstance(value, str) or (key == "title" and not 1 <= len(value) <= 255):
                raise _param(key, "must be a string (title: 1 to 255 characters)")
        images = _images(body["main_images"]) if "main_images" in body else None
        weight = _weight(body["package_weight"]) if "package_weight" in body else None
        dimensions = _dimensions(body["package_dimensions"]) if "package_dimensions" in body else None
        for key, value in updates.items():
            setattr(product, key, value)
        if images is not None:
            product.main_images = images
        if weight is not None:
            product.package_weight = weight
        if dimensions is not None:
            product.package_dimensions = dimensions
        product.update_time = int(time.time())
        return {"product_id": product.id, "skus": [{"id": s.id, "seller_sku": s.seller_sku} for s in product.skus]}

    def _create(self, ctx: _Ctx) -> Mapping[str, Any]:
        shop, body = self._shop(ctx), ctx.body
        key = body.get("idempotency_key")
        if key is not None and not isinstance(key, str):
            raise _param("idempotency_key", "must be a string")
        if key and f"{shop.id}:{key}" in self.state.idempotency:
            return self._created(self.state.products[self.state.idempotency[f"{shop.id}:{key}"]])
        for name in ("title", "description", "category_id"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise _param(name, "required")
        images = _images(body.get("main_images"))
        weight = _weight(body.get("package_weight"))
        dimensions = _dimensions(body["package_dimensions"]) if "package_dimensions" in body else None
        skus = self._new_skus(shop, self._skus_param(ctx))
        now = int(time.time())
        product = SimProduct(
            self.state.new_id(), shop.id, body["title"], body["description"], body["category_id"],
            images, weight, dimensions, now, now, skus,
        )  # fmt: skip
        self.state.products[product.id] = product
        for sku in skus:
            self.write_log.record(shop.id, product.id, sku.id, "stock", None, sku.available)
            self.write_log.record(shop.id, product.id, sku.id, "price", None, Decimal(sku.price))
        if key:
            self.state.idempotency[f"{shop.id}:{key}"] = product.id
        return self._created(product)

    def _new_skus(self, shop: SimShop, entries: list[dict[str, Any]]) -> list[SimSku]:
        skus: list[SimSku] = []
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            seller_sku = entry.get("seller_sku")
            if not isinstance(seller_sku, str) or not seller_sku or seller_sku in seen:
                raise _param(f"skus[{i}].seller_sku", "required and unique within the product")
            seen.add(seller_sku)
            price: dict[str, Any] = entry["price"] if isinstance(entry.get("price"), dict) else {}
            _decimal_text(price.get("amount"), f"skus[{i}].price.amount")
            if price.get("currency") != shop.currency:
                raise _param(f"skus[{i}].price.currency", f"must be {shop.currency}")
            rows = entry.get("inventory")
            if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], dict):
                raise _param(f"skus[{i}].inventory", "exactly one warehouse entry")
            quantity = rows[0].get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity < tts.MAX_QUANTITY:
                raise _param(
                    f"skus[{i}].inventory[0].quantity", "stock must be >= 0 and < 99999", tts.CODE_INVALID_STOCK
                )
            attributes = [
                {
                    "id": "100000",
                    "name": str(a.get("name", "")),
                    "value_id": "0",
                    "value_name": str(a.get("value_name", "")),
                }
                for a in entry.get("sales_attributes") or []
                if isinstance(a, dict)
            ]
            skus.append(
                SimSku(
                    self.state.new_id(),
                    seller_sku,
                    price["amount"],
                    shop.currency,
                    {shop.warehouse_id: quantity},
                    attributes,
                )
            )
        return skus

    @staticmethod
    def _created(product: SimProduct) -> Mapping[str, Any]:
        skus = [{"id": s.id, "seller_sku": s.seller_sku, "sales_attributes": s.sales_attributes} for s in product.skus]
        return {"product_id": product.id, "skus": skus, "warnings": []}

    def _product_ids(self, ctx: _Ctx) -> list[str]:
        ids = ctx.body.get("product_ids")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= tts.STATUS_BATCH
            or not all(isinstance(i, str) for i in ids)
        ):
            raise _param("product_ids", "between 1 and 20 product ids")
        return ids

    def _set_status(self, ctx: _Ctx, status: str) -> Mapping[str, Any]:
        errors: list[dict[str, Any]] = []
        for product_id in self._product_ids(ctx):
            try:
                product = self._own_product(ctx, product_id, writable=True)
            except SimError as error:
                errors.append({"code": error.code, "message": error.message, "detail": {"product_id": product_id}})
                continue
            product.status, product.update_time = status, int(time.time())
        return {"errors": errors} if errors else {}

    def _activate(self, ctx: _Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "ACTIVATE")

    def _deactivate(self, ctx: _Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "SELLER_DEACTIVATED")

    def _delete(self, ctx: _Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "DELETED")

    # --- orders --------------------------------------------------------------------------------

    def _orders(self, ctx: _Ctx) -> Mapping[str, Any]:
        ids = [i for i in ctx.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= tts.ORDER_BATCH:
            raise _param("ids", "between 1 and 50 order ids")
        shop_id = self._shop(ctx).id
        found = [
            self.state.orders[i] for i in ids if i in self.state.orders and self.state.orders[i].shop_id == shop_id
        ]
        return {"orders": [_order_wire(order) for order in found]}

    # --- admin (demo) --------------------------------------------------------------------------

    async def _admin_place_order(self, request: Request) -> Response:
        """POST /_simulator/orders {shop_id, product_id, sku_id, quantity}: a buyer places an order."""
        try:
            body = json.loads(await request.body())
            args = (str(body["shop_id"]), str(body["product_id"]), str(body["sku_id"]), int(body.get("quantity", 1)))
            order_id = await run_in_threadpool(self.place_order, *args)
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"order_id": order_id})

    async def _admin_order_status(self, request: Request) -> Response:
        """POST /_simulator/orders/{order_id}/status {status}: the order moves on (cancel, ship...)."""
        try:
            body = json.loads(await request.body())
            await run_in_threadpool(self.set_order_status, request.path_params["order_id"], str(body["status"]))
        except (ValueError, KeyError, TypeError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse({"ok": True})


# =================================================================================================
# Wire helpers (module level: no state)
# =================================================================================================


def _sku_error(sku_id: str, message: str) -> dict[str, Any]:
    return {"code": tts.CODE_INVALID_PARAM, "message": message, "detail": {"sku_id": sku_id}}


def _images(value: Any) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= 9:
        raise _param("main_images", "between 1 and 9 images")
    uris = [image.get("uri") if isinstance(image, dict) else None for image in value]
    if not all(isinstance(uri, str) and uri for uri in uris):
        raise _param("main_images", "every image needs a uri")
    return [str(uri) for uri in uris]


def _weight(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or value.get("unit") not in ("KILOGRAM", "POUND"):
        raise _param("package_weight", "value and unit (KILOGRAM or POUND) required")
    _decimal_text(value.get("value"), "package_weight.value")
    return {"value": value["value"], "unit": value["unit"]}


def _dimensions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or value.get("unit") not in ("CENTIMETER", "INCH"):
        raise _param("package_dimensions", "length, width, height and unit (CENTIMETER or INCH) required")
    for side in ("length", "width", "height"):
        _decimal_text(value.get(side), f"package_dimensions.{side}")
    return {side: value[side] for side in ("length", "width", "height", "unit")}


def _order_wire(order: SimOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "status": order.status,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "line_items": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "sku_id": line.sku_id,
                "seller_sku": line.seller_sku,
                "sale_price": line.sale_price,
                "currency": line.currency,
                "quantity": 1,
            }
            for line in order.line_items
        ],
    }


# =================================================================================================
# Standalone run (`syncstore simulator run --platform tiktokshop --port N`)
# =================================================================================================


def run(
    port: int,
    state_file: Path | None = None,
    *,
    host: str = "127.0.0.1",
    app_key: str = DEMO_APP_KEY,
    app_secret: str = DEMO_APP_SECRET,
    service_id: str = DEMO_SERVICE_ID,
    redirect_url: str | None = None,
    order_interval_s: float | None = None,
) -> None:
    """Serve the simulator until interrupted; state is loaded from and saved to `state_file` when given.

    A state file that exists wins over the app credentials passed here. A fresh state holds one demo shop.
    """
    if state_file is not None and state_file.exists():
        simulator = TikTokShopSimulator.load(state_file, redirect_url=redirect_url)
    else:
        simulator = TikTokShopSimulator(
            app_key=app_key,
            app_secret=app_secret,
            service_id=service_id,
            redirect_url=redirect_url,
            state_file=state_file,
        )
        simulator.add_shop(DEMO_SHOP_ID, "Demo TikTok Shop")
    if order_interval_s:
        simulator.start_order_generator(order_interval_s)
    log.info("TikTok Shop simulator on http://%s:%d (app_key %s)", host, port, simulator.state.app_key)
    try:
        uvicorn.run(simulator.app, host=host, port=port, log_level="info")
    finally:
        simulator.stop()
