# `syncstore categories ...` as an operator runs it: the category map with checked default attributes, from the cache.
from __future__ import annotations

from pathlib import Path

from connectors.base import AttributeValue, RemoteAttribute, RemoteBrand
from syncstore.db import migrate
from syncstore.db.engine import create_engine, transaction
from syncstore.db.models import PlatformConnection, RemoteCategoryRow
from syncstore.publishing import cache
from tests.cli.test_cli import run

MATERIAL = RemoteAttribute(attribute_id="7001", name="Material", mandatory=True, input_type="single_select",
                           values=(AttributeValue(value_id="1", name="Cotton"),), custom_allowed=False)  # fmt: skip
CARE = RemoteAttribute(attribute_id="7003", name="Care label", mandatory=True)


def cached_shop(url: str) -> None:
    """A Shopee shop whose category 100017 (Shirts) and its attributes are in the cache."""
    engine = create_engine(url)
    migrate.upgrade(engine)
    with transaction(engine) as session:
        shop = PlatformConnection(platform="shopee", shop_id="7001", shop_name="Shopee shop", status="connected")
        session.add(shop)
        session.flush()
        session.add(RemoteCategoryRow(connection_id=shop.id, category_id="100017", name="Shirts"))
        session.flush()
        cache.store_category_details(session, shop.id, "100017", [MATERIAL, CARE],
                                     [RemoteBrand(brand_id="B1", name="Acme")])  # fmt: skip
    engine.dispose()


def test_map_show_and_unmap_with_checked_defaults(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'categories.db'}"
    cached_shop(url)
    listed = run(["categories", "list", "shopee", "--search", "shirt"], url, tmp_path)
    assert listed.returncode == 0 and "100017" in listed.stdout and "Shirts" in listed.stdout
    shown = run(["categories", "attributes", "shopee", "100017"], url, tmp_path)  # cached today: no call
    assert shown.returncode == 0 and "Material" in shown.stdout and "Cotton (1)" in shown.stdout

    bad = run(["categories", "map", "shopee", "Fashion", "100017", "--attr", "7001=Silk"], url, tmp_path)
    assert bad.returncode == 1 and "attributes.7001" in bad.stderr and "Material" in bad.stderr
    unknown = run(["categories", "map", "shopee", "Fashion", "999"], url, tmp_path)
    assert unknown.returncode == 1 and "999 is not a shopee category of your shops" in unknown.stderr

    mapped = run(["categories", "map", "shopee", "Fashion", "100017", "--attr", "7001=cotton", "--brand", "B1"],
                 url, tmp_path)  # fmt: skip
    assert mapped.returncode == 0, mapped.stderr
    assert "'Fashion' -> 100017 (Shirts), 1 default attribute values, brand B1" in mapped.stdout
    assert "still missing mandatory attributes: Care label" in mapped.stdout
    table = run(["categories", "show", "shopee"], url, tmp_path)
    assert table.returncode == 0 and "Material=Cotton" in table.stdout
    assert run(["categories", "unmap", "shopee", "Fashion"], url, tmp_path).returncode == 0
    again = run(["categories", "unmap", "shopee", "Fashion"], url, tmp_path)
    assert again.returncode == 1 and "'Fashion' is not mapped on shopee" in again.stderr
