# Shopee, as one package: its PlatformSpec (settings, connector, OAuth, webhooks, rules, limits, simulator).
"""Shopee: everything SyncStore knows about Shopee's wire format lives in this package.

This package's one export is `SPEC` (the `PlatformSpec` `connectors.registry` lists);
its modules hold one role each: `signing`, `transport`, `errors`, `codes`, `limits`, `rules`,
`values`, `mapping`, `app` (partner-level calls), `oauth`, `webhooks`, `connector`, and the
simulator beside them (`connectors.shopee.simulator`, which imports none of them).

Signing: `sign = hex(HMAC-SHA256(partner_key, base_string))`; the base string is
`partner_id + path + timestamp [+ access_token + shop_id]` (shop calls) or
`partner_id + path + timestamp` (public calls: auth_partner, token get/refresh, push config and the
lost-push calls). `partner_id`, `timestamp`, `sign` (and `access_token`, `shop_id`) travel in the query
string; GET parameters are query parameters, POST parameters a JSON body. Every request is signed
afresh, with a fresh timestamp, on every retry attempt.

Array query parameters differ per endpoint (Shopee's API reference): `order_sn_list` and
`response_optional_fields` of get_order_detail are ONE comma-joined string, `item_id_list` of
get_item_base_info is sent comma-joined too, `item_status` of get_item_list is a repeated key.

Decisions worth knowing (see also the docstrings of the methods):
- "The price" of a SKU is `original_price`: what `update_price` sets. `current_price` (after
  promotions) is not synchronised.
- Prices: two decimals only in SG, MY, BR, MX, PL, ES, AR; every other region takes whole prices
  (`price_decimals`). The connector knows the shop's `region` (constructor argument, from
  `get_shop_profile` at connection) and raises InvalidRequest before sending a price it would have to
  round; with no region known it allows two decimals. Prices of one item's variations may differ by
  at most a regional ratio (`variation_price_ratio`), checked before `create_listing` sends anything.
  Responses are parsed with `parse_float=Decimal`, so nothing read back passes through a float.
- Stock is written as SELLABLE stock (reference principle 3): Shopee takes an order's units out of
  the model's seller stock when the order is placed, so SyncStore writes the same sellable quantity as
  on every other channel and never adds Shopee's own order units back. `update_stock(item, {model:
  qty})` puts the whole quantity at the shop's DEFAULT location, the first pickup warehouse of
  `get_warehouse_detail`, and 0 at every other location, so the channel's sellable total is exactly
  what SyncStore wrote. A shop outside the multi-warehouse whitelist (`warehouse.error_not_in_whitelist`)
  has one implicit location: `list_locations()` is [] and no `location_id` is sent. Locations are read
  once per connector. Reading returns every location.
- CNSC/KRSC (cross-border) shops would need `global_product` calls; the connector keeps
  `/api/v2/product/update_stock` and SyncStore refuses such shops at connection
  (`get_shop_profile().cross_border`, also `ShopeeApp.get_shop_profile` for the OAuth flow).
- Error codes come bare (`error_param`) or module-prefixed (`product.error_param`, `common.error_auth`,
  `warehouse.error_not_in_whitelist`); the prefix is stripped before mapping (the error keeps the
  platform's own code). `error_auth` is mapped by its message: invalid/expired access token (and the
  codes `invalid_acceess_token` sic, `invalid_access_token`) -> AuthExpired (refresh once), revoked /
  deauthorized / no longer linked -> AuthRevoked, "System error, please try again later" -> Transient,
  every other `error_auth` (promotion-reserved stock, location_id missing or wrong, holiday mode, cnsc
  shop not upgraded, no permission to the api...) -> ItemRefused. Business codes such as
  `error_cannt_edit_price_in_promotion` are ItemRefused too. `error_rate_limit`/HTTP 429 ->
  RateLimited (Retry-After honoured), `error_limit` (the app's daily limit) -> QuotaExhausted,
  `error_sign`/`error_param` -> InvalidRequest, `error_item_not_found`/`error_item_not_belong_shop`/
  `error_not_found` -> NotFound, server errors, HTTP 5xx, timeouts and network errors -> Transient.
  On the token endpoints every auth error is AuthRevoked (a dead code or refresh token). Errors carry
  the code and request id; the access token and partner key are scrubbed from every message.
- One bad item never stops a shop: in update_stock / update_price an item-level refusal (ItemRefused,
  an InvalidRequest other than a bad signature or request envelope, an unknown business code) fails
  that call's models as failed SkuResults with the platform's message; no token is refreshed.
- Unknown orders: get_order_detail may fail a whole call with `error_not_found` for one unknown
  order_sn; the batch is then split until the unknown orders are isolated and left out.
- Batches: item ids 50 per detail call, models 50 per price/stock call (one item per call), items 50
  per unlist call, orders 50 per detail call, list pages of 100, order-list windows of 15 days.
- `add_item` has no idempotency key on Shopee. `create_listing` therefore looks the listing up first
  (`search_item` by `item_sku`, confirmed through `get_item_base_info`) on every attempt: a retry after
  a timeout, or a rerun after a crash, finds the item created before instead of adding a second one.
  Variations go out as `standardise_tier_variation` only (custom variations: variation_id 0); the
  deprecated `tier_variation` is never sent.
- Publishing (`connectors.shopee.publishing`): images are uploaded with media_space/upload_image (signed
  as a public call, and as a shop call when Shopee asks for the token: the reading is [unconfirmed]);
  add_item sends the uploaded image ids (a URL is refused before sending), `logistic_info` from the
  draft's channels (none: refused before sending), `attribute_list`, `brand` (0 "NoBrand" without one)
  and the stock at the draft's location. add_variants appends new options with update_tier_variation,
  then add_model; SKUs the item already has (by model_sku) are not added again.
- Descriptions: an item with `description_type: extended` has an empty `description`; its text is the
  text parts of `description_info.extended_description.field_list`, joined by newlines.
- Push event ids: the push's `msg_id` when it has one (live pushes); else sha256 over the canonical
  JSON of (shop_id, code, data), WITHOUT the timestamp: a lost push's `timestamp` is the time it was
  lost, so the same notification fetched through `get_lost_push_message` gets the id it would have had.
  Push codes are subscribed one by one (`register_webhook` -> one Subscription per code): 1, 2, 3, 8,
  12 and 22 (22 is unconfirmed; a refusal is reported and the others go on). Code 8 is a change of
  PROMOTION-reserved stock, not order stock: it maps to EventKind.STOCK_CHANGE, which SyncStore's
  dispatcher treats as "re-read this item", never as a ledger movement.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from connectors.base import Connector, MarketplaceEvent, PlatformSpec, RefreshCallback, RequestGate, ShopCredentials
from connectors.retry import DEFAULT_POLICY
from connectors.shopee.codes import PLATFORM
from connectors.shopee.connector import ShopeeConnector
from connectors.shopee.oauth import ShopeeOAuth
from connectors.shopee.rules import RULES
from connectors.shopee.signing import verify_push
from connectors.shopee.webhooks import parse_push

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from connectors.retry import RetryPolicy

__all__ = ["SPEC"]


def is_configured(settings: Any) -> bool:
    return settings.shopee_partner_id is not None and settings.shopee_partner_key is not None


def build_connector(
    settings: Any,
    credentials: ShopCredentials,
    *,
    gate: RequestGate | None = None,
    refresh: RefreshCallback | None = None,
    client: httpx.Client | None = None,
    policy: RetryPolicy | None = None,
    region: str = "",
) -> Connector:
    return ShopeeConnector(
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


def verify_webhook(keys: Mapping[str, str], raw_body: bytes, authorization: str | None) -> bool:
    return verify_push(keys["callback_url"], raw_body, authorization, keys["partner_key"])


def parse_webhook(text: str) -> MarketplaceEvent:
    return parse_push(text)


def webhook_keys(settings: Any, callback_url: str) -> Mapping[str, str | None]:
    """Shopee signs `callback_url + "|" + body` with the partner key: the URL exactly as registered."""
    key = settings.shopee_partner_key
    return {"callback_url": callback_url, "partner_key": key.get_secret_value() if key else None}


def run_simulator(
    port: int, state_file: Path | None, *, orders_every_s: float | None = None, redirect_url: str | None = None
) -> None:
    """Shopee's simulator (the redirect travels in each authorization link: `redirect_url` is not needed)."""
    from connectors.shopee.simulator import server as simulator  # the oracle, loaded only to serve it

    simulator.run(port, state_file, orders_every_s=orders_every_s)


