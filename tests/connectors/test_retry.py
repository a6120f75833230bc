# The retry policy: what is retried, how long it waits, and the single token refresh.
from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from connectors.base import AuthExpired, AuthRevoked, InvalidRequest, NotFound, QuotaExhausted, RateLimited, Transient
from connectors.retry import RetryPolicy, call_with_retries

P = {"platform": "shopee"}


class FakeGate:
    def __init__(self) -> None:
        self.acquired = 0
        self.throttles: list[float | None] = []

    def acquire(self) -> None:
        self.acquired += 1

    def throttled(self, retry_after: float | None) -> None:
        self.throttles.append(retry_after)


def failing(*errors: Exception, result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    calls: list[int] = []

    def operation() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return operation, calls


def test_transient_errors_are_retried_at_most_three_attempts() -> None:
    sleeps: list[float] = []
    operation, calls = failing(Transient("502", **P), Transient("502", **P), result="done")
    assert call_with_retries(operation, sleep=sleeps.append) == "done"
    assert len(calls) == 3 and len(sleeps) == 2
    operation, calls = failing(*(Transient("down", **P) for _ in range(5)))
    with pytest.raises(Transient):
        call_with_retries(operation, sleep=sleeps.append)
    assert len(calls) == 3


def test_retry_after_is_honoured_and_the_gate_pauses_the_shop() -> None:
    gate, sleeps = FakeGate(), []  # type: ignore[var-annotated]
    operation, calls = failing(RateLimited("slow down", retry_after=1.5, **P))
    assert call_with_retries(operation, gate=gate, sleep=sleeps.append) == "ok"
    assert sleeps == [1.5] and gate.throttles == [1.5] and gate.acquired == 2 and len(calls) == 2


def test_a_retry_after_longer_than_the_policy_allows_goes_back_to_the_caller() -> None:
    operation, calls = failing(RateLimited("come back tomorrow", retry_after=3600, **P))
    with pytest.raises(RateLimited):
        call_with_retries(operation, sleep=lambda s: None)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        InvalidRequest("bad", fields={"price": "too low"}, **P),
        NotFound("gone", **P),
        AuthRevoked("revoked", **P),
        QuotaExhausted("quota", **P),
    ],
)
def test_errors_a_retry_cannot_fix_are_not_retried(error: Exception) -> None:
    operation, calls = failing(error)
    with pytest.raises(type(error)):
        call_with_retries(operation, sleep=lambda s: None)
    assert len(calls) == 1


def test_auth_expired_refreshes_once_then_retries() -> None:
    tokens: list[str] = []
    refreshes: list[int] = []

    def refresh() -> str:
        refreshes.append(1)
        return "new-token"

    operation, calls = failing(AuthExpired("expired", **P))
    assert call_with_retries(operation, refresh=refresh, on_new_token=tokens.append) == "ok"
    assert refreshes == [1] and tokens == ["new-token"] and len(calls) == 2
    operation, calls = failing(AuthExpired("expired", **P), AuthExpired("still", **P))
    with pytest.raises(AuthExpired):
        call_with_retries(operation, refresh=refresh)
    assert len(refreshes) == 2 and len(calls) == 2
    operation, calls = failing(AuthExpired("expired", **P))
    with pytest.raises(AuthExpired):
        call_with_retries(operation)


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (8, 4.0)]:
        samples = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.8 and min(samples) < ceiling * 0.2
