# Rate limits: per-platform limits from settings, the limiter's answer (Decision), its errors and protocol.
"""Limits, decisions and the `RateLimiter` protocol every limiter implements.

Every request a connector makes for a shop first passes `ShopGate.acquire()`, which asks a
`RateLimiter` for a `Decision`: granted, wait N seconds, paused by the platform, or daily quota
exhausted. Limits come from settings (`limits_for`): Shopee 60/min and 10,000/day, TikTok Shop
100/min and 50,000/day per shop, plus `ratelimit_burst`.

Both limiters count in microseconds since the epoch (`to_us`) on one clock: Redis' or the database's.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from connectors import registry
from connectors.base import PlatformSpec, QuotaExhausted
from syncstore.errors import InvalidInput, Message, SyncStoreError, msg
from syncstore.settings import Settings, get_settings

logger = logging.getLogger(__name__)

US: Final = 1_000_000
DAY_US: Final = 86_400 * US
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Pause after a throttle answer that named no Retry-After; no pause is longer than a day.
DEFAULT_PAUSE_S: Final = 5.0
MAX_PAUSE_S: Final = 86_400.0
# The database limiter's sub-windows per window.
SUBWINDOWS: Final = 10

QuotaAlert = Callable[[str, str, int, int], None]


# --- errors -----------------------------------------------------------------------------------


class RateLimitWaitTooLong(SyncStoreError):
    """A request would wait longer for its shop's rate limit than allowed; try it again later."""

    def __init__(self, platform: str, shop_id: str, wait_s: float, max_wait_s: float, reason: str) -> None:
        self.platform, self.shop_id, self.wait_s, self.max_wait_s, self.reason = (
            platform,
            shop_id,
            wait_s,
            max_wait_s,
            reason,
        )
        super().__init__(
            "{platform} shop {shop_id} would wait {wait_s:.1f} s more ({reason}), longer than the "
            "{max_wait_s:g} s allowed; try again later",
            platform=platform,
            shop_id=shop_id,
            wait_s=wait_s,
            reason=reason,
            max_wait_s=max_wait_s,
        )


class DailyQuotaExhausted(QuotaExhausted):
    """The shop's daily request quota (SyncStore's own count) is used up until `resets_at`."""

    def __init__(self, platform: str, shop_id: str, used: int, limit: int, resets_at: datetime | None) -> None:
        self.shop_id, self.used, self.limit, self.resets_at = shop_id, used, limit, resets_at
        when = f"; it resets at {resets_at:%Y-%m-%d %H:%M} UTC" if resets_at else ""
        super().__init__(f"shop {shop_id} used its daily quota of {limit} requests{when}", platform=platform)