def rate_limits(settings: Any) -> tuple[int, int]:
    return settings.ratelimit_shopee_per_minute, settings.ratelimit_shopee_per_day


# Seller Centre hosts per shop region. [unconfirmed] The references document no order-page URL: this is the
# Seller Centre's order list searched by the order number (order_sn), as seen in the seller UI.
_SELLER_HOSTS: Final = {
    "MY": "seller.shopee.com.my", "SG": "seller.shopee.sg", "ID": "seller.shopee.co.id", "TH": "seller.shopee.co.th",
    "PH": "seller.shopee.ph", "VN": "seller.shopee.vn", "TW": "seller.shopee.tw", "BR": "seller.shopee.com.br",
    "MX": "seller.shopee.com.mx", "CO": "seller.shopee.com.co", "CL": "seller.shopee.cl",
}  # fmt: skip


def seller_order_url(region: str, order_id: str) -> str:
    """The order in Shopee's Seller Centre of the shop's region (Singapore's when the region is unknown)."""
    host = _SELLER_HOSTS.get(region.upper(), "seller.shopee.sg")
    return f"https://{host}/portal/sale/order?keyword={quote(order_id, safe='')}"


SPEC: Final = PlatformSpec(
    name=PLATFORM,
    label="Shopee",
    required_settings=("SYNCSTORE_SHOPEE_PARTNER_ID", "SYNCSTORE_SHOPEE_PARTNER_KEY"),
    is_configured=is_configured,
    connector=build_connector,
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
    seller_order_url=seller_order_url,
)
