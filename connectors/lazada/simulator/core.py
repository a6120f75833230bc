# The Lazada simulator's shared core: the attributes every role mixin uses, the clock tick and push sending.
"""`SimulatorCore` holds state, clock, faults, counters and the push sender; `settle` ends due QC checks
and `push` signs and sends one message (retried every 30 minutes, up to 12 times, on the simulated clock)."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connectors.lazada.simulator.codes import CAMPAIGN_DOWNGRADED, PUSH_QC
from connectors.lazada.simulator.signing import push_sign
from connectors.lazada.simulator.state import SimProduct, SimState
from connectors.simulator.common import FaultPlan, RetryingSender, SimClock, WriteLog

if TYPE_CHECKING:
    from starlette.responses import Response

    from connectors.lazada.simulator.requests import Ctx

log = logging.getLogger(__name__)


class SimulatorCore:
    """What every role mixin of `LazadaSimulator` reads and writes."""

    state: SimState
    clock: SimClock
    faults: FaultPlan
    sender: RetryingSender
    write_log: WriteLog
    request_counts: Counter[str]
    handlers: dict[str, Callable[[Ctx], Response]]
    downgraded: set[str]
    inventory_calls_per_s: int
    qc_delay_s: float
    _usage: Counter[tuple[str, int]]
    _lock: threading.RLock
    _outbox: list[bytes]
    _qc_failures: dict[str, str]

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    # --- QC ------------------------------------------------------------------------------------

    def settle(self) -> None:
        """End every QC whose time has come: approved (Active) or rejected (a seeded failure)."""
        now = self.clock.now()
        for product in self.state.products.values():
            if product.qc_due_at is not None and product.qc_due_at <= now:
                self._end_qc(product)

    def _end_qc(self, product: SimProduct) -> None:
        product.qc_due_at = None
        reason = self._qc_failures.pop(product.item_id, None)
        if reason is None:
            product.status, product.sub_status, product.reject_reason = "Active", "", []
            status = "APPROVED"
        else:
            product.status, product.sub_status = "InActive", "Reject"
            product.reject_reason = [{"suggestion": reason, "violationDetail": reason}]
            status = "REJECTED"
        product.updated_ms = self.now_ms()
        data = {"itemId": int(product.item_id), "status": status, "reason": reason or "", "date": self.now_ms()}
        self.push(product.seller_id, PUSH_QC, data)

    # --- pushes --------------------------------------------------------------------------------

    def push(self, seller_id: str | None, message_type: int, data: dict[str, Any]) -> None:
        """Queue one push (sent by `pump`) while the push URL is set and the seller's authorization holds."""
        if not self.state.push_url:
            return
        seller = self.state.sellers.get(seller_id or "")
        if seller_id is not None and (seller is None or not seller.authorized):
            return
        country = seller.country if seller else "sg"
        envelope: dict[str, Any] = {"message_type": message_type, "data": data}
        if seller_id is not None:
            envelope = {"seller_id": seller_id, **envelope}
        envelope["timestamp"] = self.now_ms() if message_type == 0 else int(self.clock.now())
        envelope["site"] = f"lazada_{country}"
        self._outbox.append(json.dumps(envelope, separators=(",", ":")).encode())

    def pump(self) -> None:
        """End due QC checks, send queued pushes and due retries (the background tick; tests call it)."""
        with self._lock:
            self.settle()
            outgoing, self._outbox = self._outbox, []
            url = self.state.push_url
        for body in outgoing:
            if url:
                headers = {
                    "Content-Type": "application/json",
                    "Authorization": push_sign(self.state.app_key, self.state.app_secret, body),
                }
                self.sender.send(url, body, headers)
        self.sender.pump()

    # --- Mega campaigns ------------------------------------------------------------------------

    def big_sale(self, paths: frozenset[str] | None = None) -> None:
        """A Mega campaign: these APIs (the writes by default) answer 998 until `big_sale_over()`."""
        with self._lock:
            self.downgraded = set(CAMPAIGN_DOWNGRADED if paths is None else paths)

    def big_sale_over(self) -> None:
        with self._lock:
            self.downgraded = set()
