# Sellable quantity per shop and variant: the shop's source locations summed, bundles from their components.
"""Availability per channel.

A shop's available quantity of a variant is the sum, over the shop's source locations (all active
locations when it chose none), of max(0, on hand - reserved) at each location. A bundle's is the
minimum over its components of floor(component's available in that shop / quantity); its own
`stock` is ignored. Computed with Polars over the rows of the variants asked for (and the
components of the bundles among them), never a Python loop per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncstore.db.models import BundleComponent, LocationStock, ProductVariant, ShopStockSource, StockLocation

_LEVELS: dict[str, pl.DataType] = {
    "variant_id": pl.Int64(),
    "location_id": pl.Int64(),
    "on_hand": pl.Int64(),
    "reserved": pl.Int64(),
}
_PARTS: dict[str, pl.DataType] = {
    "bundle_variant_id": pl.Int64(),
    "component_variant_id": pl.Int64(),
    "quantity": pl.Int64(),
}
_SOURCES: dict[str, pl.DataType] = {"connection_id": pl.Int64(), "location_id": pl.Int64()}
_RESULT: dict[str, pl.DataType] = {"connection_id": pl.Int64(), "variant_id": pl.Int64(), "available": pl.Int64()}
# The pseudo shop of `available_totals`: it sells every active location.
_ALL = -1


@dataclass(frozen=True)
class StockFrames:
    """What channel quantities are computed from, loaded once for a set of variants (None: every variant)."""

    variant_ids: pl.Series  # the variants asked for
    levels: pl.DataFrame  # variant_id, location_id, on_hand, reserved: every active location, default computed
    parts: pl.DataFrame  # bundle_variant_id, component_variant_id, quantity of the bundles asked for
    chosen: pl.DataFrame  # connection_id, location_id: shops' chosen sources (a shop absent sells all)
    active: pl.Series  # active location ids


@contextmanager
def _connection(bind: sa.Engine | Session) -> Iterator[sa.Connection]:
    """The session's connection (its transaction), or one connection of the engine for every read."""
    if isinstance(bind, Session):
        yield bind.connection()
    else:
        with bind.connect() as connection:
            yield connection


