# Local Shopee Open Platform v2 simulator: an independent oracle written from the platform's published reference.
"""A Shopee you can run on 127.0.0.1, written from `shared/reference/marketplaces.md` and Shopee's API
reference (the `schemas/v2.<module>.<api>.json` files), never from `connectors.shopee`: it imports
nothing from the connector (no constants, no signer), so a misreading there is caught here.

Every request is checked like the platform: known partner_id, timestamp within 5 minutes of WALL
time (`error_param` "Timestamp is expired."), the HMAC sign for the kind of call (`error_sign`), an
access token valid for that shop (`invalid_acceess_token`, sic), an authorized shop, batch limits,
the app-wide daily call limit (`error_limit`, shared by every shop of the partner app, resetting at
00:00 UTC+8 on the simulated clock) and an optional per-shop limit per minute (`error_rate_limit`).
Envelope `{request_id, error, message, warning, response}`; the token endpoints and
`shop/get_shop_info` answer with top-level fields.

Time: `sim.clock` is a `SimClock` (passed in as `clock=` or created), which drives token lifetimes,
order times, push retries, lost-push ages and the daily limit. Tests compress it with `advance`.

Per-shop behaviour, set with `add_shop(...)` keywords or `set_shop_options(shop_id, **options)`:
- `region` (default "MY", currency derived unless given): two-decimal prices only in SG, MY, BR,
  MX, PL, ES, AR; elsewhere a price with a fractional part fails the whole update_price call with
  `error_param`. `price_ratio_check` (default on): the highest model price of an item may be at most
  7x the lowest in ID/MY, 5x in SG/VN/TW/TH/PH/MX, 4x in BR, 9x in CL/CO (else `error_param`).
- `locations` (default `("",)`, a shop without warehouses): with several, `get_warehouse_detail`
  lists them with their `location_id`, and update_stock needs `location_id` on every row
  (`error_auth` "Lack of location_id, please double check."); a location that is not the shop's
  (or any `location_id` in a shop without warehouses) is `error_auth` "The location_id input is not
  matched ...". A shop with one location answers get_warehouse_detail with
  `warehouse.error_not_in_whitelist` (the schema's example).
- `holiday_mode`: update_stock and update_price answer `error_auth` "Please wait for the holiday
  mode set then to edit item. Please try later." (the update_stock error table's words).
- `is_cb` / `is_cnsc` (cross-border; CNSC shown as `is_upgraded_cbsc` in get_shop_info): product
  writes answer `error_auth` telling to use the global_product APIs.
- `strict_arrays` (default on): `order_sn_list` and `response_optional_fields` of get_order_detail
  and `item_id_list` of get_item_base_info must be ONE comma-joined value (a repeated key is
  `error_param`); `item_status` of get_item_list must be a repeated key (a comma-joined value is not
  a status: `error_param`). Off: both forms are accepted.
- `module_prefixes` (default on): product calls answer `product.error_param` / `product.error_server`
  and an expired access token is `common.error_auth` "Invalid access_token." (the schemas'
  examples); off: bare codes, and an expired token is `invalid_acceess_token` mentioning expiry.

Business refusals of one item use `error_auth` for the whole call, as Shopee's update_stock error
table does: stock below the promotion-reserved stock ("Total stock must be more than reserved
stock."), holiday mode, missing or wrong `location_id`. A promotion price lock (`lock_price`) fails
update_price with `error_in_item_promotion_item_price_lock` "Can't update price when item is under
promotion." (call-level, from the update_price error list). Token errors stay token errors.

Stock semantics (the reference's "Shopee stock semantics"): `seller_stock` is SELLABLE stock per
location. Placing an order lowers it at once; cancelling gives the active units back; a partial
cancellation (`cancel_units`) gives back those units and shows as `cancelled_qty` / `active_qty` on
the order line; shipping changes nothing more; an update_stock write SETS the sellable stock.
`total_reserved_stock` is stock reserved for promotions only (`set_promotion_reserved`).

Orders: `get_order_list` (time_range_field create_time/update_time, at most 15 days apart, else
`order.order_list_invalid_time` as in the schema's example; page_size 1..100; opaque `cursor`,
`more`, `next_cursor`) and `get_order_detail` (1..50 order numbers; ONE unknown or foreign order
fails the whole call with `error_not_found` "Wrong parameters, detail: the order is not found.",
the schema's example).

Pushes: body `{msg_id, code, shop_id, timestamp, data}` signed `HMAC(partner_key, url + "|" + body)`;
only codes turned on with set_app_push_config (1..13; an unknown code such as 22 fails the whole
call naming it) are sent. Delivered means a 2xx with an EMPTY body. Failed pushes are retried on
`push_retry_schedule` (default 1 min, 5 min, 20 min, 1 h after the first attempt; the platform's
schedule is unconfirmed) by a `RetryingSender`; given up, they become lost pushes whose `timestamp`
is the time of loss, served 100 at a time for 3 days by get_lost_push_message (its `data` is a
JSON string of the whole original message, as the schema's type and example together read) until
confirm_consumed_lost_push_message. Order placed / status change / (partial) cancel push code 3
`data{ordersn, status, update_time, items, completed_scenario}`.

Some items carry `description_type: extended` (`add_item(..., extended_description=True)`): their
`description` is empty and the text is in `description_info.extended_description.field_list`.

Fault injection (`FaultPlan`, replaceable at runtime through `sim.faults`): THROTTLE answers HTTP 429
`error_rate_limit` with `Retry-After: 1`; SERVER_ERROR answers HTTP 500 `error_server` before anything
is applied; TIMEOUT applies the request, then holds the answer `timeout_hold_s`.

Publishing (issue 16):
- `media_space/upload_image` (multipart field `image`, JPG/JPEG/PNG, at most 10 MB) stores the bytes and
  hands out an image_id; its signing is [unconfirmed], `state.upload_kind` picks "public" (default, the
  API reference's type) or "shop" (`set_upload_kind`). add_item / update_item refuse an image URL or an id
  that was never uploaded (by this shop, or public) with `error_param` "Image not exist.".
- A seeded catalog (`connectors.simulator.catalog`) for every shop: `get_category` (ids 100000 + n; the
  demo's 100001..100027 are leaves without mandatory attributes, 100101..100108 have mandatory ones),
  `get_attribute_tree`, `get_brand_list` (brand 0 is "NoBrand"). add_item refuses a category that is no
  leaf (`error_invalid_category`), a missing mandatory attribute (`error_invalid_attribute` "Mandatory
  attribute information required: <names>"), an attribute of another category, a value outside a fixed
  list, an unknown brand (`error_invalid_brand`).
- Logistics: `logistics/get_channel_list` lists the shop's channels (default 20011 Standard Delivery and
  20012 Economy Delivery enabled, 20013 Self Collection disabled; `add_shop(logistics_channels=...)`,
  `set_logistics_channels`, or POST /_simulator/shops/{id}/logistics). add_item needs `logistic_info`
  with at least one enabled channel of the shop (`error_param` "Invalid logistic info, ...").
- Variations: init_tier_variation and update_tier_variation take `standardise_tier_variation` only; the
  deprecated `tier_variation` is refused (`error_param`). add_model adds models to an item with
  variations; update_tier_variation appends options (existing models keep their tier_index).
- Control over HTTP: POST /_simulator/shops/{id}/logistics, POST /_simulator/shops/{id}/options,
  GET /_simulator/images/{image_id} (the uploaded bytes).

Simplifications (documented, not relied upon): `search_item` matches SKU exactly and names by substring;
unknown ids in get_item_base_info are left out with a `warning`; lost pushes and order-list cursors live in
memory only; no test push is sent by set_app_push_config; no code-8 push is sent on promotion changes;
child attributes of attribute values are not modelled.

The simulator lives beside the connector it checks and imports nothing from it (nor from
`connectors.base` or `connectors.retry`): `codes`, `state`, `requests`, `pushes`, `server` (the app and its
routes, and `run`). What every simulator shares is `connectors.simulator.common`.
"""