# --- limits and decisions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """One platform's limits per shop. `window_s` is the "minute" (shorter only in tests)."""

    per_minute: int
    per_day: int
    burst: int = 0
    window_s: float = 60.0
    day_utc_offset: timedelta = timedelta(0)
    alert_threshold: float = 0.8

    def __post_init__(self) -> None:
        errors: dict[str, Message] = {}
        if self.per_minute < 1:
            errors["per_minute"] = msg("must be at least 1")
        if self.per_day < 1:
            errors["per_day"] = msg("must be at least 1")
        if self.burst < 0:
            errors["burst"] = msg("must not be negative")
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            errors["window_s"] = msg("must be a positive number of seconds")
        if not 0 < self.alert_threshold <= 1:
            errors["alert_threshold"] = msg("must be in (0, 1]")
        if errors:
            raise InvalidInput(errors)

    @property
    def window_us(self) -> int:
        return round(self.window_s * US)

    @property
    def interval_us(self) -> int:
        """GCRA emission interval, rounded up so the rate never exceeds the limit."""
        return max(1, math.ceil(self.window_us / self.per_minute))

    @property
    def tolerance_us(self) -> int:
        return self.burst * self.interval_us

    @property
    def capacity(self) -> int:
        """Most grants in any window."""
        return self.per_minute + self.burst

    @property
    def subwindow_us(self) -> int:
        return max(1, self.window_us // SUBWINDOWS)

    @property
    def subwindows_checked(self) -> int:
        """Sub-windows the database limiter sums: enough to cover any window wherever it starts."""
        return math.ceil(self.window_us / self.subwindow_us) + 1

    @property
    def day_offset_us(self) -> int:
        return self.day_utc_offset // timedelta(microseconds=1)

    @property
    def alert_at(self) -> int:
        """The day's request count at which the quota alert fires."""
        return max(1, math.ceil(self.alert_threshold * self.per_day - 1e-9))


def day_start_utc_offset(platform: str) -> timedelta:
    """Where `platform`'s daily quota resets, as an offset from UTC (its spec says)."""
    return _spec(platform).day_start_utc_offset


def limits_for(platform: str, settings: Settings | None = None) -> Limits:
    """The configured limits of a registered `platform` (its spec reads them from the settings)."""
    settings = settings or get_settings()
    spec = _spec(platform)
    per_minute, per_day = spec.rate_limits(settings)
    return Limits(
        per_minute=per_minute,
        per_day=per_day,
        burst=settings.ratelimit_burst,
        day_utc_offset=spec.day_start_utc_offset,
        alert_threshold=settings.ratelimit_quota_alert_threshold,
    )


def _spec(platform: str) -> PlatformSpec:
    try:
        return registry.spec(platform)
    except registry.UnknownPlatform:
        expected = ", ".join(registry.names())
        raise InvalidInput(
            {
                "platform": msg(
                    "unknown platform {platform!r}; expected one of {expected}", platform=platform, expected=expected
                )
            }
        ) from None


class Outcome(enum.StrEnum):
    GRANTED = "granted"
    WAIT = "wait"  # the per-minute limit: ask again after wait_s
    PAUSED = "paused"  # the platform throttled this shop: ask again after wait_s
    QUOTA_EXHAUSTED = "quota_exhausted"  # the daily quota is used up until resets_at


@dataclass(frozen=True)
class Decision:
    """One answer of a limiter. `at` is the limiter's clock (Redis TIME or the database's)."""

    outcome: Outcome
    at: datetime
    wait_s: float = 0.0
    used_today: int = 0
    daily_limit: int = 0
    resets_at: datetime | None = None

    @property
    def granted(self) -> bool:
        return self.outcome is Outcome.GRANTED


class RateLimiter(Protocol):
    """Per-shop limits shared by every worker that uses the same Redis or database."""

    @property
    def backend(self) -> str: ...

    def try_acquire(self, platform: str, shop_id: str) -> Decision:
        """Consume one request for the shop if allowed now; never blocks."""
        ...

    def pause(self, platform: str, shop_id: str, seconds: float) -> datetime:
        """Refuse the shop's requests for `seconds` (a longer existing pause stays); returns the pause end."""
        ...

    def flush(self) -> None:
        """Write usage not yet in the database."""
        ...

    def close(self) -> None: ...


# --- small helpers ----------------------------------------------------------------------------


def to_datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def day_start_us(now_us: int, limits: Limits) -> int:
    offset = limits.day_offset_us
    return (now_us + offset) // DAY_US * DAY_US - offset


def limits_of(limits: Mapping[str, Limits], platform: str, shop_id: str) -> Limits:
    if not shop_id or not shop_id.strip():
        raise InvalidInput({"shop_id": "must not be empty"})
    try:
        return limits[platform]
    except KeyError:
        known = ", ".join(sorted(limits))
        raise InvalidInput(
            {"platform": msg("unknown platform {platform!r}; expected one of {known}", platform=platform, known=known)}
        ) from None


def pause_seconds(retry_after: float | None, default: float = DEFAULT_PAUSE_S) -> float:
    """How long to pause after a throttle answer: Retry-After when it is usable, else `default`; at most a day."""
    if retry_after is None or not math.isfinite(retry_after) or retry_after <= 0:
        return default
    return min(float(retry_after), MAX_PAUSE_S)


def checked_pause(seconds: float) -> float:
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInput({"seconds": "must be a finite number of seconds, not negative"})
    return min(seconds, MAX_PAUSE_S)


def log_quota_alert(platform: str, shop_id: str, used: int, limit: int) -> None:
    """The default quota alert: a warning in the log."""
    logger.warning(
        "%s shop %s used %d of its %d daily requests (%.0f %%)", platform, shop_id, used, limit, 100 * used / limit
    )


def fire_alert(callback: QuotaAlert | None, platform: str, shop_id: str, used: int, limit: int) -> None:
    if callback is None:
        return
    try:
        callback(platform, shop_id, used, limit)
    except Exception:  # an alert channel failing must not fail the request it is about
        logger.exception("quota alert callback failed for %s shop %s", platform, shop_id)
