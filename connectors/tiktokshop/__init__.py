# TikTok Shop, as one package: its PlatformSpec (settings, connector, OAuth, webhooks, rules, limits, simulator).
"""TikTok Shop as SyncStore sees it: every piece of TikTok Shop wire knowledge lives in this package.

This package's one export is `SPEC` (the `PlatformSpec` `connectors.registry` lists); its modules hold
one role each: `signing`, `transport`, `errors`, `codes`, `limits`, `rules`, `mapping`, `app`
(app-level calls), `oauth`, `webhooks`, `connector`, and the simulator beside them
(`connectors.tiktokshop.simulator`, which imports none of them).

Request shape (every API call on the API host):
- query: `app_key`, `timestamp` (Unix s, fresh for every attempt), `sign`, `shop_cipher` (left out on
  `/authorization/*`, `/seller/*` and uploads) plus the endpoint's own params (`page_size`, `page_token`, `ids`);
- headers: `x-tts-access-token`, `Content-Type: application/json`;
- body: JSON serialised ONCE; those exact bytes are signed and sent (see `sign`).
Every call goes through `connectors.retry.call_with_retries`, which re-runs the whole operation (new
timestamp, new signature) on `Transient` / `RateLimited` and refreshes the token once on `AuthExpired`.

Error mapping (the envelope `code` first, the HTTP status second; the reference's error table):
- HTTP 429 or 36009002 -> RateLimited (Retry-After honoured). TikTok documents no quota code: quota
  shows up as throttling, so nothing here is QuotaExhausted.
- 36009010 is an INVALID METHOD (the HTTP method is not supported): a programming error -> InvalidRequest.
- 36009003, 36009007, HTTP 5xx, timeouts, connection errors -> Transient.
- 105001 (access token invalid) and 105002 (expired) -> AuthExpired: the token is refreshed once; if the
  call still fails with a token error after a successful refresh, it is AuthRevoked (the seller must
  connect again). A failed refresh raises whatever the token endpoint said (AuthRevoked for a dead one).
- 101000 (invalid query or header) and 36009004 (invalid envelope or credentials): the message decides;
  an invalid/expired access token -> AuthExpired, anything else (bad timestamp, unexpected shop_cipher,
  missing header, bad app key) -> InvalidRequest.
- Token endpoint: 36004004 (invalid auth code), 36004001 (refresh token expired), 36004005 (no such
  authorization) -> AuthRevoked (an OAuth failure: connect again).
- 106001 (invalid sign: never retried), 106013 (missing shop_cipher), 98001004, 11050001 -> InvalidRequest
  (`fields` filled from names the message quotes, e.g. `'page_size'`).
- 12019150, 12052032, 12052034 -> NotFound.
- 12019024 (invalid stock), 12019028 (multiple warehouses), 12019045 (price locked by a promotion), and
  any other 12xxxxxx product-module code (e.g. a product that is not LIVE takes no stock update [doc]) ->
  ItemRefused: that product's SKUs fail with the platform's words; the batch and the shop go on and no
  token is refreshed. Only real credential errors stop a shop.
- 12052180 (search cannot page further) -> SearchCapReached (an InvalidRequest): the search splits its window.
- Any other code -> plain ConnectorError (not retried).
Errors carry the platform code and request_id; messages are scrubbed of the access token, refresh token,
auth code and app secret, and transport exceptions are not chained (their text may hold the URL).

Publishing (`connectors.tiktokshop.publishing`): images are uploaded to /product/202309/images/upload
(multipart `data`, `use_case` MAIN_IMAGE, no shop_cipher, the body not signed) and create sends their
`uri` in `main_images` (a URL is refused before sending), with `brand_id`, `product_attributes` and each
SKU's inventory at the draft's warehouse (else the default sales warehouse); the created product is in
review (audit). Categories, attributes (`is_requried`, sic; sales properties left out) and brands are
read from /product/202309/categories, /categories/{id}/attributes and /brands; listings take no logistics
channel. add_variants sends partial_edit with every existing SKU plus the new ones (the property is
replaced), each with `inventory[{warehouse_id, quantity}]`; the product goes into review.

Choices (the reference leaves these open):
- Search: a window is split in halves by update time BEFORE 10,000 results are reached, whatever
  `total_count` says (it may be capped): when `total_count` >= 9,900, when paging would go past 9,900
  results, or when the platform answers 12052180. A single second that still holds too many is searched
  once per status, each paged until the platform stops it; then a warning is logged (it serves no more).
  Bounds are inclusive at whole-second resolution; each call reports each product at most once. Page
  tokens are passed back opaque.
- Detail is one product per call (GET /product/202309/products/{id}). Ids the platform does not know
  (NotFound) are left out of `get_listings` / `get_orders` results.
- Status: ACTIVATE -> active; SELLER_/PLATFORM_DEACTIVATED -> inactive; DELETED -> deleted; PENDING (the
  audit runs) -> in_review; FAILED -> review_failed with `review_message` from `audit_failed_reasons`
  (each entry's `reasons`, then its `suggestions`); DRAFT, FREEZE, ... -> other.
- Prices are read from `price.tax_exclusive_price` (what the seller sets and what the master is compared
  with); `sale_price` (what the buyer pays, tax included in cross-border shops) only when the former is
  absent. Writes send the pre-tax `price{amount, currency}` as exact decimal strings.
- Orders: GET /order/202309/orders?ids= (<= 50) and POST /order/202309/orders/search (body
  `update_time_ge` / `update_time_lt`, query `page_size` 100 / `page_token`). TikTok lists ONE line item
  per unit: they are grouped by SKU into one OrderLine (line_id = sku id) with quantity = the number of
  line items and cancelled_quantity = those whose `display_status` is CANCELLED (the per-line status of
  Order202309GetOrderDetailResponseDataOrdersLineItems; `cancel_reason` alone is not read as a
  cancellation, a request may have been refused). Order status: UNPAID -> pending; ON_HOLD,
  AWAITING_SHIPMENT, AWAITING_COLLECTION, PARTIALLY_SHIPPING -> paid (stock still reserved); IN_TRANSIT,
  DELIVERED -> shipped; COMPLETED -> completed; CANCELLED -> cancelled; else other.
- Warehouses: `list_locations()` = the shop's SALES_WAREHOUSE warehouses (GET /logistics/202309/warehouses,
  disabled ones left out), the default first, read once per connector. Stock: for each SKU the WHOLE
  quantity goes to one sales warehouse - the shop's default, or (when the SKU is not stocked there) the
  first sales warehouse the SKU has - and 0 to every other sales warehouse the SKU has, so the channel's
  sellable total is exactly what SyncStore wrote. With several sales warehouses the product detail is read
  first to learn each SKU's warehouses; with none listed, warehouse_id is left out (a single default
  warehouse). `warehouse_id=` overrides the target warehouse.
- Images are sent as `main_images[{uri}]`; real TikTok wants the uri of an uploaded image.
- Webhooks: PUT /event/202309/webhooks `{address, event_type}` once per type in `WEBHOOK_EVENT_TYPES`,
  each on its own; a refused type is reported in its `Subscription`, the others go on. Parsing accepts
  events of any age (a webhook is a trigger; retries carry the original body). TikTok has no lost-push
  API: `fetch_missed_events` returns [] and `list_changed_orders` is the polling backstop (W9).
- Titles: `title_length_bounds(region)` - 1..255 characters in the US and the UK, 25..255 elsewhere.
- Tokens: one pair per seller; the connector only holds the access token it is given (refresh is the
  caller's callback).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from connectors.base import Connector, MarketplaceEvent, PlatformSpec, RefreshCallback, RequestGate, ShopCredentials
from connectors.retry import DEFAULT_POLICY
from connectors.tiktokshop.codes import PLATFORM
from connectors.tiktokshop.connector import TikTokShopConnector
from connectors.tiktokshop.oauth import TikTokShopOAuth
from connectors.tiktokshop.rules import RULES
from connectors.tiktokshop.webhooks import parse_webhook as _parse
from connectors.tiktokshop.webhooks import verify_webhook as _verify

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from connectors.retry import RetryPolicy

__all__ = ["SPEC"]


def is_configured(settings: Any) -> bool:
    return bool(settings.tiktokshop_app_key) and settings.tiktokshop_app_secret is not None


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
    # The region is not needed: TikTok Shop states each product's currency itself.
    return TikTokShopConnector(
        app_key=settings.tiktokshop_app_key,
        app_secret=settings.tiktokshop_app_secret.get_secret_value(),
        api_host=settings.tiktokshop_api_host,
        credentials=credentials,
        gate=gate,
        refresh=refresh,
        client=client,
        policy=policy or DEFAULT_POLICY,
    )


def verify_webhook(keys: Mapping[str, str], raw_body: bytes, authorization: str | None) -> bool:
    return _verify(keys["app_key"], keys["app_secret"], raw_body, authorization)


def parse_webhook(text: str) -> MarketplaceEvent:
    return _parse(text)


def webhook_keys(settings: Any, callback_url: str) -> Mapping[str, str | None]:
    """TikTok Shop signs `app_key + body` with the app secret; the callback URL plays no part."""
    secret = settings.tiktokshop_app_secret
    return {"app_key": settings.tiktokshop_app_key, "app_secret": secret.get_secret_value() if secret else None}


def run_simulator(
    port: int, state_file: Path | None, *, orders_every_s: float | None = None, redirect_url: str | None = None
) -> None:
    """TikTok Shop's simulator; `redirect_url` is the app's registered OAuth redirect."""
    from connectors.tiktokshop.simulator import server as simulator  # the oracle, loaded only to serve it

    simulator.run(port, state_file, order_interval_s=orders_every_s, redirect_url=redirect_url)


def rate_limits(settings: Any) -> tuple[int, int]:
    return settings.ratelimit_tiktokshop_per_minute, settings.ratelimit_tiktokshop_per_day


def seller_order_url(region: str, order_id: str) -> str:
    """The order's detail page in the TikTok Shop Seller Center of the shop's region.

    [unconfirmed] Not in the references: the Seller Center's order detail address as the seller UI shows it
    (`seller-<region>.tiktok.com/order/detail?order_no=<order id>`).
    """
    prefix = f"seller-{region.lower()}" if region.isalpha() else "seller"
    return f"https://{prefix}.tiktok.com/order/detail?order_no={quote(order_id, safe='')}"


SPEC: Final = PlatformSpec(
    name=PLATFORM,
    label="TikTok Shop",
    required_settings=("SYNCSTORE_TIKTOKSHOP_APP_KEY", "SYNCSTORE_TIKTOKSHOP_APP_SECRET"),
    is_configured=is_configured,
    connector=build_connector,
    app=TikTokShopOAuth,
    token_per_seller=True,
    cross_border_refusal=None,
    webhook_key_names=("app_key", "app_secret"),
    webhook_settings="SYNCSTORE_TIKTOKSHOP_APP_KEY, _APP_SECRET",
    verify_webhook=verify_webhook,
    parse_webhook=parse_webhook,
    revoked_event_types=frozenset({"6"}),
    expiring_event_types=frozenset({"7"}),
    webhook_keys=webhook_keys,
    rules=RULES,
    rate_limits=rate_limits,
    day_start_utc_offset=timedelta(0),  # no reset time is known: the UTC day
    run_simulator=run_simulator,
    seller_order_url=seller_order_url,
)
