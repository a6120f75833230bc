# The fake marketplace's publishing calls: what a third platform implements for the core's publish flow.
"""Upload, catalog and add-SKU calls of `FakemartConnector` against `FakemartSimulator` (no database)."""

from __future__ import annotations

from decimal import Decimal

from connectors.base import Connector, ShopCredentials, SkuDraft
from tests.connectors.fake_marketplace.simulator import FakemartSimulator
from tests.connectors.fake_marketplace.spec import APP_KEY, APP_SECRET, FakemartConnector


def test_the_fake_marketplace_uploads_images_lists_its_catalog_and_adds_skus() -> None:
    sim = FakemartSimulator(APP_KEY, APP_SECRET, "fm-shop-9")
    sim.access_tokens.add("fm-token")
    connector = FakemartConnector(sim.transport, ShopCredentials(shop_id="fm-shop-9", access_token="fm-token"))
    assert isinstance(connector, Connector)
    uploaded = connector.upload_image(b"\x89PNG fake", "a.png", "image/png")
    assert sim.images[uploaded.image_id] == b"\x89PNG fake"
    assert [c.category_id for c in connector.list_categories()] == ["fm-root", "fm-cat-1"]
    assert connector.list_logistics_channels() == [] and connector.list_brands("fm-cat-1") == []
    item = sim.add_item("Mug", [("MUG-1", Decimal("5.00"), 3)])
    added = connector.add_variants(item.item_id, [SkuDraft(seller_sku="MUG-2", price=Decimal("6.00"), stock=1)])
    assert set(added.sku_ids) == {"MUG-2"}
    assert {s.seller_sku for s in sim.items[item.item_id].skus.values()} == {"MUG-1", "MUG-2"}
