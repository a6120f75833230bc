# Local Lazada Open Platform (LazOP) simulator: an independent oracle written from reference/lazada.md.
"""A LazOP that runs on loopback, for tests and the demo.

Written from `reference/lazada.md`, never from `connectors/lazada/`: this package imports nothing from the
connector (nor from `connectors.base` or `connectors.retry`), so a misreading there is caught here.

Gateway (every `/rest/<api>` call, API and auth hosts alike; errors answer HTTP 200 with
`{type, code, message, request_id}`):
- unknown API -> `InvalidApiPath`; a GET on a POST-only API (or the reverse) -> `UnsupportedHTTPMethod`;
- query and form parameters are merged (file parts of a multipart body are never signed); a JSON object
  body's members are merged too ([unconfirmed]: one client sends business parameters that way);
- `app_key`, `timestamp`, `sign_method`, `sign` missing -> `MissingParameter`; unknown app key ->
  `InvalidAppKey`; `sign_method` other than sha256 -> `InvalidParameter`;
- `timestamp` is epoch MILLISECONDS (or `2017-11-11T12:00:00Z`) within 7200 s of WALL time, else
  `InvalidTimestamp` (a seconds value reads as 1970);
- any empty-valued parameter, or `sign` other than UPPERCASE hex HMAC-SHA256(app_secret, api_path +
  byte-sorted name+value pairs) -> `IncompleteSignature` (the case is compared exactly: [doc] says upper);
- seller APIs need `access_token`: missing -> `MissingParameter`; unknown, revoked or expired (simulated
  clock) -> `IllegalAccessToken`;
- `big_sale()` switches the write APIs off (`998`) until `big_sale_over()`;
- inventory APIs allow `inventory_calls_per_s` (50) calls per seller per second -> `ApiCallLimit` "this ban
  will last 1 seconds"; `FaultPlan` THROTTLE -> `ApiCallLimit`, SERVER_ERROR -> `ServiceTimeout`, TIMEOUT ->
  the answer is held.

OAuth: `/oauth/authorize?response_type=code&client_id=&redirect_uri=&state=` auto-approves the first
account (or `authorize_account`) and redirects with a single-use code valid 30 minutes; with
`auto_approve=False` it shows the seller a login page with one link per seller
(`/oauth/authorize/approve?shop_id=`). Token answers are
top level; `country_user_info` (create) / `country_user_info_list` (refresh) list one entry per seller of
the account. Refresh rotates both tokens, the old refresh token dies, the refresh end stays where the
original authorization put it. `IllegalRefreshToken`, `InvalidCode`.

Products (keyed by item id + SKU id; SellerSku unique only within an item): `/products/get` (filter,
update/create windows inclusive, limit <= 50 -> 19, offset <= 10,000 -> 14, bad date -> 17),
`/product/item/get` (item_id; seller_sku -> 4193; 208), `/product/create` (XML or JSON payload; leaf
category else 4134; images must be Lazada-hosted (`/image/upload`, `/image/migrate`) and <= 8; mandatory
category attributes else 4110 with detail; duplicate SellerSku 4108; `AssociatedSku` adds SKUs to an
item). A new product is "Pending QC" until `qc_delay_s` simulated seconds have passed, then Active, or
InActive with subStatus Reject and `rejectReason` after `fail_next_qc`; push type 1 reports it.
`/product/update` (SkuId required per SKU; name, description, images, package, SKU Status; a product with
campaign-locked stock answers 501 THD_IC_ERR_F_IC_ABILITY_PG_001),
`/product/deactivate` (`apiRequestBody`, ItemId; E0004 already inactive; SellerSku key 4193),
`/product/remove` (`sku_id_list` of `SkuId_<item>_<sku>`, <= 50). Pushes 3/4/5 on create/edit/delete.

Stock: per SKU sellable per warehouse, plus withhold (unpaid units), occupy (paid units) and a campaign
lock (`lock_campaign_stock`). `/product/stock/sellable/update` overwrites sellable (XML only),
`/product/stock/sellable/adjust` adds a delta (212 below zero), `/product/price_quantity/update` sets
`Price`, `SalePrice` and TOTAL `Quantity`. <= 50 SKUs (204). Multi-warehouse sellers must use
`MultiWarehouseInventories`, single-warehouse sellers must not. Lowering a locked SKU -> 4170. A call is
applied whole or refused whole, each failing SKU named in `detail[]` (`sku_id`, `seller_sku`, `code`,
`message`). Push type 6 when sellable drops below 5.

Orders: one item row per UNIT with its own status; `place_order` holds stock (withhold when unpaid,
occupy when paid), `set_item_status` moves units (cancel gives stock back, ready_to_ship consumes it) and
pushes type 0 `{order_status, trade_order_id, trade_order_line_id, status_update_time}` per unit.
`/orders/get` (update_after or created_after required, limit <= 100, offset <= 5,000, status filter 36,
sort_by / sort_direction), `/order/get` (16), `/order/items/get`, `/orders/items/get` (`[1,2]`, <= 50).

Pushes: POST JSON to the push URL (`set_push_url`: the App Console's one URL per app key) with
`Authorization` = lower hex HMAC-SHA256(app_secret, app_key + body). Only HTTP 200 within 0.5 s
acknowledges; otherwise it is retried every 30 minutes up to 12 times on the simulated clock, then dropped.
There is no lost-message API. Simplification: a retry re-sends the same body (Lazada re-reads the status).
Categories, attributes and brands are a small fixed catalog (`catalog`).
"""
