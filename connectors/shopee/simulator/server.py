# The Shopee simulator itself: one class wiring the role modules beside it (gateway, products, ...) to routes.
"""`ShopeeSimulator` serves the signed API, the authorization page and pushes; its handlers and shortcuts live in
the role mixins it is made of. `run` serves one until interrupted (`syncstore simulator run --platform shopee`)."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from connectors.shopee.simulator.auth_routes import AuthRoutesMixin
from connectors.shopee.simulator.codes import (
    DEFAULT_PARTNER_ID,
    DEFAULT_PARTNER_KEY,
    DEFAULT_PUSH_RETRY_SCHEDULE,
    DEMO_SHOP_ID,
    Envelope,
    SignKind,
)
from connectors.shopee.simulator.control import ControlMixin
from connectors.shopee.simulator.gateway import GatewayMixin
from connectors.shopee.simulator.inventory import InventoryMixin
from connectors.shopee.simulator.orders import OrdersMixin
from connectors.shopee.simulator.persistence import PersistenceMixin
from connectors.shopee.simulator.products import ProductsMixin
from connectors.shopee.simulator.push_routes import PushRoutesMixin
from connectors.shopee.simulator.pushes import PushOutbox
from connectors.shopee.simulator.requests import Ctx
from connectors.shopee.simulator.shops import ShopRoutesMixin
from connectors.shopee.simulator.state import SimState
from connectors.simulator.common import (
    FaultPlan,
    ServerThread,
    SimClock,
    Ticker,
    WriteLog,
)

# --- the simulator --------------------------------------------------------------------------


class ShopeeSimulator(
    PersistenceMixin,
    ControlMixin,
    OrdersMixin,
    InventoryMixin,
    ProductsMixin,
    ShopRoutesMixin,
    AuthRoutesMixin,
    GatewayMixin,
    PushRoutesMixin,
):
    """The simulated platform: state, the Starlette app serving it, and helpers tests and the demo use."""

    def __init__(
        self,
        partner_id: int = DEFAULT_PARTNER_ID,
        partner_key: str = DEFAULT_PARTNER_KEY,
        *,
        faults: FaultPlan | None = None,
        token_ttl_s: float = 4 * 3600,
        refresh_ttl_s: float = 30 * 86400,
        refresh_grace_s: float = 300,
        code_ttl_s: float = 600,
        rate_limit_per_minute: int | None = None,
        daily_quota: int | None = None,
        auto_approve: bool = False,
        clock: SimClock | None = None,
        push_retry_schedule: Sequence[float] = DEFAULT_PUSH_RETRY_SCHEDULE,
        state: SimState | None = None,
    ) -> None:
        self.state = state or SimState(partner_id=partner_id, partner_key=partner_key)
        self.faults = faults or FaultPlan()
        self.token_ttl_s, self.refresh_ttl_s = token_ttl_s, refresh_ttl_s
        self.refresh_grace_s, self.code_ttl_s = refresh_grace_s, code_ttl_s
        self.rate_limit_per_minute, self.daily_quota = rate_limit_per_minute, daily_quota
        self.auto_approve = auto_approve
        self.clock = clock or SimClock()
        self.write_log = WriteLog()
        self.sender = PushOutbox(self.clock, push_retry_schedule)
        self.requests: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._recent_calls: dict[int, deque[float]] = {}
        self._daily_calls: Counter[str] = Counter()
        self._order_cursors: dict[str, int] = {}
        self._server: ServerThread | None = None
        self._tickers: list[Ticker] = []
        self.app = self._build_app()

    @property
    def pushes(self) -> PushOutbox:
        """Live pushes, their retries and the lost ones (also reachable as `sender`)."""
        return self.sender

    # -- serving --

    def _build_app(self) -> Starlette:
        api: list[tuple[str, str, SignKind, Envelope, Callable[[Ctx], Any]]] = [
            ("POST", "/api/v2/auth/token/get", "token", "top", self._token_get),
            ("POST", "/api/v2/auth/access_token/get", "token", "top", self._token_refresh),
            ("POST", "/api/v2/push/set_app_push_config", "public", "wrapped", self._set_push_config),
            ("GET", "/api/v2/push/get_lost_push_message", "public", "wrapped", self._lost_pushes),
            ("POST", "/api/v2/push/confirm_consumed_lost_push_message", "public", "wrapped", self._confirm_lost),
            ("GET", "/api/v2/shop/get_shop_info", "shop", "top", self._shop_info),
            ("GET", "/api/v2/shop/get_warehouse_detail", "shop", "wrapped", self._warehouse_detail),
            ("GET", "/api/v2/product/get_item_list", "shop", "wrapped", self._item_list),
            ("GET", "/api/v2/product/get_item_base_info", "shop", "wrapped", self._item_base_info),
            ("GET", "/api/v2/product/get_model_list", "shop", "wrapped", self._model_list),
            ("GET", "/api/v2/product/search_item", "shop", "wrapped", self._search_item),
            ("POST", "/api/v2/product/update_price", "shop", "wrapped", self._update_price),
            ("POST", "/api/v2/product/update_stock", "shop", "wrapped", self._update_stock),
            ("POST", "/api/v2/product/update_item", "shop", "wrapped", self._update_item),
            ("POST", "/api/v2/product/add_item", "shop", "wrapped", self._add_item),
            ("POST", "/api/v2/product/init_tier_variation", "shop", "wrapped", self._init_tier_variation),
            ("POST", "/api/v2/product/add_model", "shop", "wrapped", self._add_model),
            ("POST", "/api/v2/product/update_tier_variation", "shop", "wrapped", self._update_tier_variation),
            ("GET", "/api/v2/product/get_category", "shop", "wrapped", self._get_category),
            ("GET", "/api/v2/product/get_attribute_tree", "shop", "wrapped", self._get_attribute_tree),
            ("GET", "/api/v2/product/get_brand_list", "shop", "wrapped", self._get_brand_list),
            ("GET", "/api/v2/logistics/get_channel_list", "shop", "wrapped", self._get_channel_list),
            ("POST", "/api/v2/media_space/upload_image", "upload", "wrapped", self._upload_image),
            ("POST", "/api/v2/product/unlist_item", "shop", "wrapped", self._unlist_item),
            ("POST", "/api/v2/product/delete_item", "shop", "wrapped", self._delete_item),
            ("GET", "/api/v2/order/get_order_list", "shop", "wrapped", self._order_list),
            ("GET", "/api/v2/order/get_order_detail", "shop", "wrapped", self._order_detail),
        ]
        routes = [
            Route(path, self._endpoint(kind, envelope, handler), methods=[method])
            for method, path, kind, envelope, handler in api
        ]
        routes.append(Route("/api/v2/shop/auth_partner", self._auth_partner, methods=["GET"]))
        routes.append(Route("/_simulator/shops/{shop_id}/logistics", self._admin_logistics, methods=["POST"]))
        routes.append(Route("/_simulator/shops/{shop_id}/options", self._admin_shop_options, methods=["POST"]))
        routes.append(Route("/_simulator/images/{image_id}", self._admin_image, methods=["GET"]))
        return Starlette(routes=routes)

    def request_count(self, path: str | None = None) -> int:
        with self._lock:
            return self.requests[path] if path is not None else sum(self.requests.values())

    # -- loading and serving --

    @classmethod
    def load(cls, path: Path, **kwargs: Any) -> ShopeeSimulator:
        return cls(state=SimState.model_validate_json(path.read_text(encoding="utf-8")), **kwargs)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return self._server.url

    def start(self, port: int | None = None) -> str:
        self._server = ServerThread(self.app, port).start()
        self.sender.start()
        return self._server.url

    def stop(self) -> None:
        for ticker in self._tickers:
            ticker.stop()
        self._tickers.clear()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.sender.close()


def run(
    port: int,
    state_file: Path | None = None,
    *,
    partner_id: int = DEFAULT_PARTNER_ID,
    partner_key: str = DEFAULT_PARTNER_KEY,
    orders_every_s: float | None = None,
) -> None:
    """Serve a simulator on 127.0.0.1:port until interrupted (`syncstore simulator run --platform shopee`).

    With a state file, the state is loaded from it when it exists (its partner id and key win) and
    saved every 5 seconds and on exit. A fresh simulator has one demo shop and approves
    authorization requests at once.
    """
    if state_file is not None and state_file.exists():
        sim = ShopeeSimulator.load(state_file, auto_approve=True)
    else:
        sim = ShopeeSimulator(partner_id, partner_key, auto_approve=True)
        sim.add_shop(DEMO_SHOP_ID, "Demo Shop")
    if state_file is not None:
        sim.autosave(state_file)
    if orders_every_s:
        sim.start_order_generator(orders_every_s)
    sim.sender.start()
    print(f"Shopee simulator on http://127.0.0.1:{port} (partner_id {sim.state.partner_id})", flush=True)
    try:
        uvicorn.run(sim.app, host="127.0.0.1", port=port, log_level="info")
    finally:
        sim.stop()
        if state_file is not None:
            sim.save(state_file)
