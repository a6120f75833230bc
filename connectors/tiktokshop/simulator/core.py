# The TikTok Shop simulator's shared core: its attributes and the small helpers every role module uses.
"""`SimulatorCore` declares the simulator's state, settings, lock and clock (set by `TikTokShopSimulator.__init__`)
and the helpers the role mixins share: the simulated time, the request's shop and product, paging, repricing."""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from connectors.simulator.common import FaultPlan, RetryingSender, ServerThread, SimClock, Ticker, WriteLog
from connectors.tiktokshop.simulator.codes import (
    E_CIPHER_MISSING,
    E_PRODUCT_MISSING,
    E_PRODUCT_MISSING_DETAIL,
    E_PRODUCT_OTHER_SHOP,
    MAX_PAGE_SIZE,
)
from connectors.tiktokshop.simulator.requests import (
    Ctx,
    SimError,
    business_error,
    param,
)
from connectors.tiktokshop.simulator.signing import money
from connectors.tiktokshop.simulator.state import (
    SimProduct,
    SimShop,
    SimSku,
    SimState,
)


@dataclass
class Outgoing:
    """A webhook waiting in the outbox."""

    shop_id: str
    event_type: int
    data: dict[str, Any]


class SimulatorCore:
    """State, settings and shared helpers of a TikTok Shop simulator; the role mixins build on it."""

    state: SimState
    faults: FaultPlan
    clock: SimClock
    token_ttl_s: int
    refresh_ttl_s: int
    redirect_url: str | None
    auto_approve: bool
    authorize_shop_id: str | None
    rate_limit_per_minute: int | None
    daily_quota: int | None
    state_file: Path | None
    write_log: WriteLog
    sender: RetryingSender
    request_counts: Counter[str]
    app: Starlette
    _usage: Counter[tuple[str, str, int]]
    _lock: threading.RLock
    _outbox: list[Outgoing]
    _page_tokens: dict[str, tuple[str, int]]
    _server: ServerThread | None
    _ticker: Ticker | None
    _pump_ticker: Ticker | None
    _tick_s: float
    _routes: list[tuple[re.Pattern[str], frozenset[str]]]

    def now(self) -> int:
        """Simulated Unix seconds."""
        return int(self.clock.now())

    @staticmethod
    def _reprice(shop: SimShop, sku: SimSku, tax_exclusive: Decimal) -> None:
        sku.sale_price = money(tax_exclusive * (1 + Decimal(shop.options.tax_rate)))

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
