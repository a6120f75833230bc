# The one place an incoming webhook's platform module is picked: verify the signature, parse, check freshness.
"""Verify and parse a marketplace webhook, exactly as received.

`verify_and_parse(platform, raw_body, authorization, keys, now=..., tolerance_s=...)`:

1. picks the platform's pure functions (`connectors.shopee.verify_push` / `parse_push`,
   `connectors.tiktokshop.verify_webhook` / `parse_webhook`): platform modules are chosen here and
   nowhere else in the webhook path;
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

Each refusal is an explicit `syncstore.webhooks.WebhookRejected` subclass. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors import shopee, tiktokshop
from connectors.base import PLATFORMS, MarketplaceEvent
from syncstore.settings import Settings
from syncstore.webhooks import InvalidSignature, MalformedEvent, PlatformNotConfigured, StaleEvent, UnknownPlatform

WEBHOOK_PLATFORMS = PLATFORMS


@dataclass(frozen=True, repr=False)
class WebhookKeys:
    """What verification needs; `repr` shows which platforms are configured, never a key."""

    shopee_callback_url: str
    shopee_partner_key: str | None = None
    tiktokshop_app_key: str | None = None
    tiktokshop_app_secret: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookKeys:
        partner_key = settings.shopee_partner_key
        app_secret = settings.tiktokshop_app_secret
        return cls(
            shopee_callback_url=callback_url(settings.public_url, "shopee"),
            shopee_partner_key=partner_key.get_secret_value() if partner_key else None,
            tiktokshop_app_key=settings.tiktokshop_app_key,
            tiktokshop_app_secret=app_secret.get_secret_value() if app_secret else None,
        )

    def __repr__(self) -> str:
        configured = [platform for platform in WEBHOOK_PLATFORMS if self.configured(platform)]
        return f"WebhookKeys(configured={configured}, shopee_callback_url={self.shopee_callback_url!r})"

    def configured(self, platform: str) -> bool:
        if platform == "shopee":
            return bool(self.shopee_partner_key)
        if platform == "tiktokshop":
            return bool(self.tiktokshop_app_key and self.tiktokshop_app_secret)
        return False


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
    if platform not in WEBHOOK_PLATFORMS:
        raise UnknownPlatform(f"no webhooks from {platform!r}")
    if platform == "shopee":
        if not keys.shopee_partner_key:
            raise PlatformNotConfigured("shopee webhook keys are not configured (SYNCSTORE_SHOPEE_PARTNER_KEY)")
        valid = shopee.verify_push(keys.shopee_callback_url, raw_body, authorization, keys.shopee_partner_key)
    else:
        if not (keys.tiktokshop_app_key and keys.tiktokshop_app_secret):
            raise PlatformNotConfigured(
                "tiktokshop webhook keys are not configured (SYNCSTORE_TIKTOKSHOP_APP_KEY, _APP_SECRET)"
            )
        valid = tiktokshop.verify_webhook(keys.tiktokshop_app_key, keys.tiktokshop_app_secret, raw_body, authorization)
    if not valid:
        raise InvalidSignature("missing or wrong signature" if authorization else "no Authorization header")


def parse(platform: str, raw_body: bytes) -> MarketplaceEvent:
    """The event in a verified body; MalformedEvent if it is not one."""
    try:
        text = raw_body.decode("utf-8")  # decoded once here: json.loads of bytes would detect and decode again
        if platform == "shopee":
            return shopee.parse_push(text)
        if platform == "tiktokshop":
            return tiktokshop.parse_webhook(text)
    except UnicodeDecodeError:
        raise MalformedEvent("body is not UTF-8") from None
    except (ValueError, RecursionError) as error:
        # PushParseError / WebhookPayloadError, a model validation error, or JSON nested too deep.
        raise MalformedEvent(_short(error)) from None
    raise UnknownPlatform(f"no webhooks from {platform!r}")


def check_fresh(event: MarketplaceEvent, *, now: float, tolerance_s: float) -> None:
    """StaleEvent when the event's timestamp is more than `tolerance_s` ahead of `now`; any age is fine."""
    if event.occurred_at is None:
        return
    ahead = event.occurred_at.timestamp() - now
    if ahead > tolerance_s:
        raise StaleEvent(f"event timestamp is {ahead:.0f} s in the future (tolerance {tolerance_s:.0f} s)")


def _short(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:200]