def _read(connection: sa.Connection, query: sa.Selectable, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.read_database(query, connection, schema_overrides=dict(schema))


def load_stock(bind: sa.Engine | Session, variant_ids: Sequence[int] | None) -> StockFrames:
    """Totals, per-location rows, bundle components and shop sources for these variants (None: all)."""
    ids = list(variant_ids) if variant_ids is not None else None
    parts_query = sa.select(
        BundleComponent.bundle_variant_id, BundleComponent.component_variant_id, BundleComponent.quantity
    )
    totals_query = sa.select(
        ProductVariant.id.label("variant_id"), ProductVariant.stock.label("on_hand"), ProductVariant.reserved
    )
    rows_query = sa.select(
        LocationStock.variant_id, LocationStock.location_id, LocationStock.on_hand, LocationStock.reserved
    )
    locations_query = sa.select(
        StockLocation.id.label("location_id"), StockLocation.is_default, StockLocation.is_active
    )
    with _connection(bind) as connection:
        if ids is not None:
            parts_query = parts_query.where(BundleComponent.bundle_variant_id.in_(ids))
        parts = _read(connection, parts_query, _PARTS)
        if ids is not None:
            needed = sorted(set(ids) | set(parts["component_variant_id"].to_list()))
            totals_query = totals_query.where(ProductVariant.id.in_(needed))
            rows_query = rows_query.where(LocationStock.variant_id.in_(needed))
        totals = _read(connection, totals_query, {k: v for k, v in _LEVELS.items() if k != "location_id"})
        rows = _read(connection, rows_query, _LEVELS)
        locations = _read(
            connection,
            locations_query,
            {"location_id": pl.Int64(), "is_default": pl.Boolean(), "is_active": pl.Boolean()},
        )
        chosen = _read(connection, sa.select(ShopStockSource.connection_id, ShopStockSource.location_id), _SOURCES)
    default = locations.filter(pl.col("is_default"))["location_id"]
    # A database wiped of its locations still has the implicit default (id 0 here) holding the totals.
    default_id = int(default[0]) if len(default) else 0
    active = pl.concat([locations.filter(pl.col("is_active"))["location_id"], pl.Series([default_id])]).unique()
    others = rows.lazy().filter(pl.col("location_id") != default_id)
    held = others.group_by("variant_id").agg(
        pl.col("on_hand").sum().alias("held"), pl.col("reserved").sum().alias("held_r")
    )
    default_levels = (
        totals.lazy()
        .join(held, on="variant_id", how="left")
        .with_columns(
            location_id=pl.lit(default_id, dtype=pl.Int64),
            on_hand=pl.col("on_hand") - pl.col("held").fill_null(0),
            reserved=pl.col("reserved") - pl.col("held_r").fill_null(0),
        )
        .select(list(_LEVELS))
    )
    levels = pl.concat([default_levels, others.select(list(_LEVELS))]).filter(
        pl.col("location_id").is_in(active.implode())
    )
    asked = pl.Series("variant_id", ids, dtype=pl.Int64) if ids is not None else totals["variant_id"]
    return StockFrames(asked, levels.collect(), parts, chosen, active)


def _sources(frames: StockFrames, shops: pl.LazyFrame) -> pl.LazyFrame:
    """connection_id, location_id: each shop's active source locations (all of them when it chose none)."""
    active = pl.LazyFrame({"location_id": frames.active}, schema={"location_id": pl.Int64()})
    chosen = frames.chosen.lazy()
    picked = chosen.join(shops, on="connection_id").join(active, on="location_id")
    every = shops.join(chosen.select("connection_id").unique(), on="connection_id", how="anti").join(
        active, how="cross"
    )
    return pl.concat([picked.select(list(_SOURCES)), every.select(list(_SOURCES))])


def shop_quantities(frames: StockFrames, connection_ids: Sequence[int]) -> pl.DataFrame:
    """connection_id, variant_id, available (Int64) for every shop given and every variant asked for."""
    shops = pl.LazyFrame({"connection_id": list(connection_ids)}, schema={"connection_id": pl.Int64()})
    per_shop = (
        frames.levels.lazy()
        .join(_sources(frames, shops), on="location_id")
        .group_by("connection_id", "variant_id")
        .agg((pl.col("on_hand") - pl.col("reserved")).clip(lower_bound=0).sum().alias("available"))
    )
    parts = frames.parts.lazy()
    components = parts.select(pl.col("component_variant_id").alias("variant_id"))
    asked = frames.variant_ids.to_frame().lazy()
    base = (
        pl.concat([asked, components])
        .unique()
        .join(shops, how="cross")
        .join(per_shop, on=["connection_id", "variant_id"], how="left")
        .with_columns(pl.col("available").fill_null(0))
    )
    bundles = (
        parts.join(shops, how="cross")
        .join(
            base.rename({"variant_id": "component_variant_id", "available": "component"}),
            on=["connection_id", "component_variant_id"],
            how="left",
        )
        .group_by("connection_id", "bundle_variant_id")
        .agg((pl.col("component").fill_null(0) // pl.col("quantity")).min().alias("bundle_available"))
        .rename({"bundle_variant_id": "variant_id"})
    )
    return (
        asked.join(shops, how="cross")
        .join(base, on=["connection_id", "variant_id"], how="left")
        .join(bundles, on=["connection_id", "variant_id"], how="left")
        .select(
            "connection_id",
            "variant_id",
            pl.coalesce("bundle_available", "available", pl.lit(0)).cast(pl.Int64).alias("available"),
        )
        .sort("connection_id", "variant_id")
        .collect()
    )


def channel_available(
    bind: sa.Engine | Session, variant_ids: Sequence[int] | None, connection_ids: Sequence[int]
) -> pl.DataFrame:
    """connection_id, variant_id, available (Int64): what each shop may sell of each variant (None: every variant)."""
    if not connection_ids:
        return pl.DataFrame(schema=_RESULT)
    return shop_quantities(load_stock(bind, variant_ids), connection_ids)


def available_totals(session: Session, variant_ids: Sequence[int]) -> dict[int, int]:
    """variant id -> available over every active location (bundles computed from their components)."""
    if not variant_ids:
        return {}
    frames = load_stock(session, variant_ids)
    frames = StockFrames(frames.variant_ids, frames.levels, frames.parts, frames.chosen.clear(), frames.active)
    frame = shop_quantities(frames, [_ALL])
    return dict(zip(frame["variant_id"].to_list(), frame["available"].to_list(), strict=True))
