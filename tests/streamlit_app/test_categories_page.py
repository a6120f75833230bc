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
from syncstore.security.auth import Role
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


def test_a_product_overrides_a_category_default_in_the_editor(
    sqlite_app_as: AppAs, sqlite_seeded_db: SeededDatabase
) -> None:
    from syncstore.publishing.attributes import AttributeValue, product_values

    category = seed_tree(sqlite_seeded_db)
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        editor = sqlite_seeded_db.actors[Role.EDITOR]
        mappings.set_category_mapping(editor, session, "shopee", category, REMOTE,
                                      defaults={"9001": AttributeValue(("1",))})  # fmt: skip
        product_id = session.scalar(sa.select(MasterProduct.id).where(MasterProduct.category == category).limit(1))
    engine.dispose()
    at = sqlite_app_as("editor", "product_editor", query_params={"product": str(product_id)})
    assert not at.exception, at.exception
    key = f"attrs_{product_id}_shopee-9001-one"
    assert "Category default: Porcelain" in (at.selectbox(key=key).help or "")
    at.selectbox(key=key).select("2")
    at.button(key=f"FormSubmitter:attrs_{product_id}_shopee-Save Shopee attributes").click().run()
    assert not at.exception, at.exception
    engine = sqlite_seeded_db.engine()
    with transaction(engine) as session:
        own = product_values(session, [product_id], "shopee")[product_id]
    engine.dispose()
    assert own["9001"].value_ids == ("2",)
    assert any("not mapped" in i.value for i in at.info)  # TikTok Shop: the category has no mapping there
