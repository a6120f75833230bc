# Pieces both marketplace simulators share: fault injection, the write log, webhook delivery, serving.
"""Shared simulator machinery (no platform knowledge here: each platform module owns its wire format).

- `FaultPlan`: per-request fault injection (throttling, 5xx, timeouts) and added latency, from a
  seeded RNG so a run can be repeated.
- `WriteLog`: every write the simulator receives, per SKU and field, and whether it changed the
  value (an *effective* write). Tests count effective writes to prove "one effect per update".
- `WebhookSender`: posts signed notifications to the registered URL; what could not be delivered
  is kept so the platform's "lost push" call can hand it out later.
- `SimClock`: the simulators' notion of time, which tests can speed up or move on, so retry
  schedules of hours (TikTok Shop: 2 min, 30 min, 3 h, 12 h) run in seconds.
- `RetryingSender`: delivery with a platform's retry schedule on a `SimClock`; after the last retry
  the push is given up (and, on Shopee, kept as a lost push with the time it was lost).
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


class SimClock:
    """Simulated Unix time: wall time since `start`, times `speed`, plus whatever `advance` added.

    Request timestamps are still checked against wall time (clients sign with their own clock); the
    simulated clock drives what the platform does by itself: push retries, token lifetimes, orders.
    """

    def __init__(self, *, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._lock = threading.Lock()
        self._wall0 = time.time()
        self._sim0 = self._wall0 if start is None else start
        self._speed = speed
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            return self._sim0 + (time.time() - self._wall0) * self._speed + self._offset

    def __call__(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        """Move simulated time on at once (a test's "three hours later")."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += seconds

    def set_speed(self, speed: float) -> None:
        """From now on, one wall second is `speed` simulated seconds."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            now = self._sim0 + (time.time() - self._wall0) * self._speed + self._offset
            self._wall0, self._sim0, self._offset, self._speed = time.time(), now, 0.0, speed


@dataclass
class ScheduledPush:
    """A push waiting for its next delivery attempt."""

    push_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    first_sent_at: float
    attempts: int = 0
    due_at: float = 0.0


class RetryingSender:
    """Delivers pushes and retries failures on `schedule` (seconds after the first attempt).

    `accept(status, body)` decides what counts as delivered (Shopee: a 2xx with an empty body; TikTok
    Shop: any 2xx). After the last scheduled retry fails, `on_give_up(push, sim_time)` is called and
    the push is dropped. A background thread (started by `start`) sends what is due; `pump()` does
    the same synchronously for tests.
    """

    def __init__(
        self,
        clock: SimClock,
        schedule: tuple[float, ...],
        *,
        accept: Callable[[int, bytes], bool],
        on_give_up: Callable[[ScheduledPush, float], None] | None = None,
        timeout_s: float = 3.0,
        tick_s: float = 0.1,
    ) -> None:
        self.clock, self.schedule = clock, schedule
        self._accept, self._on_give_up = accept, on_give_up
        self._client = httpx.Client(timeout=timeout_s)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._pending: list[ScheduledPush] = []
        self._next_id = 1
        self.delivered = 0
        self.attempts = 0
        self.given_up: list[ScheduledPush] = []
        self._tick_s = tick_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> bool:
        """The first attempt, now; a failure is scheduled for retries. True when delivered."""
        now = self.clock.now()
        with self._lock:
            push = ScheduledPush(self._next_id, url, body, dict(headers), first_sent_at=now)
            self._next_id += 1
        return self._attempt(push)

    def _attempt(self, push: ScheduledPush) -> bool:
        push.attempts += 1
        try:
            response = self._client.post(push.url, content=push.body, headers=push.headers)
            ok = self._accept(response.status_code, response.content)
        except httpx.HTTPError:
            ok = False
        with self._lock:
            self.attempts += 1
            if ok:
                self.delivered += 1
                return True
            retry = push.attempts - 1  # retries already made
            if retry < len(self.schedule):
                push.due_at = push.first_sent_at + self.schedule[retry]
                self._pending.append(push)
                return False
            self.given_up.append(push)
        if self._on_give_up is not None:
            self._on_give_up(push, self.clock.now())
        return False

    @property
    def pending(self) -> list[ScheduledPush]:
        with self._lock:
            return list(self._pending)

    def pump(self) -> int:
        """Send every push whose retry is due on the simulated clock; returns how many were tried."""
        with self._send_lock:
            now = self.clock.now()
            with self._lock:
                due = [push for push in self._pending if push.due_at <= now]
                self._pending = [push for push in self._pending if push.due_at > now]
            for push in sorted(due, key=lambda p: p.due_at):
                self._attempt(push)
            return len(due)

    def start(self) -> RetryingSender:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True, name="simulator-push-retries")
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._tick_s):
            try:
                self.pump()
            except Exception:
                log.exception("push retry tick failed; continuing")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
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


# Listening ports are chosen below the kernel's ephemeral range (32768-60999 on Linux): a port the
# kernel handed us from that range can be taken by any outgoing connection (PostgreSQL, Redis, HTTP)
# before the server that was meant to listen on it binds.
_LISTEN_PORTS = range(20000, 32000)
_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def free_port() -> int:
    """A loopback port nothing listens on, outside the ephemeral range, never returned twice by this process."""
    rng = random.Random()  # seeded from the OS: parallel processes pick different ports
    with _handed_out_lock:
        for _ in range(200):
            port = rng.choice(_LISTEN_PORTS)
            if port in _handed_out:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    raise OSError(f"no free loopback port in {_LISTEN_PORTS.start}-{_LISTEN_PORTS.stop - 1}")


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
