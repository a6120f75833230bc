# Verify and parse an incoming webhook with its platform's spec from the registry; check its freshness.
"""Verify and parse a marketplace webhook, exactly as received.

`verify_and_parse(platform, raw_body, authorization, keys, now=..., tolerance_s=...)`:

1. takes the platform's pure functions from its `PlatformSpec` (`connectors.registry`):
   `verify_webhook` and `parse_webhook`; no platform module is imported in the webhook path;
2. verifies the `Authorization` header over the RAW bytes (never re-serialised JSON; the connectors
   compare with `hmac.compare_digest`): Shopee signs `callback_url + "|" + body` with the partner key,
   TikTok Shop signs `app_key + body` with the app secret;
3. parses the body into a `MarketplaceEvent` (event id: TikTok's `tts_notification_id`; Shopee's
   `msg_id`, else a hash of shop, code and data);
4. refuses an event whose own timestamp is more than `tolerance_s` seconds in the FUTURE (W2).
   An authentic event of ANY age is accepted: platforms retry the original body for hours (TikTok
   Shop at about 2 min, 30 min, 3 h and 12 h; Shopee for days through its lost-push call), and a
   webhook is only a trigger — effects come from API reads, and a replay is absorbed by the
   deduplication on the event id (W6) and by idempotent ledger effects.

Each refusal is an explicit `syncstore.events.webhooks.WebhookRejected` subclass. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connectors import registry
from connectors.base import MarketplaceEvent, PlatformSpec
from syncstore.events.webhooks import (
    InvalidSignature,
    MalformedEvent,
    PlatformNotConfigured,
    StaleEvent,
    UnknownPlatform,
)
from syncstore.settings import Settings


@dataclass(frozen=True, repr=False)
class WebhookKeys:
    """What verification needs, per platform: the keys its spec's `verify_webhook` reads, by name.

    Only keys that are set are held. `repr` shows which platforms are configured, never a key.
    """

    by_platform: Mapping[str, Mapping[str, str]]

    @classmethod
    def of(cls, **keys: Mapping[str, str | None]) -> WebhookKeys:
        """`WebhookKeys.of(platform={"name": value, ...}, ...)`; keys that are None or empty are dropped."""
        return cls({platform: {n: v for n, v in named.items() if v} for platform, named in keys.items()})

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookKeys:
        """Each registered platform's keys, as its spec reads them from the settings."""
        return cls.of(
            **{
                spec.name: spec.webhook_keys(settings, callback_url(settings.public_url, spec.name))
                for spec in registry.platforms()
            }
        )

    def __repr__(self) -> str:
        configured = [platform for platform in self.by_platform if self.configured(platform)]
        return f"WebhookKeys(configured={configured})"

    def keys_for(self, platform: str) -> Mapping[str, str]:
        """The keys of `platform` that are set, by the names its spec's `verify_webhook` reads."""
        return self.by_platform.get(platform, {})

    def configured(self, platform: str) -> bool:
        if not registry.is_platform(platform):
            return False
        keys = self.keys_for(platform)
        return all(keys.get(name) for name in registry.spec(platform).webhook_key_names)


def callback_url(public_url: str, platform: str) -> str:
    """The webhook URL registered with a platform (Shopee signs it exactly as registered)."""
    return f"{public_url.rstrip('/')}/webhooks/{platform}"


def verify_and_parse(
    platform: str,
    raw_body: bytes,
    authorization: str | None,
    keys: WebhookKeys,
    *,
    now: float,
    tolerance_s: float,
) -> MarketplaceEvent:
    """The verified, parsed and fresh event in `raw_body`, or a WebhookRejected subclass."""
    verify(platform, raw_body, authorization, keys)
    event = parse(platform, raw_body)
    check_fresh(event, now=now, tolerance_s=tolerance_s)
    return event


def verify(platform: str, raw_body: bytes, authorization: str | None, keys: WebhookKeys) -> None:
    """InvalidSignature unless `authorization` signs exactly `raw_body` for this platform's keys."""
    spec = _spec(platform)
    if not keys.configured(platform):
        raise PlatformNotConfigured(
            "{platform} webhook keys are not configured ({webhook_settings})",
            platform=platform,
            webhook_settings=spec.webhook_settings,
        )
    if not spec.verify_webhook(keys.keys_for(platform), raw_body, authorization):
        raise InvalidSignature("missing or wrong signature" if authorization else "no Authorization header")


def parse(platform: str, raw_body: bytes) -> MarketplaceEvent:
    """The event in a verified body; MalformedEvent if it is not one."""
    spec = _spec(platform)
    try:
        text = raw_body.decode("utf-8")  # decoded once here: json.loads of bytes would detect and decode again
        return spec.parse_webhook(text)
    except UnicodeDecodeError:
        raise MalformedEvent("body is not UTF-8") from None
    except (ValueError, RecursionError) as error:
        # PushParseError / WebhookPayloadError, a model validation error, or JSON nested too deep.
        raise MalformedEvent(_short(error)) from None


def _spec(platform: str) -> PlatformSpec:
    try:
        return registry.spec(platform)
    except registry.UnknownPlatform:
        raise UnknownPlatform("no webhooks from {platform!r}", platform=platform) from None


def check_fresh(event: MarketplaceEvent, *, now: float, tolerance_s: float) -> None:
    """StaleEvent when the event's timestamp is more than `tolerance_s` ahead of `now`; any age is fine."""
    if event.occurred_at is None:
        return
    ahead = event.occurred_at.timestamp() - now
    if ahead > tolerance_s:
        raise StaleEvent(
            "event timestamp is {ahead:.0f} s in the future (tolerance {tolerance_s:.0f} s)",
            ahead=ahead,
            tolerance_s=tolerance_s,
        )


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]
