# Pieces both marketplace simulators share: fault injection, the write log, webhook delivery, serving.
"""Shared simulator machinery (no platform knowledge here: each platform module owns its wire format).

- `FaultPlan`: per-request fault injection (throttling, 5xx, timeouts) and added latency, from a
  seeded RNG so a run can be repeated.
- `WriteLog`: every write the simulator receives, per SKU and field, and whether it changed the
  value (an *effective* write). Tests count effective writes to prove "one effect per update".
- `WebhookSender`: posts signed notifications to the registered URL; what could not be delivered
  is kept so the platform's "lost push" call can hand it out later.
- `serve_in_thread`: runs a Starlette app under uvicorn on loopback for tests and the demo.
"""

from __future__ import annotations

import enum
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

log = logging.getLogger(__name__)


class Fault(enum.StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"


@dataclass
class FaultPlan:
    """Which share of requests fail, and how. `error_rate` 0.2 fails one request in five."""

    error_rate: float = 0.0
    # Relative weights of the fault kinds among failing requests.
    throttle_weight: float = 1.0
    server_error_weight: float = 1.0
    timeout_weight: float = 1.0
    # A "timeout" holds the response this long (longer than the client's timeout).
    timeout_hold_s: float = 2.0
    latency_s: float = 0.0
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> Fault | None:
        """The fault for the next request, if any."""
        with self._lock:
            if self.error_rate <= 0 or self._rng.random() >= self.error_rate:
                return None
            kinds = [Fault.THROTTLE, Fault.SERVER_ERROR, Fault.TIMEOUT]
            weights = [self.throttle_weight, self.server_error_weight, self.timeout_weight]
            return self._rng.choices(kinds, weights=weights)[0]


@dataclass(frozen=True)
class WriteEntry:
    at: datetime
    shop_id: str
    item_id: str
    sku_id: str
    field: str
    old: Any
    new: Any

    @property
    def effective(self) -> bool:
        return bool(self.old != self.new)


class WriteLog:
    """Every write per SKU and field; `effective` ones changed the value."""

    def __init__(self) -> None:
        self._entries: list[WriteEntry] = []
        self._lock = threading.Lock()

    def record(self, shop_id: str, item_id: str, sku_id: str, field_name: str, old: Any, new: Any) -> None:
        with self._lock:
            self._entries.append(WriteEntry(datetime.now(UTC), shop_id, item_id, sku_id, field_name, old, new))

    def entries(self, *, field_name: str | None = None, effective_only: bool = False) -> list[WriteEntry]:
        with self._lock:
            rows = list(self._entries)
        return [
            e for e in rows if (field_name is None or e.field == field_name) and (not effective_only or e.effective)
        ]

    def effective_count(self, sku_id: str, field_name: str) -> int:
        return sum(1 for e in self.entries(field_name=field_name, effective_only=True) if e.sku_id == sku_id)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class PendingPush:
    message_id: int
    url: str
    body: bytes
    headers: dict[str, str]


class WebhookSender:
    """Delivers signed notifications; undelivered ones stay for the lost-push call."""

    def __init__(self, *, timeout_s: float = 3.0) -> None:
        self._client = httpx.Client(timeout=timeout_s)
        self._lock = threading.Lock()
        self._next_id = 1
        self.lost: list[PendingPush] = []
        self.delivered = 0

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> bool:
        """POST once; False (and kept as lost) when the receiver did not answer 2xx."""
        with self._lock:
            push = PendingPush(self._next_id, url, body, headers)
            self._next_id += 1
        try:
            response = self._client.post(url, content=body, headers=headers)
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError:
            ok = False
        with self._lock:
            if ok:
                self.delivered += 1
            else:
                self.lost.append(push)
        return ok

    def take_lost(self, limit: int) -> list[PendingPush]:
        with self._lock:
            return list(self.lost[:limit])

    def confirm_lost(self, last_message_id: int) -> int:
        """Forget lost pushes up to and including `last_message_id`; returns how many."""
        with self._lock:
            before = len(self.lost)
            self.lost = [p for p in self.lost if p.message_id > last_message_id]
            return before - len(self.lost)

    def close(self) -> None:
        self._client.close()


class Ticker:
    """Calls `tick` every `interval_s` seconds in a daemon thread until stopped (order generators)."""

    def __init__(self, interval_s: float, tick: Callable[[], None]) -> None:
        self._interval, self._tick = interval_s, tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="simulator-ticker")

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._tick()
            except Exception:
                # One bad tick (an empty shop, a closed receiver) must not stop the generator.
                log.exception("simulator tick failed; continuing")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """A Starlette app served by uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: Starlette, port: int | None = None) -> None:
        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name=f"simulator-{self.port}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"simulator did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
