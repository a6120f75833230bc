# Auto-binding beyond the exact match: SKU keys, shop prefix/suffix, ambiguity, exclusion, the scoped loader.
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import sqlalchemy as sa

from connectors.base import ListingStatus, RemoteListing, RemoteSku, StockLocation
from syncstore.catalog import bindings
from syncstore.catalog.commands import create_product
from syncstore.catalog.sku_keys import key_expr, normalize, sku_key
from syncstore.db.engine import transaction
from syncstore.db.models import PlatformConnection, PlatformListingSku
from syncstore.plan import reconcile
from syncstore.security.auth import Actor
from syncstore.sync import snapshot
from tests.syncstore.test_reconcile import desired_row, listing_row, run_plan, sku_row

UNBOUND = {"variant_id": None, "base_price": None, "base_stock": None}


def test_keys_ignore_case_spaces_and_dashes_and_strip_a_shop_prefix_and_suffix() -> None:
    assert normalize(" Lin - 10 x ") == normalize("LIN10X") == "lin10x"
    assert sku_key("SHP-lin-10-MY", "shp-", "-my") == "lin10"
    assert sku_key("SHP", "shp", "") == "shp"  # nothing would be left: kept whole
    assert sku_key("--", None, None) is None
    frame = pl.DataFrame({"sku": [" Lin - 10 x ", "--", None]})
    assert frame.select(key_expr(pl.col("sku")))["sku"].to_list() == ["lin10x", None, None]


def test_a_seller_sku_spelled_differently_is_bound() -> None:
    result = run_plan(
        [desired_row()], [sku_row(seller_sku="lin 10", **UNBOUND)], [listing_row(listing_product_id=None)]
    )
    row = result.row(0, named=True)
    assert (row["listing_action"], row["auto_bound"], row["variant_id"]) == ("bind", True, 10)


def test_the_stored_key_with_the_prefix_stripped_is_what_binds() -> None:
    prefixed = sku_row(seller_sku="SHP-LIN-10", sku_key=sku_key("SHP-LIN-10", "SHP-", None), **UNBOUND)
    result = run_plan([desired_row()], [prefixed], [listing_row(listing_product_id=None)])
    assert result.select("listing_action", "listing_sku_id").rows() == [("bind", 1000)]
    without = run_plan(
        [desired_row()], [sku_row(seller_sku="SHP-LIN-10", **UNBOUND)], [listing_row(listing_product_id=None)]
    )
    assert sorted(without["listing_action"].to_list()) == ["create", "orphan"]


def test_two_master_skus_with_one_key_bind_nothing() -> None:
    desired = [desired_row(), desired_row(variant_id=11, sku="LIN10")]
    result = run_plan(desired, [sku_row(seller_sku="lin-10", **UNBOUND)], [listing_row(listing_product_id=None)])
    orphan = result.filter(pl.col("listing_action") == "orphan").row(0, named=True)
    assert orphan["orphan_reason"] == "ambiguous: 2 master SKUs share the key 'lin10'"
    assert result.filter(pl.col("listing_action") == "bind").height == 0


def test_an_excluded_sku_is_ignored_and_never_bound() -> None:
    excluded = sku_row(seller_sku="LIN-10", binding_excluded=True, **UNBOUND)
    result = run_plan([desired_row()], [excluded], [listing_row(listing_product_id=None)])
    assert result.select("listing_action", "listing_sku_id").rows() == [("create", None)]


def _remote(item: str, *skus: tuple[str, str, int]) -> RemoteListing:
    return RemoteListing(
        platform="shopee", shop_id="1001", item_id=item, status=ListingStatus.ACTIVE, title="Shirt",
        updated_at=datetime.now(UTC),
        skus=tuple(RemoteSku(sku_id=sid, seller_sku=seller, price=Decimal("9.90"),
                             stock=(StockLocation(quantity=stock),)) for sid, seller, stock in skus),
    )  # fmt: skip


def test_the_snapshot_stores_keys_and_the_scoped_loader_finds_them_through_the_index(engine: sa.Engine) -> None:
    cli = Actor.command_line()
    with transaction(engine) as session:
        product = create_product(cli, session, {"title": "Shirt", "category": "Shirts", "base_price": "9.90",
                                                "variants": [{"sku": "LIN-10", "name": "S", "stock": 3}]})  # fmt: skip
        other = create_product(cli, session, {"title": "Mug", "category": "Mugs", "base_price": "3.00",
                                              "variants": [{"sku": "MUG-1", "name": "One", "stock": 1}]})  # fmt: skip
        shop = PlatformConnection(
            platform="shopee", shop_id="1001", shop_name="S", status="connected", sku_prefix="MY-"
        )
        session.add(shop)
        session.flush()
        product_id, other_id, shop_id = product.id, other.id, shop.id
        snapshot.store(
            session, shop_id, "shopee", [_remote("1", ("a", "my-Lin 10", 5)), _remote("2", ("b", "mug1", 1))]
        )
    with transaction(engine) as session:
        keys = {
            row.seller_sku: row.sku_key
            for row in session.execute(sa.select(PlatformListingSku.seller_sku, PlatformListingSku.sku_key))
        }
    assert keys == {"my-Lin 10": "lin10", "mug1": "mug1"}
    remote_skus, _ = reconcile.load_remote(engine, shop_id, product_ids=[product_id])
    assert remote_skus["seller_sku"].to_list() == ["my-Lin 10"]  # the mug's SKU is outside the scope
    remote_skus, _ = reconcile.load_remote(engine, shop_id, product_ids=[other_id])
    assert remote_skus["seller_sku"].to_list() == ["mug1"]
    # Changing the shop's prefix recomputes the keys: with none, "my-Lin 10" no longer matches LIN-10.
    with transaction(engine) as session:
        bindings.set_shop_affixes(cli, session, shop_id, prefix="", suffix="")
    remote_skus, _ = reconcile.load_remote(engine, shop_id, product_ids=[product_id])
    assert remote_skus.height == 0
