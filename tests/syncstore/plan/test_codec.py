# A planned change stored as JSON and read back is the same change: same variant, same Decimal money, same key.
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from syncstore.plan import codec
from syncstore.plan.changes import (
    Activate,
    AddVariant,
    Adopt,
    Bind,
    ChosenAttribute,
    Deactivate,
    PlannedChange,
    UpdateContent,
    UpdateStock,
    ValidationIssue,
)
from tests.syncstore.plan.test_handlers import draft_change, new_variant, price

D = Decimal
CHANGES: list[PlannedChange] = [
    draft_change(),
    draft_change(
        brand_id="B1",
        attributes=(ChosenAttribute("100", ("7", "8")), ChosenAttribute("101", (), "Cotton")),
        logistics_channel_ids=("2001",),
        location_id="WH-1",
    ),
    AddVariant(product_id=1, variant_id=11, listing_id=100, issues=(ValidationIssue("listing", "not supported"),)),
    new_variant(11, "LIN-11"),
    Bind(seller_sku="LIN-10", product_id=1, variant_id=10, listing_id=100, listing_sku_id=1000, remote_sku_id="s1"),
    price(1, "100", "12.50"),
    UpdateStock(stock=3, product_id=1, listing_id=100, listing_sku_id=1, remote_item_id="100", remote_sku_id="s1"),
    UpdateContent(fields=("description", "images"), description=None, images=("a.jpg",), product_id=1, listing_id=100),
    Activate(product_id=1, listing_id=100, remote_item_id="100"),
    Deactivate(product_id=1, listing_id=100, remote_item_id="100"),
    Adopt(field="price", value=D("8.50"), product_id=1, variant_id=10, listing_sku_id=1000),
    Adopt(field="stock", value=4, product_id=1, variant_id=10, listing_sku_id=1000),
    Adopt(field="images", value=("b.jpg",), product_id=1, listing_id=100),
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: type(change).__name__)
def test_a_stored_change_reads_back_as_the_same_change(change: PlannedChange) -> None:
    stored = json.loads(json.dumps(codec.encode(change)))  # through real JSON text, as a database keeps it
    back = codec.decode(stored)
    assert type(back) is type(change) and back == change
    assert back.key(7) == change.key(7) and back.request() == change.request()


def test_money_is_stored_as_text_and_read_back_as_decimal() -> None:
    stored = codec.encode(price(1, "100", "12.50"))
    assert stored["kind"] == "UpdatePrice" and isinstance(stored["change"], dict)
    assert stored["change"]["price"] == "12.50"
    back = codec.decode(stored)
    assert isinstance(back, type(price(1, "100", "1"))) and back.price == D("12.50")


def test_something_else_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stored planned change"):
        codec.decode({"kind": "DropTable", "change": {}})
