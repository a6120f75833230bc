# The bind preview on SQLite and PostgreSQL: what binding would push, from the plan's desired state; refusals.
from __future__ import annotations

import pytest
import sqlalchemy as sa

from syncstore.catalog import bindings
from syncstore.db.engine import transaction
from syncstore.db.models import ProductVariant
from syncstore.errors import InvalidInput
from syncstore.plan import binding_preview
from tests.syncstore.catalog import conftest as catalog_fixtures
from tests.syncstore.catalog.conftest import EDITOR, Shop

world = catalog_fixtures.world  # the SKU-mapping fixture: two shops with orphans, a product LIN-S / LIN-M


def test_the_preview_shows_what_binding_would_push(engine: sa.Engine, world: Shop) -> None:
    preview = binding_preview.preview_bind(engine, world.skus["lin s"], "LIN-S")
    assert preview.text() == (
        "shop My Shopee, SKU lin s: stock 7 -> 12, price 10.00 -> 12.90, title Old linen shirt -> Linen shirt"
    )
    with transaction(engine) as session:
        bindings.bind_sku(EDITOR, session, world.skus["OTHER-1"], "LIN-S", expected_version=0)
    with pytest.raises(InvalidInput, match="already bound in this shop"):
        binding_preview.preview_bind(engine, world.skus["lin s"], "LIN-S")


def test_the_bulk_preview_says_per_sku_what_binding_would_push(engine: sa.Engine, world: Shop) -> None:
    with transaction(engine) as session:
        variants = {v.sku: v.id for v in session.scalars(sa.select(ProductVariant))}
    said = binding_preview.preview_many(
        engine, [(world.skus["lin s"], variants["LIN-S"]), (world.skus["OTHER-1"], variants["LIN-M"])]
    )
    assert said[world.skus["lin s"]] == "stock 7 -> 12, price 10.00 -> 12.90"
    assert set(said) == {world.skus["lin s"], world.skus["OTHER-1"]}
    assert binding_preview.preview_many(engine, []) == {}
