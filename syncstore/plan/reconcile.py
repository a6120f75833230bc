# Reconciliation: three-way diff of master (desired), shop snapshot (remote) and last-synced baseline -> a sync plan.
"""Three-way reconciliation, as Polars column expressions (no Python loop per row).

For every (shop, variant) the master catalog wants a value per field (`desired_<f>`: master +
per-platform overrides + sync rules); the shop snapshot says what the marketplace shows
(`remote_<f>`); the baseline says what both agreed on at the last successful sync (`base_<f>`).
Fields: `price` and `stock` (per remote SKU), `title`, `description` and `images` (per remote item).

Per field, in this order (the first rule that holds wins):

1. desired is null -> no action (null): the master does not manage the field on this row.
2. desired == remote -> `in_sync` (whatever the baseline says).
3. base is null -> `push`: never synced (a new binding or a first sync), the master wins.
4. remote is null -> `push`: a bound listing whose remote value is unknown gets the master value.
5. remote == base (so desired != base) -> `push`: the master changed.
6. remote != base -> the marketplace changed (alone, or together with the master):
   - the field is in the row's `adopt_fields` (a sync rule says so) -> `adopt`: the marketplace
     value is taken into the platform override and the baseline (see `syncstore.plan.conflicts`);
   - master-wins fields (`stock`): `push`. Master stock is the ledger of record and marketplace
     orders reach it as order events, so any remote difference is drift to overwrite. This holds
     when both sides moved too (an order on another channel while the snapshot was taken).
   - review fields (`price`, `title`, `description`, `images`): `conflict`, for a person to settle.

Comparisons are exact and null-safe: prices are `Decimal(12, 2)` (never float), texts compare as
given, images as ordered lists (the first image is the cover).

Per listing (`plan`), for each (shop, variant) and each remote SKU of the shop:

- `create`: a variant the shop should list with no remote SKU bound. An unbound remote SKU whose
  key (`syncstore.catalog.sku_keys`: case, white space and dashes ignored, the shop's prefix and
  suffix stripped; the stored `sku_key`, else computed from the seller SKU) equals the variant's
  SKU key is bound instead (`bind`, `auto_bound`). A key shared by several unbound remote SKUs of
  the shop, or by several open variants, binds nothing: those SKUs stay orphans with an
  `orphan_reason` saying so. A SKU a person excluded (`binding_excluded`) is left out entirely.
  `listing_id` of a `create` row names the shop's listing of the same product when there is one
  (add a SKU to it), else null (a new listing).
- `bind`: bind the remote SKU to the variant; field actions apply as for any bound row (with no
  baseline yet, every differing field is pushed). `auto_bound` is the signal to bind, whatever the
  listing action: a matched SKU can also be `activate`d or `deactivate`d in the same plan.
- `orphan`: a remote SKU bound to no variant and matching none by seller SKU.
- `deactivate`: the product is inactive or deleted, the variant inactive, or a sync rule excludes
  the channel (`excluded`), and the remote listing is active. Not listed: no row at all.
- `activate`: the variant should be listed and its remote listing is inactive (listed again; the
  schema keeps no baseline of the status, so the master wins).
- `update`: a bound, wanted row with at least one field to `push` or `adopt`.
- `none`: bound and nothing to do (in sync, or only conflicts waiting for a person).

A remote listing whose status is `deleted` counts as absent (its variants are created again; the
sync replaces the stale binding). A remote SKU bound to a variant that
is not in `desired` is outside the plan (plan a subset of products with the matching remote rows).
Field actions are kept only on rows the shop should list (null on `deactivate`, `orphan` and
unwanted `none` rows). Item fields repeat on every SKU row of a listing; `summary` counts them
once per listing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from syncstore.catalog.sku_keys import key_expr, normalize
from syncstore.db.models import (
    MasterProduct,
    PlatformConnection,
    PlatformListing,
    PlatformListingSku,
    PlatformOverride,
    ProductVariant,
)

MONEY: Final = pl.Decimal(12, 2)
TEXT_LIST: Final = pl.List(pl.String)

FIELD_ACTIONS: Final = ("in_sync", "push", "adopt", "conflict")
LISTING_ACTIONS: Final = ("create", "bind", "update", "activate", "deactivate", "orphan", "none")
FieldAction: Final = pl.Enum(FIELD_ACTIONS)
ListingAction: Final = pl.Enum(LISTING_ACTIONS)


@dataclass(frozen=True)
class Field:
    """A diffed listing field: where it lives on the marketplace and who wins a marketplace edit."""

    name: str
    dtype: pl.DataType
    # "sku": per remote SKU (platform_listing_skus); "item": per remote item (platform_listings).
    level: Literal["sku", "item"]
    # True: a marketplace edit is drift, pushed over; False: a conflict (or adopted by a rule).
    master_wins: bool


FIELDS: Final = (
    Field("price", MONEY, "sku", master_wins=False),
    Field("stock", pl.Int64(), "sku", master_wins=True),
    Field("title", pl.String(), "item", master_wins=False),
    Field("description", pl.String(), "item", master_wins=False),
    Field("images", TEXT_LIST, "item", master_wins=False),
)
FIELD_NAMES: Final = tuple(f.name for f in FIELDS)
MASTER_WINS: Final = frozenset(f.name for f in FIELDS if f.master_wins)
# Fields a platform override may set (the master column of the same name) and their level: a
# variant-level override counts for SKU fields only; item fields take the product-level one.
OVERRIDABLE: Final[Mapping[str, tuple[pl.DataType, Literal["sku", "item"]]]] = {
    "price": (MONEY, "sku"),
    "title": (pl.String(), "item"),
    "description": (pl.String(), "item"),
    "images": (TEXT_LIST, "item"),
}

RulesFn = Callable[[pl.DataFrame], pl.DataFrame]

# --- frame schemas --------------------------------------------------------------------------

VARIANTS_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "product_id": pl.Int64(),
    "variant_id": pl.Int64(),
    "sku": pl.String(),
    "product_status": pl.String(),  # active | inactive | deleted
    "variant_active": pl.Boolean(),
    "title": pl.String(),
    "description": pl.String(),
    "category": pl.String(),
    "tags": TEXT_LIST,
    "images": TEXT_LIST,
    "currency": pl.String(),
    "price": MONEY,  # the variant's price, else the product's base price
    "stock": pl.Int64(),
    "reserved": pl.Int64(),
    "available": pl.Int64(),  # stock - reserved
}
OVERRIDES_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "product_id": pl.Int64(),
    "variant_id": pl.Int64(),  # null: applies to every variant of the product
    "platform": pl.String(),
    "field": pl.String(),
    "value": pl.String(),  # JSON text as stored (a price is a JSON string such as "19.90")
    "from_platform": pl.Boolean(),  # taken from the marketplace: final, price rules leave it as it is
}
SHOPS_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "connection_id": pl.Int64(),
    "platform": pl.String(),
    "shop_id": pl.String(),
    "shop_key": pl.String(),  # "<platform>-<shop_id>", the Dagster partition key
}
REMOTE_SKUS_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "listing_sku_id": pl.Int64(),  # platform_listing_skus.id
    "listing_id": pl.Int64(),
    "connection_id": pl.Int64(),
    "shop_key": pl.String(),
    "variant_id": pl.Int64(),  # null: unbound
    "remote_sku_id": pl.String(),
    "seller_sku": pl.String(),
    "sku_key": pl.String(),  # null: computed from seller_sku
    "binding_excluded": pl.Boolean(),  # a person excluded the SKU: ignored by the plan
    "remote_price": MONEY,
    "base_price": MONEY,
    "remote_stock": pl.Int64(),
    "base_stock": pl.Int64(),
}
REMOTE_LISTINGS_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "listing_id": pl.Int64(),  # platform_listings.id
    "connection_id": pl.Int64(),
    "shop_key": pl.String(),
    "platform": pl.String(),
    "listing_product_id": pl.Int64(),  # the bound master product, null for an orphan item
    "remote_item_id": pl.String(),
    "remote_status": pl.String(),  # connectors.base.ListingStatus value: active | inactive | deleted | other
    "remote_title": pl.String(),
    "base_title": pl.String(),
    "remote_description": pl.String(),
    "base_description": pl.String(),
    "remote_images": TEXT_LIST,
    "base_images": TEXT_LIST,
}
# What rules_fn must add (the contract of syncstore.plan.rules.apply_rules).
RULES_OUTPUT_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "desired_price": MONEY,
    "desired_stock": pl.Int64(),
    "excluded": pl.Boolean(),
    "adopt_fields": TEXT_LIST,
    "price_rule": pl.String(),
    "stock_rule": pl.String(),
}
DESIRED_SCHEMA: Final[Mapping[str, pl.DataType]] = {
    "shop_key": pl.String(),
    "connection_id": pl.Int64(),
    "platform": pl.String(),
    "product_id": pl.Int64(),
    "variant_id": pl.Int64(),
    "sku": pl.String(),
    "active": pl.Boolean(),  # product active and variant active
    "excluded": pl.Boolean(),
    "adopt_fields": TEXT_LIST,
    "price_rule": pl.String(),
    "stock_rule": pl.String(),
    **{f"desired_{f.name}": f.dtype for f in FIELDS},
}
_DESIRED_KEYS: Final = ("shop_key", "variant_id", "sku")
_REMOTE_SKU_KEYS: Final = ("shop_key", "listing_id", "listing_sku_id")
_REMOTE_LISTING_KEYS: Final = ("shop_key", "listing_id")


def _conform(
    frame: pl.DataFrame, schema: Mapping[str, pl.DataType], required: Sequence[str], name: str
) -> pl.DataFrame:
    """Cast the schema's columns, add the missing optional ones as nulls; other columns pass through."""
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} frame lacks required columns {missing}")
    return frame.with_columns(
        pl.col(column).cast(dtype) if column in frame.columns else pl.lit(None, dtype=dtype).alias(column)
        for column, dtype in schema.items()
    )


