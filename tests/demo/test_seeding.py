# The demo shops start as a merchant's would: the master catalog under the same SKUs, with the planned drift only.
from __future__ import annotations

from decimal import Decimal

from connectors.shopee.simulator.server import ShopeeSimulator
from connectors.tiktokshop.simulator.server import TikTokShopSimulator
from demo import seeding
from syncstore.data import sample_catalog_path


def _master() -> dict[str, tuple[Decimal, int, str]]:
    products = seeding.read_catalog(sample_catalog_path())
    return {v.sku: (v.price, v.stock, p.handle) for p in products if p.active for v in p.variants}


def test_the_sample_catalog_reads_as_254_products_and_953_variants() -> None:
    products = seeding.read_catalog(sample_catalog_path())
    assert len(products) == 254
    assert sum(len(p.variants) for p in products) == 953
    assert all(v.price > 0 for p in products for v in p.variants)


def test_the_shopee_shop_lists_the_master_with_only_the_planned_drift() -> None:
    master = _master()
    sim = ShopeeSimulator()
    shop = seeding.seed_shopee(sim, seeding.read_catalog(sample_catalog_path()))
    remote = {
        model.model_sku or item.item_sku: (model.original_price, model.total_stock)
        for item in sim.state.items.values()
        for model in item.models.values()
    }
    assert set(shop.orphans) == set(remote) - set(master)
    unlisted = {sku for sku, (_, _, handle) in master.items() if handle in shop.unlisted}
    assert len(shop.unlisted) == seeding.UNLISTED_PER_SHOP and unlisted and not unlisted & set(remote)
    stock_differs = {sku for sku in master.keys() & remote.keys() if master[sku][1] != remote[sku][1]}
    price_differs = {sku for sku in master.keys() & remote.keys() if master[sku][0] != remote[sku][0]}
    assert stock_differs <= set(shop.stock_drift) and len(stock_differs) >= seeding.STOCK_DRIFT_PER_SHOP - 2
    assert price_differs == set(shop.price_drift)
    assert set(master) - unlisted == set(remote) - set(shop.orphans)


def test_the_tiktok_shop_lists_the_master_with_only_the_planned_drift() -> None:
    master = _master()
    sim = TikTokShopSimulator()
    shop = seeding.seed_tiktokshop(sim, seeding.read_catalog(sample_catalog_path()))
    remote = {
        sku.seller_sku: (Decimal(sku.price), sku.available) for p in sim.state.products.values() for sku in p.skus
    }
    assert set(shop.orphans) == set(remote) - set(master)
    stock_differs = {sku for sku in master.keys() & remote.keys() if master[sku][1] != remote[sku][1]}
    price_differs = {sku for sku in master.keys() & remote.keys() if master[sku][0] != remote[sku][0]}
    assert stock_differs <= set(shop.stock_drift) and len(stock_differs) >= seeding.STOCK_DRIFT_PER_SHOP - 2
    assert price_differs == set(shop.price_drift)
    assert len(remote) - len(shop.orphans) == shop.listed_skus


def test_the_demo_shops_are_the_realistic_kind_the_reference_describes() -> None:
    """Shopee with two stock locations; a cross-border TikTok Shop with two warehouses and prices plus tax."""
    shopee = ShopeeSimulator()
    seeding.seed_shopee(shopee, seeding.read_catalog(sample_catalog_path()))
    assert tuple(shopee.state.shops[seeding.SHOPEE_SHOP_ID].locations) == seeding.SHOPEE_LOCATIONS
    tiktok = TikTokShopSimulator()
    seeding.seed_tiktokshop(tiktok, seeding.read_catalog(sample_catalog_path()))
    sales = [w for w in tiktok.warehouses(seeding.TIKTOKSHOP_SHOP_ID) if w.type == "SALES_WAREHOUSE"]
    assert len(sales) == 2
    assert tiktok.state.shops[seeding.TIKTOKSHOP_SHOP_ID].options.seller_type == "CROSS_BORDER"
    skus = [sku for product in tiktok.state.products.values() for sku in product.skus]
    assert skus and all(Decimal(sku.sale_price) > Decimal(sku.tax_exclusive_price) for sku in skus)


def test_the_lazada_shop_lists_the_master_with_only_the_planned_drift() -> None:
    from connectors.lazada.simulator.server import LazadaSimulator

    master = _master()
    sim = LazadaSimulator()
    shop = seeding.seed_lazada(sim, seeding.read_catalog(sample_catalog_path()), push_url="http://r/webhooks/lazada")
    remote = {
        sku.seller_sku: (Decimal(sku.price), sku.total_sellable) for p in sim.state.products.values() for sku in p.skus
    }
    assert set(shop.orphans) == set(remote) - set(master)
    stock_differs = {sku for sku in master.keys() & remote.keys() if master[sku][1] != remote[sku][1]}
    price_differs = {sku for sku in master.keys() & remote.keys() if master[sku][0] != remote[sku][0]}
    assert stock_differs <= set(shop.stock_drift) and len(stock_differs) >= seeding.STOCK_DRIFT_PER_SHOP - 2
    assert price_differs == set(shop.price_drift)
    assert len(remote) - len(shop.orphans) == shop.listed_skus
    # Lazada has no push subscription API: the App Console's URL is part of the seeded state.
    assert sim.state.push_url == "http://r/webhooks/lazada"
    assert {p.category_id for p in sim.state.products.values()} == {seeding.LAZADA_CATEGORY_ID}
