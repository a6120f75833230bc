# The TikTok Shop simulator itself: one class wiring the role modules beside it (gateway, products, ...) to routes.
"""`TikTokShopSimulator` serves the signed API, the authorization page and webhooks; its handlers and shortcuts live
in the role mixins it is made of. `run` serves one until interrupted
(`syncstore simulator run --platform tiktokshop`)."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.simulator.common import FaultPlan, RetryingSender, ServerThread, SimClock, Ticker, WriteLog
from connectors.tiktokshop.simulator.audits import AuditsMixin
from connectors.tiktokshop.simulator.auth_routes import AuthRoutesMixin
from connectors.tiktokshop.simulator.codes import (
    ACTIVATE_PATH,
    AUTHORIZE_PATH,
    BRANDS_PATH,
    CATEGORIES_PATH,
    DEACTIVATE_PATH,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_SERVICE_ID,
    DEMO_SHOP_ID,
    E_INVALID_METHOD,
    E_INVALID_PATH,
    IMAGE_UPLOAD_PATH,
    ORDER_SEARCH_PATH,
    ORDERS_PATH,
    PRODUCT_SEARCH_PATH,
    PRODUCTS_PATH,
    RETRY_SCHEDULE_S,
    SHOPS_PATH,
    TOKEN_GET_PATH,
    TOKEN_REFRESH_PATH,
    WAREHOUSES_PATH,
    WEBHOOKS_PATH,
)
from connectors.tiktokshop.simulator.control import ControlMixin
from connectors.tiktokshop.simulator.core import Outgoing
from connectors.tiktokshop.simulator.gateway import GatewayMixin
from connectors.tiktokshop.simulator.inventory import InventoryMixin
from connectors.tiktokshop.simulator.orders import OrdersMixin
from connectors.tiktokshop.simulator.persistence import PersistenceMixin
from connectors.tiktokshop.simulator.products import ProductsMixin
from connectors.tiktokshop.simulator.requests import (
    SimError,
    fail_response,
)
from connectors.tiktokshop.simulator.state import SimState
from connectors.tiktokshop.simulator.webhooks import WebhooksMixin

log = logging.getLogger(__name__)

# =================================================================================================
# The simulator
# =================================================================================================


class TikTokShopSimulator(
    PersistenceMixin,
    GatewayMixin,
    AuthRoutesMixin,
    ControlMixin,
    OrdersMixin,
    ProductsMixin,
    AuditsMixin,
    InventoryMixin,
    WebhooksMixin,
):
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
        self._outbox: list[Outgoing] = []
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
            Route(IMAGE_UPLOAD_PATH, api(self._upload_image, cipher=False, multipart=True), methods=["POST"]),
            Route(CATEGORIES_PATH, api(self._categories), methods=["GET"]),
            Route(CATEGORIES_PATH + "/{category_id}/attributes", api(self._category_attributes), methods=["GET"]),
            Route(BRANDS_PATH, api(self._brands), methods=["GET"]),
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
            Route("/_simulator/shops/{shop_id}/warehouses", self._admin_warehouses, methods=["POST"]),
            Route("/_simulator/shops/{shop_id}/options", self._admin_shop_options, methods=["POST"]),
            Route("/_simulator/products/{product_id}/fail_next_audit", self._admin_fail_audit, methods=["POST"]),
            Route("/_simulator/images/{uri:path}", self._admin_image, methods=["GET"]),
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
