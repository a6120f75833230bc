# Lazada, as one package: its PlatformSpec (settings, connector, OAuth, pushes, rules, limits, simulator).
"""Lazada (LazOP) as SyncStore sees it: every piece of Lazada wire knowledge lives in this package.

This package's one export is `SPEC` (the `PlatformSpec` `connectors.registry` lists); its modules hold
one role each: `signing`, `transport` (country hosts, paths), `errors`, `codes`, `limits`, `rules`,
`payloads` (XML), `mapping`, `app` (authorization link and tokens), `oauth`, `webhooks`, `client` (one
seller's signed, retried calls), `publishing` (content, images, create, catalog), `connector`, and
the simulator beside them (`connectors.lazada.simulator`, which imports none of them).

Request shape (reference/lazada.md section 2): `app_key`, `timestamp` (epoch MILLISECONDS, fresh for every
attempt), `sign_method=sha256`, `access_token` (not on `/auth/token/*`) and the API's own parameters;
`sign` = UPPERCASE hex HMAC-SHA256(app_secret, api_path + sorted name+value pairs), the path without
`/rest`. Reads are GET (everything in the query), writes POST (an x-www-form-urlencoded body; multipart
for `/image/upload`, whose file is not signed). No empty parameter is ever sent (the SDKs disagree on
signing them). Payloads are XML (`payloads.to_xml`), signed as the exact string sent.

Hosts: `SYNCSTORE_LAZADA_API_HOST` (the simulator by default); set it EMPTY in production and each shop
uses its country's host (`transport.COUNTRY_HOSTS`, the country from `country_user_info`, stored as the
shop's region). Tokens go to `SYNCSTORE_LAZADA_AUTH_HOST` (auth.lazada.com/rest), the seller authorizes on
`SYNCSTORE_LAZADA_AUTHORIZE_HOST` (auth.lazada.com/oauth/authorize).

OAuth: the code is exchanged at `/auth/token/create`; the answer is top level (not in `data`) and its
`country_user_info[]` lists one shop per country (shop id = `seller_id`, region = `country`; a
cross-border seller has one per venture). One token pair per seller account (`token_per_seller`).
Refresh (`/auth/token/refresh`) rotates BOTH tokens; the refresh token's absolute end does not move.
`expires_in` may be a string; `country_user_info_list` is read too.

Error mapping (the envelope `code`, a string; failures come inside HTTP 200):
- `ApiCallLimit`, `901`, HTTP 429 -> RateLimited (retry after the ban the message states, else 1 s);
- `ServiceTimeout`, `6`, `513`, `998` (the API is switched off during a Mega campaign), HTTP 5xx -> Transient;
- `IllegalAccessToken` -> AuthExpired (refreshed once; refused again -> AuthRevoked);
- `IllegalRefreshToken`, `InvalidCode`, `AUTH_TYPE_UNSUPPORTED` -> AuthRevoked (connect again);
- `16`, `207`, `208`, `EDIT_ITEM_NOT_BELONG_SELLER` -> NotFound;
- business refusals `4170` (campaign stock lock), `4225`, `212`, `204`, `4171`, `500`, `501`, `512`, `4193`,
  `E0004`, `PDT_LIMIT_REACH` and every `41xx` -> ItemRefused: the item's SKUs fail with Lazada's words (and
  each SKU `detail[]` names with its own message); the shop goes on, no token is refreshed;
- gateway and parameter errors (`IncompleteSignature`, `MissingParameter`, `InvalidTimestamp`, 5, 14, 17,
  19, 36, 1001...) -> InvalidRequest; anything else -> ConnectorError.
A `code "0"` answer with `detail[]` rows naming SKUs fails those SKUs only (a partial failure).

Choices (the reference leaves these open):
- Stock is SELLABLE stock, written with `/product/stock/sellable/update` (an overwrite, never the delta
  `/adjust`, never total stock through `price_quantity`), 20 SKUs per call (50 is the documented max).
  Multi-warehouse sellers (`/seller/warehouse/get` lists more than one warehouse) get the
  `MultiWarehouseInventories` form: the whole quantity to the default warehouse, 0 to the SKU's others;
  single-warehouse sellers never get it (`list_locations()` is [] for them).
- Price: `/product/price_quantity/update` with `Price` only (no `SalePrice`, no `Quantity`), so a running
  special price and the stock are never overwritten. Reads take the regular `price`; `special_price` is
  read by `mapping.special_price` and never compared or written.
- Products are listed by update windows (`/products/get` filter=all, update_after/update_before inclusive,
  pages of 50); a window whose `total_products` exceeds the 10,000 offset cap is split in halves. Detail is
  `/product/item/get` by item id (one call per item); listings and SKUs are keyed by item id + SKU id,
  never SellerSku. Status: Active -> active, InActive/Suspended -> inactive, Deleted -> deleted,
  Pending QC -> in review, Rejected (or subStatus Reject) -> review failed with `rejectReason`.
- Content edits: `/product/update` with only the given fields (package sizes on every SKU). Create:
  `/product/create` (leaf category, Lazada-hosted image URLs: uploaded with `/image/upload`, and any other
  URL migrated with `/image/migrate` first, on create and on edits; `brand_id` or
  "No Brand", category attributes by name); `item_status` "Pending QC" -> `in_review`. Lazada takes no
  idempotency key: after a create whose outcome is unknown (timeout, 5xx) the products created since with
  the draft's SellerSkus are looked up (`/products/get` `sku_seller_list`) before it is sent again. New variants:
  `/product/create` with `AssociatedSku`. Deactivate: `/product/deactivate` (`apiRequestBody`, ItemId);
  activate: `/product/update` SKU `Status` active; delete: `/product/remove` `SkuId_<item>_<sku>`.
- Orders: `/orders/get` by update time (sort updated_at ASC, pages of 100; at offset 5,000 the window
  moves to the newest update seen), items by `/orders/items/get` (<= 50 orders). Lazada lists ONE row per
  unit with a status per row: rows are grouped by (item, SKU) into one OrderLine, quantity = rows,
  cancelled_quantity = canceled rows. The order's status is its least advanced live unit's (unpaid ->
  pending; pending/packed -> paid; ready_to_ship (where Lazada consumes the stock)/shipped -> shipped;
  delivered -> completed); all units canceled -> cancelled.
- Pushes: verified on the raw body (hex case ignored), any age accepted; type 0 -> order status
  (`trade_order_id`), 1 -> audit (QC), 3/4/5 -> product change, 6 -> stock, 8 -> token expiring, 13 with
  status `close` -> the authorization is gone (Lazada has no revocation push; `normal` is UNKNOWN).
  There is no push subscription API (the URL is set in the App Console: `register_webhook` answers [])
  and no lost-message API (`fetch_missed_events` answers []; order polling is the backstop).
- Rate limits: the limiter's per-minute / per-day figures from `SYNCSTORE_RATELIMIT_LAZADA_*`; the quota
  day is UTC+8 (Lazada's ventures are UTC+7 / UTC+8; no reset time is documented).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from connectors.base import Connector, MarketplaceEvent, PlatformSpec, RefreshCallback, RequestGate, ShopCredentials
from connectors.lazada.codes import PLATFORM, PUSH_SELLER_STATUS, PUSH_TOKEN_EXPIRING
from connectors.lazada.connector import LazadaConnector
from connectors.lazada.oauth import LazadaOAuth
from connectors.lazada.rules import RULES
from connectors.lazada.transport import COUNTRY_HOSTS, api_host_for
from connectors.lazada.webhooks import parse_webhook as _parse
from connectors.lazada.webhooks import verify_webhook as _verify
from connectors.retry import DEFAULT_POLICY

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from connectors.retry import RetryPolicy

__all__ = ["SPEC"]


def is_configured(settings: Any) -> bool:
    return bool(settings.lazada_app_key) and settings.lazada_app_secret is not None


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
    return LazadaConnector(
        app_key=settings.lazada_app_key,
        app_secret=settings.lazada_app_secret.get_secret_value(),
        api_host=api_host_for(settings.lazada_api_host, region),
        credentials=credentials,
        region=region,
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
    """Lazada signs `app_key + body` with the app secret; the callback URL plays no part."""
    secret = settings.lazada_app_secret
    return {"app_key": settings.lazada_app_key, "app_secret": secret.get_secret_value() if secret else None}


def run_simulator(
    port: int, state_file: Path | None, *, orders_every_s: float | None = None, redirect_url: str | None = None
) -> None:
    """Lazada's simulator; `redirect_url` is the app's registered OAuth callback."""
    from connectors.lazada.simulator import server as oracle  # the oracle, loaded only to serve it

    oracle.run(port, state_file, order_interval_s=orders_every_s, redirect_url=redirect_url)


def rate_limits(settings: Any) -> tuple[int, int]:
    return settings.ratelimit_lazada_per_minute, settings.ratelimit_lazada_per_day


def seller_order_url(region: str, order_id: str) -> str:
    """The order's detail page in Lazada Seller Center of the shop's country (Malaysia's when it is not one).

    [unconfirmed] Not in the references: the Seller Center host is the country's API host with `sellercenter`
    for `api` (section 1), the path the order detail page the seller UI shows (`/apps/order/detail`).
    """
    host = COUNTRY_HOSTS.get(region.upper(), COUNTRY_HOSTS["MY"]).removesuffix("/rest")
    return f"{host.replace('://api.', '://sellercenter.', 1)}/apps/order/detail?tradeOrderId={quote(order_id, safe='')}"


SPEC: Final = PlatformSpec(
    name=PLATFORM,
    label="Lazada",
    required_settings=("SYNCSTORE_LAZADA_APP_KEY", "SYNCSTORE_LAZADA_APP_SECRET"),
    is_configured=is_configured,
    connector=build_connector,
    app=LazadaOAuth,
    token_per_seller=True,
    cross_border_refusal=None,
    webhook_key_names=("app_key", "app_secret"),
    webhook_settings="SYNCSTORE_LAZADA_APP_KEY, _APP_SECRET",
    verify_webhook=verify_webhook,
    parse_webhook=parse_webhook,
    revoked_event_types=frozenset({PUSH_SELLER_STATUS}),
    expiring_event_types=frozenset({PUSH_TOKEN_EXPIRING}),
    webhook_keys=webhook_keys,
    rules=RULES,
    rate_limits=rate_limits,
    day_start_utc_offset=timedelta(hours=8),
    webhook_signature_header="authorization",
    run_simulator=run_simulator,
    seller_order_url=seller_order_url,
)
