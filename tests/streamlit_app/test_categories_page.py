# The Categories page: blocked products per category, mapping to a cached platform category with a mandatory default.
from __future__ import annotations

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from connectors.base import AttributeValue as RemoteValue
from connectors.base import RemoteAttribute, RemoteBrand
from syncstore.db.engine import transaction
from syncstore.db.models import MasterProduct, PlatformConnection, RemoteCategoryRow
from syncstore.db.types import utcnow
from syncstore.publishing import cache, mappings
from tests.streamlit_app.conftest import AppAs, SeededDatabase, frame_with

REMOTE = "100777"


def seed_tree(db: SeededDatabase, platform: str = "shopee") -> str:
    """A cached platform category with a mandatory single-select attribute; returns a master category."""
    engine = db.engine()
    try:
        with transaction(engine) as session:
            shop = session.scalar(sa.select(PlatformConnection).where(PlatformConnection.platform == platform))
            assert shop is not None
            session.add(RemoteCategoryRow(connection_id=shop.id, category_id=REMOTE, parent_id=None,
                                          name="Ceramic Mugs", is_leaf=True, fetched_at=utcnow()))  # fmt: skip
            session.flush()
            material = RemoteAttribute(attribute_id="9001", name="Material", mandatory=True,
                                       input_type="single_select", custom_allowed=False,
                                       values=(RemoteValue(value_id="1", name="Porcelain"),
                                               RemoteValue(value_id="2", name="Stoneware")))  # fmt: skip
            brands = [RemoteBrand(brand_id="55", name="Acme")]
            cache.store_category_details(session, shop.id, REMOTE, [material], brands)
            category = session.scalar(sa.select(MasterProduct.category).order_by(MasterProduct.id).limit(1))
            assert category is not None
            return category
    finally:
        engine.dispose()


def click(at: AppTest, label: str) -> AppTest:
    return at.button[[b.label for b in at.button].index(label)].click().run()


def test_every_category_shows_its_blocked_products(app_as: AppAs) -> None:
    at = app_as("viewer", "categories")
    assert not at.exception, at.exception
    frame = frame_with(at, "blocked products")
    assert set(frame["status"]) == {"not mapped"}
    assert list(frame["blocked products"]) == list(frame["products"])
    assert any("cannot be listed yet" in e.label for e in at.expander)
    assert "Refresh from shop" not in [b.label for b in at.button]


def test_an_editor_maps_a_category_with_a_mandatory_default_and_brand(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    category = seed_tree(sqlite_seeded_db)
    at = sqlite_app_as("editor", "categories")
    at.selectbox(key="categories_pick_shopee").select(category).run()
    assert not at.exception, at.exception
    at.text_input(key=f"cat_search_shopee_{category}").input("mug").run()
    key = f"cat_shopee_{category}_{REMOTE}"
    at.selectbox(key=f"{key}-9001-one").select("2").run()
    at.selectbox(key=f"{key}_brand").select("55").run()
    click(at, "Save mapping")
    assert not at.exception, at.exception
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        mapping = mappings.get_category_mapping(session, "shopee", category)
    engine.dispose()
    assert mapping is not None and mapping.remote_category_id == REMOTE
    assert mapping.defaults["9001"].value_ids == ("2",) and mapping.brand_id == "55"
    frame = frame_with(at, "blocked products")
    row = list(frame["category"]).index(category)
    assert frame["status"][row] == "ready" and frame["blocked products"][row] == 0


def test_a_mapping_without_the_mandatory_value_blocks_the_products(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    category = seed_tree(sqlite_seeded_db)
    at = sqlite_app_as("editor", "categories")
    at.selectbox(key="categories_pick_shopee").select(category).run()
    at.text_input(key=f"cat_search_shopee_{category}").input("mug").run()
    click(at, "Save mapping")
    assert not at.exception, at.exception
    frame = frame_with(at, "blocked products")
    row = list(frame["category"]).index(category)
    assert frame["status"][row] == "1 mandatory without default"
    assert frame["blocked products"][row] == frame["products"][row]
    assert any("no value for Material" in m.value for m in at.markdown)
