# The TikTok Shop simulator itself: the Starlette app (signature check, routes, webhooks) and its shortcuts.
"""`TikTokShopSimulator` serves the signed API, the authorization page and webhooks; `run` serves one
until interrupted (`syncstore simulator run --platform tiktokshop`)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import json
import logging
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from connectors.simulator.common import Fault, FaultPlan, RetryingSender, ServerThread, SimClock, Ticker, WriteLog
from connectors.tiktokshop.simulator.codes import (
    ACTIVATE_PATH,
    AUTH_CODE_TTL_S,
    AUTHORIZE_PATH,
    DEACTIVATE_PATH,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_SERVICE_ID,
    DEMO_SHOP_ID,
    E_AUTH_CODE,
    E_CIPHER_MISSING,
    E_CURRENCY,
    E_ENVELOPE,
    E_IMAGE_URI,
    E_INTERNAL,
    E_INVALID_METHOD,
    E_INVALID_PATH,
    E_MULTIPLE_WAREHOUSES,
    E_NO_AUTH_RECORD,
    E_PRICE_LOCKED,
    E_PRODUCT_MISSING,
    E_PRODUCT_MISSING_DETAIL,
    E_PRODUCT_OTHER_SHOP,
    E_QUERY_OR_HEADER,
    E_REFRESH_EXPIRED,
    E_REQUEST_FORMAT,
    E_SEARCH_CAP,
    E_SIGN,
    E_SKU_NOT_IN_PRODUCT,
    E_TOKEN_EXPIRED,
    E_TOKEN_INVALID,
    E_TOO_MANY_REQUESTS,
    E_WAREHOUSE_MISSING,
    E_WRONG_STATUS,
    EVENT_NAMES,
    EVENT_TYPES,
    LOOSE_TITLE_REGIONS,
    MAX_ORDER_IDS,
    MAX_PAGE_SIZE,
    MAX_SELLER_SKUS,
    MAX_STATUS_PRODUCT_IDS,
    MAX_TIMESTAMP_AGE_S,
    MAX_TIMESTAMP_AHEAD_S,
    NOT_SIGNED,
    ORDER_SEARCH_PATH,
    ORDER_STATUSES,
    ORDERS_PATH,
    PRODUCT_SEARCH_PATH,
    PRODUCT_STATUSES,
    PRODUCTS_PATH,
    RETRY_SCHEDULE_S,
    RETURN_WAREHOUSE,
    SALES_WAREHOUSE,
    SHIPPED_STATUSES,
    SHOPS_PATH,
    TOKEN_GET_PATH,
    TOKEN_REFRESH_PATH,
    WAREHOUSES_PATH,
    WEBHOOKS_PATH,
)
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    Handler,
    SimError,
    business_error,
    decimal_text,
    fail_response,
    int_field,
    ok_response,
    order_wire,
    param,
    quantity_field,
    sku_error,
    wire_dimensions,
    wire_weight,
)
from connectors.tiktokshop.simulator.signing import money, request_sign, webhook_signature
from connectors.tiktokshop.simulator.state import (
    ShopOptions,
    SimAuthCode,
    SimLineItem,
    SimOrder,
    SimProduct,
    SimShop,
    SimSku,
    SimState,
    SimToken,
    SimWarehouse,
)

log = logging.getLogger(__name__)

# =================================================================================================
# The simulator
# =================================================================================================


@dataclass
class _Outgoing:
    shop_id: str
    event_type: int
    data: dict[str, Any]


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
        clock: SimClock | None = None,
        retry_schedule_s: tuple[float, ...] = RETRY_SCHEDULE_S,
        tick_s: float = 0.1,
    ) -> None:
        self.state = state or SimState(app_key=app_key, app_secret=app_secret, service_id=service_id)
        self.faults = faults or FaultPlan()
        self.clock = clock or SimClock()
        self.token_ttl_s, self.refresh_ttl_s = token_ttl_s, refresh_ttl_s
        self.redirect_url, self.auto_approve = redirect_url, auto_approve
        self.authorize_shop_id: str | None = None  # which shop the auto-approved login grants (default: first)
        self.rate_limit_per_minute, self.daily_quota = rate_limit_per_minute, daily_quota
        self.state_file = state_file
        self.write_log = WriteLog()
        self.sender = RetryingSender(
            self.clock, retry_schedule_s, accept=lambda status, _body: 200 <= status < 300, timeout_s=webhook_timeout_s
        )
        self.request_counts: Counter[str] = Counter()
        self._usage: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.RLock()
        self._outbox: list[_Outgoing] = []
        self._page_tokens: dict[str, tuple[str, int]] = {}
        self._server: ServerThread | None = None
        self._ticker: Ticker | None = None
        self._pump_ticker: Ticker | None = None
        self._tick_s = tick_s
        self._routes: list[tuple[re.Pattern[str], frozenset[str]]] = []
        self.app = self._build_app()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int | None = None) -> str:
        self._server = ServerThread(self.app, port).start()
        self._pump_ticker = Ticker(self._tick_s, self.pump).start()
        return self._server.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return self._server.url

    def stop(self) -> None:
        self.stop_order_generator()
        if self._pump_ticker is not None:
            self._pump_ticker.stop()
            self._pump_ticker = None
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

    def now(self) -> int:
        """Simulated Unix seconds."""
        return int(self.clock.now())

    def pump(self) -> None:
        """End due audits, send queued pushes and due retries (the background tick; tests may call it)."""
        with self._lock:
            self._settle_audits()
            outgoing, self._outbox = self._outbox, []
        for note in outgoing:
            self._deliver(note)
        self.sender.pump()

    # --- seeding shortcuts ---------------------------------------------------------------------

    def add_shop(
        self,
        shop_id: str,
        name: str,
        *,
        region: str = "US",
        currency: str = "USD",
        warehouse_id: str | None = None,
        warehouses: int | Sequence[Mapping[str, Any]] | None = None,
        seller_id: str | None = None,
        seller_type: str = "LOCAL",
        tax_rate: Decimal | str | None = None,
        **options: Any,
    ) -> str:
        """A shop that has authorized the app; returns its shop_cipher.

        `warehouses`: a count of sales warehouses (the first is the default; a return warehouse is added)
        or explicit `{id, name, type, is_default, effect_status}` rows. `seller_id` groups shops under one
        seller (one token pair for all of them); by default each shop is its own seller. Other keywords
        are `ShopOptions` fields.
        """
        if seller_type not in ("LOCAL", "CROSS_BORDER"):
            raise ValueError("seller_type is LOCAL or CROSS_BORDER")
        rate = tax_rate if tax_rate is not None else ("0.10" if seller_type == "CROSS_BORDER" else "0")
        with self._lock:
            rows = self._warehouse_rows(warehouse_id, warehouses)
            default = next((w for w in rows if w.is_default and w.type == SALES_WAREHOUSE), None)
            if default is None:
                raise ValueError("a shop needs a default sales warehouse")
            shop = SimShop(
                id=shop_id,
                cipher="TTP_" + secrets.token_urlsafe(18),
                name=name,
                region=region,
                currency=currency,
                warehouse_id=default.id,
                seller_id=seller_id or f"seller-{shop_id}",
                warehouses=rows,
                options=ShopOptions(seller_type=seller_type, tax_rate=str(Decimal(str(rate))), **options),
            )
            self.state.shops[shop_id] = shop
            return shop.cipher

    def _warehouse_rows(
        self, warehouse_id: str | None, warehouses: int | Sequence[Mapping[str, Any]] | None
    ) -> list[SimWarehouse]:
        if warehouses is None or isinstance(warehouses, int):
            count = 1 if warehouses is None else warehouses
            if count < 1:
                raise ValueError("at least one sales warehouse")
            rows = [
                SimWarehouse(
                    (warehouse_id if i == 0 and warehouse_id else self.state.new_id()),
                    f"Sales warehouse {i + 1}",
                    is_default=i == 0,
                )
                for i in range(count)
            ]
            return [*rows, SimWarehouse(self.state.new_id(), "Returns", type=RETURN_WAREHOUSE)]
        return [
            SimWarehouse(
                id=str(row.get("id") or self.state.new_id()),
                name=str(row.get("name", "Warehouse")),
                type=str(row.get("type", SALES_WAREHOUSE)),
                is_default=bool(row.get("is_default", False)),
                effect_status=str(row.get("effect_status", "ENABLED")),
            )
            for row in warehouses
        ]

    def set_shop_options(self, shop_id: str, **changes: Any) -> ShopOptions:
        """Change a shop's behaviour at runtime (any `ShopOptions` field)."""
        with self._lock:
            options = self.state.shops[shop_id].options
            for key, value in changes.items():
                if not hasattr(options, key):
                    raise AttributeError(f"no shop option {key}")
                setattr(options, key, value)
            return options

    def warehouses(self, shop_id: str) -> list[SimWarehouse]:
        with self._lock:
            return list(self.state.shops[shop_id].warehouses)

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
        """A product; each sku mapping may give seller_sku, price (tax-exclusive, str), stock (int, in the
        default warehouse) or inventory ({warehouse_id: quantity}), attributes (dict), price_locked (bool)."""
        with self._lock:
            shop = self.state.shops[shop_id]
            now = self.now()
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
                skus=[self._seed_sku(shop, spec) for spec in sku_specs],
                status=status,
            )
            self.state.products[product.id] = product
            return product.id

    def _seed_sku(self, shop: SimShop, spec: Mapping[str, Any]) -> SimSku:
        attributes = [
            {"id": "100000", "name": k, "value_id": "0", "value_name": v} for k, v in spec.get("attributes", {}).items()
        ]
        if "inventory" in spec:
            inventory = {str(w): int(q) for w, q in dict(spec["inventory"]).items()}
        else:
            inventory = {shop.warehouse_id: int(spec.get("stock", 0))}
        sku = SimSku(
            id=self.state.new_id(),
            seller_sku=str(spec.get("seller_sku", "")),
            price=str(spec.get("price", "10.00")),
            currency=shop.currency,
            inventory=inventory,
            sales_attributes=attributes,
            price_locked=bool(spec.get("price_locked", False)),
        )
        self._reprice(shop, sku, Decimal(sku.price))
        return sku

    @staticmethod
    def _reprice(shop: SimShop, sku: SimSku, tax_exclusive: Decimal) -> None:
        sku.sale_price = money(tax_exclusive * (1 + Decimal(shop.options.tax_rate)))

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
                self._reprice(shop, sku, Decimal(sku.price))
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

    def order(self, order_id: str) -> SimOrder:
        return self.state.orders[order_id]

    def lock_price(self, product_id: str, sku_id: str, locked: bool = True) -> None:
        """A promotion locks (or releases) this SKU's price: price updates of the product answer 12019045."""
        with self._lock:
            self._sku(self.state.products[product_id], sku_id).price_locked = locked

    def fail_next_audit(self, reason: str, *, product_id: str | None = None, shop_id: str | None = None) -> None:
        """The next audit of this product (or the next one in this shop) fails with `reason`."""
        with self._lock:
            if product_id is not None:
                self.state.products[product_id].fail_next_audit = reason
            elif shop_id is not None:
                self.state.shops[shop_id].options.fail_next_audit = reason
            else:
                raise ValueError("give product_id or shop_id")

    def issue_tokens(
        self, shop_id: str, *, access_ttl_s: int | None = None, refresh_ttl_s: int | None = None
    ) -> tuple[str, str]:
        """Test shortcut for the authorization flow: (access_token, refresh_token) of the shop's seller."""
        with self._lock:
            data = self._issue_tokens(shop_id, access_ttl_s=access_ttl_s, refresh_ttl_s=refresh_ttl_s)
            return data["access_token"], data["refresh_token"]

    def _issue_tokens(
        self, shop_id: str, *, access_ttl_s: int | None = None, refresh_ttl_s: int | None = None
    ) -> dict[str, Any]:
        now = self.now()
        shop = self.state.shops[shop_id]
        access, refresh = "TTP_at_" + secrets.token_urlsafe(24), "TTP_rt_" + secrets.token_urlsafe(24)
        access_expiry = now + (self.token_ttl_s if access_ttl_s is None else access_ttl_s)
        refresh_expiry = now + (self.refresh_ttl_s if refresh_ttl_s is None else refresh_ttl_s)
        self.state.access_tokens[access] = SimToken(shop.seller_id, access_expiry)
        self.state.refresh_tokens[refresh] = SimToken(shop.seller_id, refresh_expiry)
        return {
            "access_token": access,
            "access_token_expire_in": access_expiry,
            "refresh_token": refresh,
            "refresh_token_expire_in": refresh_expiry,
            "open_id": f"open-{shop.seller_id}",
            "seller_name": shop.name,
            "seller_base_region": shop.region,
            "user_type": 0,
            "granted_scopes": ["seller.product.basic", "seller.order.info", "seller.authorization.info"],
        }

    def revoke_shop(self, shop_id: str) -> None:
        """The seller deauthorizes the app for this shop: its requests fail; type 6 is pushed."""
        with self._lock:
            self.state.shops[shop_id].authorized = False
        self._notify(shop_id, 6, {"shop_id": shop_id, "reason": "seller deauthorized"})

    # --- marketplace-side activity ------------------------------------------------------------

    def place_order(
        self, shop_id: str, product_id: str, sku_id: str, qty: int = 1, *, status: str = "AWAITING_SHIPMENT"
    ) -> str:
        """A buyer orders `qty` units (one line item each): available stock drops; type 1 is pushed."""
        if qty < 1 or status not in ORDER_STATUSES or status in SHIPPED_STATUSES or status == "CANCELLED":
            raise ValueError("qty must be >= 1 and status an open order status")
        with self._lock:
            product = self.state.products[product_id]
            sku = product.sku(sku_id)
            if product.shop_id != shop_id or sku is None:
                raise ValueError("no such SKU in this shop")
            if sku.available < qty:
                raise ValueError(f"only {sku.available} available")
            shop = self.state.shops[shop_id]
            taken = self._take(sku, shop, qty)
            now = self.now()
            lines = [
                SimLineItem(
                    self.state.new_id(),
                    product_id,
                    sku_id,
                    sku.seller_sku,
                    sku.sale_price or sku.price,
                    sku.currency,
                    display_status=status,
                    warehouse_id=warehouse,
                )
                for warehouse in taken
            ]
            order = SimOrder(self.state.new_id(), shop_id, status, now, now, lines)
            self.state.orders[order.id] = order
        self._notify_order(order)
        return order.id

    @staticmethod
    def _take(sku: SimSku, shop: SimShop, qty: int) -> list[str]:
        """Take `qty` available units (the default warehouse first); the warehouse of each unit."""
        taken: list[str] = []
        for warehouse in sorted(sku.inventory, key=lambda w: w != shop.warehouse_id):
            step = min(qty - len(taken), sku.inventory[warehouse])
            sku.inventory[warehouse] -= step
            taken.extend([warehouse] * step)
        sku.reserved += qty
        return taken

    def _release(self, line: SimLineItem, shop: SimShop) -> None:
        sku = self.state.products[line.product_id].sku(line.sku_id)
        if sku is not None:
            warehouse = line.warehouse_id or shop.warehouse_id
            sku.reserved -= 1
            sku.inventory[warehouse] = sku.inventory.get(warehouse, 0) + 1

    def set_order_status(self, order_id: str, status: str) -> None:
        """Move an order: CANCELLED gives open units back, IN_TRANSIT (or later) consumes them; type 1 pushed."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status}")
        with self._lock:
            order = self.state.orders[order_id]
            shop = self.state.shops[order.shop_id]
            closed = order.status == "CANCELLED" or order.status in SHIPPED_STATUSES
            for line in order.line_items:
                if closed or line.display_status == "CANCELLED":
                    continue
                if status == "CANCELLED":
                    self._release(line, shop)
                    line.cancel_reason, line.cancel_user = "Buyer cancelled", "BUYER"
                elif status in SHIPPED_STATUSES:
                    sku = self.state.products[line.product_id].sku(line.sku_id)
                    if sku is not None:
                        sku.reserved -= 1
                line.display_status = status
            order.status, order.update_time = status, max(self.now(), order.update_time)
        if status == "CANCELLED":
            self._notify(order.shop_id, 11, self._cancellation_data(order, "CANCELLED"))
        self._notify_order(order)

    def cancel_line(self, order_id: str, line_item_id: str, *, reason: str = "Out of stock") -> None:
        """One line item (one unit) is cancelled; its unit goes back to stock. When it was the last open
        line the whole order is CANCELLED. Types 11 and 1 are pushed."""
        with self._lock:
            order = self.state.orders[order_id]
            line = next((item for item in order.line_items if item.id == line_item_id), None)
            if line is None:
                raise KeyError(line_item_id)
            if line.display_status == "CANCELLED" or order.status in SHIPPED_STATUSES:
                raise ValueError("this line item can no longer be cancelled")
            self._release(line, self.state.shops[order.shop_id])
            line.display_status, line.cancel_reason, line.cancel_user = "CANCELLED", reason, "SELLER"
            if all(item.display_status == "CANCELLED" for item in order.line_items):
                order.status = "CANCELLED"
            order.update_time = max(self.now(), order.update_time)
        self._notify(order.shop_id, 11, self._cancellation_data(order, "PARTIAL"))
        self._notify_order(order)

    @staticmethod
    def _cancellation_data(order: SimOrder, kind: str) -> dict[str, Any]:
        return {
            "order_id": order.id,
            "cancellation_status": "COMPLETED",
            "cancel_type": kind,
            "update_time": order.update_time,
        }

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
        """The seller edits the product in Seller Center (not through our API): bumps update_time; pushes
        type 15 (and 68 when stock changed). `prices` are tax-exclusive; `stock` goes to the default
        warehouse and every other warehouse of the SKU is set to 0."""
        changed: list[str] = []
        with self._lock:
            product = self.state.products[product_id]
            shop = self.state.shops[product.shop_id]
            if title is not None:
                product.title = title
                changed.append("title")
            if description is not None:
                product.description = description
                changed.append("description")
            if status is not None:
                product.status = status
                changed.append("status")
            for sku_id, price in (prices or {}).items():
                sku = self._sku(product, sku_id)
                sku.price = str(price)
                self._reprice(shop, sku, Decimal(str(price)))
                changed.append("price")
            for sku_id, quantity in (stock or {}).items():
                sku = self._sku(product, sku_id)
                sku.inventory = {w: 0 for w in sku.inventory} | {shop.warehouse_id: quantity}
                changed.append("inventory")
            product.update_time = max(self.now(), product.update_time)
            shop_id, update_time = product.shop_id, product.update_time
        data = {"product_id": product_id, "changed_fields": sorted(set(changed)), "update_time": update_time}
        self._notify(shop_id, 15, data)
        if stock:
            self._notify(shop_id, 68, {"product_id": product_id, "update_time": update_time})

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

    # --- audits --------------------------------------------------------------------------------

    def _start_audit(self, shop: SimShop, product: SimProduct, edit: dict[str, Any] | None) -> None:
        product.status, product.pending_edit = "PENDING", edit
        product.audit_due = self.clock.now() + shop.options.audit_delay_s

    def _settle_audits(self) -> None:
        """End every audit that is due (under the lock); the type 5 pushes go to the outbox."""
        now = self.clock.now()
        for product in self.state.products.values():
            if product.audit_due is None or product.audit_due > now:
                continue
            shop = self.state.shops[product.shop_id]
            reason = product.fail_next_audit or shop.options.fail_next_audit
            product.audit_due = None
            if reason:
                product.fail_next_audit, shop.options.fail_next_audit = None, None
                product.status, product.pending_edit = "FAILED", None
                product.audit_failed_reasons = [
                    {"position": "Product Name", "reasons": [reason], "suggestions": ["Edit the product and resubmit."]}
                ]
            else:
                if product.pending_edit:
                    self._apply_edit(shop, product, product.pending_edit)
                product.status, product.pending_edit, product.audit_failed_reasons = "ACTIVATE", None, []
            product.update_time = max(int(now), product.update_time)
            data = {"product_id": product.id, "status": product.status, "update_time": product.update_time}
            if product.audit_failed_reasons:
                data["suspended_reason"] = "; ".join(product.audit_failed_reasons[0]["reasons"])
            self._outbox.append(_Outgoing(shop.id, 5, data))

    def _apply_edit(self, shop: SimShop, product: SimProduct, edit: Mapping[str, Any]) -> None:
        for key in ("title", "description", "main_images", "package_weight", "package_dimensions"):
            if key in edit:
                setattr(product, key, edit[key])
        for sku_id, change in edit.get("skus", {}).items():
            sku = product.sku(sku_id)
            if sku is None:
                continue
            if "price" in change:
                old = Decimal(sku.price)
                sku.price = change["price"]
                self._reprice(shop, sku, Decimal(sku.price))
                self.write_log.record(shop.id, product.id, sku.id, "price", old, Decimal(sku.price))
            if "inventory" in change:
                old_stock = sku.available
                sku.inventory.update(change["inventory"])
                self.write_log.record(shop.id, product.id, sku.id, "stock", old_stock, sku.available)

    # --- webhooks out --------------------------------------------------------------------------

    def _notify_order(self, order: SimOrder) -> None:
        data = {"order_id": order.id, "order_status": order.status, "update_time": order.update_time}
        self._notify(order.shop_id, 1, data | {"is_on_hold_order": order.status == "ON_HOLD"})

    def _notify(self, shop_id: str, event_type: int, data: Mapping[str, Any]) -> bool:
        """Push now (seller/buyer activity outside a request); False when not delivered at once."""
        return self._deliver(_Outgoing(shop_id, event_type, dict(data)))

    def _deliver(self, note: _Outgoing) -> bool:
        with self._lock:
            url = self.state.webhooks.get(note.shop_id, {}).get(EVENT_TYPES[note.event_type])
            notification_id = self.state.new_id()
        if url is None:
            return False
        payload = {
            "type": note.event_type,
            "tts_notification_id": notification_id,
            "shop_id": note.shop_id,
            "timestamp": self.now(),
            "data": note.data,
        }
        body = json.dumps(payload).encode()
        headers = {
            "Authorization": webhook_signature(self.state.app_key, self.state.app_secret, body),
            "Content-Type": "application/json",
        }
        return self.sender.send(url, body, headers)

    # --- HTTP app ------------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        api, token = self._api, self._token_endpoint
        one = PRODUCTS_PATH + "/{product_id}"
        routes = [
            Route(AUTHORIZE_PATH, self._authorize_page, methods=["GET"]),
            Route(AUTHORIZE_PATH + "/approve", self._authorize_approve, methods=["GET"]),
            Route(TOKEN_GET_PATH, token(self._token_get), methods=["GET"]),
            Route(TOKEN_REFRESH_PATH, token(self._token_refresh), methods=["GET"]),
            Route(SHOPS_PATH, api(self._authorized_shops, cipher=False), methods=["GET"]),
            Route(WEBHOOKS_PATH, api(self._put_webhook), methods=["PUT"]),
            Route(WEBHOOKS_PATH, api(self._get_webhooks), methods=["GET"]),
            Route(WEBHOOKS_PATH, api(self._delete_webhook), methods=["DELETE"]),
            Route(WAREHOUSES_PATH, api(self._warehouses), methods=["GET"]),
            Route(PRODUCT_SEARCH_PATH, api(self._search), methods=["POST"]),
            Route(ACTIVATE_PATH, api(self._activate), methods=["POST"]),
            Route(DEACTIVATE_PATH, api(self._deactivate), methods=["POST"]),
            Route(PRODUCTS_PATH, api(self._create), methods=["POST"]),
            Route(PRODUCTS_PATH, api(self._delete), methods=["DELETE"]),
            Route(one, api(self._detail), methods=["GET"]),
            Route(one + "/inventory/update", api(self._update_inventory), methods=["POST"]),
            Route(one + "/prices/update", api(self._update_prices), methods=["POST"]),
            Route(one + "/partial_edit", api(self._partial_edit), methods=["POST"]),
            Route(ORDERS_PATH, api(self._orders), methods=["GET"]),
            Route(ORDER_SEARCH_PATH, api(self._order_search), methods=["POST"]),
        ]
        self._routes = [(route.path_regex, frozenset(route.methods or ())) for route in routes]
        # Fixed paths that a `{product_id}` pattern would also match: another method is an invalid method.
        others = ["GET", "PUT", "DELETE", "PATCH"]
        fixed = [
            Route(p, self._unknown_path, methods=others) for p in (PRODUCT_SEARCH_PATH, ACTIVATE_PATH, DEACTIVATE_PATH)
        ]
        admin = [
            Route("/_simulator/orders", self._admin_place_order, methods=["POST"]),
            Route("/_simulator/orders/{order_id}/status", self._admin_order_status, methods=["POST"]),
            Route("/{path:path}", self._unknown_path, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        ]
        return Starlette(routes=[*fixed, *routes, *admin])

    async def _unknown_path(self, request: Request) -> Response:
        with self._lock:
            self.request_counts[request.url.path] += 1
        path = request.url.path
        if any(pattern.match(path) for pattern, _methods in self._routes):
            message = "Invalid method. The HTTP method used is not supported by this endpoint."
            return fail_response(SimError(E_INVALID_METHOD, message, http_status=405))
        message = "Invalid path. The specified path does not match any available endpoint."
        return fail_response(SimError(E_INVALID_PATH, message, http_status=404))

    async def _before(self, request: Request) -> Fault | None:
        with self._lock:
            self.request_counts[request.url.path] += 1
            if self._pump_ticker is None:  # served by someone else's server (the demo): tick from now on
                self._pump_ticker = Ticker(self._tick_s, self.pump).start()
        faults = self.faults
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        return faults.draw()

    async def _serve(self, request: Request, run: Callable[[bytes], Mapping[str, Any]]) -> Response:
        fault = await self._before(request)
        if fault is Fault.THROTTLE:
            message = "Too many requests. You've made too many requests in a short period of time."
            return fail_response(SimError(E_TOO_MANY_REQUESTS, message, http_status=429, retry_after=1))
        if fault is Fault.SERVER_ERROR:
            message = "Internal error. Please try again. If the issue persists, please contact platform support."
            return fail_response(SimError(E_INTERNAL, message, http_status=500))
        raw = await request.body()
        with self._lock:
            self._settle_audits()
            try:
                response = ok_response(run(raw))
            except SimError as error:
                status = error.http_status
                if error.business:
                    status = error.shop.options.business_error_http_status if error.shop else 200
                response = fail_response(error, status)
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.faults.timeout_hold_s)
        return response

    def _api(self, handler: Handler, *, cipher: bool = True) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            def run(raw: bytes) -> Mapping[str, Any]:
                ctx = self._authenticate(request, raw, cipher=cipher)
                try:
                    return handler(ctx)
                except SimError as error:
                    error.shop = ctx.shop
                    raise

            return await self._serve(request, run)

        return endpoint

    def _token_endpoint(
        self, handler: Callable[[dict[str, str]], Mapping[str, Any]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._serve(request, lambda _raw: handler(dict(request.query_params)))

        return endpoint

    # --- request verification ------------------------------------------------------------------

    def _authenticate(self, request: Request, raw: bytes, *, cipher: bool) -> Ctx:
        query = dict(request.query_params)
        self._check_envelope(request, query)
        body = raw if request.method != "GET" and raw else None
        expected = request_sign(self.state.app_secret, request.url.path, query, body)
        empty_values = any(value == "" for key, value in query.items() if key not in NOT_SIGNED)
        if empty_values or not hmac.compare_digest(query["sign"].encode(), expected.encode()):
            raise SimError(E_SIGN, "Invalid credentials. The `sign` query parameter is invalid.")
        seller_id, token_code = self._token_seller(request.headers.get("x-tts-access-token"), query.get("shop_cipher"))
        shop = self._cipher_shop(query, seller_id, token_code, cipher=cipher)
        if shop is not None:
            self._meter(shop)
        return Ctx(shop, seller_id, query, self._json_body(request, body), dict(request.path_params))

    def _check_envelope(self, request: Request, query: Mapping[str, str]) -> None:
        if query.get("app_key") != self.state.app_key:
            raise SimError(E_ENVELOPE, "Invalid credentials. Invalid `app_key` query parameter.")
        if not query.get("sign"):
            raise SimError(E_ENVELOPE, "Missing credentials. The request does not include a required signature.")
        try:
            timestamp = int(query["timestamp"])
        except (KeyError, ValueError):
            raise SimError(E_ENVELOPE, "Invalid timestamp. The `timestamp` query parameter is missing.") from None
        now = time.time()  # request timestamps are wall time: clients sign with their own clock
        if timestamp < 0 or now - timestamp > MAX_TIMESTAMP_AGE_S:
            raise SimError(
                E_ENVELOPE,
                "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than "
                "5 minutes before the current time (expired).",
            )
        if timestamp - now > MAX_TIMESTAMP_AHEAD_S:
            raise SimError(
                E_ENVELOPE,
                "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the current "
                "time by more than 30 seconds (future).",
            )

    def _token_seller(self, access_token: str | None, cipher: str | None) -> tuple[str, int]:
        """The seller the token belongs to and the code its shops answer for a dead token."""
        if not access_token:
            raise SimError(
                E_ENVELOPE, "Invalid credentials. The `x-tts-access-token` header is missing.", http_status=401
            )
        token = self.state.access_tokens.get(access_token)
        if token is None or not token.alive:
            # the code is the shop's (seedable): the platform answers 105001, 101000 or 36009004
            shop = next((s for s in self.state.shops.values() if s.cipher == cipher), None)
            raise self._token_error(shop.options.invalid_token_code if shop else E_TOKEN_INVALID)
        if self.clock.now() >= token.expires_at:
            raise SimError(
                E_TOKEN_EXPIRED,
                "Expired credentials. The `access_token` or `x-tts-access-token` header has expired.",
                http_status=401,
            )
        shops = [s for s in self.state.shops.values() if s.seller_id == token.seller_id]
        code = shops[0].options.invalid_token_code if shops else E_TOKEN_INVALID
        return token.seller_id, code

    @staticmethod
    def _token_error(code: int) -> SimError:
        messages = {
            E_TOKEN_INVALID: "Invalid credentials. The access token is invalid.",
            E_QUERY_OR_HEADER: "Invalid query or header. The `x-tts-access-token` header is invalid.",
            E_ENVELOPE: "Invalid credentials. The `x-tts-access-token` header is invalid.",
        }
        return SimError(code, messages.get(code, "Invalid credentials. The access token is invalid."), http_status=401)

    def _cipher_shop(
        self, query: Mapping[str, str], seller_id: str, token_code: int, *, cipher: bool
    ) -> SimShop | None:
        if not cipher:
            if "shop_cipher" in query:
                raise SimError(
                    E_ENVELOPE,
                    "Unexpected identifier. The `shop_cipher` query parameter is not required for this request.",
                )
            if not any(s.authorized for s in self.state.shops.values() if s.seller_id == seller_id):
                raise self._token_error(token_code)
            return None
        presented = query.get("shop_cipher")
        if not presented:
            raise SimError(
                E_CIPHER_MISSING,
                "Missing identifier. The `shop_cipher` query parameter is required to identify the target shop.",
            )
        shop = next(
            (s for s in self.state.shops.values() if hmac.compare_digest(s.cipher.encode(), presented.encode())), None
        )
        if shop is None or shop.seller_id != seller_id:
            raise SimError(
                E_ENVELOPE, "Invalid identifier. The `shop_cipher` does not belong to the authorized seller."
            )
        if not shop.authorized:
            raise self._token_error(shop.options.invalid_token_code)
        return shop

    def _meter(self, shop: SimShop) -> None:
        now = time.time()
        minute, day = int(now // 60), int(now // 86_400)
        too_many = "Too many requests. You've made too many requests in a short period of time."
        if self.daily_quota is not None:
            if self._usage[(shop.id, "day", day)] >= self.daily_quota:
                retry_after = max(1, int(86_400 - now % 86_400))
                raise SimError(E_TOO_MANY_REQUESTS, too_many, http_status=429, retry_after=retry_after)
            self._usage[(shop.id, "day", day)] += 1
        if self.rate_limit_per_minute is not None:
            if self._usage[(shop.id, "minute", minute)] >= self.rate_limit_per_minute:
                retry_after = max(1, int(60 - now % 60 + 0.999))
                raise SimError(E_TOO_MANY_REQUESTS, too_many, http_status=429, retry_after=retry_after)
            self._usage[(shop.id, "minute", minute)] += 1

    @staticmethod
    def _json_body(request: Request, body: bytes | None) -> Any:
        if body is None:
            return {}
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise SimError(
                E_REQUEST_FORMAT, "Invalid request format. The request body format must be `application/json`."
            )
        try:
            parsed = json.loads(body)
        except ValueError:
            raise SimError(E_REQUEST_FORMAT, "Invalid request format. The body is not valid JSON.") from None
        if not isinstance(parsed, dict):
            raise SimError(E_REQUEST_FORMAT, "Invalid request format. The body must be a JSON object.")
        return parsed

    # --- authorization -------------------------------------------------------------------------

    def _grant_code(self, shop_id: str) -> str:
        with self._lock:
            code = "TTP_code_" + secrets.token_urlsafe(18)
            self.state.auth_codes[code] = SimAuthCode(shop_id, self.now() + AUTH_CODE_TTL_S)
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
            f'<li><a href="{AUTHORIZE_PATH}/approve?'
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
            raise SimError(E_ENVELOPE, "Invalid credentials. Invalid `app_key` or `app_secret` query parameter.")

    def _token_get(self, query: dict[str, str]) -> Mapping[str, Any]:
        self._check_app(query)
        if query.get("grant_type") != "authorized_code":
            raise SimError(E_ENVELOPE, "Parameter 'grant_type' is invalid. Expected: authorized_code.")
        grant = self.state.auth_codes.pop(query.get("auth_code", ""), None)
        if grant is None or self.clock.now() >= grant.expires_at:
            raise SimError(E_AUTH_CODE, "Invalid auth code.")
        shop = self.state.shops[grant.shop_id]
        for other in self.state.shops.values():
            if other.seller_id == shop.seller_id:
                other.authorized = True
        return self._issue_tokens(grant.shop_id)

    def _token_refresh(self, query: dict[str, str]) -> Mapping[str, Any]:
        self._check_app(query)
        if query.get("grant_type") != "refresh_token":
            raise SimError(E_ENVELOPE, "Parameter 'grant_type' is invalid. Expected: refresh_token.")
        token = self.state.refresh_tokens.get(query.get("refresh_token", ""))
        shops = [s for s in self.state.shops.values() if token is not None and s.seller_id == token.seller_id]
        live = [s for s in shops if s.authorized]
        if token is None or not token.alive or not live:
            raise SimError(E_NO_AUTH_RECORD, "Can not find the related auth record (refresh token invalid).")
        if self.clock.now() >= token.expires_at:
            raise SimError(E_REFRESH_EXPIRED, "The refresh token has expired.")
        token.alive = False
        return self._issue_tokens(live[0].id)

    def _authorized_shops(self, ctx: Ctx) -> Mapping[str, Any]:
        shops = [s for s in self.state.shops.values() if s.seller_id == ctx.seller_id and s.authorized]
        return {
            "shops": [
                {
                    "id": s.id,
                    "name": s.name,
                    "region": s.region,
                    "seller_type": s.options.seller_type,
                    "cipher": s.cipher,
                    "code": f"SIM{s.id[-6:]}",
                }
                for s in sorted(shops, key=lambda s: s.id)
            ]
        }

    # --- webhooks registration -----------------------------------------------------------------

    def _put_webhook(self, ctx: Ctx) -> Mapping[str, Any]:
        shop = self._shop(ctx)
        address, event_type = ctx.body.get("address"), ctx.body.get("event_type")
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            raise param("address", "must be an http(s) URL")
        if not isinstance(event_type, str) or event_type not in EVENT_NAMES:
            raise param("event_type", "unknown event type")
        if event_type in shop.options.refused_event_types:
            raise param("event_type", f"{event_type} is not available for this shop")
        self.state.webhooks.setdefault(shop.id, {})[event_type] = address
        return {}

    def _get_webhooks(self, ctx: Ctx) -> Mapping[str, Any]:
        hooks = self.state.webhooks.get(self._shop(ctx).id, {})
        rows = [{"event_type": name, "address": url} for name, url in sorted(hooks.items())]
        return {"webhooks": rows, "total_count": len(rows)}

    def _delete_webhook(self, ctx: Ctx) -> Mapping[str, Any]:
        event_type = ctx.body.get("event_type")
        if not isinstance(event_type, str) or event_type not in EVENT_NAMES:
            raise param("event_type", "unknown event type")
        self.state.webhooks.get(self._shop(ctx).id, {}).pop(event_type, None)
        return {}

    def _warehouses(self, ctx: Ctx) -> Mapping[str, Any]:
        return {"warehouses": [asdict(w) for w in self._shop(ctx).warehouses]}

    # --- products ------------------------------------------------------------------------------

    @staticmethod
    def _shop(ctx: Ctx) -> SimShop:
        if ctx.shop is None:  # every shop handler runs after the cipher check
            raise SimError(E_CIPHER_MISSING, "Missing identifier. The `shop_cipher` query parameter is required.")
        return ctx.shop

    def _own_product(self, ctx: Ctx, product_id: str, *, writable: bool = False, detail: bool = False) -> SimProduct:
        product = self.state.products.get(product_id)
        if product is None or (writable and product.status == "DELETED"):
            if detail:
                raise business_error(E_PRODUCT_MISSING_DETAIL, "The product ID does not exist.")
            raise business_error(E_PRODUCT_MISSING, "The product does not exist")
        if product.shop_id != self._shop(ctx).id:
            raise business_error(E_PRODUCT_OTHER_SHOP, "This product doesn't belong to this shop")
        return product

    def _page(self, ctx: Ctx, fingerprint: str) -> tuple[int, int]:
        """(page_size, offset) from the query; the page token must come from the same query."""
        try:
            page_size = int(ctx.query.get("page_size", ""))
        except ValueError:
            raise param("page_size", "required, between 1 and 100") from None
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise param("page_size", "must be between 1 and 100")
        token = ctx.query.get("page_token")
        if not token:
            return page_size, 0
        known = self._page_tokens.get(token)
        if known is None or known[0] != fingerprint:
            raise param("page_token", "unknown page token, or one from another query")
        return page_size, known[1]

    def _next_token(self, fingerprint: str, offset: int) -> str:
        token = secrets.token_urlsafe(24)
        self._page_tokens[token] = (fingerprint, offset)
        return token

    def _search(self, ctx: Ctx) -> Mapping[str, Any]:
        shop = self._shop(ctx)
        status = ctx.body.get("status") or "ALL"
        if status != "ALL" and status not in PRODUCT_STATUSES:
            raise param("status", "unknown status")
        low = int_field(ctx.body.get("update_time_ge", 0), "update_time_ge")
        high = int_field(ctx.body.get("update_time_le", 2**62), "update_time_le")
        seller_skus = ctx.body.get("seller_skus")
        if seller_skus is not None and (not isinstance(seller_skus, list) or len(seller_skus) > MAX_SELLER_SKUS):
            raise business_error(12019027, "The maximum count of 'seller_skus' in the search filter is 10.")
        fingerprint = json.dumps(["products", shop.id, status, low, high, seller_skus], sort_keys=True)
        page_size, offset = self._page(ctx, fingerprint)
        cap = shop.options.search_result_cap
        if offset >= cap:
            raise business_error(E_SEARCH_CAP, "The total number of search results can not exceed 10000.")
        matches = sorted(
            (
                product
                for product in self.state.products.values()
                if product.shop_id == shop.id
                and low <= product.update_time <= high
                and (status == "ALL" or product.status == status)
                and (not seller_skus or any(sku.seller_sku in seller_skus for sku in product.skus))
            ),
            key=lambda product: (product.update_time, product.id),
        )
        page = matches[offset : offset + min(page_size, cap - offset)]
        end = offset + len(page)
        return {
            "products": [self._summary_wire(product) for product in page],
            "total_count": min(len(matches), shop.options.total_count_cap),
            "next_page_token": self._next_token(fingerprint, end) if end < len(matches) else "",
        }

    @staticmethod
    def _sku_wire(sku: SimSku) -> dict[str, Any]:
        return {
            "id": sku.id,
            "seller_sku": sku.seller_sku,
            "price": {
                "currency": sku.currency,
                "sale_price": sku.sale_price or sku.price,
                "tax_exclusive_price": sku.price,
            },
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
        audit = {"PENDING": "AUDITING", "FAILED": "AUDIT_FAILED"}.get(product.status, "APPROVED")
        wire = self._summary_wire(product) | {
            "description": product.description,
            "category_chains": chains,
            "main_images": images,
            "audit": {"status": audit},
        }
        if product.status == "FAILED":
            wire["audit_failed_reasons"] = [dict(reason) for reason in product.audit_failed_reasons]
        if product.package_weight:
            wire["package_weight"] = dict(product.package_weight)
        if product.package_dimensions:
            wire["package_dimensions"] = dict(product.package_dimensions)
        return wire

    def _detail(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._detail_wire(self._own_product(ctx, ctx.path_params["product_id"], detail=True))

    @staticmethod
    def _skus_param(ctx: Ctx) -> list[dict[str, Any]]:
        skus = ctx.body.get("skus")
        if not isinstance(skus, list) or not skus or not all(isinstance(sku, dict) for sku in skus):
            raise param("skus", "a non-empty list of SKU objects is required")
        return skus

    @staticmethod
    def _inventory_rows(shop: SimShop, rows: Any, name: str, *, require_warehouse: bool = False) -> dict[str, int]:
        """{warehouse_id: quantity} from `inventory[{warehouse_id?, quantity}]`, checked against the shop."""
        if not isinstance(rows, list) or not rows or not all(isinstance(row, dict) for row in rows):
            raise param(name, "a non-empty list of {warehouse_id, quantity}")
        sales = {w.id for w in shop.sales_warehouses()}
        result: dict[str, int] = {}
        for j, row in enumerate(rows):
            quantity = quantity_field(row.get("quantity"), f"{name}[{j}].quantity")
            warehouse = row.get("warehouse_id")
            if warehouse in (None, ""):
                if require_warehouse:
                    raise param(f"{name}[{j}].warehouse_id", "required")
                if len(sales) > 1:
                    raise business_error(
                        E_MULTIPLE_WAREHOUSES,
                        "Multiple warehouses detected. Include all warehouse IDs and the corresponding details "
                        "and try again.",
                    )
                warehouse = shop.warehouse_id
            if str(warehouse) not in sales:
                raise business_error(E_WAREHOUSE_MISSING, f"The warehouse does not exist: {warehouse}")
            result[str(warehouse)] = quantity
        return result

    def _update_inventory(self, ctx: Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop = self._shop(ctx)
        skus = self._skus_param(ctx)
        planned = [
            (str(entry.get("id", "")), self._inventory_rows(shop, entry.get("inventory"), f"skus[{i}].inventory"))
            for i, entry in enumerate(skus)
        ]  # the whole request is refused on any invalid quantity or warehouse
        if product.status != "ACTIVATE":
            raise business_error(
                E_WRONG_STATUS,
                "The product in its current status is not available for this operation. Change the product "
                f"status and try again. (status: {product.status}; only live products take stock updates)",
            )
        errors: list[dict[str, Any]] = []
        for sku_id, rows in planned:
            sku = product.sku(sku_id)
            if sku is None:
                errors.append(sku_error(E_SKU_NOT_IN_PRODUCT, sku_id, "The SKU ID does not belong to the product."))
                continue
            old = sku.available
            sku.inventory.update(rows)
            self.write_log.record(shop.id, product.id, sku.id, "stock", old, sku.available)
        product.update_time = max(self.now(), product.update_time)
        return {"errors": errors} if errors else {}

    def _update_prices(self, ctx: Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop = self._shop(ctx)
        skus = self._skus_param(ctx)
        amounts: list[tuple[str, Decimal]] = []
        for i, entry in enumerate(skus):  # shape errors refuse the whole request
            price = entry.get("price")
            if not isinstance(price, dict):
                raise param(f"skus[{i}].price", "required")
            amount = decimal_text(price.get("amount"), f"skus[{i}].price.amount")
            if amount.as_tuple().exponent < -2:  # type: ignore[operator]
                raise business_error(12052012, f"Incorrect price format: 'skus[{i}].price.amount' has over 2 decimals")
            if price.get("currency") != shop.currency:
                raise business_error(E_CURRENCY, "The provided currency is not available for this shop/region.")
            amounts.append((str(entry.get("id", "")), amount))
        locked = [sku.id for sku in product.skus if sku.price_locked and any(sku.id == s for s, _ in amounts)]
        if locked:
            raise business_error(E_PRICE_LOCKED, f"price is locked (a promotion holds the price of SKU {locked[0]})")
        errors: list[dict[str, Any]] = []
        for (sku_id, amount), entry in zip(amounts, skus, strict=True):
            sku = product.sku(sku_id)
            if sku is None:
                errors.append(sku_error(E_SKU_NOT_IN_PRODUCT, sku_id, "The SKU ID does not belong to the product."))
                continue
            old = Decimal(sku.price)
            sku.price = entry["price"]["amount"]
            self._reprice(shop, sku, amount)
            self.write_log.record(shop.id, product.id, sku.id, "price", old, amount)
        product.update_time = max(self.now(), product.update_time)
        return {"errors": errors} if errors else {}

    @staticmethod
    def _check_title(shop: SimShop, value: Any) -> str:
        low = 1 if shop.region.upper() in LOOSE_TITLE_REGIONS else 25
        if not isinstance(value, str) or not low <= len(value) <= 255:
            raise param("title", f"must be {low} to 255 characters in region {shop.region}")
        return value

    def _images(self, shop: SimShop, value: Any) -> list[str]:
        if not isinstance(value, list) or not 1 <= len(value) <= 9:
            raise param("main_images", "between 1 and 9 images")
        uris = [image.get("uri") if isinstance(image, dict) else None for image in value]
        if not all(isinstance(uri, str) and uri for uri in uris):
            raise param("main_images", "every image needs a uri")
        if shop.options.refuse_image_urls and any(str(uri).startswith(("http://", "https://")) for uri in uris):
            raise business_error(E_IMAGE_URI, "The image URI does not exist in TikTok Shop.")
        return [str(uri) for uri in uris]

    def _partial_edit(self, ctx: Ctx) -> Mapping[str, Any]:
        product = self._own_product(ctx, ctx.path_params["product_id"], writable=True)
        shop, body = self._shop(ctx), ctx.body
        edit: dict[str, Any] = {}
        if "title" in body:
            edit["title"] = self._check_title(shop, body["title"])
        if "description" in body:
            if not isinstance(body["description"], str) or not body["description"]:
                raise param("description", "must be a non-empty string")
            edit["description"] = body["description"]
        if "main_images" in body:
            edit["main_images"] = self._images(shop, body["main_images"])
        if "package_weight" in body:
            edit["package_weight"] = wire_weight(body["package_weight"])
        if "package_dimensions" in body:
            edit["package_dimensions"] = wire_dimensions(body["package_dimensions"])
        if "skus" in body:
            edit["skus"] = self._edited_skus(shop, product, self._skus_param(ctx))
        self._start_audit(shop, product, {**(product.pending_edit or {}), **edit})
        product.update_time = max(self.now(), product.update_time)
        return {"product_id": product.id, "skus": [{"id": s.id, "seller_sku": s.seller_sku} for s in product.skus]}

    def _edited_skus(self, shop: SimShop, product: SimProduct, skus: list[dict[str, Any]]) -> dict[str, Any]:
        edited: dict[str, Any] = {}
        for i, entry in enumerate(skus):
            sku_id = str(entry.get("id", ""))
            if product.sku(sku_id) is None:
                raise business_error(E_SKU_NOT_IN_PRODUCT, "The SKU ID does not belong to the product.")
            change: dict[str, Any] = {}
            if "price" in entry:
                price = entry["price"] if isinstance(entry["price"], dict) else {}
                decimal_text(price.get("amount"), f"skus[{i}].price.amount")
                if price.get("currency") != shop.currency:
                    raise business_error(E_CURRENCY, "The provided currency is not available for this shop/region.")
                change["price"] = price["amount"]
            if "inventory" in entry:
                change["inventory"] = self._inventory_rows(
                    shop, entry["inventory"], f"skus[{i}].inventory", require_warehouse=True
                )
            edited[sku_id] = change
        return edited

    def _create(self, ctx: Ctx) -> Mapping[str, Any]:
        shop, body = self._shop(ctx), ctx.body
        key = body.get("idempotency_key")
        if key is not None and not isinstance(key, str):
            raise param("idempotency_key", "must be a string")
        if key and f"{shop.id}:{key}" in self.state.idempotency:
            return self._created(self.state.products[self.state.idempotency[f"{shop.id}:{key}"]])
        title = self._check_title(shop, body.get("title"))
        for name in ("description", "category_id"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise param(name, "required")
        images = self._images(shop, body.get("main_images"))
        weight = wire_weight(body.get("package_weight"))
        dimensions = wire_dimensions(body["package_dimensions"]) if "package_dimensions" in body else None
        skus = self._new_skus(shop, self._skus_param(ctx))
        now = self.now()
        product = SimProduct(
            self.state.new_id(), shop.id, title, body["description"], body["category_id"],
            images, weight, dimensions, now, now, skus,
        )  # fmt: skip
        self._start_audit(shop, product, None)
        self.state.products[product.id] = product
        for sku in skus:
            self.write_log.record(shop.id, product.id, sku.id, "stock", None, sku.available)
            self.write_log.record(shop.id, product.id, sku.id, "price", None, Decimal(sku.price))
        if key:
            self.state.idempotency[f"{shop.id}:{key}"] = product.id
        self._outbox.append(_Outgoing(shop.id, 16, {"product_id": product.id, "update_time": now}))
        return self._created(product)

    def _new_skus(self, shop: SimShop, entries: list[dict[str, Any]]) -> list[SimSku]:
        skus: list[SimSku] = []
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            seller_sku = entry.get("seller_sku")
            if not isinstance(seller_sku, str) or not seller_sku or seller_sku in seen:
                raise param(f"skus[{i}].seller_sku", "required and unique within the product")
            seen.add(seller_sku)
            price: dict[str, Any] = entry["price"] if isinstance(entry.get("price"), dict) else {}
            amount = decimal_text(price.get("amount"), f"skus[{i}].price.amount")
            if price.get("currency") != shop.currency:
                raise business_error(E_CURRENCY, "The provided currency is not available for this shop/region.")
            inventory = self._inventory_rows(shop, entry.get("inventory"), f"skus[{i}].inventory")
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
            sku = SimSku(self.state.new_id(), seller_sku, price["amount"], shop.currency, inventory, attributes)
            self._reprice(shop, sku, amount)
            skus.append(sku)
        return skus

    @staticmethod
    def _created(product: SimProduct) -> Mapping[str, Any]:
        skus = [{"id": s.id, "seller_sku": s.seller_sku, "sales_attributes": s.sales_attributes} for s in product.skus]
        return {"product_id": product.id, "skus": skus, "warnings": []}

    def _product_ids(self, ctx: Ctx) -> list[str]:
        ids = ctx.body.get("product_ids")
        if (
            not isinstance(ids, list)
            or not 1 <= len(ids) <= MAX_STATUS_PRODUCT_IDS
            or not all(isinstance(i, str) for i in ids)
        ):
            raise business_error(
                12019120, "The number of provided product IDs exceeds the limit (1 to 20 'product_ids')."
            )
        return ids

    def _set_status(self, ctx: Ctx, status: str) -> Mapping[str, Any]:
        errors: list[dict[str, Any]] = []
        for product_id in self._product_ids(ctx):
            try:
                product = self._own_product(ctx, product_id, writable=True)
            except SimError as error:
                errors.append({"code": error.code, "message": error.message, "detail": {"product_id": product_id}})
                continue
            product.status, product.update_time = status, max(self.now(), product.update_time)
            product.audit_due, product.pending_edit = None, None
        return {"errors": errors} if errors else {}

    def _activate(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "ACTIVATE")

    def _deactivate(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "SELLER_DEACTIVATED")

    def _delete(self, ctx: Ctx) -> Mapping[str, Any]:
        return self._set_status(ctx, "DELETED")

    # --- orders --------------------------------------------------------------------------------

    def _orders(self, ctx: Ctx) -> Mapping[str, Any]:
        ids = [i for i in ctx.query.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= MAX_ORDER_IDS:
            raise param("ids", "between 1 and 50 order ids")
        shop_id = self._shop(ctx).id
        found = [
            self.state.orders[i] for i in ids if i in self.state.orders and self.state.orders[i].shop_id == shop_id
        ]
        return {"orders": [order_wire(order) for order in found]}

    def _order_search(self, ctx: Ctx) -> Mapping[str, Any]:
        shop, body = self._shop(ctx), ctx.body
        bounds = {
            name: int_field(body[name], name)
            for name in ("update_time_ge", "update_time_lt", "create_time_ge", "create_time_lt")
            if name in body
        }
        status = body.get("order_status")
        if status is not None and status not in ORDER_STATUSES:
            raise param("order_status", "unknown order status")
        fingerprint = json.dumps(["orders", shop.id, bounds, status], sort_keys=True)
        page_size, offset = self._page(ctx, fingerprint)

        def inside(order: SimOrder) -> bool:
            return (
                order.update_time >= bounds.get("update_time_ge", 0)
                and order.update_time < bounds.get("update_time_lt", 2**62)
                and order.create_time >= bounds.get("create_time_ge", 0)
                and order.create_time < bounds.get("create_time_lt", 2**62)
                and (status is None or order.status == status)
            )

        matches = sorted(
            (o for o in self.state.orders.values() if o.shop_id == shop.id and inside(o)),
            key=lambda o: (o.update_time, o.id),
        )
        page = matches[offset : offset + page_size]
        end = offset + len(page)
        return {
            "orders": [order_wire(order) for order in page],
            "total_count": len(matches),
            "next_page_token": self._next_token(fingerprint, end) if end < len(matches) else "",
        }

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
