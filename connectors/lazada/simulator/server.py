# The Lazada simulator itself: one class wiring the role mixins (gateway, products, inventory, orders, auth) to routes.
"""`LazadaSimulator` serves `/rest/<api>` (API and auth hosts alike), `/oauth/authorize` and `/_simulator/*`;
`run` serves one until interrupted (`syncstore simulator run --platform lazada`)."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from connectors.lazada.simulator.codes import (
    AUTHORIZE_PATH,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_COUNTRY,
    DEMO_SELLER_ID,
    INVENTORY_CALLS_PER_S,
    PUSH_ACK_S,
    REST,
    RETRY_SCHEDULE_S,
)
from connectors.lazada.simulator.control import ControlMixin
from connectors.lazada.simulator.gateway import GatewayMixin
from connectors.lazada.simulator.requests import Ctx
from connectors.lazada.simulator.shop_routes import ShopRoutesMixin
from connectors.lazada.simulator.state import SimState
from connectors.simulator.common import FaultPlan, RetryingSender, ServerThread, SimClock, Ticker, WriteLog

log = logging.getLogger(__name__)

AUTOSAVE_S = 3.0


class LazadaSimulator(GatewayMixin, ControlMixin, ShopRoutesMixin):
    """Lazada in a box: state, HTTP app, fault injection, push delivery with retries, test shortcuts."""

    def __init__(
        self,
        *,
        app_key: str = "sim-app-key",
        app_secret: str = "sim-app-secret",  # noqa: S107 - a test value
        faults: FaultPlan | None = None,
        clock: SimClock | None = None,
        redirect_url: str | None = None,
        auto_approve: bool = True,
        qc_delay_s: float = 0.0,
        inventory_calls_per_s: int = INVENTORY_CALLS_PER_S,
        push_timeout_s: float = PUSH_ACK_S,
        retry_schedule_s: tuple[float, ...] = RETRY_SCHEDULE_S,
        state: SimState | None = None,
        state_file: Path | None = None,
        tick_s: float = 0.1,
    ) -> None:
        self.state = state or SimState(app_key=app_key, app_secret=app_secret)
        self.faults = faults or FaultPlan()
        self.clock = clock or SimClock()
        self.redirect_url, self.auto_approve = redirect_url, auto_approve
        self.authorize_account: str | None = None
        self.qc_delay_s, self.inventory_calls_per_s = qc_delay_s, inventory_calls_per_s
        self.state_file = state_file
        self.write_log = WriteLog()
        # Delivered = HTTP 200 within the ack time; otherwise every 30 minutes, 12 times, then dropped.
        self.sender = RetryingSender(
            self.clock, retry_schedule_s, accept=lambda status, _body: status == 200, timeout_s=push_timeout_s
        )
        self.request_counts: Counter[str] = Counter()
        self.downgraded: set[str] = set()
        self._usage: Counter[tuple[str, int]] = Counter()
        self._lock = threading.RLock()
        self._outbox: list[bytes] = []
        self._qc_failures: dict[str, str] = {}
        self._order_ticker: Ticker | None = None
        self._pump_ticker: Ticker | None = None
        self._server: ServerThread | None = None
        self._tick_s = tick_s
        self.handlers: dict[str, Callable[[Ctx], Response]] = {
            "/auth/token/create": self.h_token_create,
            "/auth/token/refresh": self.h_token_refresh,
            "/seller/get": self.h_seller_get,
            "/seller/warehouse/get": self.h_warehouses,
            "/products/get": self.h_products_get,
            "/product/item/get": self.h_item_get,
            "/product/create": self.h_product_create,
            "/product/update": self.h_product_update,
            "/product/deactivate": self.h_product_deactivate,
            "/product/remove": self.h_product_remove,
            "/product/stock/sellable/update": self.h_sellable_update,
            "/product/stock/sellable/adjust": self.h_sellable_adjust,
            "/product/price_quantity/update": self.h_price_quantity,
            "/image/upload": self.h_image_upload,
            "/image/migrate": self.h_image_migrate,
            "/category/tree/get": self.h_category_tree,
            "/category/attributes/get": self.h_category_attributes,
            "/category/brands/query": self.h_brands,
            "/orders/get": self.h_orders_get,
            "/order/get": self.h_order_get,
            "/order/items/get": self.h_order_items_get,
            "/orders/items/get": self.h_orders_items_get,
        }
        self.app = Starlette(
            routes=[
                Route(AUTHORIZE_PATH, self.authorize_page, methods=["GET"]),
                Route(AUTHORIZE_PATH + "/approve", self.authorize_approve, methods=["GET"]),
                Route(REST + "/{api:path}", self.rest, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
                Route("/_simulator/push_url", self.admin_push_url, methods=["POST"]),
                Route("/_simulator/orders", self.admin_place_order, methods=["POST"]),
                Route("/_simulator/orders/{order_id}/status", self.admin_item_status, methods=["POST"]),
                Route("/_simulator/big_sale", self.admin_big_sale, methods=["POST"]),
            ]
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int | None = None) -> str:
        self._server = ServerThread(self.app, port).start()
        self.start_ticking()
        return self._server.url

    def start_ticking(self) -> None:
        """End QC checks and send pushes and their retries in the background (when `app` is served elsewhere)."""
        if self._pump_ticker is None:
            self._pump_ticker = Ticker(self._tick_s, self.pump).start()

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
        path.write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, path: Path, **kwargs: Any) -> LazadaSimulator:
        state = SimState.from_dict(json.loads(path.read_text(encoding="utf-8")))
        return cls(state=state, state_file=path, **kwargs)

    def requests(self, api_path: str) -> int:
        """How many requests reached `api_path` (rejected and faulted ones included)."""
        with self._lock:
            return self.request_counts[api_path]


def run(
    port: int,
    state_file: Path | None = None,
    *,
    host: str = "127.0.0.1",
    app_key: str = DEMO_APP_KEY,
    app_secret: str = DEMO_APP_SECRET,
    redirect_url: str | None = None,
    push_url: str | None = None,
    order_interval_s: float | None = None,
) -> None:
    """Serve the simulator until interrupted; state is loaded from and saved to `state_file` when given.

    A state file that exists wins over the app credentials passed here. A fresh state holds one demo seller.
    """
    if state_file is not None and state_file.exists():
        simulator = LazadaSimulator.load(state_file, redirect_url=redirect_url)
    else:
        simulator = LazadaSimulator(
            app_key=app_key, app_secret=app_secret, redirect_url=redirect_url, state_file=state_file
        )
        simulator.add_seller(DEMO_SELLER_ID, "Demo Lazada Shop", country=DEMO_COUNTRY)
    if push_url:
        simulator.set_push_url(push_url)
    simulator.start_ticking()
    # Saved every few seconds too: uvicorn re-raises SIGTERM after its shutdown, so `finally` may not run.
    autosave = Ticker(AUTOSAVE_S, lambda: simulator.save(state_file)).start() if state_file is not None else None
    if order_interval_s:
        simulator.start_order_generator(order_interval_s)
    log.info("Lazada simulator on http://%s:%d (app_key %s)", host, port, simulator.state.app_key)
    try:
        uvicorn.run(simulator.app, host=host, port=port, log_level="info")
    finally:
        if autosave is not None:
            autosave.stop()
        simulator.stop()
