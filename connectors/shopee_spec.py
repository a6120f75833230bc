# Shopee as the core sees it: the PlatformSpec built from connectors.shopee (settings, OAuth, webhooks, codes).
"""Shopee's `PlatformSpec`.

Everything the core, the receiver and the app need of Shopee, without importing `connectors.shopee`:
the connector factory (partner id, key and host read from the app's settings by attribute), the
partner-level OAuth calls behind the neutral `PlatformApp`, push verification (HMAC over
`callback_url + "|" + raw body` with the partner key) and parsing, and the push codes that say an
authorization was withdrawn (2) or expires soon (12).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

from connectors import shopee
from connectors.base import (
    CallbackRefused,
    Connector,
    GrantedShop,
    MarketplaceEvent,
    PlatformSpec,
    RefreshCallback,
    RequestGate,
    ShopCredentials,
    TokenGrant,
)
from connectors.retry import DEFAULT_POLICY
from connectors.rules import PlatformRules

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from connectors.retry import RetryPolicy

_SHOP_ID: Final = re.compile(r"[0-9]{1,20}")
MAX_PARAM_LENGTH: Final = 2048


def is_configured(settings: Any) -> bool:
    return settings.shopee_partner_id is not None and settings.shopee_partner_key is not None


def _app(settings: Any, client: httpx.Client | None = None) -> shopee.ShopeeApp:
    return shopee.ShopeeApp(
        settings.shopee_partner_id, settings.shopee_partner_key.get_secret_value(), settings.shopee_host, client=client
    )


def connector(
    settings: Any,
    credentials: ShopCredentials,
    *,
    gate: RequestGate | None = None,
    refresh: RefreshCallback | None = None,
    client: httpx.Client | None = None,
    policy: RetryPolicy | None = None,
    region: str = "",
) -> Connector:
    return shopee.ShopeeConnector(
        partner_id=settings.shopee_partner_id,
        partner_key=settings.shopee_partner_key.get_secret_value(),
        host=settings.shopee_host,
        credentials=credentials,
        gate=gate,
        refresh=refresh,
        client=client,
        policy=policy or DEFAULT_POLICY,
        region=region,
    )


def _param(params: Mapping[str, str], name: str) -> str:
    value = params.get(name) or ""
    if len(value) > MAX_PARAM_LENGTH or not value.isprintable():
        raise CallbackRefused("invalid_request", f"the callback's {name} parameter is malformed")
    return value


class ShopeeOAuth:
    """`PlatformApp` over `ShopeeApp`: the callback carries the one authorized shop's `shop_id`."""

    def __init__(self, settings: Any, client: httpx.Client | None = None) -> None:
        self._app = _app(settings, client)

    def authorization_url(self, callback_url: str, state: str) -> str:
        # Shopee hands the redirect URL back as given: the state rides in it.
        return self._app.authorization_url(f"{callback_url}?{urlencode({'state': state})}")

    def exchange_code(self, code: str, params: Mapping[str, str]) -> tuple[TokenGrant, list[GrantedShop]]:
        shop_id = _param(params, "shop_id")
        if not shop_id and params.get("main_account_id"):
            raise CallbackRefused("main_account_unsupported", "authorize a shop, not a main (merchant) account")
        if not _SHOP_ID.fullmatch(shop_id):
            raise CallbackRefused("invalid_request", "the Shopee callback carries no valid shop_id")
        grant = self._app.exchange_code(code, shop_id)
        return grant, [GrantedShop(shop_id=shop_id, name=grant.shop_name or "", region=grant.region or "")]

    def refresh(self, refresh_token: str, shop_id: str) -> TokenGrant:
        return self._app.refresh(refresh_token, shop_id)

    def close(self) -> None:
        self._app.close()


def verify_webhook(keys: Mapping[str, str], raw_body: bytes, authorization: str | None) -> bool:
    return shopee.verify_push(keys["callback_url"], raw_body, authorization, keys["partner_key"])


def parse_webhook(text: str) -> MarketplaceEvent:
    return shopee.parse_push(text)


def webhook_keys(settings: Any, callback_url: str) -> Mapping[str, str | None]:
    """Shopee signs `callback_url + "|" + body` with the partner key: the URL exactly as registered."""
    key = settings.shopee_partner_key
    return {"callback_url": callback_url, "partner_key": key.get_secret_value() if key else None}


def run_simulator(
    port: int, state_file: Path | None, *, orders_every_s: float | None = None, redirect_url: str | None = None
) -> None:
    """Shopee's simulator (the redirect travels in each authorization link: `redirect_url` is not needed)."""
    from connectors.simulator import shopee as simulator  # the oracle, loaded only to serve it

    simulator.run(port, state_file, orders_every_s=orders_every_s)


def rate_limits(settings: Any) -> tuple[int, int]:
    return settings.ratelimit_shopee_per_minute, settings.ratelimit_shopee_per_day


# Reference "Products": titles up to 120 characters, 9 images, 50 models per item, numeric category
# ids; prices take two decimals only in some regions (integers elsewhere) [doc]; one item's variation
# prices may differ by at most a regional ratio [doc guide]. One item per price/stock call (50 models),
# 50 items per status or detail call, one more model-list call per item with variants; a create looks
# the listing up by SKU first (a retry never creates it twice), adds it, then (variants) reads and adds models.
RULES: Final = PlatformRules(
    platform=shopee.PLATFORM, label="Shopee", title_max=120, description_max=3000, images_min=1, images_max=9,
    stock_max=999_999, skus_per_listing=50, sku_batch=50, status_batch=50, list_page=100, detail_batch=50,
    numeric_category=True, decimal_regions=frozenset({"SG", "MY", "BR", "MX", "PL", "ES", "AR"}),
    variation_ratios={
        "ID": 7, "MY": 7, "SG": 5, "VN": 5, "TW": 5, "TH": 5, "PH": 5, "MX": 5, "BR": 4, "CL": 9, "CO": 9,
    },
    model_call_per_variant_item=True, create_calls_single=2, create_calls_variants=4,
)  # fmt: skip


SPEC: Final = PlatformSpec(
    name=shopee.PLATFORM,
    label="Shopee",
    required_settings=("SYNCSTORE_SHOPEE_PARTNER_ID", "SYNCSTORE_SHOPEE_PARTNER_KEY"),
    is_configured=is_configured,
    connector=connector,
    app=ShopeeOAuth,
    token_per_seller=False,
    cross_border_refusal=(
        "is a cross-border (CNSC/KRSC) shop: its stock is managed through Shopee's global products, "
        "which SyncStore does not support yet. Connect a local shop."
    ),
    webhook_key_names=("partner_key",),
    webhook_settings="SYNCSTORE_SHOPEE_PARTNER_KEY",
    verify_webhook=verify_webhook,
    parse_webhook=parse_webhook,
    revoked_event_types=frozenset({"2"}),
    expiring_event_types=frozenset({"12"}),
    webhook_keys=webhook_keys,
    rules=RULES,
    rate_limits=rate_limits,
    day_start_utc_offset=timedelta(hours=8),  # the quota day starts 00:00 UTC+8
    run_simulator=run_simulator,
)
