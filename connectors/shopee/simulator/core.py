# The Shopee simulator's shared core: the attributes every role module of `ShopeeSimulator` works with.
"""`SimulatorCore` declares the simulator's state, settings, lock and clock (set by `ShopeeSimulator.__init__`),
so each role mixin (gateway, auth_routes, products, ...) can use them."""

from __future__ import annotations

import threading
from collections import Counter, deque

from starlette.applications import Starlette

from connectors.shopee.simulator.pushes import PushOutbox
from connectors.shopee.simulator.state import SimState
from connectors.simulator.common import FaultPlan, ServerThread, SimClock, Ticker, WriteLog


class SimulatorCore:
    """State and settings of a Shopee simulator; the role mixins build on it."""

    state: SimState
    faults: FaultPlan
    token_ttl_s: float
    refresh_ttl_s: float
    refresh_grace_s: float
    code_ttl_s: float
    rate_limit_per_minute: int | None
    daily_quota: int | None
    auto_approve: bool
    clock: SimClock
    write_log: WriteLog
    sender: PushOutbox
    requests: Counter[str]
    app: Starlette
    _lock: threading.RLock
    _recent_calls: dict[int, deque[float]]
    _daily_calls: Counter[str]
    _order_cursors: dict[str, int]
    _server: ServerThread | None
    _tickers: list[Ticker]

    def _now(self) -> float:
        return self.clock.now()