# --- desired state --------------------------------------------------------------------------


def no_rules(frame: pl.DataFrame) -> pl.DataFrame:
    """The rules step with no rules: list every variant at its price with all available stock."""
    return frame.with_columns(
        desired_price=pl.col("price"),
        desired_stock=pl.col("available").clip(lower_bound=0),
        excluded=pl.lit(False),
        adopt_fields=pl.lit([], dtype=TEXT_LIST),
        price_rule=pl.lit(None, dtype=pl.String),
        stock_rule=pl.lit(None, dtype=pl.String),
    )


def _decoded(field: str, dtype: pl.DataType) -> pl.Expr:
    value = pl.col("value").str.json_decode(pl.String() if dtype == MONEY else dtype)
    # A price override is a JSON string ("19.90") or number; anything unreadable leaves the master value.
    return (value.cast(MONEY, strict=False) if dtype == MONEY else value).alias(field)


def _apply_overrides(frame: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """Replace master values by per-platform overrides: variant-level first, then product-level.

    Adds `price_from_platform`: the price is an override taken from the marketplace (adopted, or
    "use platform" on a conflict), which `desired_state` keeps out of the price rules.
    """
    overrides = _conform(overrides, OVERRIDES_SCHEMA, ("product_id", "platform", "field", "value"), "overrides")
    overrides = overrides.with_columns(pl.col("from_platform").fill_null(False))
    frame = frame.with_columns(price_from_platform=pl.lit(False))
    for field, (dtype, level) in OVERRIDABLE.items():
        rows = overrides.filter(pl.col("field") == field)
        if rows.is_empty():
            continue
        rows = rows.with_columns(_decoded(field, dtype))
        candidates: list[pl.Expr] = []
        flags: list[tuple[pl.Expr, pl.Expr]] = []
        scopes = [("variant_id", f"_variant_{field}"), ("product_id", f"_product_{field}")]
        for key, column in scopes if level == "sku" else scopes[1:]:
            scoped = rows.filter(pl.col("variant_id").is_null() if key == "product_id" else pl.col(key).is_not_null())
            scoped = scoped.unique([key, "platform"], keep="last", maintain_order=True)
            values = scoped.select(
                key, "platform", pl.col(field).alias(column), pl.col("from_platform").alias(f"{column}_fp")
            )
            frame = frame.join(values, on=[key, "platform"], how="left")
            candidates.append(pl.col(column))
            flags.append((pl.col(column).is_not_null(), pl.col(f"{column}_fp")))
        if field == "price":
            chain: Any = pl
            for present, flag in flags:
                chain = chain.when(present).then(flag)
            frame = frame.with_columns(price_from_platform=chain.otherwise(pl.lit(False)).fill_null(False))
        frame = frame.with_columns(pl.coalesce(*candidates, pl.col(field)).alias(field)).drop(
            [c for _, column in scopes for c in (column, f"{column}_fp") if c in frame.columns]
        )
    return frame


def desired_state(
    variants: pl.DataFrame, overrides: pl.DataFrame, shops: pl.DataFrame, rules_fn: RulesFn
) -> pl.DataFrame:
    """What every shop should show for every master variant (active or not).

    Inputs: `variants` (VARIANTS_SCHEMA, see `load_variants`), `overrides` (OVERRIDES_SCHEMA: one
    row per (product, variant or null, platform, field) with the JSON value), `shops`
    (SHOPS_SCHEMA), and `rules_fn` (e.g. `functools.partial(syncstore.plan.rules.apply_rules, rules=...)`
    or `no_rules`). The variants are crossed with the shops; overrides for the shop's platform
    replace `price` (a variant-level override, else a product-level one, which then stands for
    every variant of the product, own variant prices included), `title`, `description` and
    `images` (product-level only); a later duplicate wins, an unreadable price is ignored. Then
    `rules_fn` adds the RULES_OUTPUT_SCHEMA columns from `price` and `available`; a price override
    taken from the marketplace (`from_platform`) is kept as it is (price_rule "marketplace value").

    Returns DESIRED_SCHEMA (shop_key, connection_id, platform, product_id, variant_id, sku, active,
    excluded, adopt_fields, price_rule, stock_rule, desired_price, desired_stock, desired_title,
    desired_description, desired_images) followed by the remaining input columns (category,
    currency, tags, ...), one row per (shop_key, variant_id), sorted by them.
    """
    variants = _conform(variants, VARIANTS_SCHEMA, ("product_id", "variant_id", "sku", "price"), "variants")
    variants = variants.with_columns(
        pl.col("available").fill_null(pl.col("stock") - pl.col("reserved").fill_null(0)),
        pl.col("product_status").fill_null("active"),
        pl.col("variant_active").fill_null(True),
        pl.col("tags").fill_null([]),
        pl.col("images").fill_null([]),
    )
    shops = _conform(shops, SHOPS_SCHEMA, ("connection_id", "platform", "shop_key"), "shops")
    frame = variants.join(shops, how="cross")
    frame = _apply_overrides(frame, overrides)
    frame = rules_fn(frame)
    missing = [column for column in RULES_OUTPUT_SCHEMA if column not in frame.columns]
    if missing:
        raise ValueError(f"rules_fn did not add {missing}")
    frame = frame.with_columns(
        [pl.col(column).cast(dtype) for column, dtype in RULES_OUTPUT_SCHEMA.items()],
    )
    # A price taken from the marketplace is final: marking it up again would change it on every
    # sync (adopt -> markup -> push -> adopt ...).
    from_platform = pl.col("price_from_platform")
    frame = frame.with_columns(
        desired_price=pl.when(from_platform).then(pl.col("price").cast(MONEY)).otherwise(pl.col("desired_price")),
        price_rule=pl.when(from_platform).then(pl.lit("marketplace value")).otherwise(pl.col("price_rule")),
    ).with_columns(
        active=(pl.col("product_status") == "active") & pl.col("variant_active"),
        excluded=pl.col("excluded").fill_null(False),
        adopt_fields=pl.col("adopt_fields").fill_null([]),
        desired_title=pl.col("title"),
        desired_description=pl.col("description"),
        desired_images=pl.col("images"),
    )
    front = list(DESIRED_SCHEMA)
    return frame.select(*front, pl.exclude(front)).sort("shop_key", "variant_id")


# --- three-way classification ---------------------------------------------------------------


def _action(name: str) -> pl.Expr:
    return pl.lit(name, dtype=FieldAction)


def diffed_fields(columns: Sequence[str]) -> list[str]:
    """The fields that can be classified: those with desired_, remote_ and base_ columns."""
    names = {column.removeprefix("desired_") for column in columns if column.startswith("desired_")}
    ordered = [f for f in FIELD_NAMES if f in names] + sorted(names - set(FIELD_NAMES))
    return [f for f in ordered if f"remote_{f}" in columns and f"base_{f}" in columns]


def field_action(field: str, *, master_wins: bool | None = None, adopt_fields: str | None = "adopt_fields") -> pl.Expr:
    """The `<field>_action` expression (FieldAction enum) of the three-way rules in the module docstring."""
    desired, remote, base = pl.col(f"desired_{field}"), pl.col(f"remote_{field}"), pl.col(f"base_{field}")
    if master_wins is None:
        master_wins = field in MASTER_WINS
    adopted = pl.col(adopt_fields).list.contains(pl.lit(field)).fill_null(False) if adopt_fields else pl.lit(False)
    return (
        pl.when(desired.is_null())
        .then(pl.lit(None, dtype=FieldAction))
        .when(desired.eq_missing(remote))
        .then(_action("in_sync"))
        .when(base.is_null() | remote.is_null() | (remote == base))
        .then(_action("push"))
        .when(adopted)
        .then(_action("adopt"))
        .otherwise(_action("push" if master_wins else "conflict"))
        .alias(f"{field}_action")
    )


def classify_fields(joined: pl.DataFrame, fields: Sequence[str] | None = None) -> pl.DataFrame:
    """Add `<field>_action` (FieldAction enum: in_sync | push | adopt | conflict, or null) per field.

    `joined` has `desired_<f>`, `remote_<f>` and `base_<f>` for each field (by default every field
    that has all three; `stock` is master-wins, any other field is a review field) and optionally
    `adopt_fields` (list[str]). All other columns pass through unchanged.
    """
    names = list(fields) if fields is not None else diffed_fields(joined.columns)
    adopt = "adopt_fields" if "adopt_fields" in joined.columns else None
    return joined.with_columns(field_action(f, adopt_fields=adopt) for f in names)


# --- the plan -------------------------------------------------------------------------------


def _listing_action(fields: Sequence[str]) -> pl.Expr:
    bound = pl.col("listing_sku_id").is_not_null()
    wanted = pl.col("active") & ~pl.col("excluded")
    remote_status = pl.col("remote_status").fill_null("")
    changes = pl.any_horizontal([pl.col(f"{f}_action").is_in(["push", "adopt"]).fill_null(False) for f in fields])

    def action(name: str) -> pl.Expr:
        return pl.lit(name, dtype=ListingAction)

    return (
        pl.when(~bound)
        .then(pl.when(wanted).then(action("create")))  # not listed and not wanted: nothing (row dropped)
        .when(~wanted)
        .then(
            pl.when(remote_status == "active")
            .then(action("deactivate"))
            .when(pl.col("auto_bound"))
            .then(action("bind"))
            .otherwise(action("none"))
        )
        .when(remote_status == "inactive")
        .then(action("activate"))
        .when(pl.col("auto_bound"))
        .then(action("bind"))
        .when(changes)
        .then(action("update"))
        .otherwise(action("none"))
        .alias("listing_action")
    )


def plan(desired: pl.DataFrame, remote_skus: pl.DataFrame, remote_listings: pl.DataFrame) -> pl.DataFrame:
    """The sync plan: desired state (see `desired_state`) against a shop snapshot and its baseline.

    Inputs: `desired` (DESIRED_SCHEMA; required shop_key, variant_id, sku; missing optional columns
    default: active true, excluded false, no adopted fields, desired values null), `remote_skus`
    (REMOTE_SKUS_SCHEMA) and `remote_listings` (REMOTE_LISTINGS_SCHEMA), e.g. from `load_remote`.

    Returns one row per (shop_key, variant_id) with something to say and one per orphan remote SKU:
    shop_key, connection_id, platform, product_id, variant_id, sku (master side; null for orphans),
    listing_id, listing_sku_id, remote_item_id, remote_sku_id, seller_sku, remote_status (remote
    side; null for creates, except listing_id: the product's existing listing in the shop, if any),
    listing_action (ListingAction enum), auto_bound (bool), active, excluded, then per field
    desired_<f>, remote_<f>, base_<f> and <f>_action (FieldAction enum), then adopt_fields,
    price_rule, stock_rule and the other desired columns. The values to push are desired_<f>
    where <f>_action is `push`; to adopt, remote_<f> where it is `adopt`.
    Sorted by shop_key, variant_id (orphans last), listing_sku_id.
    """
    desired = _conform(desired, DESIRED_SCHEMA, _DESIRED_KEYS, "desired").with_columns(
        pl.col("active").fill_null(True),
        pl.col("excluded").fill_null(False),
        pl.col("adopt_fields").fill_null([]),
    )
    remote_skus = _conform(remote_skus, REMOTE_SKUS_SCHEMA, _REMOTE_SKU_KEYS, "remote_skus")
    remote_listings = _conform(remote_listings, REMOTE_LISTINGS_SCHEMA, _REMOTE_LISTING_KEYS, "remote_listings")

    live = remote_listings.filter(pl.col("remote_status").fill_null("") != "deleted")
    skus = remote_skus.filter(~pl.col("binding_excluded").fill_null(False))
    skus = skus.join(live.drop("connection_id"), on=["shop_key", "listing_id"], how="inner")
    bound = skus.filter(pl.col("variant_id").is_not_null()).with_columns(auto_bound=pl.lit(False))
    unbound = skus.filter(pl.col("variant_id").is_null())
    matched, orphans = _auto_bind(desired, bound, unbound)
    remote = pl.concat([bound, matched.select(bound.columns)], how="vertical")

    joined = desired.join(remote.drop("connection_id", "platform"), on=["shop_key", "variant_id"], how="left")
    joined = joined.with_columns(pl.col("auto_bound").fill_null(False))
    # A variant to create goes into the shop's listing of its product when there is one.
    product_listing = (
        live.filter(pl.col("listing_product_id").is_not_null())
        .group_by("shop_key", "listing_product_id")
        .agg(pl.col("listing_id").min().alias("_product_listing_id"))
        .rename({"listing_product_id": "product_id"})
    )
    joined = joined.join(product_listing, on=["shop_key", "product_id"], how="left")

    fields = diffed_fields(joined.columns)
    joined = classify_fields(joined, fields)
    wanted = pl.col("active") & ~pl.col("excluded")
    joined = joined.with_columns(_listing_action(fields)).with_columns(
        pl.when(pl.col("listing_action") == "create")
        .then(pl.col("_product_listing_id"))
        .otherwise(pl.col("listing_id"))
        .alias("listing_id"),
        *[pl.when(wanted).then(pl.col(f"{f}_action")).alias(f"{f}_action") for f in fields],
    )
    joined = joined.filter(pl.col("listing_action").is_not_null()).drop("_product_listing_id")

    orphan_rows = orphans.with_columns(
        listing_action=pl.lit("orphan", dtype=ListingAction),
        auto_bound=pl.lit(False),
        variant_id=pl.lit(None, dtype=pl.Int64),
        **{f"{f}_action": pl.lit(None, dtype=FieldAction) for f in fields},
    )
    result = pl.concat([joined, orphan_rows], how="diagonal_relaxed")
    front = [
        "shop_key", "connection_id", "platform", "product_id", "variant_id", "sku",
        "listing_id", "listing_sku_id", "remote_item_id", "remote_sku_id", "seller_sku", "remote_status",
        "listing_action", "auto_bound", "active", "excluded",
    ]  # fmt: skip
    for f in fields:
        front += [f"desired_{f}", f"remote_{f}", f"base_{f}", f"{f}_action"]
    front += ["adopt_fields", "price_rule", "stock_rule"]
    rest = [c for c in result.columns if c not in front and c != "listing_product_id"]
    return result.select(*front, *rest).sort("shop_key", "variant_id", "listing_sku_id", nulls_last=True)


def _auto_bind(desired: pl.DataFrame, bound: pl.DataFrame, unbound: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(matched, orphans): unbound remote SKUs whose key is exactly one open variant's key, and the rest.

    A key held by several unbound remote SKUs of a shop (or several open variants) binds none of
    them; those orphans carry an `orphan_reason`.
    """
    open_variants = (
        desired.select("shop_key", "variant_id", key_expr(pl.col("sku")).alias("_sku_key"))
        .join(bound.select("shop_key", "variant_id"), on=["shop_key", "variant_id"], how="anti")
        .filter(pl.col("_sku_key").is_not_null())
        .with_columns(_variants=pl.len().over("shop_key", "_sku_key"))
    )
    keyed = unbound.with_columns(_sku_key=pl.coalesce(pl.col("sku_key"), key_expr(pl.col("seller_sku")))).with_columns(
        _remotes=pl.when(pl.col("_sku_key").is_not_null()).then(pl.len().over("shop_key", "_sku_key")).otherwise(0)
    )
    joined = keyed.drop("variant_id").join(open_variants, on=["shop_key", "_sku_key"], how="left")
    unique = (pl.col("_remotes") == 1) & (pl.col("_variants") == 1)
    matched = joined.filter(pl.col("variant_id").is_not_null() & unique).with_columns(auto_bound=pl.lit(True))
    reason = (
        pl.when(pl.col("_remotes") > 1)
        .then(pl.format("ambiguous: {} SKUs of this shop share the key '{}'", pl.col("_remotes"), pl.col("_sku_key")))
        .when(pl.col("_variants") > 1)
        .then(pl.format("ambiguous: {} master SKUs share the key '{}'", pl.col("_variants"), pl.col("_sku_key")))
        .otherwise(None)
    )
    orphans = (
        keyed.join(matched.select("shop_key", "listing_sku_id"), on=["shop_key", "listing_sku_id"], how="anti")
        .join(
            open_variants.select("shop_key", "_sku_key", "_variants").unique(), on=["shop_key", "_sku_key"], how="left"
        )
        .with_columns(orphan_reason=reason)
        .drop("_sku_key", "_remotes", "_variants")
    )
    return matched.drop("_sku_key", "_remotes", "_variants"), orphans


def summary(plan_frame: pl.DataFrame) -> dict[str, int]:
    """Counts per action: every listing action (`create`, `bind`, ...) and `<field>_<action>`.

    Listing actions count rows. Field actions count existing listings only (rows that are not
    `create`; a create pushes every field by definition), SKU fields once per row and item fields
    once per (shop, listing). Every known key is present, zero when absent.
    """
    counts = {name: 0 for name in LISTING_ACTIONS}
    for row in plan_frame.group_by("listing_action").len().iter_rows():
        counts[str(row[0])] = int(row[1])
    existing = plan_frame.filter(pl.col("listing_action") != "create")
    for field in FIELDS:
        column = f"{field.name}_action"
        for action in FIELD_ACTIONS:
            counts[f"{field.name}_{action}"] = 0
        if column not in plan_frame.columns:
            continue
        rows = existing.filter(pl.col(column).is_not_null())
        if field.level == "item":
            rows = rows.unique(["shop_key", "listing_id"])
        for value, count in rows.group_by(column).len().iter_rows():
            counts[f"{field.name}_{value}"] = int(count)
    return counts


# --- loading from the database --------------------------------------------------------------


def _read(engine: sa.Engine, query: sa.Selectable, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Run `query` into a frame; JSON columns come as text, decoded here to list[str]."""
    text_schema = {name: pl.String() if dtype == TEXT_LIST else dtype for name, dtype in schema.items()}
    with engine.connect() as connection:
        frame = pl.read_database(query, connection, schema_overrides=dict(text_schema))
    return frame.with_columns(
        pl.col(name).str.json_decode(TEXT_LIST) for name, dtype in schema.items() if dtype == TEXT_LIST
    )


def _json_text(column: InstrumentedAttribute[Any]) -> sa.Cast[str]:
    return sa.cast(column, sa.Text)


def _shop_key() -> pl.Expr:
    return pl.concat_str(pl.col("platform"), pl.lit("-"), pl.col("shop_id")).alias("shop_key")


def load_variants(
    engine: sa.Engine, *, product_ids: Sequence[int] | None = None, variant_ids: Sequence[int] | None = None
) -> pl.DataFrame:
    """Master variants with their product's fields (VARIANTS_SCHEMA), inactive and deleted ones included.

    Every variant, or those of `product_ids` / those in `variant_ids` when given.
    """
    query = (
        sa.select(
            MasterProduct.id.label("product_id"),
            ProductVariant.id.label("variant_id"),
            ProductVariant.sku,
            MasterProduct.status.label("product_status"),
            ProductVariant.is_active.label("variant_active"),
            MasterProduct.title,
            MasterProduct.description,
            MasterProduct.category,
            _json_text(MasterProduct.tags).label("tags"),
            _json_text(MasterProduct.images).label("images"),
            MasterProduct.currency,
            sa.func.coalesce(ProductVariant.price, MasterProduct.base_price).label("price"),
            ProductVariant.stock,
            ProductVariant.reserved,
        )
        .join(MasterProduct, MasterProduct.id == ProductVariant.product_id)
        .order_by(ProductVariant.id)
    )
    if product_ids is not None:
        query = query.where(ProductVariant.product_id.in_(list(product_ids)))
    if variant_ids is not None:
        query = query.where(ProductVariant.id.in_(list(variant_ids)))
    schema = {k: v for k, v in VARIANTS_SCHEMA.items() if k != "available"}
    frame = _read(engine, query, schema)
    return frame.with_columns(available=pl.col("stock") - pl.col("reserved")).select(list(VARIANTS_SCHEMA))


def load_overrides(engine: sa.Engine, *, product_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """Every platform override (OVERRIDES_SCHEMA), or those of `product_ids`; oldest first (a later duplicate wins)."""
    query = sa.select(
        PlatformOverride.product_id,
        PlatformOverride.variant_id,
        PlatformOverride.platform,
        PlatformOverride.field,
        _json_text(PlatformOverride.value).label("value"),
        PlatformOverride.from_platform,
    ).order_by(PlatformOverride.id)
    if product_ids is not None:
        query = query.where(PlatformOverride.product_id.in_(list(product_ids)))
    return _read(engine, query, OVERRIDES_SCHEMA)


def load_shops(engine: sa.Engine, connection_id: int | None = None) -> pl.DataFrame:
    """Connected shops (SHOPS_SCHEMA), or the one given."""
    query = sa.select(
        PlatformConnection.id.label("connection_id"), PlatformConnection.platform, PlatformConnection.shop_id
    ).order_by(PlatformConnection.id)
    if connection_id is None:
        query = query.where(PlatformConnection.status == "connected")
    else:
        query = query.where(PlatformConnection.id == connection_id)
    schema = {k: v for k, v in SHOPS_SCHEMA.items() if k != "shop_key"}
    return _read(engine, query, schema).with_columns(_shop_key())


def load_remote_listings(
    engine: sa.Engine, connection_id: int, *, scope: sa.ColumnElement[bool] | None = None
) -> pl.DataFrame:
    """One shop's remote items with remote and baseline item fields (REMOTE_LISTINGS_SCHEMA); `scope` narrows them."""
    query = (
        sa.select(
            PlatformListing.id.label("listing_id"),
            PlatformListing.connection_id,
            PlatformConnection.shop_id,
            PlatformListing.platform,
            PlatformListing.product_id.label("listing_product_id"),
            PlatformListing.remote_item_id,
            PlatformListing.remote_status,
            PlatformListing.remote_title,
            PlatformListing.base_title,
            PlatformListing.remote_description,
            PlatformListing.base_description,
            _json_text(PlatformListing.remote_images).label("remote_images"),
            _json_text(PlatformListing.base_images).label("base_images"),
        )
        .join(PlatformConnection, PlatformConnection.id == PlatformListing.connection_id)
        .where(_in_shop(PlatformListing.connection_id, connection_id, scope is not None))
        .order_by(PlatformListing.id)
    )
    if scope is not None:
        query = query.where(scope)
    schema = {"shop_id": pl.String(), **{k: v for k, v in REMOTE_LISTINGS_SCHEMA.items() if k != "shop_key"}}
    frame = _read(engine, query, schema)
    return frame.with_columns(_shop_key()).select(list(REMOTE_LISTINGS_SCHEMA))


def load_remote_skus(
    engine: sa.Engine, connection_id: int, *, scope: sa.ColumnElement[bool] | None = None
) -> pl.DataFrame:
    """One shop's remote SKUs with remote and baseline price and stock (REMOTE_SKUS_SCHEMA); `scope` narrows them."""
    query = (
        sa.select(
            PlatformListingSku.id.label("listing_sku_id"),
            PlatformListingSku.listing_id,
            PlatformListingSku.connection_id,
            PlatformConnection.platform,
            PlatformConnection.shop_id,
            PlatformListingSku.variant_id,
            PlatformListingSku.remote_sku_id,
            PlatformListingSku.seller_sku,
            PlatformListingSku.sku_key,
            PlatformListingSku.binding_excluded,
            PlatformListingSku.remote_price,
            PlatformListingSku.base_price,
            PlatformListingSku.remote_stock,
            PlatformListingSku.base_stock,
        )
        .join(PlatformConnection, PlatformConnection.id == PlatformListingSku.connection_id)
        .where(_in_shop(PlatformListingSku.connection_id, connection_id, scope is not None))
        .order_by(PlatformListingSku.id)
    )
    if scope is not None:
        query = query.where(scope)
    schema = {
        "platform": pl.String(),
        "shop_id": pl.String(),
        **{k: v for k, v in REMOTE_SKUS_SCHEMA.items() if k != "shop_key"},
    }
    frame = _read(engine, query, schema)
    return frame.with_columns(_shop_key()).select(list(REMOTE_SKUS_SCHEMA))


def _unbound_matching(
    engine: sa.Engine, connection_id: int, keys: Sequence[str], spellings: Sequence[str]
) -> list[int]:
    """Ids of the shop's unbound SKUs whose key is one of `keys` (or, with no stored key, whose seller SKU
    is one of `spellings`): read through the (connection_id, sku_key) and (connection_id, seller_sku)
    indexes, the binding state filtered here so no other index tempts the planner."""
    by_key = sa.select(PlatformListingSku.id, PlatformListingSku.variant_id, PlatformListingSku.sku_key).where(
        PlatformListingSku.connection_id == connection_id, PlatformListingSku.sku_key.in_(list(keys))
    )
    # Rows with no stored key yet (a SKU the sync created, before the next pull); coalesce, not IS NULL,
    # so the (connection_id, seller_sku) index is the one used.
    by_spelling = sa.select(PlatformListingSku.id, PlatformListingSku.variant_id, PlatformListingSku.sku_key).where(
        PlatformListingSku.connection_id == connection_id,
        PlatformListingSku.seller_sku.in_(list(spellings)),
        sa.func.coalesce(PlatformListingSku.sku_key, "") == "",
    )
    with engine.connect() as conn:
        rows = [*conn.execute(by_key), *conn.execute(by_spelling)] if keys or spellings else []
    found = {row.id for row in rows if row.variant_id is None and (row.sku_key is None or row.sku_key in keys)}
    return sorted(found)


def _in_shop(column: InstrumentedAttribute[int], connection_id: int, scoped: bool) -> sa.ColumnElement[bool]:
    """The shop filter; in a scoped load `+ 0` keeps it off the indexes so the scope's own ones are used."""
    return (column + 0 == connection_id) if scoped else (column == connection_id)


def load_remote(
    engine: sa.Engine, connection_id: int, *, product_ids: Sequence[int] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One shop's snapshot and baseline: (remote_skus, remote_listings), the inputs of `plan`.

    With `product_ids`, only what a plan of those products can touch, read through indexes (rows in
    proportion to the products, not to the shop): the SKUs bound to their variants, the unbound SKUs
    whose `sku_key` is one of their SKUs' keys (auto-binding, through the (connection_id, sku_key)
    index; a row with no stored key is matched by its seller SKU's spellings), every SKU of their
    listings, and those listings.
    """
    if product_ids is None:
        return load_remote_skus(engine, connection_id), load_remote_listings(engine, connection_id)
    products = list(product_ids)
    variant_ids = sa.select(ProductVariant.id).where(ProductVariant.product_id.in_(products))
    with engine.connect() as conn:
        skus = conn.scalars(sa.select(ProductVariant.sku).where(ProductVariant.product_id.in_(products))).all()
    spellings = sorted({form for sku in skus for form in (sku, sku.strip(), sku.lower(), sku.upper())})
    keys = sorted({key for sku in skus if (key := normalize(sku)) is not None})
    candidates = _unbound_matching(engine, connection_id, keys, spellings)
    listing_ids = sa.select(PlatformListing.id).where(
        PlatformListing.connection_id == connection_id, PlatformListing.product_id.in_(products)
    )
    remote_skus = load_remote_skus(
        engine,
        connection_id,
        scope=sa.or_(
            PlatformListingSku.variant_id.in_(variant_ids),
            PlatformListingSku.listing_id.in_(listing_ids),
            PlatformListingSku.id.in_(candidates),
        ),
    )
    sku_listings = remote_skus["listing_id"].unique().to_list()
    remote_listings = load_remote_listings(
        engine,
        connection_id,
        scope=sa.or_(PlatformListing.product_id.in_(products), PlatformListing.id.in_(sku_listings)),
    )
    return remote_skus, remote_listings
