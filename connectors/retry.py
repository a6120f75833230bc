# The retry policy every connector call goes through: backoff with full jitter, Retry-After, one token refresh.
"""Retries for marketplace calls.

- `Transient` and `RateLimited`: at most 3 attempts in all, waiting with exponential backoff
  and full jitter, or exactly what the platform asked for in Retry-After when it said.
- `AuthExpired`: the caller's refresh callback runs once (it stores the new token pair and
  returns the new access token), then the call is tried again once.
- `InvalidRequest`, `NotFound`, `AuthRevoked`, `QuotaExhausted`: never retried.

Each attempt first passes the shop's RequestGate (the per-shop rate limiter), and a throttle
answer is reported to the gate so every worker of that shop pauses.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from connectors.base import AuthExpired, RateLimited, RefreshCallback, RequestGate, Transient

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    # Retry-After values above this are not slept through in-process; the error goes to the caller.
    max_retry_after_s: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)


DEFAULT_POLICY = RetryPolicy()


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return min(error.retry_after, policy.max_retry_after_s)
        return policy.backoff(state.attempt_number)

    return wait


def _give_up_on_long_retry_after(policy: RetryPolicy) -> Callable[[RetryCallState], bool]:
    def stop(state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        too_long = isinstance(error, RateLimited) and (error.retry_after or 0) > policy.max_retry_after_s
        return too_long or state.attempt_number >= policy.max_attempts

    return stop


def call_with_retries(
    operation: Callable[[], T],
    *,
    gate: RequestGate | None = None,
    refresh: RefreshCallback | None = None,
    on_new_token: Callable[[str], None] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Run `operation` (which signs and sends a fresh request each time) under the retry policy.

    `on_new_token` receives the access token `refresh` returned, so the connector signs the
    next attempt with it.
    """

    def attempt() -> T:
        if gate is not None:
            gate.acquire()
        try:
            return operation()
        except RateLimited as error:
            if gate is not None:
                gate.throttled(error.retry_after)
            raise

    retrying = Retrying(
        stop=_give_up_on_long_retry_after(policy) if policy.max_attempts > 1 else stop_after_attempt(1),
        wait=_wait(policy),
        retry=retry_if_exception_type((Transient, RateLimited)),
        reraise=True,
        sleep=sleep or time.sleep,
    )
    try:
        return retrying(attempt)
    except AuthExpired:
        if refresh is None:
            raise
        token = refresh()
        if on_new_token is not None:
            on_new_token(token)
        return retrying(attempt)
