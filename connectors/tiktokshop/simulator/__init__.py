# Local TikTok Shop Partner API simulator: an independent oracle written from reference/marketplaces.md.
"""A TikTok Shop Partner API (202309) that runs on loopback, for tests and the demo.

Written from `reference/marketplaces.md` and its sources (EcomPHP/tiktokshop-php, the transcription of
the common-errors page, the official Node SDK models), never from `connectors/tiktokshop/`: this package
imports nothing from the connectors, so a misreading there is caught here instead of copied.

Request verification (in this order; envelope errors answer HTTP 4xx):
- unknown path -> 36009009 (404); a known path with the wrong HTTP method -> 36009010 "Invalid method" (405);
- `app_key` known, `sign` present, `timestamp` at most 300 s old and at most 30 s ahead of WALL time ->
  36009004; a non-JSON body or a body without `Content-Type: application/json` -> 36009022;
- `sign` = hex_lower(HMAC_SHA256(app_secret, app_secret + path + sorted(key + value of every query
  parameter except sign and access_token) + raw body + app_secret)) -> else 106001. Whether empty values
  take part is [unconfirmed]: a request carrying an empty-valued signed parameter is refused under both
  readings (106001), so a connector must never send one;
- `x-tts-access-token`: missing -> 36009004; unknown or dead -> the shop's `invalid_token_code` (105001 by
  default; 101000 or 36009004 seedable, the platform uses all three); expired -> 105002;
- `shop_cipher`: left out on /authorization/* (present -> 36009004 "Unexpected identifier"); required
  elsewhere (missing -> 106013); a cipher of a shop outside the token's seller -> 36009004.
Business errors (12xxxxxx, 98001004) answer with the shop's `business_error_http_status`, HTTP 200 by
default, like the platform. Envelope `{code, message, request_id, data}`.

One token pair per SELLER: `add_shop(..., seller_id=)` groups shops; tokens are valid for every authorized
shop of the seller; `GET /authorization/202309/shops` lists them with id, name, region, seller_type,
cipher, code. After a refresh the old access token lives until its own expiry, the old refresh token dies
at once. Token endpoints: bad app credentials 36009004; bad/used/expired auth code 36004004; an unknown or
spent refresh token 36004005, an expired one 36004001 (the reference lists no refresh codes: these two are
this simulator's reading).

Per-shop behaviour, all seedable through `add_shop(...)` keywords or `set_shop_options(shop_id, ...)`
(`ShopOptions`):
- `region` (titles are 1..255 characters in US/GB/UK, 25..255 elsewhere, on create and partial edit;
  else 98001004 naming `title`); `currency`; `seller_type` LOCAL or CROSS_BORDER;
- `tax_rate`: SKU `price.sale_price` = `tax_exclusive_price` * (1 + tax_rate), rounded to cents
  (cross-border shops default to 0.10, local ones to 0). The price update writes the pre-tax
  `price{amount, currency}` = `tax_exclusive_price`;
- `warehouses` (`add_shop(warehouses=N or [{id, name, type, is_default, effect_status}])`, GET
  /logistics/202309/warehouses). Inventory is per SKU per warehouse. Inventory update without
  `warehouse_id` in a shop with more than one sales warehouse -> 12019028 "Multiple warehouses detected";
  an unknown or non-sales warehouse -> 12052097;
- stock updates only on LIVE (ACTIVATE) products: any other status (PENDING, FAILED, deactivated...) ->
  12052901 "The product in its current status is not available for this operation";
  quantity outside 0..99998 -> 12019024;
- `audit_delay_s` (simulated seconds): create and partial_edit put the product in PENDING; the edit is
  held (reads show the OLD values) until the audit ends, then it is ACTIVATE (edit applied) or FAILED
  (edit dropped, `audit_failed_reasons[{position, reasons, suggestions}]` in the detail). A webhook type 5
  PRODUCT_STATUS_CHANGE `{product_id, status, update_time}` reports it. `fail_next_audit(...)` seeds a
  failure. Default 0: the audit ends at the next request or tick after the write;
- price locks: `lock_price(product_id, sku_id)` -> the product's price update answers 12019045
  "price is locked";
- search: at most `search_result_cap` (10,000) results are served; the page past it answers 12052180;
  `total_count` is capped at `total_count_cap` (10,000) so the true size is hidden. Page tokens are
  random ids mapped server side (bound to the query; a token reused with another query -> 98001004);
- `refused_event_types`: webhook registration of these types is refused (98001004) as for unknown types,
  without affecting the others; `invalid_token_code`; `business_error_http_status`;
- `refuse_image_urls` (default on): `main_images` must be uris of uploaded images; a URL or a uri never
  uploaded by the seller answers 12052722 "The image URI does not exist in TikTok Shop." (off: any uri).

Publishing (issue 16): POST /product/202309/images/upload (multipart `data` + `use_case`, no shop_cipher,
the body unsigned; JPG/JPEG/PNG up to 5 MB) stores the bytes and answers `{uri, url, width, height}`. A
seeded catalog (`connectors.simulator.catalog`): GET /product/202309/categories (ids 600000 + n; the
demo's 600001..600027 are leaves without mandatory attributes, 600101..600108 have mandatory ones),
/categories/{id}/attributes (`is_requried`, sic; values; is_customizable; sales properties Color and Size)
and /brands (page_token). Create refuses a category that is no leaf, a missing mandatory attribute, an
attribute of another category, a value of a non-customizable attribute outside its list, an unknown brand
(all 98001004 naming the parameter), and stock without `warehouse_id` in a multi-warehouse shop
(12019028). Partial edit with `skus` replaces the property: SKUs with an id are kept (and edited), SKUs
without one are added (each with `inventory[{warehouse_id, quantity}]`), SKUs left out are removed, all
when the audit passes; the answer lists the SKU ids at once. Control over HTTP:
POST /_simulator/shops/{id}/warehouses {count | warehouses}, /_simulator/shops/{id}/options,
/_simulator/products/{id}/fail_next_audit {reason}; GET /_simulator/images/{uri}.

Orders: `place_order` lists ONE line item per unit (no quantity), each with id, product_id, sku_id,
seller_sku, sale_price, currency and its own `display_status`; placing lowers the SKU's available
inventory (the default warehouse first) and moves the units to `reserved`; a whole cancellation
(`set_order_status(id, "CANCELLED")`) or a line cancellation (`cancel_line`) gives them back, IN_TRANSIT
or later consumes them. GET /order/202309/orders?ids= (<= 50, unknown ids left out) and POST
/order/202309/orders/search (query page_size <= 100, page_token; body update_time_ge/lt, create_time_ge/lt,
order_status). Order and product times come from the simulated clock.

Webhooks: PUT /event/202309/webhooks `{address, event_type}` one type at a time (GET lists, DELETE
removes). Payload `{type, tts_notification_id, shop_id, timestamp, data}`, header Authorization =
hex_lower(HMAC_SHA256(app_secret, app_key + raw body)). Types 1 ORDER_STATUS_CHANGE, 5
PRODUCT_STATUS_CHANGE, 6 SELLER_DEAUTHORIZATION, 7 UPCOMING_AUTHORIZATION_EXPIRATION, 11
CANCELLATION_STATUS_CHANGE, 15 PRODUCT_INFORMATION_CHANGE, 16 PRODUCT_CREATION, 68 INVENTORY_CHANGED.
Any 2xx acknowledges; a failed push is retried with the SAME body 2 min, 30 min, 3 h and 12 h after the
first attempt on the simulated clock (`RetryingSender`), then it is gone (there is no lost-push API).

Clock: `clock=` (a `SimClock`, created when not given, exposed as `sim.clock`) drives retries, audits,
token lifetimes and order/product times; request timestamps are checked against wall time. A background
tick (every 0.1 s while served) ends due audits and sends due retries; `pump()` does it synchronously.

Faults (`FaultPlan`, `sim.faults`): THROTTLE -> 429 + 36009002 + Retry-After: 1; SERVER_ERROR -> 500 +
36009003 before anything is applied; TIMEOUT -> applied, then the answer is held. `rate_limit_per_minute`
(per shop) and `daily_quota` both answer 429 + 36009002: the platform documents no quota code.

Simplifications (deliberate): line cancellation is
immediate (no buyer request flow); SKU-level statuses are not modelled (the product's status decides).

The simulator lives beside the connector it checks and imports nothing from it (nor from
`connectors.base` or `connectors.retry`): `codes`, `state`, `requests`, `signing`, `server` (the app and its
routes, and `run`). What every simulator shares is `connectors.simulator.common`.
"""
