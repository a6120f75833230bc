# The Shopee simulator's push delivery: the outbox, its retries, and the lost-push list.
"""A push the receiver does not accept is retried on a schedule, then parked as a lost push for 3 days."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.shopee.simulator.codes import LOST_PUSH_KEEP_S
from connectors.shopee.simulator.requests import shopee_accepts
from connectors.simulator.common import (
    RetryingSender,
    ScheduledPush,
    SimClock,
)


@dataclass(frozen=True)
class LostPush:
    """A push given up after its retries; `lost_at` is the simulated time it was lost."""

    message_id: int
    body: bytes
    lost_at: int


class PushOutbox:
    """Live pushes with retries (a `RetryingSender` on the simulator clock) and the lost ones."""

    def __init__(self, clock: SimClock, schedule: Sequence[float]) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._lost: list[LostPush] = []
        self._next_lost_id = 1
        self.retrying = RetryingSender(clock, tuple(schedule), accept=shopee_accepts, on_give_up=self._give_up)

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> bool:
        return self.retrying.send(url, body, headers)

    def _give_up(self, push: ScheduledPush, sim_time: float) -> None:
        with self._lock:
            self._lost.append(LostPush(self._next_lost_id, push.body, int(sim_time)))
            self._next_lost_id += 1

    @property
    def lost(self) -> list[LostPush]:
        """Lost pushes not yet confirmed, oldest first (including those older than 3 days)."""
        with self._lock:
            return list(self._lost)

    def recent_lost(self, now: float) -> list[LostPush]:
        with self._lock:
            return [p for p in self._lost if p.lost_at >= now - LOST_PUSH_KEEP_S]

    def confirm(self, last_message_id: int) -> int:
        with self._lock:
            before = len(self._lost)
            self._lost = [p for p in self._lost if p.message_id > last_message_id]
            return before - len(self._lost)

    @property
    def delivered(self) -> int:
        return self.retrying.delivered

    @property
    def pending(self) -> list[ScheduledPush]:
        return self.retrying.pending

    def pump(self) -> int:
        return self.retrying.pump()

    def start(self) -> None:
        self.retrying.start()

    def close(self) -> None:
        self.retrying.close()
