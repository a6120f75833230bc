# The per-shop gate a connector calls before each request: wait, pause or give up, as the limiter answers.
"""`ShopGate`: `connectors.base.RequestGate` on a `RateLimiter`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from syncstore.ratelimit.limits import (
    DEFAULT_PAUSE_S,
    DailyQuotaExhausted,
    Decision,
    Outcome,
    RateLimiter,
    RateLimitWaitTooLong,
    pause_seconds,
)
from syncstore.settings import get_settings

logger = logging.getLogger(__name__)


class ShopGate:
    """`connectors.base.RequestGate` for one shop: blocks until a request may go out."""

    def __init__(
        self,
        limiter: RateLimiter,
        platform: str,
        shop_id: str,
        *,
        max_wait_s: float | None = None,
        default_pause_s: float = DEFAULT_PAUSE_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter, self.platform, self.shop_id = limiter, platform, shop_id
        self.max_wait_s = get_settings().ratelimit_max_wait_seconds if max_wait_s is None else max_wait_s
        self.default_pause_s = default_pause_s
        self._sleep = sleep
        # The limiter's last answer (its `at` is when the last request was granted).
        self.last_decision: Decision | None = None

    def acquire(self) -> None:
        """Wait (sleeping the limiter's answers) until the shop may make one more request.

        Raises DailyQuotaExhausted (a `connectors.base.QuotaExhausted`) when the day's quota is used up,
        and RateLimitWaitTooLong, without sleeping, as soon as the total wait would pass `max_wait_s`.
        """
        deadline = time.monotonic() + self.max_wait_s
        while True:
            decision = self.limiter.try_acquire(self.platform, self.shop_id)
            self.last_decision = decision
            if decision.granted:
                return
            if decision.outcome is Outcome.QUOTA_EXHAUSTED:
                raise DailyQuotaExhausted(
                    self.platform, self.shop_id, decision.used_today, decision.daily_limit, decision.resets_at
                )
            if time.monotonic() + decision.wait_s > deadline:
                reason = "paused after a throttle answer" if decision.outcome is Outcome.PAUSED else "per-minute limit"
                raise RateLimitWaitTooLong(self.platform, self.shop_id, decision.wait_s, self.max_wait_s, reason)
            self._sleep(max(decision.wait_s, 0.001))

    def throttled(self, retry_after: float | None) -> None:
        """The platform said "too many requests": pause this shop for every worker (Retry-After, else 5 s)."""
        until = self.limiter.pause(self.platform, self.shop_id, pause_seconds(retry_after, self.default_pause_s))
        logger.info("%s shop %s throttled by the platform: paused until %s", self.platform, self.shop_id, until)
